"""Traced generators and async generators: the span opens when the body first runs (under the context
of the call that made the generator) and ends with the generator: exhausted, closed or collected.
Its outputs are the yielded items (a bounded number of them), or ``output_reducer(items)``.
"""

from __future__ import annotations

import functools
import sys
import time
from typing import Any, AsyncIterator, Awaitable, Callable, Generator, Optional

from opentelemetry import context as otel_context
from opentelemetry import trace

from agentel._conventions import names as sc
from agentel._conventions.builders import payload_attributes
from agentel._conventions.responses import StreamUsage
from agentel._internal_errors import contained, report_internal_error
from agentel._otel_internals import raw_context_switches, set_plain_attributes
from agentel._payload.serialize import json_size_hint, to_jsonable
from agentel._runtime.foreign_context import parent_context
from agentel._runtime.state import State, current_state
from agentel._tracing.calls import Traced, end_quietly, end_traced, tracer_for
from agentel._tracing.otel_spans import record_error, refresh_trace_usage, set_ok_unless_error
from agentel._tracing.propagation import attach
from agentel._tracing.write import redacted_json

# the OTel context, set before and reset after each step of the body (bound once: paid per item)
_set_context, _reset_context = raw_context_switches()

# about 8 bytes of JSON each; a set, not a tuple: a miss (a text) costs no == per member
_NUMBERS: frozenset[type] = frozenset((int, float, bool, type(None)))
_NUMBER_BYTES = 8
_EVERY_ITEM = sys.maxsize  # the item limit of a stream that looks at every item
_STARTING = contained("trace: starting a generator span")
_CHUNK_EVENT = contained("trace: recording a generator item event")
_OUTPUTS = contained("trace: recording a generator's outputs")


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
    traced: Traced, generator: Any, parent: Any, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
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
        return Stream(span, state, generator, traced.output_reducer, traced.plan.model_call, traced.mlflow)
    except BaseException as exc:  # Ctrl-C while recording inputs: the span ends with it
        traced._fail(span, None, exc)
        if not isinstance(exc, Exception):
            raise
        return None


def _restore(token: Any) -> None:
    """Reset the OTel context to what it was before ``token``'s set (the API's detach logs a failure)."""
    try:
        _reset_context(token)
    except Exception:  # noqa: BLE001 - not agentel's: the API's detach logs it, as without agentel
        otel_context.detach(token)


# The two drivers below are one loop, written twice: a sync generator cannot await and an async one
# cannot be driven by plain calls. Per item they do only this: set the span's context, resume the
# body, reset the context, count the item and keep it when it is a number within the stream's limit
# (anything else goes to ``Stream.keep``), hand it on. Sharing these steps through one method costs a
# Python call per item: +0.8 k instructions each, +10 % for a 100-item generator (callgrind, 3.11).


