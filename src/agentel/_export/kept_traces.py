"""Recently finished traces kept in memory, for ``get_trace`` / ``get_last_active_trace`` of the MLflow
compatibility layer (notebooks and evaluation scripts read a trace back right after a run).

Dormant (no work at all per span) until ``agentel.compat.mlflow`` is imported, the only reader. Then
fed by agentel's span processor at each span's end: the ended (read-only) span is appended to its
trace's entry, with a rough size estimate. A trace is *finished* when its local root ends. Bounded by
``AGENTEL_KEEP_TRACES`` (traces) and ``AGENTEL_KEEP_TRACES_BYTES`` (estimated bytes): the oldest entry
goes first. Nothing is serialized or copied here; reading a trace builds its view then.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Optional

from agentel._otel_internals import attribute_dict, plain_mapping, span_events

# Measured with tracemalloc on CPython 3.11 / SDK 1.45 (bench case 11 reports estimate vs measured):
_SPAN_OVERHEAD_BYTES = 2400  # an ended SDK span: the object, its context, status, attribute and event containers
_EVENT_OVERHEAD_BYTES = 530  # one event: the object, its attributes container
_ITEM_BYTES = 85  # one attribute: its key, the dict slot, a number
_STR_BYTES = 49  # the str object around a text value (its length comes on top)
MAX_SPANS_PER_TRACE = 10000


class KeptTrace:
    """The ended spans of one trace (in end order) and whether its local root has ended."""

    __slots__ = ("spans", "size", "finished", "dropped")

    def __init__(self) -> None:
        self.spans: list[Any] = []
        self.size = 0
        self.finished = False
        self.dropped = 0  # spans not kept beyond MAX_SPANS_PER_TRACE


def _attributes_size(attributes: Any) -> int:
    size = _ITEM_BYTES * len(attributes)
    for value in attributes.values():
        if value.__class__ is str:
            size += _STR_BYTES + len(value)
    return size


def estimated_size(span: Any) -> int:
    """A cheap estimate of what keeping ``span`` costs: a fixed cost per span, attribute and event, plus
    the length of every string value (payloads, messages: what makes spans big)."""
    size = _SPAN_OVERHEAD_BYTES + len(span.name) + _attributes_size(attribute_dict(span))
    for event in span_events(span) or ():
        size += _EVENT_OVERHEAD_BYTES + _attributes_size(plain_mapping(event.attributes))
    return size


class KeptTraces:
    """A bounded map trace id -> ``KeptTrace``, oldest first."""

    def __init__(self, limit: int, max_bytes: int) -> None:
        self.configured_limit = limit
        self.active = False  # dormant until something that can read traces back is imported
        self.limit = 0  # what the span processor checks: configured_limit once active, else 0
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._traces: OrderedDict[int, KeptTrace] = OrderedDict()
        self._bytes = 0
        self._last_finished: Optional[int] = None

    def configure(self, limit: int, max_bytes: int) -> None:
        """New bounds (from the settings); applied now."""
        with self._lock:
            self.configured_limit = limit
            self.limit = limit if self.active else 0
            self.max_bytes = max_bytes
            self._evict()

    def activate(self) -> None:
        """Start keeping traces (``import agentel.compat.mlflow`` does this): until then nobody can read
        them back, so the span processor does no work for them."""
        with self._lock:
            self.active = True
            self.limit = self.configured_limit

    def add(self, span: Any, is_local_root: bool) -> None:
        """Keep an ended span (called by agentel's span processor)."""
        size = estimated_size(span)
        trace_id = span.context.trace_id
        with self._lock:
            traces = self._traces
            entry = traces.get(trace_id)
            if entry is None:
                entry = traces[trace_id] = KeptTrace()
            spans = entry.spans
            if len(spans) < MAX_SPANS_PER_TRACE:
                spans.append(span)
                entry.size += size
                self._bytes += size
            else:
                entry.dropped += 1
            if is_local_root:
                entry.finished = True
                self._last_finished = trace_id
            if len(traces) > self.limit or self._bytes > self.max_bytes:
                self._evict()

    def _evict(self) -> None:
        traces = self._traces
        while traces and (len(traces) > self.limit or self._bytes > self.max_bytes):
            trace_id, entry = traces.popitem(last=False)
            self._bytes -= entry.size
            if trace_id == self._last_finished:
                self._last_finished = None

    def get(self, trace_id: int) -> Optional[KeptTrace]:
        """The kept spans of a trace (a snapshot), or ``None``."""
        with self._lock:
            entry = self._traces.get(trace_id)
            if entry is None:
                return None
            snapshot = KeptTrace()
            snapshot.spans = list(entry.spans)
            snapshot.size, snapshot.finished, snapshot.dropped = entry.size, entry.finished, entry.dropped
            return snapshot

    def last_finished(self) -> Optional[int]:
        """The trace id whose local root ended last (if still kept)."""
        return self._last_finished

    def usage(self) -> dict[str, int]:
        """How many traces and estimated bytes are kept."""
        with self._lock:
            return {"kept_traces": len(self._traces), "kept_traces_bytes": self._bytes}

    def forget_after_fork(self) -> None:
        """In a forked child: a fresh lock (the parent's may have been held at fork) and nothing kept."""
        self._lock = threading.Lock()
        self._traces = OrderedDict()
        self._bytes = 0
        self._last_finished = None

    def clear(self) -> None:
        """Drop everything."""
        with self._lock:
            self._traces.clear()
            self._bytes = 0
            self._last_finished = None
