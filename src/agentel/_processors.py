"""The span processor agentel adds to the provider in use: counts, trace-level attributes, open spans.

It sees every span of that provider (agentel's and the application's), so ``update_current_trace``
attributes land on raw OTel spans too, and spans still open at exit can be ended and exported.
"""

from __future__ import annotations

import itertools
import threading
from typing import Any, Optional

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.trace import Status, StatusCode

from ._semconv import AGENTEL_ENDED_BY

MAX_TRACKED_TRACES = 10000


class AgentelSpanProcessor(SpanProcessor):
    """Counts spans, applies trace-level attributes, and remembers open spans and local roots."""

    def __init__(self) -> None:
        self._started = itertools.count()
        self._ended = itertools.count()
        self._open: dict[int, Span] = {}  # span id -> open span
        self._roots: dict[int, Span] = {}  # trace id -> local root span (parent absent or remote)
        self._trace_attributes: dict[int, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def on_start(self, span: Span, parent_context: Optional[Context] = None) -> None:
        next(self._started)
        self._open[span.context.span_id] = span
        parent = span.parent
        trace_id = span.context.trace_id
        if parent is None or parent.is_remote:
            self._roots[trace_id] = span
        if self._trace_attributes:
            extra = self._trace_attributes.get(trace_id)
            if extra:
                span.set_attributes(extra)

    def on_end(self, span: ReadableSpan) -> None:
        next(self._ended)
        span_id = span.context.span_id
        self._open.pop(span_id, None)
        trace_id = span.context.trace_id
        root = self._roots.get(trace_id)
        if root is not None and root.context.span_id == span_id:
            self._roots.pop(trace_id, None)
            self._trace_attributes.pop(trace_id, None)

    def counts(self) -> dict[str, int]:
        """Spans started and ended since the process started."""
        return {
            "spans_started": _peek(self._started),
            "spans_ended": _peek(self._ended),
            "spans_open": len(self._open),
        }

    def local_root(self, trace_id: int) -> Optional[Span]:
        """The open local root span of a trace, if this process has one."""
        return self._roots.get(trace_id)

    def add_trace_attributes(self, trace_id: int, attributes: dict[str, Any]) -> None:
        """Attributes every later span of ``trace_id`` gets at its start (bounded table)."""
        with self._lock:
            if trace_id not in self._trace_attributes and len(self._trace_attributes) >= MAX_TRACKED_TRACES:
                self._trace_attributes.pop(next(iter(self._trace_attributes)))
            self._trace_attributes.setdefault(trace_id, {}).update(attributes)

    def end_open_spans(self, reason: str) -> int:
        """End every span still open (children first), marked with ``reason``; returns how many."""
        spans = sorted(self._open.values(), key=lambda s: s.start_time or 0, reverse=True)
        for span in spans:
            if span.end_time is None:
                span.set_attribute(AGENTEL_ENDED_BY, reason)
                span.set_status(Status(StatusCode.ERROR, reason))
                span.end()
        return len(spans)

    def forget_after_fork(self) -> None:
        """In a forked child: drop the parent's open spans and trace state; fresh lock and counters."""
        self._lock = threading.Lock()
        self._open = {}
        self._roots = {}
        self._trace_attributes = {}
        self._started = itertools.count()
        self._ended = itertools.count()

    def shutdown(self) -> None:
        """Nothing to release."""

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Nothing buffered here."""
        return True


def _peek(counter: "itertools.count[int]") -> int:
    """Current value of an ``itertools.count`` without advancing it."""
    return int(repr(counter)[6:-1])
