"""``TraceClient``: spans opened and closed by explicit ids, from any thread (MLflow's client API).

Open client traces live in the registry (``registry.py``) keyed by request id (the W3C trace id).
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Mapping, Optional, TypeVar, Union

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Link, NonRecordingSpan, Status
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from agentel._conventions import names as sc
from agentel._conventions.span_types import SpanType, StatusLike, to_otel_status
from agentel._errors import (
    AgentelError,
    InvalidIdError,
    ParentMismatchError,
    SpanAlreadyEndedError,
    SpanNotFoundError,
    TraceNotFoundError,
)
from agentel._internal_errors import RATE_LIMITED, contained
from agentel._payload.serialize import safe_text
from agentel._runtime.foreign_context import parent_context
from agentel._runtime.provider import RUNTIME
from agentel._runtime.state import current_state
from agentel._tracing.ids import NOOP_TRACE_ID, hex_span_id, hex_trace_id, parse_span_id, pick_trace_id
from agentel._tracing.otel_spans import end_otel_span, start_otel_span, to_time_ns
from agentel._tracing.registry import (
    REGISTRY,
    OpenTrace,
    TraceRegistry,
    close_trace,
    open_span_of,
    tag_text,
    trace_tags,
)
from agentel._tracing.span import LiveSpan

F = TypeVar("F", bound=Callable[..., Any])
MAX_ENDED_IDS_PER_TRACE = 10000
ENDED_BY_END_TRACE = "end_trace"
_SPAN_STATUS = contained("client: ending a span")


ParentLike = Union[LiveSpan, trace.Span, otel_context.Context, str, None]


def _parent_context(parent: ParentLike) -> Optional[otel_context.Context]:
    if parent is None:
        return None
    if isinstance(parent, LiveSpan):
        return trace.set_span_in_context(parent.otel_span)
    if isinstance(parent, trace.Span):
        return trace.set_span_in_context(parent)
    if isinstance(parent, str):
        extracted = TraceContextTextMapPropagator().extract({"traceparent": parent.strip()})
        if not trace.get_current_span(extracted).get_span_context().is_valid:
            raise InvalidIdError(
                f"parent {parent!r} is not a W3C traceparent (expected '00-<32 hex>-<16 hex>-<2 hex>')"
            )
        return extracted
    if isinstance(parent, otel_context.Context):
        return parent
    raise InvalidIdError(
        "parent must be a LiveSpan, an OpenTelemetry span or context, or a traceparent string; "
        f"got {type(parent).__name__}"
    )


def _never_raises_internal(fallback: Callable[[], Any]) -> Callable[[F], F]:
    """A client method: misuse raises its typed ``AgentelError``; anything else (an application span
    processor raising, a hostile value) is logged once and counted, and ``fallback()`` is returned."""

    def decorate(method: F) -> F:
        guard = contained(f"TraceClient.{method.__name__}", passes=(AgentelError,))

        @functools.wraps(method)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            with guard:
                return method(*args, **kwargs)
            return fallback()

        return guarded  # type: ignore[return-value]

    return decorate


def _annotated(span: trace.Span, *, inputs: Any = None, outputs: Any = None, attributes: Any = None) -> LiveSpan:
    """``span`` as a ``LiveSpan``, with the inputs, outputs and attributes given (``None``: left alone)."""
    live = LiveSpan(span)
    if inputs is not None:
        live.set_inputs(inputs)
    if outputs is not None:
        live.set_outputs(outputs)
    if attributes:
        live.set_attributes(attributes)
    return live


def _ending(request_id: Any, trace_id: Any, status: StatusLike, end_time_ns: Any) -> tuple[int, Status, Optional[int]]:
    """An ``end_*`` call's trace key, status and end time; a typed error for a bad one."""
    end_time = to_time_ns(end_time_ns, "end_time_ns")
    return pick_trace_id(request_id, trace_id), to_otel_status(status), end_time


def _none() -> None:
    return None


def _noop_span() -> LiveSpan:
    return LiveSpan(trace.INVALID_SPAN)


