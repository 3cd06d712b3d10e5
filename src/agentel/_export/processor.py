"""The span processor agentel adds to the provider in use: counts, trace-level attributes, open spans,
the trace's total token usage on its local root, and the GenAI metrics — one processor, one pass.

It sees every span of that provider (agentel's and the application's), so ``update_current_trace``
attributes land on raw OTel spans too, spans still open at exit can be ended and exported, and token
usage recorded by any instrumentation (``gen_ai.usage.*`` or ``llm.token_count.*``) is summed
(``rollup.py``). The metrics recorder (``recorder.py``) is handed only the spans that carry one of
its ``WATCHED_KEYS`` or run inside an agent: an application span with none of them costs a few
dict lookups beyond the open-span bookkeeping.

What it needs from the runtime is given to it: the price data in use (a reader function) and the
metrics recorder.
"""

from __future__ import annotations

import itertools
import weakref
from typing import Any, Callable, Optional

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Status, StatusCode

from agentel._conventions import names as sc
from agentel._conventions.cost import Prices
from agentel._conventions.usage import PRESENCE_KEYS, has_usage
from agentel._export.kept_traces import KeptTraces
from agentel._export.otel_sdk import ReadableSpan, Span, SpanProcessor
from agentel._export.recorder import RECORDED_TYPES, WATCHED_KEYS, MetricsRecorder
from agentel._export.rollup import MAX_TRACKED_TRACES, TraceTotals
from agentel._forksafe import new_lock
from agentel._internal_errors import contained
from agentel._otel_internals import (
    DEFERRED_START,
    IS_REMOTE,
    SPAN_ID,
    TRACE_ID,
    SpanHooks,
    attribute_dict,
    peek_count,
    set_start_attributes,
    started_on,
)

__all__ = ["MAX_TRACKED_TRACES", "AgentelSpanProcessor", "GuardedProcessor"]

SWEEP_OPEN_SPANS_AT = 10000  # the open-span table is swept of collected spans when it reaches this size
MODEL_SPAN_TYPES = frozenset({"LLM", "CHAT_MODEL", "EMBEDDING"})
_PROCESSOR_METHODS = ("on_start", "on_end", "shutdown", "force_flush")
_WATCHED = frozenset(WATCHED_KEYS)
_INTERESTING = _WATCHED | PRESENCE_KEYS  # a span with none of these ends with two dict lookups here


def _measured(attributes: Any) -> bool:
    """Whether a span (outside an agent run) can record a measurement: an agentel span of a recorded
    type (``LLM``, ``TOOL``, ``AGENT``, …; a ``CHAIN`` records none), or another instrumentation's span
    carrying one of ``WATCHED_KEYS``."""
    span_type = attributes.get(sc.AGENTEL_SPAN_TYPE)
    return span_type in RECORDED_TYPES if span_type is not None else not _WATCHED.isdisjoint(attributes)


_weak = weakref.ref


def _no_prices() -> Optional[Prices]:
    return None


