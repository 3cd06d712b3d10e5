"""The span processor agentel adds to the provider in use: counts, trace-level attributes, open spans,
and the trace's total token usage on its local root.

It sees every span of that provider (agentel's and the application's), so ``update_current_trace``
attributes land on raw OTel spans too, spans still open at exit can be ended and exported, and token
usage recorded by any instrumentation (``gen_ai.usage.*`` or ``llm.token_count.*``) is summed.

Token roll-up: the SDK hands ``on_end`` a read-only copy, and a span's attributes are frozen before any
processor hook runs at its end, so the root cannot be written when it ends. Instead, each time a
descendant carrying token usage ends, its counts are added to a small per-trace counter and the totals
are written to the still-open local root (``agentel.trace.usage.*``). Memory: one counter per trace
with an open local root, dropped when the root ends (and at most ``MAX_TRACKED_TRACES`` of them).
"""

from __future__ import annotations

import itertools
import json
import threading
import weakref
from typing import Any, Optional

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.trace import Status, StatusCode

from agentel._conventions import names as sc
from agentel._conventions.names import AGENTEL_ENDED_BY
from agentel._export.kept_traces import KeptTraces
from agentel._forksafe import new_lock

MAX_TRACKED_TRACES = 10000
SWEEP_OPEN_SPANS_AT = 10000  # the open-span table is swept of collected spans when it reaches this size
MODEL_SPAN_TYPES = frozenset({"LLM", "CHAT_MODEL", "EMBEDDING"})

# (field, GenAI key, OpenInference key); GenAI has no total (it is input + output)
_USAGE_SOURCES = (
    ("input", sc.GEN_AI_USAGE_INPUT_TOKENS, sc.LLM_TOKEN_COUNT_PROMPT),
    ("output", sc.GEN_AI_USAGE_OUTPUT_TOKENS, sc.LLM_TOKEN_COUNT_COMPLETION),
    ("total", None, sc.LLM_TOKEN_COUNT_TOTAL),
    ("cache_read", sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, sc.LLM_TOKEN_COUNT_CACHE_READ),
    ("cache_write", sc.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS, sc.LLM_TOKEN_COUNT_CACHE_WRITE),
    ("reasoning", sc.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS, sc.LLM_TOKEN_COUNT_REASONING),
)
_USAGE_FIELDS = tuple(source[0] for source in _USAGE_SOURCES)
_MLFLOW_USAGE_FIELDS = {
    "input_tokens": "input",
    "output_tokens": "output",
    "total_tokens": "total",
    "cache_read_input_tokens": "cache_read",
    "cache_creation_input_tokens": "cache_write",
}
_ROLLUP_KEYS = (
    ("input", sc.AGENTEL_TRACE_INPUT_TOKENS),
    ("output", sc.AGENTEL_TRACE_OUTPUT_TOKENS),
    ("total", sc.AGENTEL_TRACE_TOTAL_TOKENS),
    ("cache_read", sc.AGENTEL_TRACE_CACHE_READ_TOKENS),
    ("reasoning", sc.AGENTEL_TRACE_REASONING_TOKENS),
)


def _token_count(value: Any) -> Optional[int]:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def has_usage(attributes: Any) -> bool:
    """Cheap test: does a span's attribute mapping carry token usage in any dialect?"""
    return (
        sc.GEN_AI_USAGE_INPUT_TOKENS in attributes
        or sc.GEN_AI_USAGE_OUTPUT_TOKENS in attributes
        or sc.LLM_TOKEN_COUNT_PROMPT in attributes
        or sc.LLM_TOKEN_COUNT_COMPLETION in attributes
        or sc.LLM_TOKEN_COUNT_TOTAL in attributes
        or sc.MLFLOW_CHAT_USAGE in attributes
    )


def read_usage(attributes: Any) -> Optional[dict[str, int]]:
    """Token usage recorded on a span, in whichever dialect (GenAI first), as ``{"input": 12, ...}``.

    Example: ``read_usage({"llm.token_count.prompt": 12})`` is ``{"input": 12, "total": 12}``.
    """
    if not attributes:
        return None
    found: dict[str, int] = {}
    for name, genai_key, oi_key in _USAGE_SOURCES:
        value = _token_count(attributes.get(genai_key)) if genai_key else None
        if value is None:
            value = _token_count(attributes.get(oi_key))
        if value is not None:
            found[name] = value
    if not found and isinstance(attributes.get(sc.MLFLOW_CHAT_USAGE), str):
        try:
            mlflow_usage = json.loads(attributes[sc.MLFLOW_CHAT_USAGE])
        except ValueError:
            mlflow_usage = None
        if isinstance(mlflow_usage, dict):
            for key, name in _MLFLOW_USAGE_FIELDS.items():
                value = _token_count(mlflow_usage.get(key))
                if value is not None:
                    found[name] = value
    if found and "total" not in found and ("input" in found or "output" in found):
        found["total"] = found.get("input", 0) + found.get("output", 0)
    return found or None


