"""The open client traces: one process-wide registry keyed by trace id, guarded by a lock and bounded.

Traces never ended are ended after ``AGENTEL_TRACE_TTL_SECONDS`` and, beyond
``AGENTEL_MAX_OPEN_TRACES``, the oldest is ended — both with status ERROR and a description saying
why. The sweep runs inside client calls (amortized, no thread).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Any, Callable, Mapping, Optional

from opentelemetry import trace
from opentelemetry.trace import SpanContext, Status, StatusCode

from agentel._conventions import names as sc
from agentel._errors import TraceNotFoundError
from agentel._forksafe import forget_in_child, new_rlock
from agentel._internal_errors import RATE_LIMITED, contained, never_raises, warn_once
from agentel._payload.serialize import safe_text
from agentel._runtime.provider import RUNTIME
from agentel._runtime.state import current_state
from agentel._tracing.ids import hex_trace_id
from agentel._tracing.otel_spans import end_otel_span, remember_trace
from agentel._tracing.span import LiveSpan
from agentel._tracing.write import tag_attributes

_EVICTING = contained("client: evicting a trace")


class OpenTrace:
    """One client trace: its root, its open spans, the ids of spans already ended, its tags.

    A *borrowed* record holds the client's spans inside a trace someone else started (the fluent API,
    another instrumentation): its root is not the client's to end, and it is dropped when its last
    client span ends.
    """

    __slots__ = ("trace_id", "root", "spans", "ended", "tags", "opened_at", "borrowed")

    def __init__(self, root: trace.Span, opened_at: float, tags: dict[str, str], borrowed: bool = False) -> None:
        self.trace_id = root.get_span_context().trace_id
        self.root = root
        self.spans: dict[int, trace.Span] = {} if borrowed else {root.get_span_context().span_id: root}
        self.ended: OrderedDict[int, SpanContext] = OrderedDict()
        self.tags = tags
        self.opened_at = opened_at
        self.borrowed = borrowed


class TraceRegistry:
    """Open client traces by trace id; process-wide, lock-guarded, bounded by TTL and capacity."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.lock = new_rlock()
        self.traces: OrderedDict[int, OpenTrace] = OrderedDict()  # oldest first
        self.borrowed: OrderedDict[int, OpenTrace] = OrderedDict()  # client spans in others' traces

    def sweep(self) -> None:
        """End traces past their TTL, and the oldest beyond capacity; never raises."""
        settings = current_state().settings
        expired: list[tuple[OpenTrace, str]] = []
        with self.lock:
            now = self.clock()
            while self.traces:
                oldest = next(iter(self.traces.values()))
                if now - oldest.opened_at >= settings.trace_ttl_seconds:
                    reason = (
                        f"trace abandoned: not ended within AGENTEL_TRACE_TTL_SECONDS="
                        f"{settings.trace_ttl_seconds:g}s; call end_trace(request_id) when the agent finishes"
                    )
                elif len(self.traces) > settings.max_open_traces:
                    reason = (
                        f"trace evicted: more than AGENTEL_MAX_OPEN_TRACES={settings.max_open_traces} "
                        f"client traces open; call end_trace(request_id) when each agent run finishes"
                    )
                else:
                    break
                self.traces.popitem(last=False)
                expired.append((oldest, reason))
            while self.borrowed:
                oldest = next(iter(self.borrowed.values()))
                if not oldest.spans and not oldest.root.is_recording():  # done: its trace has ended
                    self.borrowed.popitem(last=False)
                    continue
                fresh = now - oldest.opened_at < settings.trace_ttl_seconds
                if fresh and len(self.borrowed) <= settings.max_open_traces:
                    break
                self.borrowed.popitem(last=False)
                expired.append((oldest, "client spans not ended within AGENTEL_TRACE_TTL_SECONDS"))
        ended: dict[str, list[int]] = {}
        for record, reason in expired:
            with _EVICTING:
                close_trace(record, Status(StatusCode.ERROR, reason), reason_attribute="ttl_or_capacity")
                ended.setdefault(reason, []).append(record.trace_id)
        for reason, trace_ids in ended.items():  # one summary per cause, at most one a minute
            RATE_LIMITED.warn(
                "client sweep: " + reason.partition(":")[0],
                "agentel: %s — %d trace(s) ended with status ERROR (first request id %s)",
                reason,
                len(trace_ids),
                hex_trace_id(trace_ids[0]),
                count=len(trace_ids),
            )

    def forget_after_fork(self) -> None:
        """In a forked child: the parent's open traces are not this process's to end."""
        self.lock = new_rlock()
        self.traces = OrderedDict()
        self.borrowed = OrderedDict()

    def get(self, trace_id: int, *, borrowed: bool = False) -> OpenTrace:
        """The open trace or ``TraceNotFoundError``; with ``borrowed``, also the client's spans in a
        trace started elsewhere."""
        record = self.traces.get(trace_id)
        if record is None and borrowed:
            record = self.borrowed.get(trace_id)
        if record is None:
            raise TraceNotFoundError(
                f"no open trace with request id {hex_trace_id(trace_id)}: it was never started with "
                f"start_trace(), was already ended, or was ended after AGENTEL_TRACE_TTL_SECONDS"
            )
        return record


REGISTRY = TraceRegistry()
forget_in_child(REGISTRY.forget_after_fork)


def close_trace(record: OpenTrace, root_status: Optional[Status], reason_attribute: str, **end: Any) -> int:
    """End every open child (newest first, marked), then the root; returns how many children.
    A borrowed record's root is someone else's: only the client's spans are ended."""
    root_id = record.root.get_span_context().span_id
    children = [span for span_id, span in record.spans.items() if span_id != root_id]
    children.sort(key=lambda s: getattr(s, "start_time", 0) or 0, reverse=True)
    for child in children:
        child.set_attribute(sc.AGENTEL_ENDED_BY, reason_attribute)
        if record.borrowed and root_status is not None:
            child.set_status(root_status)
        end_otel_span(child)
    if record.borrowed:
        return len(children)
    if record.tags:  # through the redactor, as every value agentel writes
        LiveSpan(record.root).set_attributes(tag_attributes(record.tags))
    if root_status is not None:
        record.root.set_status(root_status)
    end_otel_span(record.root, end.get("end_time_ns"))
    remember_trace(record.trace_id)
    return len(children)


def open_span_of(trace_key: int, span_key: int) -> Optional[trace.Span]:
    """An open span of the provider in use (fluent, client or any OTel span) with these ids."""
    span = RUNTIME.processor.open_span(span_key)
    if span is not None and span.get_span_context().trace_id == trace_key and span.is_recording():
        return span
    return None


def trace_tags(tags: Any) -> dict[str, str]:
    """Trace tags as text; a key or value whose ``str()`` raises becomes ``<unprintable TypeName>``."""
    if not tags:
        return {}
    if not isinstance(tags, Mapping):
        warn_once(
            ("client tags", type(tags).__name__),
            "agentel: start_trace(tags=...) takes a mapping; got %s, ignored",
            type(tags).__name__,
        )
        return {}
    return {tag_text(key): tag_text(value) for key, value in _tag_items(tags)}


@never_raises("client: reading tags", default=())
def _tag_items(tags: Mapping[Any, Any]) -> list[tuple[Any, Any]]:
    return list(tags.items())  # a hostile mapping may raise


def tag_text(value: Any) -> str:
    return safe_text(value, f"<unprintable {type(value).__name__}>")
