"""The fluent API: the ``trace`` decorator (one small wrapper per kind of function) and ``start_span``.

Work that does not depend on the call (name, span kind, start attributes, the argument-binding plan)
is done once, at decoration time. Spans nest through the OpenTelemetry context, so they join spans of
any other instrumentation both ways. Errors inside agentel are logged and counted, never raised.
"""

from __future__ import annotations

import functools
import inspect
import json
import sys
import time
import types
from typing import Any, AsyncIterator, Callable, Generator, Mapping, Optional, TypeVar, overload

import wrapt
from opentelemetry import context as otel_context
from opentelemetry import trace

from agentel._conventions import names as sc
from agentel._conventions.genai import StreamUsage, capture_model_response
from agentel._conventions.span_types import SpanType, convention_for
from agentel._internal_errors import report_internal_error
from agentel._payload.serialize import json_size_hint, safe_text, to_jsonable
from agentel._runtime.foreign_context import current_span, parent_context
from agentel._runtime.provider import RUNTIME
from agentel._tracing.binding import ArgumentBinder
from agentel._tracing.otel_spans import (
    end_otel_span,
    guarded_start,
    last_trace_id,
    record_error,
    remember_trace,
    set_ok_unless_error,
)
from agentel._tracing.span import LiveSpan
from agentel._tracing.write import normalized_attributes, outputs_were_set, redacted_json, set_payload

F = TypeVar("F", bound=Callable[..., Any])
_NOOP_SPAN = LiveSpan(trace.INVALID_SPAN)


class _SpanPlan:
    """What every span of one decorator (or one ``start_span`` call) shares."""

    __slots__ = ("name", "span_type", "kind", "model_call", "attributes", "_dialects", "_user", "_function")

    def __init__(
        self,
        name: str,
        span_type: str,
        attributes: Optional[Mapping[str, Any]],
        function_name: Optional[str] = None,
        capture_response: bool = True,
    ) -> None:
        self.name = name
        self.span_type = span_type
        convention = convention_for(span_type)
        self.kind = convention.kind
        # LLM / CHAT_MODEL: look at the returned value's (or the stream's) shape, unless turned off
        self.model_call = convention.model_call and capture_response
        self._dialects: frozenset[str] = frozenset()
        self.attributes: dict[str, Any] = {}
        self._user = normalized_attributes(attributes)
        self._function = function_name
        self.refresh()

    def refresh(self) -> None:
        self._dialects = RUNTIME.settings.semconv
        self.attributes = {**sc.start_attributes(self.span_type, self._dialects), **self._user}
        if self._function is not None and "mlflow" in self._dialects:
            self.attributes[sc.MLFLOW_SPAN_FUNCTION_NAME] = json.dumps(self._function)

    def start(self, start_time_ns: Optional[int] = None, context: Any = None) -> trace.Span:
        if self._dialects is not RUNTIME.settings.semconv:
            self.refresh()
        if context is None:
            context = parent_context()
        return guarded_start(RUNTIME.tracer(), self.name, context, self.kind, self.attributes, None, start_time_ns)


def _end(span: trace.Span) -> None:
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
        try:
            record_error(span, exc)
            if getattr(span, "end_time", None) is None:
                span.end()
        except Exception as internal:  # noqa: BLE001
            report_internal_error("trace: ending a span after a RecursionError", internal)


