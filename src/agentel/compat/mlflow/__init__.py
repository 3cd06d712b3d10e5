"""MLflow Tracing's API on agentel: ``import agentel.compat.mlflow as mlflow`` is the only change needed.

Provided (tracing only): ``trace``, ``start_span``, ``get_current_active_span``,
``get_last_active_trace_id``, ``update_current_trace``, ``SpanType``, ``entities`` (``SpanType``,
``SpanStatus``, ``SpanStatusCode``, ``SpanEvent``, ``LiveSpan``) and ``client.MlflowClient`` (also as
``MlflowClient`` here). Spans are real OpenTelemetry spans, sent where agentel is configured to send them.

Out of scope: everything of MLflow that is not tracing — experiments and runs, model logging
(``mlflow.pyfunc``), deployments (``mlflow.deployments``), evaluation, and reading traces back
(``search_traces``, ``get_trace``): use your tracing backend's UI or API for those.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional

from ..._fluent import get_current_span as get_current_active_span
from ..._fluent import get_last_trace_id as get_last_active_trace_id
from ..._fluent import start_span as _start_span
from ..._fluent import trace_function as trace
from ..._span_types import SpanType
from ..._trace_context import update_current_trace
from . import client, entities
from .client import MlflowClient


def start_span(
    name: str = "span", span_type: Optional[str] = SpanType.UNKNOWN, attributes: Optional[Mapping[str, Any]] = None
) -> _start_span:
    """``with mlflow.start_span("name") as span:`` — a span for a block of code (MLflow's signature)."""
    return _start_span(name, span_type=span_type or SpanType.UNKNOWN, attributes=attributes)


__all__ = [
    "MlflowClient",
    "SpanType",
    "client",
    "entities",
    "get_current_active_span",
    "get_last_active_trace_id",
    "start_span",
    "trace",
    "update_current_trace",
]
