"""``mlflow.entities`` names used by tracing code: ``SpanType``, ``SpanStatus``, ``SpanStatusCode``, ``SpanEvent``."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Optional

from ..._span import LiveSpan
from ..._span_types import SpanStatus, SpanStatusCode, SpanType


@dataclass
class SpanEvent:
    """An event to add to a span with ``span.add_event(SpanEvent(...))``, as in MLflow."""

    name: str
    timestamp: Optional[int] = field(default_factory=time.time_ns)
    attributes: dict[str, Any] = field(default_factory=dict)


__all__ = ["LiveSpan", "SpanEvent", "SpanStatus", "SpanStatusCode", "SpanType"]
