"""agentel: MLflow-style tracing for LLM agents, as thin adapters over real OpenTelemetry tracers.

Example::

    import agentel

    @agentel.trace(span_type=agentel.SpanType.TOOL)
    def search(query: str) -> list[str]:
        return ["doc"]

Every span is a real OpenTelemetry span: it joins the application's provider and traces, and goes
out over OTLP when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set (else a readable tree is printed).
"""

import importlib as _importlib
import os as _os
from typing import TYPE_CHECKING, Any

from agentel._export import otel_sdk as _otel_sdk  # the SDK failing to import turns tracing off (one warning)
from agentel._runtime.otel_env import check_all as _check_environment

if _otel_sdk.UNAVAILABLE is None:
    _check_environment()  # one warning per malformed OTEL_* value; os.environ is never changed

from agentel._conventions.span_types import SpanStatus, SpanStatusCode, SpanType
from agentel._errors import (
    AgentelError,
    ConfigurationError,
    InstrumentationError,
    InstrumentationNotInstalledError,
    InvalidIdError,
    InvalidStatusError,
    InvalidTimestampError,
    ParentMismatchError,
    SpanAlreadyEndedError,
    SpanNotFoundError,
    TraceNotFoundError,
)
from agentel._export.redacting import RedactingSpanExporter
from agentel._runtime import env as _env
from agentel._runtime.lifecycle import configure, force_flush, get_tracer_provider, shutdown, stats
from agentel._tracing.client import TraceClient, use_span
from agentel._tracing.fluent import get_current_span, get_last_trace_id, start_span
from agentel._tracing.fluent import trace_function as trace
from agentel._tracing.genai_fluent import (
    set_agent,
    set_embeddings,
    set_llm,
    set_messages,
    set_retrieved_documents,
    set_token_usage,
    set_tool,
)
from agentel._tracing.propagation import ContextThreadPoolExecutor, attach, bind_context, extract, inject
from agentel._tracing.span import LiveSpan
from agentel._tracing.trace_context import update_current_trace
from agentel.version import __version__

get_current_active_span = get_current_span
"""Alias of ``get_current_span`` (MLflow's name)."""

get_last_active_trace_id = get_last_trace_id
"""Alias of ``get_last_trace_id`` (MLflow's name)."""

__all__ = [
    "AgentelError",
    "ConfigurationError",
    "ContextThreadPoolExecutor",
    "InstrumentationError",
    "InstrumentationNotInstalledError",
    "InvalidIdError",
    "InvalidStatusError",
    "InvalidTimestampError",
    "LiveSpan",
    "ParentMismatchError",
    "RedactingSpanExporter",
    "SpanAlreadyEndedError",
    "SpanNotFoundError",
    "SpanStatus",
    "SpanStatusCode",
    "SpanType",
    "TraceClient",
    "TraceNotFoundError",
    "__version__",
    "attach",
    "bind_context",
    "configure",
    "doctor",
    "extract",
    "force_flush",
    "get_current_active_span",
    "get_current_span",
    "get_last_active_trace_id",
    "get_last_trace_id",
    "get_tracer_provider",
    "inject",
    "instrument",
    "set_agent",
    "set_embeddings",
    "set_llm",
    "set_messages",
    "set_retrieved_documents",
    "set_token_usage",
    "set_tool",
    "shutdown",
    "start_span",
    "stats",
    "trace",
    "update_current_trace",
    "use_span",
]

if _os.environ.get(_env.AGENTEL_INSTRUMENT, "").strip():  # warnings only, never an error
    from agentel._runtime.instrument import instrument_from_environment as _instrument_from_environment

    _instrument_from_environment()

if TYPE_CHECKING:
    from agentel._cli.doctor import doctor
    from agentel._runtime.instrument import instrument

# ``agentel.doctor`` and ``agentel.instrument`` are imported on first use: their modules (the collector
# checks, the instrumentor table) are a few milliseconds of ``import agentel`` that most programs never use
_ON_FIRST_USE = {"doctor": "agentel._cli.doctor", "instrument": "agentel._runtime.instrument"}


def __getattr__(name: str) -> Any:
    module = _ON_FIRST_USE.get(name)
    if module is None:
        raise AttributeError(f"module 'agentel' has no attribute {name!r}")
    value = getattr(_importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_ON_FIRST_USE))