class AgentelSpanProcessor(SpanHooks, SpanProcessor):
    """Counts spans, applies trace-level attributes, remembers open spans and local roots, sums the
    trace's usage and hands the spans the GenAI metrics need to ``metrics``.

    ``prices()`` is the price data in use (``None``: nothing is priced here).
    """

    def __init__(
        self, prices: Callable[[], Optional[Prices]] = _no_prices, metrics: Optional[MetricsRecorder] = None
    ) -> None:
        self._started = itertools.count()
        self._ended = itertools.count()
        # Held weakly: a span the application drops without ending is freed, as without agentel (it
        # could never be exported anyway); it is counted in stats()["spans_never_ended"] when swept.
        self._open: dict[int, "weakref.ref[Span]"] = {}  # span id -> open span
        self._roots: dict[int, "weakref.ref[Span]"] = {}  # trace id -> local root (parent absent or remote)
        self._sweep_at = SWEEP_OPEN_SPANS_AT
        self.never_ended = 0
        self._trace_attributes: dict[int, dict[str, Any]] = {}
        self._metrics = metrics if metrics is not None else MetricsRecorder(lambda: None)
        if metrics is None:
            self._metrics.enabled = False
        self._metrics.open_span = self.open_span
        self.totals = TraceTotals(prices, self._metrics.delegates)
        self._lock = new_lock()
        self.kept = KeptTraces(0, 0)  # recently finished traces, for get_trace(); bounds set by the runtime

    @property
    def _usage(self) -> dict[int, list[int]]:
        """The running usage totals per trace (see ``rollup.TraceTotals``)."""
        return self.totals.usage

    def started_here(self, span: Any) -> bool:
        """Whether this processor saw ``span`` start and it is still open (a span recovered after another
        processor's ``on_start`` raised is used only then)."""
        context = span.get_span_context()
        return self.open_span(context.span_id) is span

    def forget(self, span: Any) -> None:
        """Drop ``span`` from the open-span table (its ``end()`` raised in another processor)."""
        context = span.get_span_context()
        if self._open.pop(context.span_id, None) is not None:
            next(self._ended)
        handle = self._roots.get(context.trace_id)
        root = handle() if handle is not None else None
        if root is not None and root.context.span_id == context.span_id:
            self._roots.pop(context.trace_id, None)
            self._trace_attributes.pop(context.trace_id, None)

    def span_started(
        self, span: Span, context: Any, parent: Any, attributes: Any, parent_context: Optional[Context]
    ) -> None:
        """``on_start`` (read by ``SpanHooks``): the start attributes agentel handed over (see
        ``DEFERRED_START``), count, open-span table, local root, trace attributes, metrics."""
        deferred = DEFERRED_START.attributes
        if deferred is not None:  # first, before anything reads the span: as if start_span had set them
            DEFERRED_START.attributes = None
            set_start_attributes(span, deferred)
            attributes = attribute_dict(span)
        next(self._started)
        trace_id = context[TRACE_ID]
        span_id = context[SPAN_ID]
        handle = _weak(span)
        open_spans = self._open
        open_spans[span_id] = handle
        if len(open_spans) >= self._sweep_at:
            self._sweep()
        metrics = self._metrics
        if parent is None or parent[IS_REMOTE]:
            self._roots[trace_id] = handle
            if metrics.dormant:
                metrics.wake()
        elif trace_id not in self._roots and parent[SPAN_ID] not in open_spans:
            self._adopt_root(span, parent_context)
        if self._trace_attributes:
            extra = self._trace_attributes.get(trace_id)
            if extra:
                span.set_attributes(extra)
        if (
            metrics.enabled
            and not metrics.dormant
            and (metrics.owner or (attributes and not _WATCHED.isdisjoint(attributes) and _measured(attributes)))
        ):
            metrics.on_start(span, attributes, span_id, None if parent is None else parent[SPAN_ID])

    def _adopt_root(self, span: Span, parent_context: Optional[Context]) -> None:
        """A local parent that started before this processor was attached (a server span opened before
        agentel attached to the provider): it is the trace's local root, if it is still open here."""
        parent = trace.get_current_span(parent_context)
        context = parent.get_span_context()
        if (
            isinstance(parent, Span)
            and parent.end_time is None
            and context.span_id == span.parent.span_id  # type: ignore[union-attr]
            and context.trace_id == span.context.trace_id
        ):
            self._roots[context.trace_id] = weakref.ref(parent)

    def span_ended(self, span: ReadableSpan, context: Any, parent: Any, attributes: Any) -> None:
        """``on_end`` (read by ``SpanHooks``): count, open-span table, local root, kept traces, usage
        roll-up, metrics."""
        next(self._ended)
        trace_id = context[TRACE_ID]
        span_id = context[SPAN_ID]
        own = self._open.pop(span_id, None)
        if self.kept.limit:
            self.kept.add(span, parent is None or parent[IS_REMOTE])
        handle = self._roots.get(trace_id)
        # the root's handle is the one its start put in the open-span table; an adopted root (started
        # before this processor was attached) has none there, so it is recognised by its id
        is_root = handle is not None and (handle is own or (own is None and _span_id_of(handle) == span_id))
        if is_root:
            self._roots.pop(trace_id, None)
            if self._trace_attributes:
                self._trace_attributes.pop(trace_id, None)
            if self.totals.usage:
                self.totals.drop(trace_id)
        metrics = self._metrics
        if _INTERESTING.isdisjoint(attributes):  # most application spans end here
            if metrics.owner:
                metrics.forget(span_id)
            return
        if not is_root and has_usage(attributes):
            root = handle() if handle is not None else None
            if root is not None and attributes.get(sc.AGENTEL_USAGE_RECORDED_BY) is None:
                self.totals.add(trace_id, root, attributes, span_id)
            self._mark_model_parent(span)
        if metrics.enabled and not metrics.dormant:
            if not _WATCHED.isdisjoint(attributes) and (metrics.owner or _measured(attributes)):
                metrics.on_end(span, attributes, span_id, None if parent is None else parent[SPAN_ID])
            elif metrics.owner:
                metrics.forget(span_id)

    def _mark_model_parent(self, span: ReadableSpan) -> None:
        """One call, one count: when a span carrying usage (another instrumentation's model-call span)
        ends inside an open agentel LLM/CHAT_MODEL/EMBEDDING span, that span is marked so agentel writes
        no usage there (and any it already has is left out of the trace total)."""
        parent = span.parent
        if parent is None or parent.is_remote:
            return
        owner = self.open_span(parent.span_id)
        if owner is None or owner.end_time is not None:
            return
        owner_attributes = attribute_dict(owner)
        if (
            owner_attributes.get(sc.AGENTEL_SPAN_TYPE) in MODEL_SPAN_TYPES
            and sc.AGENTEL_USAGE_RECORDED_BY not in owner_attributes
        ):
            owner.set_attribute(sc.AGENTEL_USAGE_RECORDED_BY, format(span.context.span_id, "016x"))

    def refresh_root_usage(self, span: Any) -> None:
        """Rewrite the trace total on ``span`` if it is an open local root with a running total
        (called after its own usage changed)."""
        if not self.totals.usage:
            return
        context = span.get_span_context()
        handle = self._roots.get(context.trace_id)
        root = handle() if handle is not None else None
        if root is not None and root.context.span_id == context.span_id:
            self.totals.refresh(context.trace_id, root)

    def counts(self) -> dict[str, int]:
        """Spans started and ended since the process started."""
        return {
            "spans_started": peek_count(self._started),
            "spans_ended": peek_count(self._ended),
            "spans_open": sum(1 for handle in list(self._open.values()) if handle() is not None),
            "spans_never_ended": self.never_ended + sum(1 for h in list(self._open.values()) if h() is None),
        }

    def _sweep(self) -> None:
        """Forget spans that were garbage collected without being ended (counted); O(open spans),
        run each time the table has doubled since the last sweep."""
        dead = [span_id for span_id, handle in list(self._open.items()) if handle() is None]
        for span_id in dead:
            self._open.pop(span_id, None)
        for trace_id, handle in list(self._roots.items()):
            if handle() is None:
                self._roots.pop(trace_id, None)
        self.never_ended += len(dead)
        self._sweep_at = max(SWEEP_OPEN_SPANS_AT, 2 * len(self._open))

    def open_span(self, span_id: int) -> Optional[Span]:
        """The open span with this id, if it was started on the provider in use."""
        handle = self._open.get(span_id)
        return handle() if handle is not None else None

    def _open_spans(self) -> list[Span]:
        for _attempt in range(10):  # other threads may start and end spans meanwhile
            try:
                handles = list(self._open.values())
                break
            except RuntimeError:
                continue
        else:
            return []
        return [span for span in (handle() for handle in handles) if span is not None]

    def has_open_spans_of(self, provider: Any) -> bool:
        """Whether a span started on ``provider`` is still open."""
        return any(started_on(span, provider) for span in self._open_spans())

    def local_root(self, trace_id: int) -> Optional[Span]:
        """The open local root span of a trace, if this process has one."""
        handle = self._roots.get(trace_id)
        return handle() if handle is not None else None

    def add_trace_attributes(self, trace_id: int, attributes: dict[str, Any]) -> None:
        """Attributes every later span of ``trace_id`` gets at its start (bounded table)."""
        with self._lock:
            if trace_id not in self._trace_attributes and len(self._trace_attributes) >= MAX_TRACKED_TRACES:
                self._trace_attributes.pop(next(iter(self._trace_attributes)))
            self._trace_attributes.setdefault(trace_id, {}).update(attributes)

    def end_open_spans(self, reason: str) -> int:
        """End every span still open (children first), marked with ``reason``; returns how many."""
        spans = self._open_spans()
        spans.sort(key=lambda s: s.start_time or 0, reverse=True)
        for span in spans:
            if span.end_time is None:
                span.set_attribute(sc.AGENTEL_ENDED_BY, reason)
                span.set_status(Status(StatusCode.ERROR, reason))
                span.end()
        return len(spans)

    def forget_after_fork(self) -> None:
        """In a forked child: drop the parent's open spans and trace state; fresh lock and counters."""
        self._lock = new_lock()
        self._open = {}
        self._roots = {}
        self._trace_attributes = {}
        self.totals.forget_after_fork()
        self._started = itertools.count()
        self._ended = itertools.count()
        self.kept.forget_after_fork()

    def shutdown(self) -> None:
        """Nothing to release."""

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Nothing buffered here."""
        return True


def _span_id_of(handle: "weakref.ref[Span]") -> Optional[int]:
    span = handle()
    return None if span is None else span.context.span_id


class GuardedProcessor(SpanProcessor):
    """A span processor given to ``configure(span_processors=...)``: its exceptions are logged once and
    counted, so the processors after it (the exporters) still see every span."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        name = type(inner).__name__
        self._guards = {method: contained(f"span processor {name}.{method}") for method in _PROCESSOR_METHODS}

    def __eq__(self, other: object) -> bool:  # the same processor given to configure() again
        return isinstance(other, GuardedProcessor) and other.inner is self.inner

    def __hash__(self) -> int:
        return id(self.inner)

    def _call(self, method: str, *args: Any) -> Any:
        with self._guards[method]:
            return getattr(self.inner, method)(*args)
        return None

    # the two per-span calls: a plain try (free when nothing is raised) instead of the guard's with-block
    def on_start(self, span: Span, parent_context: Optional[Context] = None) -> None:
        try:
            self.inner.on_start(span, parent_context)
        except Exception as exc:  # noqa: BLE001 - handed to the guard: reported once, counted
            self._guards["on_start"].__exit__(type(exc), exc, exc.__traceback__)

    def on_end(self, span: ReadableSpan) -> None:
        try:
            self.inner.on_end(span)
        except Exception as exc:  # noqa: BLE001 - handed to the guard: reported once, counted
            self._guards["on_end"].__exit__(type(exc), exc, exc.__traceback__)

    def shutdown(self) -> None:
        if callable(getattr(self.inner, "shutdown", None)):
            self._call("shutdown")

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        if not callable(getattr(self.inner, "force_flush", None)):
            return True
        return self._call("force_flush", timeout_millis) is not False