def _traced_generator(
    traced: Traced,
    generator: Generator[Any, Any, Any],
    parent: Any,
    instance: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Generator[Any, Any, Any]:
    stream = _open_stream(traced, generator, parent, instance, args, kwargs)
    if stream is None:
        return (yield from generator)
    context, send, throw, keep = stream.context, generator.send, generator.throw, stream.keep
    numbers, append, limit = stream.loop_state()
    step: Callable[[Any], Any] = stream.first_send
    value: Any = None
    count = 0
    try:
        while True:
            token = _set_context(context)
            try:
                item = step(value)
            except StopIteration as stop:
                _restore(token)
                stream.finish(count)
                return stop.value
            except BaseException as exc:
                _restore(token)
                stream.fail(exc)
                raise
            try:
                _reset_context(token)
            except Exception:  # noqa: BLE001
                otel_context.detach(token)
            count += 1
            if count <= limit:
                if type(item) in numbers:
                    append(item)
                else:
                    limit = keep(item, count)
            step = send
            try:
                value = yield item
            except GeneratorExit:
                with attach(context):
                    generator.close()
                stream.finish(count, closed_early=True)
                raise
            except BaseException as exc:  # thrown in by the consumer: pass it to the body
                step, value = throw, exc
    finally:
        stream.finish(count, closed_early=True)


async def _traced_async_generator(
    traced: Traced, generator: Any, parent: Any, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> AsyncIterator[Any]:
    stream = _open_stream(traced, generator, parent, instance, args, kwargs)
    if stream is None:
        async for item in generator:
            yield item
        return
    context, send, throw, keep = stream.context, generator.asend, generator.athrow, stream.keep
    numbers, append, limit = stream.loop_state()
    step: Callable[[Any], Awaitable[Any]] = stream.first_asend
    value: Any = None
    count = 0
    try:
        while True:
            token = _set_context(context)
            try:
                item = await step(value)
            except StopAsyncIteration:
                _restore(token)
                stream.finish(count)
                return
            except BaseException as exc:
                _restore(token)
                stream.fail(exc)
                raise
            try:
                _reset_context(token)
            except Exception:  # noqa: BLE001
                otel_context.detach(token)
            count += 1
            if count <= limit:
                if type(item) in numbers:
                    append(item)
                else:
                    limit = keep(item, count)
            step = send
            try:
                value = yield item
            except GeneratorExit:
                with attach(context):
                    await generator.aclose()
                stream.finish(count, closed_early=True)
                raise
            except BaseException as exc:
                step, value = throw, exc
    finally:
        stream.finish(count, closed_early=True)


def _keeps_nothing(item: Any) -> None:
    """The drivers' ``append`` for a stream that keeps no number by itself (never called)."""


class Stream:
    """One generator span: counts and keeps (a bounded number of) its items and ends exactly once.

    The drivers keep numbers themselves while the item count is within ``limit``: as many as the bytes
    left (``room``, 8 per number) and ``max_generator_items`` allow. Any other item within the limit
    comes to ``keep``, which charges the numbers kept since its last call to ``room``, keeps the item
    (or a bounded copy) and returns the new limit. A stream that looks at every item (an output
    reducer, a model stream's usage, MLflow's chunk events) keeps no number by itself."""

    __slots__ = (
        "span",
        "context",
        "generator",
        "items",
        "count",
        "reducer",
        "started_ns",
        "first_item_ns",
        "ended",
        "usage",
        "mlflow",
        "room",
        "charged",
        "state",
        "max_items",
        "watched",
        "limit",
    )

    def __init__(
        self,
        span: trace.Span,
        state: State,
        generator: Any,
        reducer: Optional[Callable[[list[Any]], Any]],
        model_call: bool = False,
        mlflow_semantics: bool = False,
    ) -> None:
        recording = span.is_recording()
        self.span = span
        self.state = state
        self.generator = generator
        self.mlflow = mlflow_semantics and recording
        self.usage = StreamUsage() if model_call and recording else None
        self.context = trace.set_span_in_context(span)
        self.items: Optional[list[Any]] = [] if recording and state.policy.capture_content else None
        self.count = 0  # the item count at the last ``keep`` (the drivers count every item)
        self.reducer = reducer
        self.room = state.settings.max_payload_bytes  # bytes of items still worth keeping (no reducer)
        self.charged = 0  # the item count up to which ``room`` is charged
        self.max_items = state.settings.max_generator_items  # items kept (and chunk events), at most
        self.watched = self.usage is not None or self.mlflow
        self.limit = 0  # no item kept
        if self.watched or (reducer is not None and self.items is not None):
            self.limit = _EVERY_ITEM
        elif self.items is not None:  # numbers of 8 bytes kept while room is left (as in ``keep``)
            self.limit = min(self.max_items, -(-self.room // _NUMBER_BYTES))
        self.started_ns = time.perf_counter_ns()
        self.first_item_ns: Optional[int] = None
        self.ended = False

    def loop_state(self) -> tuple[frozenset[type], Callable[[Any], None], int]:
        """What a driver holds in locals: the item types it keeps by itself, how, and up to which count."""
        if self.limit == _EVERY_ITEM or self.items is None:
            return frozenset(), _keeps_nothing, self.limit
        return _NUMBERS, self.items.append, self.limit

    def first_send(self, value: Any) -> Any:
        """The body's first step; the time of the first item is taken here, not on every step."""
        item = self.generator.send(value)
        self.first_item_ns = time.perf_counter_ns()
        return item

    async def first_asend(self, value: Any) -> Any:
        """``first_send`` of an async generator."""
        item = await self.generator.asend(value)
        self.first_item_ns = time.perf_counter_ns()
        return item

    def keep(self, item: Any, count: int) -> int:
        """Item number ``count``, not a number the driver kept: look at it, keep it (or a bounded copy)
        while the outputs' budget can show it; returns the new limit. Never raises: the item reaches
        the consumer whatever happens here."""
        try:  # hand-written, not the guard: a try costs nothing while nothing raises
            if self.watched:
                self.count = count
                self._watch(item)
            items = self.items
            if items is None:
                return self.limit
            if self.reducer is not None:  # the reducer receives every item: they are all kept
                items.append(item)
                return self.limit
            room = self.room
            if count - 1 != self.charged:  # the numbers the driver kept since the last call
                room = self.room = room - _NUMBER_BYTES * (count - 1 - self.charged)
            self.charged = count
            left = self.max_items - len(items)
            if room > 0 and left > 0:
                # keep no more than the outputs' budget can show: a stream of 1 MB chunks pins one
                # budget's worth (a bounded copy of what is not plain data), not 100 chunks
                kind = type(item)
                if kind is str:
                    size = len(item) + 2
                elif kind in _NUMBERS:
                    size = _NUMBER_BYTES
                else:
                    size = json_size_hint(item, room)
                if size < 0 or size > room:
                    item = to_jsonable(item, max(64, room))
                    size = room
                room = self.room = room - (size if size > 0 else 1)
                items.append(item)
                left -= 1
            if not self.watched:  # the numbers the driver may keep next: 8 bytes each, while room is left
                fit = -(-room // _NUMBER_BYTES)
                self.limit = count if room <= 0 or left <= 0 else count + (fit if fit < left else left)
        except Exception as exc:  # noqa: BLE001 - report, count, and let the item through
            report_internal_error("trace: recording a generator item", exc)
        return self.limit

    def _watch(self, item: Any) -> None:
        """A model stream's usage and MLflow's chunk events: what only some streams look at."""
        if self.usage is not None:
            self.usage.observe(item)
        if self.mlflow and self.count <= self.max_items:
            self._chunk_event(item)

    def _chunk_event(self, item: Any) -> None:
        """MLflow's ``mlflow.chunk.item.N`` event (N from 0) with the item as JSON."""
        with _CHUNK_EVENT:
            policy = self.state.policy
            value = redacted_json(item, policy) if policy.capture_content else ""
            self.span.add_event(sc.MLFLOW_CHUNK_EVENT.format(index=self.count - 1), {sc.MLFLOW_CHUNK_VALUE: value})

    def finish(self, count: int, closed_early: bool = False) -> None:
        """The body returned after ``count`` items (or the generator was closed or collected): end the
        span, once. The counts, the time to the first item and the outputs are written at once."""
        if self.ended:
            return
        self.ended = True
        # hand-written, not the guard: after an internal error the span must still end
        try:
            span = self.span
            if span.is_recording():
                if self.usage is not None and self.usage.apply(span, self.state.policy):
                    refresh_trace_usage(span)
                attributes: dict[str, Any] = {"agentel.generator.items": count}
                if self.first_item_ns is not None:
                    attributes[sc.AGENTEL_TIME_TO_FIRST_ITEM_MS] = (self.first_item_ns - self.started_ns) / 1e6
                if closed_early:
                    attributes["agentel.generator.closed_early"] = True
                if self.items is not None:
                    with _OUTPUTS:  # a failing output reducer: the span keeps its counts
                        attributes.update(self._output_attributes(self.items, count))
                set_plain_attributes(span, attributes)
                if self.mlflow:
                    set_ok_unless_error(span)
            end_traced(span)
        except Exception as exc:  # noqa: BLE001
            report_internal_error("trace: ending a generator span", exc)
            end_quietly(self.span)

    def _output_attributes(self, items: list[Any], count: int) -> dict[str, Any]:
        """The outputs (``output_reducer(items)``, or the kept items and how many were not kept)."""
        outputs: Any = items
        if self.reducer is not None:
            outputs = self.reducer(items)
        elif count > len(items):
            outputs = [*items, f"…[+{count - len(items)} items not kept]"]
        policy = self.state.policy
        return payload_attributes(policy.dialects, "output", redacted_json(outputs, policy))

    def fail(self, exc: BaseException) -> None:
        """The body raised ``exc``: the span ends with it, once."""
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