class _Traced:
    """The per-decorator state and the wrappers for sync, async, generator and async-generator calls."""

    def __init__(
        self,
        func: Callable[..., Any],
        name: Optional[str],
        span_type: str,
        attributes: Optional[Mapping[str, Any]],
        output_reducer: Optional[Callable[[list[Any]], Any]],
        mlflow_semantics: bool = False,
        capture_response: bool = True,
    ) -> None:
        function_name = _default_name(func)
        span_name = safe_text(name) if name else function_name
        self.plan = _SpanPlan(span_name, safe_text(span_type), attributes, function_name, capture_response)
        self.binder = ArgumentBinder(func)
        self.output_reducer = output_reducer
        self.mlflow = mlflow_semantics  # status OK on success, one event per yielded item
        # to rebuild it elsewhere
        self.options = (name, span_type, attributes, output_reducer, mlflow_semantics, capture_response)
        # a generator or coroutine object made by a call carries the traced function's names
        self.func_name = _name_of(func, "__name__")
        self.func_qualname = _name_of(func, "__qualname__") or self.func_name

    # -- shared steps
    def _inputs(self, span: trace.Span, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        if RUNTIME.capture_content and span.is_recording():
            set_payload(span, "input", self.binder.bind(instance, args, kwargs))

    def _outputs(self, span: trace.Span, value: Any) -> None:
        if self.plan.model_call:
            capture_model_response(span, value)
        if RUNTIME.capture_content and span.is_recording() and not outputs_were_set(span):
            set_payload(span, "output", value)
        if self.mlflow:
            set_ok_unless_error(span)

    def _start(self) -> Optional[tuple[trace.Span, Any]]:
        """Start the call's span and make it current; None (logged, counted) if that failed."""
        span: Optional[trace.Span] = None
        try:
            span = self.plan.start()
            return span, otel_context.attach(trace.set_span_in_context(span))
        except Exception as exc:  # noqa: BLE001
            try:
                report_internal_error("trace: starting a span", exc)
                if span is not None:
                    _end_quietly(span)
            except RecursionError:  # at the recursion limit even this fails: stay out of the user's way
                pass
            return None

    def _safe_inputs(self, span: trace.Span, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        try:
            self._inputs(span, instance, args, kwargs)
        except Exception as exc:  # noqa: BLE001 - an internal error: the call goes on, traced
            try:
                report_internal_error("trace: recording inputs", exc)
            except RecursionError:
                pass

    def _fail(self, span: trace.Span, token: Any, exc: BaseException) -> None:
        try:
            if token is not None:
                otel_context.detach(token)
        except RecursionError:  # the caller's own detach (one level up) restores the context
            pass
        if isinstance(exc, RecursionError) and not _has_headroom():
            _unfinished.append((span, exc))  # no frame needed: ended one level up
            return
        try:
            record_error(span, exc)
            _end(span)
        except RecursionError:
            if getattr(span, "end_time", None) is None:
                _unfinished.append((span, exc))
        except Exception as internal:  # noqa: BLE001
            report_internal_error("trace: recording an exception", internal)

    # -- sync functions: the hot path
    def call(self, wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if not RUNTIME.enabled or (RUNTIME.sampling.active and RUNTIME.sampling.certainly_dropped()):
            return wrapped(*args, **kwargs)
        started = self._start()
        if started is None:  # called outside the except block: a user exception gets no __context__
            return wrapped(*args, **kwargs)
        span, token = started
        try:
            self._safe_inputs(span, instance, args, kwargs)  # Ctrl-C here ends the span too
            result = wrapped(*args, **kwargs)
        except BaseException as exc:
            self._fail(span, token, exc)
            raise
        self._succeed(span, token, result)
        return result

    def _succeed(self, span: trace.Span, token: Any, result: Any) -> None:
        try:
            otel_context.detach(token)
            self._outputs(span, result)
            _end(span)
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
        if not RUNTIME.enabled or (RUNTIME.sampling.active and RUNTIME.sampling.certainly_dropped()):
            return await wrapped(*args, **kwargs)
        started = self._start()
        if started is None:
            return await wrapped(*args, **kwargs)
        span, token = started
        try:
            self._safe_inputs(span, instance, args, kwargs)
            result = await wrapped(*args, **kwargs)
        except BaseException as exc:
            self._fail(span, token, exc)
            raise
        try:
            otel_context.detach(token)
            self._outputs(span, result)
            _end(span)
        except Exception as exc:  # noqa: BLE001
            report_internal_error("trace: ending a span", exc)
        return result

    # -- generators: the span opens when the body first runs and ends with the generator
    def call_generator(
        self, wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        generator = wrapped(*args, **kwargs)
        if not RUNTIME.enabled or (RUNTIME.sampling.active and RUNTIME.sampling.certainly_dropped()):
            return generator
        parent = parent_context() or otel_context.get_current()
        return self._named(self._traced_generator(generator, parent, instance, args, kwargs))

    def _named(self, made: Any) -> Any:
        """``made`` (a generator, coroutine or async generator object) named like the traced function's."""
        if self.func_name:
            try:
                made.__name__ = self.func_name
                made.__qualname__ = self.func_qualname
            except (AttributeError, TypeError):
                pass
        return made

    def _open_stream(
        self, parent: Any, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Optional["_Stream"]:
        """Start a generator's span under the context of the call that created the generator."""
        try:
            span = self.plan.start(context=parent)
        except Exception as exc:  # noqa: BLE001
            report_internal_error("trace: starting a generator span", exc)
            return None
        try:
            self._safe_inputs(span, instance, args, kwargs)
            return _Stream(span, self.output_reducer, self.plan.model_call, self.mlflow)
        except BaseException as exc:  # Ctrl-C while recording inputs: the span ends with it
            self._fail(span, None, exc)
            if not isinstance(exc, Exception):
                raise
            return None

    def _traced_generator(
        self,
        generator: Generator[Any, Any, Any],
        parent: Any,
        instance: Any,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> Generator[Any, Any, Any]:
        stream = self._open_stream(parent, instance, args, kwargs)
        if stream is None:
            return (yield from generator)
        to_send: Any = None
        to_throw: Optional[BaseException] = None
        try:
            while True:
                token = otel_context.attach(stream.context)
                try:
                    if to_throw is not None:
                        item = generator.throw(to_throw)
                    else:
                        item = generator.send(to_send)
                except StopIteration as stop:
                    otel_context.detach(token)
                    stream.finish()
                    return stop.value
                except BaseException as exc:
                    otel_context.detach(token)
                    stream.fail(exc)
                    raise
                otel_context.detach(token)
                stream.record(item)
                to_send, to_throw = None, None
                try:
                    to_send = yield item
                except GeneratorExit:
                    token = otel_context.attach(stream.context)
                    try:
                        generator.close()
                    finally:
                        otel_context.detach(token)
                    stream.finish(closed_early=True)
                    raise
                except BaseException as exc:  # thrown in by the consumer: pass it to the body
                    to_throw = exc
        finally:
            stream.finish(closed_early=True)

    # -- async generators
    def call_async_generator(
        self, wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        generator = wrapped(*args, **kwargs)
        if not RUNTIME.enabled or (RUNTIME.sampling.active and RUNTIME.sampling.certainly_dropped()):
            return generator
        parent = parent_context() or otel_context.get_current()
        return self._named(self._traced_async_generator(generator, parent, instance, args, kwargs))

    async def _traced_async_generator(
        self, generator: Any, parent: Any, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> AsyncIterator[Any]:
        stream = self._open_stream(parent, instance, args, kwargs)
        if stream is None:
            async for item in generator:
                yield item
            return
        to_send: Any = None
        to_throw: Optional[BaseException] = None
        try:
            while True:
                token = otel_context.attach(stream.context)
                try:
                    if to_throw is not None:
                        item = await generator.athrow(to_throw)
                    else:
                        item = await generator.asend(to_send)
                except StopAsyncIteration:
                    otel_context.detach(token)
                    stream.finish()
                    return
                except BaseException as exc:
                    otel_context.detach(token)
                    stream.fail(exc)
                    raise
                otel_context.detach(token)
                stream.record(item)
                to_send, to_throw = None, None
                try:
                    to_send = yield item
                except GeneratorExit:
                    token = otel_context.attach(stream.context)
                    try:
                        await generator.aclose()
                    finally:
                        otel_context.detach(token)
                    stream.finish(closed_early=True)
                    raise
                except BaseException as exc:
                    to_throw = exc
        finally:
            stream.finish(closed_early=True)


class _Stream:
    """One generator span: collects (a bounded number of) items and ends exactly once."""

    __slots__ = (
        "span",
        "context",
        "items",
        "count",
        "reducer",
        "started_ns",
        "first_item_ns",
        "ended",
        "usage",
        "mlflow",
        "room",
    )

    def __init__(
        self,
        span: trace.Span,
        reducer: Optional[Callable[[list[Any]], Any]],
        model_call: bool = False,
        mlflow_semantics: bool = False,
    ) -> None:
        self.span = span
        self.mlflow = mlflow_semantics and span.is_recording()
        self.usage = StreamUsage() if model_call and span.is_recording() else None
        self.context = trace.set_span_in_context(span)
        self.items: Optional[list[Any]] = [] if span.is_recording() and RUNTIME.capture_content else None
        self.count = 0
        self.reducer = reducer
        self.room = RUNTIME.settings.max_payload_bytes  # bytes of items still worth keeping (no reducer)
        self.started_ns = time.perf_counter_ns()
        self.first_item_ns: Optional[int] = None
        self.ended = False

    def record(self, item: Any) -> None:
        if self.first_item_ns is None:
            self.first_item_ns = time.perf_counter_ns()
        self.count += 1
        if self.usage is not None:
            self.usage.observe(item)
        if self.mlflow and self.count <= RUNTIME.settings.max_generator_items:
            self._chunk_event(item)
        items = self.items
        if items is None:
            return
        if self.reducer is not None:  # the reducer receives every item: they are all kept
            items.append(item)
        elif self.room > 0 and len(items) < RUNTIME.settings.max_generator_items:
            # keep no more than the outputs' budget can show: a stream of 1 MB chunks pins one
            # budget's worth (a bounded copy of what is not plain data), not 100 chunks
            size = json_size_hint(item, self.room)
            if size < 0 or size > self.room:
                item = to_jsonable(item, max(64, self.room))
                size = self.room
            self.room -= max(1, size)
            items.append(item)

    def _chunk_event(self, item: Any) -> None:
        """MLflow's ``mlflow.chunk.item.N`` event (N from 0) with the item as JSON."""
        try:
            value = redacted_json(item, RUNTIME.payload_budget) if RUNTIME.capture_content else ""
            self.span.add_event(sc.MLFLOW_CHUNK_EVENT.format(index=self.count - 1), {sc.MLFLOW_CHUNK_VALUE: value})
        except Exception as exc:  # noqa: BLE001
            report_internal_error("trace: recording a generator item event", exc)

    def finish(self, closed_early: bool = False) -> None:
        if self.ended:
            return
        self.ended = True
        try:
            span = self.span
            if span.is_recording():
                if self.usage is not None:
                    self.usage.apply(span)
                extra: dict[str, Any] = {"agentel.generator.items": self.count}
                if self.first_item_ns is not None:
                    extra[sc.AGENTEL_TIME_TO_FIRST_ITEM_MS] = (self.first_item_ns - self.started_ns) / 1e6
                if closed_early:
                    extra["agentel.generator.closed_early"] = True
                span.set_attributes(extra)
                if self.items is not None:
                    outputs = self.reducer(self.items) if self.reducer is not None else self.items
                    if self.reducer is None and self.count > len(self.items):
                        outputs = [*self.items, f"…[+{self.count - len(self.items)} items not kept]"]
                    set_payload(span, "output", outputs)
                if self.mlflow:
                    set_ok_unless_error(span)
            _end(span)
        except Exception as exc:  # noqa: BLE001
            report_internal_error("trace: ending a generator span", exc)
            _end_quietly(self.span)

    def fail(self, exc: BaseException) -> None:
        if self.ended:
            return
        self.ended = True
        try:
            record_error(self.span, exc)
            _end(self.span)
        except Exception as internal:  # noqa: BLE001
            report_internal_error("trace: recording a generator exception", internal)
            _end_quietly(self.span)


def _detach_quietly(token: Any) -> None:
    try:
        otel_context.detach(token)
    except Exception:  # noqa: BLE001
        pass


def _end_quietly(span: trace.Span) -> None:
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


def _kind_of(func: Any) -> str:
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


class _TracedBoundFunction(wrapt.BoundFunctionWrapper):  # type: ignore[type-arg]
    """A traced method bound to an instance; pickles as a plain bound method does."""

    def __reduce_ex__(self, protocol: Any) -> Any:
        instance = self._self_instance
        wrapped = self.__wrapped__
        name = getattr(wrapped, "__name__", None)
        if instance is None:  # looked up on the class (or a staticmethod): find the class by qualname
            qualname = getattr(getattr(wrapped, "__func__", wrapped), "__qualname__", "")
            instance = _global(getattr(wrapped, "__module__", None), qualname.rpartition(".")[0])
        if instance is None or not isinstance(name, str):
            raise TypeError(f"cannot pickle the traced callable {wrapped!r}")
        return getattr, (instance, name)


class _TracedFunction(wrapt.FunctionWrapper):  # type: ignore[type-arg]
    """What ``trace`` returns: a transparent wrapper (wrapt) that pickles like the function it wraps.

    A module-level traced function pickles by its qualified name, as a plain function does (the
    unpickling process imports the module and finds the traced function there); a traced wrapper of
    anything else pickles as "trace this callable with the same options" (the callable itself must be
    picklable, as it would have to be without agentel).
    """

    __bound_function_wrapper__ = _TracedBoundFunction

    def __init__(self, wrapped: Any, wrapper: Any, traced: _Traced) -> None:
        super().__init__(wrapped, wrapper)
        self._self_traced = traced

    def __reduce_ex__(self, protocol: Any) -> Any:
        qualname = getattr(self.__wrapped__, "__qualname__", None)
        if isinstance(qualname, str) and _global(getattr(self.__wrapped__, "__module__", None), qualname) is self:
            return qualname  # a global: pickled by reference, like the plain function
        return _retrace, (self.__wrapped__, self._self_traced.options)


# Sync Python functions are called through a plain Python function, not through wrapt's proxy: each
# level of a recursive traced call then costs the interpreter two frames (the wrapper's and the
# function's), as under any functools.wraps decorator, instead of three (wrapt's C ``__call__`` counts
# against the recursion limit too), so a traced function recurses as deep as a plainly decorated one.
# A function defined in a class body stays a wrapt proxy (its descriptor binding: looked up on the
# class, under staticmethod/classmethod) whose binding to an instance is a plain bound method of the
# plain wrapper. Everything else (callable objects, bound methods, classmethod/staticmethod objects,
# generators and coroutines) keeps wrapt, as does ``agentel.trace(f)`` on an existing global ``f``,
# which wrapt's proxy pickles as "trace f again".


def _plain_kind(target: Any) -> Optional[str]:
    """``"function"`` or ``"method"`` for a sync Python function that takes the plain wrapper, else None."""
    if not inspect.isfunction(target):
        return None
    qualname = getattr(target, "__qualname__", None)
    if not isinstance(qualname, str):
        return None
    scope, dot, _ = qualname.rpartition(".")
    if dot and not scope.endswith("<locals>"):
        return "method"  # defined in a class body
    # a module function under ``@trace`` becomes the global of its name (pickled by reference)
    return "function" if _global(getattr(target, "__module__", None), qualname) is not target else None


def _plain_call(func: Callable[..., Any], traced: _Traced, receiver_first: bool) -> Callable[..., Any]:
    """``traced.call`` as one plain function: nothing but it stands between the caller and ``func``.
    ``receiver_first``: the first argument is the instance (or class) the method is bound to."""
    start, safe_inputs, fail, succeed = traced._start, traced._safe_inputs, traced._fail, traced._succeed

    def traced_call(*args: Any, **kwargs: Any) -> Any:
        if not RUNTIME.enabled or (RUNTIME.sampling.active and RUNTIME.sampling.certainly_dropped()):
            return func(*args, **kwargs)
        started = start()
        if started is None:  # called outside the except block: a user exception gets no __context__
            return func(*args, **kwargs)
        span, token = started
        try:
            # Ctrl-C here ends the span too
            if receiver_first and args:
                safe_inputs(span, args[0], args[1:], kwargs)
            else:
                safe_inputs(span, None, args, kwargs)
            result = func(*args, **kwargs)
        except BaseException as exc:
            fail(span, token, exc)
            raise
        succeed(span, token, result)
        return result

    functools.update_wrapper(traced_call, func)  # names, docstring, __wrapped__ (so the signature)
    return traced_call


class _TracedMethod(_TracedFunction):
    """A traced function defined in a class body; bound to an instance, a plain bound method."""

    def __init__(self, wrapped: Any, wrapper: Any, traced: _Traced) -> None:
        super().__init__(wrapped, wrapper, traced)
        self._self_bound_call = _plain_call(wrapped, traced, receiver_first=True)

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        if instance is None:  # looked up on the class: wrapt's binding, as for any traced callable
            return super().__get__(instance, owner)
        return types.MethodType(self._self_bound_call, instance)


def _global(module_name: Any, qualname: str) -> Any:
    """The object at ``module.qualname`` (dotted), or None; never imports anything."""
    module = sys.modules.get(module_name) if isinstance(module_name, str) else None
    if module is None or not qualname or "<locals>" in qualname:
        return None
    found: Any = module
    for part in qualname.split("."):
        found = getattr(found, part, None)
    return found


def _retrace(func: Any, options: tuple[Any, ...]) -> Any:
    """Unpickling a traced wrapper that is not a module global: trace ``func`` again, same options."""
    return traced_callable(func, *options)


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


def traced_callable(
    func: Any,
    name: Optional[str],
    span_type: str,
    attributes: Optional[Mapping[str, Any]],
    output_reducer: Optional[Callable[[list[Any]], Any]],
    mlflow_semantics: bool = False,
    capture_response: bool = True,
) -> Any:
    """``trace``'s body; ``mlflow_semantics`` (the compat layer) adds status OK on success and one
    ``mlflow.chunk.item.N`` event per yielded item."""

    def decorate(target: F) -> F:
        try:
            traced = _Traced(target, name, span_type, attributes, output_reducer, mlflow_semantics, capture_response)
            kind = _kind_of(target)
            plain = _plain_kind(target) if kind == "sync" else None
            if plain == "function":
                return _plain_call(target, traced, receiver_first=False)  # type: ignore[return-value]
            if plain == "method":
                return _TracedMethod(target, traced.call, traced)  # type: ignore[return-value]
            wrapper = {
                "sync": traced.call,
                "async": traced.call_async,
                "generator": traced.call_generator,
                "async_generator": traced.call_async_generator,
            }[kind]
            return _TracedFunction(target, wrapper, traced)  # type: ignore[return-value]
        except Exception as exc:  # noqa: BLE001 - an untraceable callable is returned unchanged
            report_internal_error("trace: decorating", exc)
            return target

    if func is None:
        return decorate
    return decorate(func)


class start_span:  # noqa: N801 - used like a function, as in MLflow
    """Open a span for a block of code; the ``with`` target is a ``LiveSpan``.

    Example::

        with agentel.start_span("retrieve", span_type=agentel.SpanType.RETRIEVER) as span:
            span.set_inputs({"query": query})
            span.set_outputs(documents)

    The span is current inside the block, so nested spans (agentel's or any OTel instrumentation's)
    become its children. An exception leaving the block marks it ERROR and passes through unchanged.
    Also usable as ``async with``.
    """

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
        if not RUNTIME.enabled or (RUNTIME.sampling.active and RUNTIME.sampling.certainly_dropped()):
            self._entered.append(None)
            return _NOOP_SPAN if self._span_class is LiveSpan else self._span_class(trace.INVALID_SPAN)
        span: Optional[trace.Span] = None
        token: Any = None
        try:
            plan = _SpanPlan(safe_text(self._name), safe_text(self._span_type), self._attributes)
            span = plan.start()
            token = otel_context.attach(trace.set_span_in_context(span))
            if self._inputs is not None and RUNTIME.capture_content and span.is_recording():
                set_payload(span, "input", self._inputs)
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
                    except Exception:  # noqa: BLE001
                        pass
                _end_quietly(span)
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
        try:
            otel_context.detach(token)
            if exc is not None:
                record_error(span, exc)
            elif self._ok_on_success:
                set_ok_unless_error(span)
            if getattr(span, "end_time", None) is None:
                _end(span)
        except Exception as internal:  # noqa: BLE001
            report_internal_error("start_span: ending", internal)

    async def __aenter__(self) -> LiveSpan:
        return self.__enter__()

    async def __aexit__(self, exc_type: Any, exc: Optional[BaseException], tb: Any) -> None:
        self.__exit__(exc_type, exc, tb)


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
