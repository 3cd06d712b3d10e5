"""One traced call: what every call of one decorator shares (the plan), the steps of a call (start,
inputs, outputs, failure, end), and the sync and coroutine call paths; the recursion-limit fallback.

Work that does not depend on the call (name, span kind, start attributes, the argument-binding plan)
is done once, at decoration time. Errors inside agentel are logged and counted, never raised.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable, Mapping, NamedTuple, Optional

from opentelemetry import trace

from agentel._conventions.builders import function_attributes, start_attributes
from agentel._conventions.policy import Policy
from agentel._conventions.responses import capture_model_response
from agentel._conventions.span_types import convention_for
from agentel._internal_errors import contained, report_internal_error
from agentel._otel_internals import context_switches
from agentel._payload.serialize import safe_text
from agentel._runtime.foreign_context import parent_context
from agentel._runtime.provider import resolved_state
from agentel._runtime.state import State, current_state
from agentel._tracing.binding import ArgumentBinder
from agentel._tracing.otel_spans import (
    end_otel_span,
    guarded_start,
    record_error,
    refresh_trace_usage,
    remember_trace,
    set_ok_unless_error,
)
from agentel._tracing.write import normalized_attributes, outputs_were_set, set_payload

_attach, _detach = context_switches()  # the OTel context, set and reset per call or item

_ENDING_AFTER_RECURSION = contained("trace: ending a span after a RecursionError")


class SpanPlan:
    """What every span of one decorator (or one ``start_span`` call) shares."""

    __slots__ = ("name", "span_type", "kind", "model_call", "attributes", "_dialects", "_user", "_function")

    def __init__(
        self,
        name: str,
        span_type: str,
        attributes: Optional[Mapping[str, Any]],
        function_name: Optional[str] = None,
        capture_response: bool = True,
        policy: Optional[Policy] = None,
    ) -> None:
        if policy is None:
            policy = current_state().policy
        self.name = name
        self.span_type = span_type
        convention = convention_for(span_type)
        self.kind = convention.kind
        # LLM / CHAT_MODEL: look at the returned value's (or the stream's) shape, unless turned off
        self.model_call = convention.model_call and capture_response
        self._dialects: frozenset[str] = frozenset()
        self.attributes: dict[str, Any] = {}
        self._user = normalized_attributes(attributes, policy)
        self._function = function_name
        self.refresh(policy.dialects)

    def refresh(self, dialects: frozenset[str]) -> None:
        self._dialects = dialects
        self.attributes = {**start_attributes(self.span_type, self._dialects), **self._user}
        if self._function is not None:
            self.attributes.update(function_attributes(self._dialects, self._function))

    def start(
        self, state: State, tracer: trace.Tracer, start_time_ns: Optional[int] = None, context: Any = None
    ) -> trace.Span:
        """Start a span with ``tracer`` under the dialects of ``state`` (the plan follows a change)."""
        if self._dialects is not state.policy.dialects:
            self.refresh(state.policy.dialects)
        if context is None:
            context = parent_context()
        return guarded_start(tracer, self.name, context, self.kind, self.attributes, None, start_time_ns)


def tracer_for(state: State) -> tuple[State, trace.Tracer]:
    """``state`` and the tracer for a span starting now: the state's final tracer, else the provider is
    resolved (the first span, or agentel's own provider while not global) and the state read again."""
    tracer = state.tracer
    if tracer is None:
        return resolved_state()
    return state, tracer


def end_traced(span: trace.Span) -> None:
    if _unfinished:
        _finish_unfinished()
    end_otel_span(span)
    remember_trace(span.get_span_context().trace_id)


# Spans whose failure was recorded too close to the recursion limit to end them there (ending runs the
# SDK's processors and exporters, many frames deep): ended by the next traced call that has room,
# normally the caller one level up, as the RecursionError unwinds through it.
_unfinished: list[tuple[Any, BaseException]] = []
_HEADROOM_FRAMES = 120


def _has_headroom(frames: int = _HEADROOM_FRAMES) -> bool:
    """Whether ``frames`` more Python frames fit under the recursion limit (probed, not guessed)."""

    def probe(left: int) -> bool:
        return left <= 0 or probe(left - 1)

    try:
        return probe(frames)
    except RecursionError:
        return False


def _finish_unfinished() -> None:
    if not _has_headroom():
        return
    while _unfinished:
        span, exc = _unfinished.pop()
        with _ENDING_AFTER_RECURSION:
            record_error(span, exc)
            if getattr(span, "end_time", None) is None:
                span.end()


class TraceOptions(NamedTuple):
    """What one ``trace(...)`` was given (``mlflow_semantics``: the compat layer's status OK on
    success and one event per yielded item); kept to trace the callable again when unpickled."""

    name: Optional[str]
    span_type: str
    attributes: Optional[Mapping[str, Any]]
    output_reducer: Optional[Callable[[list[Any]], Any]]
    mlflow_semantics: bool = False
    capture_response: bool = True


class Traced:
    """The per-decorator state and the wrappers for sync, async, generator and async-generator calls."""

    def __init__(self, func: Callable[..., Any], options: TraceOptions) -> None:
        name, span_type, attributes, output_reducer, mlflow_semantics, capture_response = options
        function_name = _default_name(func)
        span_name = safe_text(name) if name else function_name
        self.plan = SpanPlan(span_name, safe_text(span_type), attributes, function_name, capture_response)
        self.binder = ArgumentBinder(func)
        self.output_reducer = output_reducer
        self.mlflow = mlflow_semantics  # status OK on success, one event per yielded item
        self.options = options
        # a generator or coroutine object made by a call carries the traced function's names
        self.func_name = _name_of(func, "__name__")
        self.func_qualname = _name_of(func, "__qualname__") or self.func_name

    # -- the steps of a call
    def _start(self, state: State) -> Optional[tuple[trace.Span, Any, State]]:
        """Start the call's span and make it current; None (logged, counted) if that failed. Also returns
        the state the call goes on with (read again when this span resolved the provider)."""
        span: Optional[trace.Span] = None
        # hand-written, not the guard: the handler also ends the span, and at the recursion limit
        # reporting itself can fail
        try:
            state, tracer = tracer_for(state)
            span = self.plan.start(state, tracer)
            return span, _attach(trace.set_span_in_context(span)), state
        except Exception as exc:  # noqa: BLE001
            try:
                report_internal_error("trace: starting a span", exc)
                if span is not None:
                    end_quietly(span)
            except RecursionError:  # at the recursion limit even this fails: stay out of the user's way
                pass
            return None

    def _safe_inputs(
        self, span: trace.Span, policy: Policy, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        # hand-written, not the guard, here and in _succeed: they run on every traced call, where a try
        # costs nothing while nothing raises and the guard's with costs two method calls
        try:
            if policy.capture_content and span.is_recording():
                set_payload(span, "input", self.binder.bind(instance, args, kwargs), policy)
        except Exception as exc:  # noqa: BLE001 - an internal error: the call goes on, traced
            try:
                report_internal_error("trace: recording inputs", exc)
            except RecursionError:  # reporting needs stack; at the recursion limit the count is all we keep
                pass

    def _fail(self, span: trace.Span, token: Any, exc: BaseException) -> None:
        # hand-written, not the guard: the failure must end the span, also at the recursion limit
        # (where ending is left to the next traced call that has room)
        try:
            if token is not None:
                _detach(token)
        except RecursionError:  # the caller's own detach (one level up) restores the context
            pass
        if isinstance(exc, RecursionError) and not _has_headroom():
            _unfinished.append((span, exc))  # no frame needed: ended one level up
            return
        try:
            record_error(span, exc)
            end_traced(span)
        except RecursionError:
            if getattr(span, "end_time", None) is None:
                _unfinished.append((span, exc))
        except Exception as internal:  # noqa: BLE001
            report_internal_error("trace: recording an exception", internal)

    # -- sync functions: the hot path
    def call(self, wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        state = current_state()  # read once: a concurrent configure() does not change this call
        if not state.enabled or (state.sampling.active and state.sampling.certainly_dropped()):
            return wrapped(*args, **kwargs)
        started = self._start(state)
        if started is None:  # called outside the except block: a user exception gets no __context__
            return wrapped(*args, **kwargs)
        span, token, state = started
        try:
            self._safe_inputs(span, state.policy, instance, args, kwargs)  # Ctrl-C here ends the span too
            result = wrapped(*args, **kwargs)
        except BaseException as exc:
            self._fail(span, token, exc)
            raise
        self._succeed(span, token, state.policy, result)
        return result

    def _succeed(self, span: trace.Span, token: Any, policy: Policy, result: Any) -> None:
        try:  # hand-written on the hot path: see _safe_inputs
            _detach(token)
            if self.plan.model_call and capture_model_response(span, policy, result):
                refresh_trace_usage(span)
            if policy.capture_content and span.is_recording() and not outputs_were_set(span):
                set_payload(span, "output", result, policy)
            if self.mlflow:
                set_ok_unless_error(span)
            end_traced(span)
        except Exception as exc:  # noqa: BLE001
            report_internal_error("trace: ending a span", exc)

    # -- coroutine functions
    def call_async(
        self, wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        return self._named(self._call_async(wrapped, instance, args, kwargs))

    async def _call_async(
        self, wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        state = current_state()
        if not state.enabled or (state.sampling.active and state.sampling.certainly_dropped()):
            return await wrapped(*args, **kwargs)
        started = self._start(state)
        if started is None:
            return await wrapped(*args, **kwargs)
        span, token, state = started
        try:
            self._safe_inputs(span, state.policy, instance, args, kwargs)
            result = await wrapped(*args, **kwargs)
        except BaseException as exc:
            self._fail(span, token, exc)
            raise
        self._succeed(span, token, state.policy, result)
        return result

    def _named(self, made: Any) -> Any:
        """``made`` (a generator, coroutine or async generator object) named like the traced function's."""
        if self.func_name:
            try:
                made.__name__ = self.func_name
                made.__qualname__ = self.func_qualname
            except (AttributeError, TypeError):
                pass
        return made


def end_quietly(span: trace.Span) -> None:
    """End ``span`` after an internal error that was already reported: a second failure is not."""
    try:
        if getattr(span, "end_time", None) is None:
            end_otel_span(span)
    except Exception:  # noqa: BLE001
        pass


def _default_name(func: Any) -> str:
    """``func.__name__`` as MLflow names spans (``predict``, not ``QAChain.predict``); partials and
    callable objects fall back to the wrapped function's or the class's name."""
    target = getattr(func, "__func__", func)  # classmethod / staticmethod objects
    for candidate in (target, getattr(target, "func", None), type(target)):
        name = getattr(candidate, "__name__", None)
        if isinstance(name, str) and name:
            return name
    return "function"


def kind_of(func: Any) -> str:
    target = getattr(func, "__func__", func)
    if not inspect.isroutine(target) and callable(target) and not inspect.isclass(target):
        target = type(target).__call__
    if inspect.isasyncgenfunction(target):
        return "async_generator"
    if inspect.iscoroutinefunction(target):
        return "async"
    if inspect.isgeneratorfunction(target):
        return "generator"
    return "sync"


def _name_of(func: Any, attribute: str) -> Optional[str]:
    name = getattr(getattr(func, "__func__", func), attribute, None)
    return name if isinstance(name, str) and name else None