class AgentelSpanProcessor(SpanProcessor):
    """Counts spans, applies trace-level attributes, and remembers open spans and local roots."""

    def __init__(self) -> None:
        self._started = itertools.count()
        self._ended = itertools.count()
        # Held weakly: a span the application drops without ending is freed, as without agentel (it
        # could never be exported anyway); it is counted in stats()["spans_never_ended"] when swept.
        self._open: dict[int, "weakref.ref[Span]"] = {}  # span id -> open span
        self._roots: dict[int, "weakref.ref[Span]"] = {}  # trace id -> local root (parent absent or remote)
        self._sweep_at = SWEEP_OPEN_SPANS_AT
        self.never_ended = 0
        self._trace_attributes: dict[int, dict[str, Any]] = {}
        self._usage: dict[int, list[int]] = {}  # trace id -> summed usage of ended descendants (+ count)
        self._costs: dict[int, list[float]] = {}  # trace id -> [summed cost in USD, priced calls]
        self._lock = new_lock()
        self.kept = KeptTraces(0, 0)  # recently finished traces, for get_trace(); bounds set by the runtime
        self._starting = threading.local()

    def take_started(self) -> Optional[Span]:
        """The span whose ``on_start`` this thread ran last (once): recovers a span when another
        processor's ``on_start`` raised out of ``tracer.start_span``."""
        span: Optional[Span] = getattr(self._starting, "span", None)
        self._starting.span = None
        return span

    def clear_started(self) -> None:
        """Forget the span recorded by the last ``on_start`` of this thread."""
        self._starting.span = None

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

    def on_start(self, span: Span, parent_context: Optional[Context] = None) -> None:
        next(self._started)
        handle = weakref.ref(span)
        self._open[span.context.span_id] = handle
        self._starting.span = span  # read back if a later processor's on_start raises
        if len(self._open) >= self._sweep_at:
            self._sweep()
        parent = span.parent
        trace_id = span.context.trace_id
        if parent is None or parent.is_remote:
            self._roots[trace_id] = handle
        elif trace_id not in self._roots and parent.span_id not in self._open:
            self._adopt_root(span, parent_context)
        if self._trace_attributes:
            extra = self._trace_attributes.get(trace_id)
            if extra:
                span.set_attributes(extra)

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

    def on_end(self, span: ReadableSpan) -> None:
        next(self._ended)
        span_id = span.context.span_id
        self._open.pop(span_id, None)
        trace_id = span.context.trace_id
        if self.kept.limit:
            parent = span.parent
            self.kept.add(span, parent is None or parent.is_remote)
        handle = self._roots.get(trace_id)
        root = handle() if handle is not None else None
        if root is None:
            attributes = span.attributes
            if attributes and has_usage(attributes):
                self._mark_model_parent(span)
            return
        if root.context.span_id == span_id:
            self._roots.pop(trace_id, None)
            self._trace_attributes.pop(trace_id, None)
            if self._usage:
                self._usage.pop(trace_id, None)
                self._costs.pop(trace_id, None)
            return
        attributes = span.attributes
        if attributes and has_usage(attributes):
            if attributes.get(sc.AGENTEL_USAGE_RECORDED_BY) is None:
                self._add_usage(trace_id, root, attributes, span.context.span_id)
            self._mark_model_parent(span)

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
        owner_attributes = owner.attributes
        if (
            owner_attributes is not None
            and owner_attributes.get(sc.AGENTEL_SPAN_TYPE) in MODEL_SPAN_TYPES
            and sc.AGENTEL_USAGE_RECORDED_BY not in owner_attributes
        ):
            owner.set_attribute(sc.AGENTEL_USAGE_RECORDED_BY, format(span.context.span_id, "016x"))

    def _add_usage(self, trace_id: int, root: Span, attributes: Any, span_id: int = 0) -> None:
        usage = read_usage(attributes)
        if not usage:
            return
        with self._lock:
            totals = self._usage.get(trace_id)
            if totals is None:
                if len(self._usage) >= MAX_TRACKED_TRACES:
                    self._usage.pop(next(iter(self._usage)))
                totals = self._usage[trace_id] = [0] * (len(_USAGE_FIELDS) + 1)
            for index, name in enumerate(_USAGE_FIELDS):
                totals[index] += usage.get(name, 0)
            totals[-1] += 1
            costs = self._costs.get(trace_id)
            cost = _span_cost(attributes, span_id)
            if cost is not None:
                if costs is None:
                    costs = self._costs[trace_id] = [0.0, 0.0]
                costs[0] += cost
                costs[1] += 1
            _write_rollup(root, totals, costs)

    def refresh_root_usage(self, span: Any) -> None:
        """Rewrite the trace total on ``span`` if it is an open local root with a running total
        (called after its own usage changed)."""
        if not self._usage:
            return
        context = span.get_span_context()
        handle = self._roots.get(context.trace_id)
        root = handle() if handle is not None else None
        if root is None or root.context.span_id != context.span_id:
            return
        with self._lock:
            totals = self._usage.get(context.trace_id)
            if totals is not None:
                _write_rollup(root, totals, self._costs.get(context.trace_id))

    def counts(self) -> dict[str, int]:
        """Spans started and ended since the process started."""
        return {
            "spans_started": _peek(self._started),
            "spans_ended": _peek(self._ended),
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
        pipeline = getattr(provider, "_active_span_processor", None)
        return any(getattr(span, "_span_processor", None) is pipeline for span in self._open_spans())

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
                span.set_attribute(AGENTEL_ENDED_BY, reason)
                span.set_status(Status(StatusCode.ERROR, reason))
                span.end()
        return len(spans)

    def forget_after_fork(self) -> None:
        """In a forked child: drop the parent's open spans and trace state; fresh lock and counters."""
        self._lock = new_lock()
        self._starting = threading.local()
        self._open = {}
        self._roots = {}
        self._trace_attributes = {}
        self._usage = {}
        self._costs = {}
        self._started = itertools.count()
        self._ended = itertools.count()
        self.kept.forget_after_fork()

    def shutdown(self) -> None:
        """Nothing to release."""

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Nothing buffered here."""
        return True


def _span_cost(attributes: Any, span_id: int) -> Optional[float]:
    """A model call's cost: what agentel wrote on it, else priced from its usage (another
    instrumentation's span), else ``None``. An agentel model span with a model-call child of another
    instrumentation counts nothing: the child is priced (one call, one cost)."""
    from agentel._conventions.cost import call_cost, recorded_cost
    from agentel._export.metrics import METRICS
    from agentel._runtime.provider import RUNTIME

    if METRICS.processor.delegates(span_id):
        return None
    recorded = recorded_cost(attributes)
    if recorded is not None or RUNTIME.prices is None or sc.AGENTEL_SPAN_TYPE in attributes:
        return recorded
    cost = call_cost(RUNTIME.prices, attributes)
    return None if cost is None else cost[0] + cost[1]


def _write_rollup(root: Span, totals: list[int], costs: Optional[list[float]] = None) -> None:
    """Write the trace total (the descendants' sums plus the root's own usage) on the open root."""
    if root.end_time is not None:
        return
    attributes_now = root.attributes or {}
    own = {} if attributes_now.get(sc.AGENTEL_USAGE_RECORDED_BY) else (read_usage(attributes_now) or {})
    summed = {name: totals[index] + own.get(name, 0) for index, name in enumerate(_USAGE_FIELDS)}
    attributes: dict[str, Any] = {key: summed[name] for name, key in _ROLLUP_KEYS if summed[name] or name in own}
    for required in (sc.AGENTEL_TRACE_INPUT_TOKENS, sc.AGENTEL_TRACE_OUTPUT_TOKENS, sc.AGENTEL_TRACE_TOTAL_TOKENS):
        attributes.setdefault(required, 0)
    attributes[sc.AGENTEL_TRACE_USAGE_SPANS] = totals[-1] + (1 if own else 0)
    from agentel._conventions.cost import trace_cost_attributes

    attributes.update(trace_cost_attributes(root.attributes, costs))
    root.set_attributes(attributes)


def _peek(counter: "itertools.count[int]") -> int:
    """Current value of an ``itertools.count`` without advancing it."""
    return int(repr(counter)[6:-1])


class GuardedProcessor(SpanProcessor):
    """A span processor given to ``configure(span_processors=...)``: its exceptions are logged once and
    counted, so the processors after it (the exporters) still see every span."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __eq__(self, other: object) -> bool:  # the same processor given to configure() again
        return isinstance(other, GuardedProcessor) and other.inner is self.inner

    def __hash__(self) -> int:
        return id(self.inner)

    def _call(self, method: str, *args: Any) -> Any:
        try:
            return getattr(self.inner, method)(*args)
        except Exception as exc:  # noqa: BLE001
            from agentel._internal_errors import report_internal_error

            report_internal_error(f"span processor {type(self.inner).__name__}.{method}", exc)
            return None

    def on_start(self, span: Span, parent_context: Optional[Context] = None) -> None:
        self._call("on_start", span, parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        self._call("on_end", span)

    def shutdown(self) -> None:
        if callable(getattr(self.inner, "shutdown", None)):
            self._call("shutdown")

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        if not callable(getattr(self.inner, "force_flush", None)):
            return True
        return self._call("force_flush", timeout_millis) is not False