class TraceClient:
    """Start and end spans by explicit ids, from any thread: for callbacks, queues and thread pools.

    Example::

        client = agentel.TraceClient()
        root = client.start_trace("rag-agent", inputs={"query": "hi"})
        child = client.start_span("search", request_id=root.request_id, parent_id=root.span_id)
        client.end_span(root.request_id, child.span_id, outputs=["doc"])
        client.end_trace(root.request_id, outputs={"answer": "..."})

    ``start_trace`` joins the active OTel span's trace (so the agent run becomes part of the service
    request's trace) unless ``new_trace=True`` or ``parent=`` says otherwise. Request ids are unique
    among open client traces: if the trace to join is already held by another open client trace, the
    new one starts a fresh trace with a span link to the active span. Misuse raises a subclass of
    ``agentel.AgentelError``: ``TraceNotFoundError``, ``SpanNotFoundError``, ``SpanAlreadyEndedError``,
    ``ParentMismatchError``, ``InvalidIdError``.
    """

    def __init__(self, *, clock: Optional[Callable[[], float]] = None) -> None:
        self._registry = REGISTRY if clock is None else TraceRegistry(clock)

    # -- traces
    @_never_raises_internal(_noop_span)
    def start_trace(
        self,
        name: str,
        *,
        span_type: str = SpanType.CHAIN,
        inputs: Any = None,
        attributes: Optional[Mapping[str, Any]] = None,
        tags: Optional[Mapping[str, Any]] = None,
        parent: ParentLike = None,
        new_trace: bool = False,
        start_time_ns: Optional[int] = None,
    ) -> LiveSpan:
        """Start a trace and return its root span (``.request_id``, ``.span_id``)."""
        start_time_ns = to_time_ns(start_time_ns, "start_time_ns")
        context = _parent_context(parent)
        registry = self._registry
        if not current_state().enabled:
            return LiveSpan(trace.INVALID_SPAN)
        if new_trace:
            context = otel_context.Context()
        elif context is None:
            context = parent_context()  # a LangChain runnable's span, when OpenInference keeps it aside
        active = trace.get_current_span(context)
        active_context = active.get_span_context()
        links = None
        with registry.lock:
            if active_context.is_valid and active_context.trace_id in registry.traces:
                context, links = otel_context.Context(), [Link(active_context, {"agentel.link": "joined_trace_in_use"})]
            root = start_otel_span(
                safe_text(name),
                safe_text(span_type),
                attributes,
                context=context,
                start_time_ns=start_time_ns,
                links=links,
            )
            if not root.get_span_context().is_valid:
                return LiveSpan(root)
            record = OpenTrace(root, registry.clock(), trace_tags(tags))
            if record.trace_id in registry.traces:  # a sampled-out or colliding id: keep ids unique
                end_otel_span(root)
                return LiveSpan(trace.INVALID_SPAN)
            registry.traces[record.trace_id] = record
        registry.sweep()
        return _annotated(root, inputs=inputs)

    @_never_raises_internal(_none)
    def end_trace(
        self,
        request_id: Any = None,
        *,
        trace_id: Any = None,
        outputs: Any = None,
        attributes: Optional[Mapping[str, Any]] = None,
        status: StatusLike = "OK",
        end_time_ns: Optional[int] = None,
    ) -> None:
        """End the trace's root span; children still open are ended first, marked, with one warning."""
        trace_key, otel_status, end_time_ns = _ending(request_id, trace_id, status, end_time_ns)
        if trace_key == NOOP_TRACE_ID:
            return
        registry = self._registry
        with registry.lock:
            if trace_key not in registry.traces and trace_key in registry.borrowed:
                raise TraceNotFoundError(
                    f"trace {hex_trace_id(trace_key)} was not started with start_trace() (the fluent API or "
                    f"another instrumentation started it): its root ends where it was started; end the "
                    f"client's own spans with end_span()"
                )
            record = registry.get(trace_key)
            del registry.traces[trace_key]
        _annotated(record.root, outputs=outputs, attributes=attributes)
        closed = close_trace(record, otel_status, ENDED_BY_END_TRACE, end_time_ns=end_time_ns)
        if closed:
            RATE_LIMITED.warn(
                "end_trace: open children",
                "agentel: end_trace(%s) ended %d span(s) still open (marked %s=%s); end spans with end_span() first",
                hex_trace_id(trace_key),
                closed,
                sc.AGENTEL_ENDED_BY,
                ENDED_BY_END_TRACE,
            )

    # -- spans
    @_never_raises_internal(_noop_span)
    def start_span(
        self,
        name: str,
        request_id: Any = None,
        parent_id: Any = None,
        *,
        trace_id: Any = None,
        span_type: str = SpanType.UNKNOWN,
        inputs: Any = None,
        attributes: Optional[Mapping[str, Any]] = None,
        start_time_ns: Optional[int] = None,
    ) -> LiveSpan:
        """Start a child span in an open trace, under ``parent_id`` (default: the trace's root)."""
        start_time_ns = to_time_ns(start_time_ns, "start_time_ns")
        trace_key = pick_trace_id(request_id, trace_id)
        if trace_key == NOOP_TRACE_ID:
            return LiveSpan(trace.INVALID_SPAN)
        registry = self._registry
        registry.sweep()
        with registry.lock:
            record = registry.traces.get(trace_key) or registry.borrowed.get(trace_key)
            if record is None:
                record = registry.borrowed[trace_key] = self._borrow(trace_key, parent_id)
            parent_span = self._parent_in(record, parent_id)
        span = start_otel_span(
            safe_text(name),
            safe_text(span_type),
            attributes,
            context=trace.set_span_in_context(parent_span),
            start_time_ns=start_time_ns,
        )
        with registry.lock:
            if registry.traces.get(trace_key) is record:
                record.spans[span.get_span_context().span_id] = span
            elif record.borrowed and registry.borrowed.get(trace_key) is record:
                record.spans[span.get_span_context().span_id] = span
            else:  # the trace ended meanwhile (another thread, or TTL): do not leave this span open
                span.set_attribute(sc.AGENTEL_ENDED_BY, "trace_already_ended")
                end_otel_span(span)
        return _annotated(span, inputs=inputs)

    @_never_raises_internal(_none)
    def end_span(
        self,
        request_id: Any = None,
        span_id: Any = None,
        *,
        trace_id: Any = None,
        outputs: Any = None,
        attributes: Optional[Mapping[str, Any]] = None,
        status: StatusLike = "OK",
        end_time_ns: Optional[int] = None,
    ) -> None:
        """End one span (not the root: use ``end_trace`` for that)."""
        trace_key, otel_status, end_time_ns = _ending(request_id, trace_id, status, end_time_ns)
        if span_id is None:
            raise InvalidIdError("end_span needs span_id: pass the .span_id of the span start_span() returned")
        span_key = parse_span_id(span_id)
        if trace_key == NOOP_TRACE_ID:
            return
        registry = self._registry
        with registry.lock:
            record = registry.get(trace_key, borrowed=True)
            if span_key == record.root.get_span_context().span_id and not record.borrowed:
                raise SpanAlreadyEndedError(
                    f"span {hex_span_id(span_key)} is the root of trace {hex_trace_id(trace_key)}: "
                    f"end it with end_trace(request_id)"
                )
            span = record.spans.pop(span_key, None)
            if span is None:
                raise self._missing_span(record, span_key)
            record.ended[span_key] = span.get_span_context()
            if len(record.ended) > MAX_ENDED_IDS_PER_TRACE:
                record.ended.popitem(last=False)
            if record.borrowed and not record.spans and not record.root.is_recording():
                registry.borrowed.pop(trace_key, None)
        _annotated(span, outputs=outputs, attributes=attributes)
        with _SPAN_STATUS:
            span.set_status(otel_status)
        end_otel_span(span, end_time_ns)

    @_never_raises_internal(_noop_span)
    def get_span(self, request_id: Any, span_id: Any) -> LiveSpan:
        """The open span ``span_id`` of trace ``request_id``, to annotate it from anywhere."""
        trace_key = pick_trace_id(request_id, None)
        span_key = parse_span_id(span_id)
        if trace_key == NOOP_TRACE_ID:
            return LiveSpan(trace.INVALID_SPAN)
        with self._registry.lock:
            record = self._registry.traces.get(trace_key) or self._registry.borrowed.get(trace_key)
            span = record.spans.get(span_key) if record is not None else None
            if span is None:
                span = open_span_of(trace_key, span_key)  # a fluent (or other OTel) span still open
            if span is None:
                if record is None:
                    record = self._registry.get(trace_key)  # raises TraceNotFoundError
                raise self._missing_span(record, span_key)
        return LiveSpan(span)

    @_never_raises_internal(_none)
    def set_trace_tag(self, request_id: Any, key: str, value: Any) -> None:
        """Tag an open trace; tags are written on the root span as ``agentel.tag.<key>`` and ``tag.tags``."""
        trace_key = pick_trace_id(request_id, None)
        if trace_key == NOOP_TRACE_ID:
            return
        with self._registry.lock:
            self._registry.get(trace_key).tags[tag_text(key)] = tag_text(value)

    @_never_raises_internal(_none)
    def delete_trace_tag(self, request_id: Any, key: str) -> None:
        """Remove a tag from an open trace (``KeyError`` subclass if it has no such tag)."""
        trace_key = pick_trace_id(request_id, None)
        if trace_key == NOOP_TRACE_ID:
            return
        with self._registry.lock:
            tags = self._registry.get(trace_key).tags
            if key not in tags:
                raise TraceNotFoundError(f"trace {hex_trace_id(trace_key)} has no tag {key!r}; tags: {sorted(tags)}")
            del tags[key]

    # -- helpers
    def _parent_in(self, record: OpenTrace, parent_id: Any) -> trace.Span:
        if parent_id is None:
            return record.root
        parent_key = parse_span_id(parent_id)
        span = record.spans.get(parent_key)
        if span is not None:
            return span
        ended = record.ended.get(parent_key)
        if ended is not None:
            return NonRecordingSpan(ended)
        if record.borrowed:
            foreign = open_span_of(record.trace_id, parent_key)
            if foreign is not None:
                return foreign
        for other in self._registry.traces.values():
            if parent_key in other.spans or parent_key in other.ended:
                raise ParentMismatchError(
                    f"parent span {hex_span_id(parent_key)} belongs to trace {hex_trace_id(other.trace_id)}, "
                    f"not to {hex_trace_id(record.trace_id)}: pass the request_id of the parent's trace"
                )
        raise SpanNotFoundError(
            f"no span {hex_span_id(parent_key)} in trace {hex_trace_id(record.trace_id)}: "
            f"pass the .span_id of a span started in this trace (or omit parent_id for the root)"
        )

    def _borrow(self, trace_key: int, parent_id: Any) -> OpenTrace:
        """A record for client spans inside an open trace the client did not start (e.g. a fluent
        ``with start_span`` block, as MLflow's callback handlers use it); ``TraceNotFoundError`` if the
        trace has no open span here."""
        parent = open_span_of(trace_key, parse_span_id(parent_id)) if parent_id is not None else None
        if parent is None:
            parent = RUNTIME.processor.local_root(trace_key)
        if parent is None or parent.get_span_context().trace_id != trace_key:
            self._registry.get(trace_key)  # raises TraceNotFoundError with the usual message
            raise AssertionError("unreachable")
        return OpenTrace(RUNTIME.processor.local_root(trace_key) or parent, self._registry.clock(), {}, borrowed=True)

    @staticmethod
    def _missing_span(record: OpenTrace, span_key: int) -> Exception:
        if span_key in record.ended:
            return SpanAlreadyEndedError(
                f"span {hex_span_id(span_key)} of trace {hex_trace_id(record.trace_id)} was already ended"
            )
        return SpanNotFoundError(
            f"no open span {hex_span_id(span_key)} in trace {hex_trace_id(record.trace_id)}: "
            f"pass the .span_id of a span start_span() returned for this request id"
        )


class use_span:  # noqa: N801 - used like a function
    """Make an explicit span current for a block, so fluent spans and other instrumentations nest under it.

    Example (inside a callback)::

        with agentel.use_span(client.get_span(request_id, span_id)):
            tool(...)          # a fluent span, child of that span

    The span is not ended on exit, and exceptions pass through untouched.
    """

    __slots__ = ("_span", "_token")

    def __init__(self, span: Union[LiveSpan, trace.Span]) -> None:
        self._span = span.otel_span if isinstance(span, LiveSpan) else span
        self._token: Any = None

    def __enter__(self) -> LiveSpan:
        self._token = otel_context.attach(trace.set_span_in_context(self._span))
        return LiveSpan(self._span)

    def __exit__(self, *exc_info: Any) -> None:
        otel_context.detach(self._token)

    async def __aenter__(self) -> LiveSpan:
        return self.__enter__()

    async def __aexit__(self, *exc_info: Any) -> None:
        self.__exit__(*exc_info)
