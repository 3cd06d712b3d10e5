"""Traced generators and async generators: the span opens when the body first runs (under the context
of the call that made the generator) and ends with the generator: exhausted, closed or collected.
Its outputs are the yielded items (a bounded number of them), or ``output_reducer(items)``.
"""

from __future__ import annotations

import functools
import time
from typing import Any, AsyncIterator, Callable, Generator, Optional

from opentelemetry import context as otel_context
from opentelemetry import trace

from agentel._conventions import names as sc
from agentel._conventions.responses import StreamUsage
from agentel._internal_errors import contained, report_internal_error
from agentel._otel_internals import context_switches
from agentel._payload.serialize import json_size_hint, to_jsonable
from agentel._runtime.foreign_context import parent_context
from agentel._runtime.state import State, current_state
from agentel._tracing.calls import Traced, end_quietly, end_traced, tracer_for
from agentel._tracing.otel_spans import record_error, refresh_trace_usage, set_ok_unless_error
from agentel._tracing.propagation import attach
from agentel._tracing.write import redacted_json, set_payload

_attach, _detach = context_switches()  # the OTel context, set and reset per call or item

_NUMBERS = (int, float, bool, type(None))  # about 8 bytes of JSON each
_STARTING = contained("trace: starting a generator span")
_CHUNK_EVENT = contained("trace: recording a generator item event")


def stream_wrapper(traced: Traced, asynchronous: bool) -> Callable[..., Any]:
    """The wrapt wrapper (``wrapped, instance, args, kwargs``) of a generator or async generator function."""
    return functools.partial(_call, _traced_async_generator if asynchronous else _traced_generator, traced)


