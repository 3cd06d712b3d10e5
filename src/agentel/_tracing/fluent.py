"""The fluent API: the ``trace`` decorator, ``start_span``, the current span and the last trace id.

A decorated call goes ``wrappers`` (what ``trace`` returns) -> ``calls`` (the plan and the steps of one
call) or ``generators`` (a span that lasts as long as a generator). Spans nest through the
OpenTelemetry context, so they join spans of any other instrumentation both ways. Errors inside
agentel are logged and counted, never raised.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Optional, TypeVar, overload

from opentelemetry import trace

from agentel._conventions.span_types import SpanType
from agentel._internal_errors import contained, report_internal_error
from agentel._otel_internals import context_switches
from agentel._payload.serialize import safe_text
from agentel._runtime.foreign_context import current_span
from agentel._runtime.state import State, current_state
from agentel._tracing.calls import SpanPlan, end_quietly, end_traced, tracer_for
from agentel._tracing.otel_spans import last_trace_id, record_error, set_ok_unless_error
from agentel._tracing.span import LiveSpan
from agentel._tracing.wrappers import traced_callable
from agentel._tracing.write import set_payload

_attach, _detach = context_switches()  # the OTel context, set and reset per call or item

F = TypeVar("F", bound=Callable[..., Any])


class _NoopLiveSpan(LiveSpan):
    """The span of a block that records nothing (tracing off, sampled out): its payload and attribute
    setters return at once. The other methods are LiveSpan's (a misuse still raises its typed error)."""

    __slots__ = ()

    def set_inputs(self, inputs: Any) -> None:
        return None

    def set_outputs(self, outputs: Any) -> None:
        return None

    def set_attribute(self, key: str, value: Any) -> None:
        return None

    def set_attributes(self, attributes: Mapping[str, Any]) -> None:
        return None


_NOOP_SPAN = _NoopLiveSpan(trace.INVALID_SPAN)
_ENDING = contained("start_span: ending")


@overload
def trace_function(func: F) -> F: ...
@overload
def trace_function(
    func: None = None,
    *,
    name: Optional[str] = None,
    span_type: str = SpanType.UNKNOWN,
    attributes: Optional[Mapping[str, Any]] = None,
    output_reducer: Optional[Callable[[list[Any]], Any]] = None,
    capture_response: bool = True,
) -> Callable[[F], F]: ...


def trace_function(
    func: Optional[F] = None,
    *,
    name: Optional[str] = None,
    span_type: str = SpanType.UNKNOWN,
    attributes: Optional[Mapping[str, Any]] = None,
    output_reducer: Optional[Callable[[list[Any]], Any]] = None,
    capture_response: bool = True,
) -> Any:
    """Trace a function: each call becomes a span with its inputs, output and errors.

    Use with or without parentheses, or call it on any callable to get a traced wrapper::

        @agentel.trace(span_type=agentel.SpanType.TOOL)
        def search(query: str) -> list[str]: ...

        traced_predict = agentel.trace(client.predict)

    Works on functions, methods, classmethods, staticmethods, coroutines, generators and async
    generators (a generator's span lasts until it is exhausted, closed or collected; its outputs are
    the yielded items, or ``output_reducer(items)``). The signature and docstring are preserved.
    On an ``LLM``/``CHAT_MODEL`` span a returned (or streamed) model response also records its model,
    token usage and finish reasons; ``capture_response=False`` turns that off for this decorator.
    """

    return traced_callable(func, name, span_type, attributes, output_reducer, capture_response=capture_response)


def start_span(
    name: str = "span",
    *,
    span_type: str = SpanType.UNKNOWN,
    attributes: Optional[Mapping[str, Any]] = None,
    inputs: Any = None,
) -> SpanBlock:
    """Open a span for a block of code; the ``with`` target is a ``LiveSpan``.

    Example::

        with agentel.start_span("retrieve", span_type=agentel.SpanType.RETRIEVER) as span:
            span.set_inputs({"query": query})
            span.set_outputs(documents)

    The span is current inside the block, so nested spans (agentel's or any OTel instrumentation's)
    become its children. An exception leaving the block marks it ERROR and passes through unchanged.
    Also usable as ``async with``.
    """
    state = current_state()
    if not state.enabled or state.sampling.all_dropped:  # no span will be made, whatever the context
        return _DISABLED
    return SpanBlock(name, span_type=span_type, attributes=attributes, inputs=inputs)


class SpanBlock:
    """What ``start_span`` returns: the context manager of one block's span (subclassed by the compat
    layer: another ``LiveSpan`` class, status OK on success)."""

    __slots__ = ("_name", "_span_type", "_attributes", "_inputs", "_entered")
    _span_class: type[LiveSpan] = LiveSpan
    _ok_on_success = False  # the compat layer's subclass: status OK when the block succeeds

    def __init__(
        self,
        name: str = "span",
        *,
        span_type: str = SpanType.UNKNOWN,
        attributes: Optional[Mapping[str, Any]] = None,
        inputs: Any = None,
    ) -> None:
        self._name = name
        self._span_type = span_type
        self._attributes = attributes
        self._inputs = inputs
        # (span, token) per __enter__ not yet exited: the same object entered twice (nested) starts
        # two spans, and each __exit__ ends and un-currents its own, innermost first
        self._entered: list[Optional[tuple[trace.Span, Any]]] = []

    def __enter__(self) -> LiveSpan:
        state = current_state()
        if not state.enabled or (state.sampling.active and state.sampling.certainly_dropped()):
            self._entered.append(None)
            return _NOOP_SPAN if self._span_class is LiveSpan else self._span_class(trace.INVALID_SPAN)
        span: Optional[trace.Span] = None
        token: Any = None
        # hand-written, not the guard: the handler undoes the start (Ctrl-C included: it re-raises)
        try:
            state, tracer = tracer_for(state)
            span = _plan(self._name, self._span_type, self._attributes, state).start(state, tracer)
            token = _attach(trace.set_span_in_context(span))
            if self._inputs is not None and state.policy.capture_content and span.is_recording():
                set_payload(span, "input", self._inputs, state.policy)
            self._entered.append((span, token))
            return self._span_class(span)
        except BaseException as exc:
            # the block is not entered, so __exit__ will not run: undo here (Ctrl-C included)
            if token is not None:
                _detach_quietly(token)
            if span is not None:
                if not isinstance(exc, Exception):  # interrupted: the span says so
                    try:
                        record_error(span, exc)
                    except Exception:  # noqa: BLE001 - the interrupt is what the user sees; the span still ends
                        pass
                end_quietly(span)
            if not isinstance(exc, Exception):
                raise
            report_internal_error("start_span", exc)
            self._entered.append(None)
            return _NOOP_SPAN if self._span_class is LiveSpan else self._span_class(trace.INVALID_SPAN)

    def __exit__(self, exc_type: Any, exc: Optional[BaseException], tb: Any) -> None:
        entered = self._entered.pop() if self._entered else None
        if entered is None:
            return
        span, token = entered
        with _ENDING:
            _detach(token)
            if exc is not None:
                record_error(span, exc)
            elif self._ok_on_success:
                set_ok_unless_error(span)
            if getattr(span, "end_time", None) is None:
                end_traced(span)

    async def __aenter__(self) -> LiveSpan:
        return self.__enter__()

    async def __aexit__(self, exc_type: Any, exc: Optional[BaseException], tb: Any) -> None:
        self.__exit__(exc_type, exc, tb)


class _DisabledBlock(SpanBlock):
    """What ``start_span(...)`` is while tracing is disabled (or every span is sampled out): one shared
    context manager that does nothing."""

    __slots__ = ()

    def __init__(self) -> None:
        pass

    def __enter__(self) -> LiveSpan:
        return _NOOP_SPAN

    def __exit__(self, exc_type: Any, exc: Optional[BaseException], tb: Any) -> None:
        return None

    async def __aenter__(self) -> LiveSpan:
        return _NOOP_SPAN

    async def __aexit__(self, exc_type: Any, exc: Optional[BaseException], tb: Any) -> None:
        return None


_DISABLED = _DisabledBlock()

# start_span's plans without attributes, by (name, span type): built once, not per block
_PLANS: dict[tuple[str, str], SpanPlan] = {}
_MAX_PLANS = 1024


def _plan(name: Any, span_type: Any, attributes: Optional[Mapping[str, Any]], state: State) -> SpanPlan:
    if attributes or type(name) is not str or type(span_type) is not str:
        return SpanPlan(safe_text(name), safe_text(span_type), attributes, policy=state.policy)
    plan = _PLANS.get((name, span_type))
    if plan is None:
        if len(_PLANS) >= _MAX_PLANS:  # names made per call (an id in the name): do not grow without bound
            _PLANS.clear()
        plan = _PLANS[(name, span_type)] = SpanPlan(safe_text(name), safe_text(span_type), None, policy=state.policy)
    return plan


def get_current_span() -> Optional[LiveSpan]:
    """The current span (agentel's or any OTel span) as a ``LiveSpan``, or ``None`` outside spans.

    Inside a LangChain runnable traced by OpenInference this is the runnable's span (OpenInference keeps
    it out of the OTel context), unless a span started inside the runnable is current.
    """
    span = current_span()
    if not span.get_span_context().is_valid:
        return None
    return LiveSpan(span)


def get_last_trace_id(*, this_thread: bool = False) -> Optional[str]:
    """The trace id (32 hex) of the last span that ended, process-wide or in this thread.

    After a traced call returns, this is the id of its trace: the one to search in Jaeger or Tempo.
    """
    value = last_trace_id(this_thread)
    return format(value, "032x") if value is not None else None


def _detach_quietly(token: Any) -> None:
    """Detach while undoing a start that failed (already reported): a second failure is not."""
    try:
        _detach(token)
    except Exception:  # noqa: BLE001
        pass