def _call(
    drive: Callable[..., Any],
    traced: Traced,
    wrapped: Callable[..., Any],
    instance: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Any:
    """Call the generator function; the span opens when the generator it made first runs."""
    generator = wrapped(*args, **kwargs)
    state = current_state()
    if not state.enabled or (state.sampling.active and state.sampling.certainly_dropped()):
        return generator
    parent = parent_context() or otel_context.get_current()
    return traced._named(drive(traced, generator, parent, instance, args, kwargs))


def _open_stream(
    traced: Traced, parent: Any, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Optional["Stream"]:
    """Start a generator's span under the context of the call that created the generator."""
    span = None
    state = current_state()  # read once for the generator's span: at its first run
    with _STARTING:
        state, tracer = tracer_for(state)
        span = traced.plan.start(state, tracer, context=parent)
    if span is None:
        return None
    try:
        traced._safe_inputs(span, state.policy, instance, args, kwargs)
        return Stream(span, state, traced.output_reducer, traced.plan.model_call, traced.mlflow)
    except BaseException as exc:  # Ctrl-C while recording inputs: the span ends with it
        traced._fail(span, None, exc)
        if not isinstance(exc, Exception):
            raise
        return None


def _traced_generator(
    traced: Traced,
    generator: Generator[Any, Any, Any],
    parent: Any,
    instance: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Generator[Any, Any, Any]:
    stream = _open_stream(traced, parent, instance, args, kwargs)
    if stream is None:
        return (yield from generator)
    to_send: Any = None
    to_throw: Optional[BaseException] = None
    try:
        while True:
            token = _attach(stream.context)
            try:
                item = generator.send(to_send) if to_throw is None else generator.throw(to_throw)
            except StopIteration as stop:
                stream.finish(token)
                return stop.value
            except BaseException as exc:
                stream.fail(exc, token)
                raise
            stream.record(item, token)
            to_send, to_throw = None, None
            try:
                to_send = yield item
            except GeneratorExit:
                with attach(stream.context):
                    generator.close()
                stream.finish(closed_early=True)
                raise
            except BaseException as exc:  # thrown in by the consumer: pass it to the body
                to_throw = exc
    finally:
        stream.finish(closed_early=True)


async def _traced_async_generator(
    traced: Traced, generator: Any, parent: Any, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> AsyncIterator[Any]:
    stream = _open_stream(traced, parent, instance, args, kwargs)
    if stream is None:
        async for item in generator:
            yield item
        return
    to_send: Any = None
    to_throw: Optional[BaseException] = None
    try:
        while True:
            token = _attach(stream.context)
            try:
                item = await (generator.asend(to_send) if to_throw is None else generator.athrow(to_throw))
            except StopAsyncIteration:
                stream.finish(token)
                return
            except BaseException as exc:
                stream.fail(exc, token)
                raise
            stream.record(item, token)
            to_send, to_throw = None, None
            try:
                to_send = yield item
            except GeneratorExit:
                with attach(stream.context):
                    await generator.aclose()
                stream.finish(closed_early=True)
                raise
            except BaseException as exc:
                to_throw = exc
    finally:
        stream.finish(closed_early=True)


class Stream:
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
        "state",
        "keep",
        "watched",
    )

    def __init__(
        self,
        span: trace.Span,
        state: State,
        reducer: Optional[Callable[[list[Any]], Any]],
        model_call: bool = False,
        mlflow_semantics: bool = False,
    ) -> None:
        self.span = span
        self.state = state
        self.mlflow = mlflow_semantics and span.is_recording()
        self.usage = StreamUsage() if model_call and span.is_recording() else None
        self.context = trace.set_span_in_context(span)
        self.items: Optional[list[Any]] = [] if span.is_recording() and state.policy.capture_content else None
        self.count = 0
        self.reducer = reducer
        self.room = state.settings.max_payload_bytes  # bytes of items still worth keeping (no reducer)
        self.keep = state.settings.max_generator_items  # items kept (and chunk events), at most
        self.watched = self.usage is not None or self.mlflow
        self.started_ns = time.perf_counter_ns()
        self.first_item_ns: Optional[int] = None
        self.ended = False

    def record(self, item: Any, token: Any) -> None:
        """One item the body yielded; ``token`` (the body's context, attached) is detached first.
        Never raises: the item reaches the consumer whatever happens here."""
        _detach(token)
        try:  # hand-written, not the guard: a try costs nothing per item while nothing raises
            self.count += 1
            if self.count == 1:
                self.first_item_ns = time.perf_counter_ns()
            if self.watched:
                self._watch(item)
            items = self.items
            if items is None:
                return
            if self.reducer is not None:  # the reducer receives every item: they are all kept
                items.append(item)
            elif self.room > 0 and len(items) < self.keep:
                # keep no more than the outputs' budget can show: a stream of 1 MB chunks pins one
                # budget's worth (a bounded copy of what is not plain data), not 100 chunks
                kind = type(item)
                if kind is str:
                    size = len(item) + 2
                elif kind in _NUMBERS:
                    size = 8
                else:
                    size = json_size_hint(item, self.room)
                if size < 0 or size > self.room:
                    item = to_jsonable(item, max(64, self.room))
                    size = self.room
                self.room -= max(1, size)
                items.append(item)
        except Exception as exc:  # noqa: BLE001 - report, count, and let the item through
            report_internal_error("trace: recording a generator item", exc)

    def _watch(self, item: Any) -> None:
        """A model stream's usage and MLflow's chunk events: what only some streams look at."""
        if self.usage is not None:
            self.usage.observe(item)
        if self.mlflow and self.count <= self.keep:
            self._chunk_event(item)

    def _chunk_event(self, item: Any) -> None:
        """MLflow's ``mlflow.chunk.item.N`` event (N from 0) with the item as JSON."""
        with _CHUNK_EVENT:
            policy = self.state.policy
            value = redacted_json(item, policy) if policy.capture_content else ""
            self.span.add_event(sc.MLFLOW_CHUNK_EVENT.format(index=self.count - 1), {sc.MLFLOW_CHUNK_VALUE: value})

    def finish(self, token: Any = None, closed_early: bool = False) -> None:
        """The body returned (or the generator was closed or collected): end the span, once."""
        if token is not None:
            _detach(token)
        if self.ended:
            return
        self.ended = True
        # hand-written, not the guard: after an internal error the span must still end
        try:
            span = self.span
            if span.is_recording():
                if self.usage is not None and self.usage.apply(span, self.state.policy):
                    refresh_trace_usage(span)
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
                    set_payload(span, "output", outputs, self.state.policy)
                if self.mlflow:
                    set_ok_unless_error(span)
            end_traced(span)
        except Exception as exc:  # noqa: BLE001
            report_internal_error("trace: ending a generator span", exc)
            end_quietly(self.span)

    def fail(self, exc: BaseException, token: Any) -> None:
        """The body raised ``exc``: the span ends with it, once."""
        _detach(token)
        if self.ended:
            return
        self.ended = True
        # hand-written, not the guard: after an internal error the span must still end
        try:
            record_error(self.span, exc)
            end_traced(self.span)
        except Exception as internal:  # noqa: BLE001
            report_internal_error("trace: recording a generator exception", internal)
            end_quietly(self.span)
