"""Traced generators: which yielded items a span keeps (numbers counted by the driver itself, anything
else looked at one by one, both within the outputs' byte budget and ``max_generator_items``), what a
span records when it keeps nothing, and that a failing output reducer costs the outputs only."""

from __future__ import annotations

import asyncio
import contextvars
from typing import Any, Iterator

import pytest

import agentel
import agentel.testing
from agentel.testing import SpanCapture

X, Y = "x" * 48, "y" * 48  # 50 bytes of JSON each


def _both(items: list[Any]) -> tuple[Any, Any]:
    """A traced generator and a traced async generator named ``g`` / ``ag`` that yield ``items``."""

    @agentel.trace(name="g")
    def g() -> Iterator[Any]:
        yield from items

    @agentel.trace(name="ag")
    async def ag() -> Any:
        for item in items:
            yield item

    return g, ag


def _consume(kind: str, g: Any, ag: Any) -> list[Any]:
    async def collect() -> list[Any]:
        return [item async for item in ag()]

    return list(g()) if kind == "sync" else asyncio.run(collect())


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_numbers_and_texts_are_kept_while_the_outputs_budget_has_room(captured_spans: SpanCapture, kind: str) -> None:
    # 200 bytes: 8 per number, a text its JSON length; an item is kept while any room is left before it
    items: list[Any] = [1, 2, X, 3, Y, *range(4, 30)]
    agentel.testing.reset(provider=False, settings=False, max_payload_bytes=200)  # the capture restores
    assert _consume(kind, *_both(items)) == items
    span = captured_spans.find("g" if kind == "sync" else "ag")
    kept = [1, 2, X, 3, Y, *range(4, 14)]  # 200 - 2*8 - 50 - 8 - 50 = 76 bytes: 10 more numbers
    assert span.outputs == [*kept, f"…[+{len(items) - len(kept)} items not kept]"]
    assert span.attributes["agentel.generator.items"] == len(items)


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_large_item_after_numbers_is_kept_as_a_bounded_copy_and_ends_the_kept_items(
    captured_spans: SpanCapture, kind: str
) -> None:
    items: list[Any] = [*range(5), {"text": "z" * 5000}, 7, 8]
    agentel.testing.reset(provider=False, settings=False, max_payload_bytes=1000)
    assert _consume(kind, *_both(items)) == items
    outputs = captured_spans.find("g" if kind == "sync" else "ag").outputs
    assert outputs[:5] == [0, 1, 2, 3, 4]
    assert isinstance(outputs[5], dict) and len(str(outputs[5])) < 1000  # cut to the room left
    assert outputs[-1] == "…[+2 items not kept]"


@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.parametrize("limit", [0, 1, 5])
def test_max_generator_items_bounds_kept_numbers_and_texts(captured_spans: SpanCapture, kind: str, limit: int) -> None:
    items: list[Any] = [0, "a", 1, "b", 2, "c", 3]
    agentel.testing.reset(provider=False, settings=False, max_generator_items=limit)
    assert _consume(kind, *_both(items)) == items
    span = captured_spans.find("g" if kind == "sync" else "ag")
    assert span.outputs == [*items[:limit], f"…[+{len(items) - limit} items not kept]"]
    assert span.attributes["agentel.generator.items"] == len(items)


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_without_content_capture_a_stream_still_records_its_count_and_first_item_time(
    captured_spans: SpanCapture, kind: str
) -> None:
    agentel.testing.reset(provider=False, settings=False, capture_content=False)
    assert _consume(kind, *_both([1, "two", 3])) == [1, "two", 3]
    span = captured_spans.find("g" if kind == "sync" else "ag")
    assert span.outputs is None
    assert span.attributes["agentel.generator.items"] == 3
    assert span.attributes["agentel.time_to_first_item_ms"] >= 0


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_an_empty_stream_records_no_first_item_time(captured_spans: SpanCapture, kind: str) -> None:
    assert _consume(kind, *_both([])) == []
    span = captured_spans.find("g" if kind == "sync" else "ag")
    assert span.outputs == []
    assert span.attributes["agentel.generator.items"] == 0
    assert "agentel.time_to_first_item_ms" not in span.attributes


def test_a_failing_output_reducer_loses_the_outputs_only(captured_spans: SpanCapture) -> None:
    before = agentel.stats()["internal_errors"]

    def broken(items: list[Any]) -> Any:
        raise ValueError("reducer bug")

    @agentel.trace(name="reduced", output_reducer=broken)
    def reduced() -> Iterator[int]:
        yield from range(3)

    assert list(reduced()) == [0, 1, 2]
    span = captured_spans.find("reduced")
    assert span.outputs is None and span.status_code == "UNSET"
    assert span.attributes["agentel.generator.items"] == 3
    assert agentel.stats()["internal_errors"] == before + 1


def test_an_output_reducer_receives_every_item_as_yielded(captured_spans: SpanCapture) -> None:
    big = {"text": "z" * 20_000}  # beyond the budget: still handed to the reducer as it is
    seen: list[Any] = []

    def reducer(items: list[Any]) -> int:
        seen.extend(items)
        return len(items)

    @agentel.trace(name="reduced", output_reducer=reducer)
    def reduced() -> Iterator[Any]:
        yield from [1, big, *range(300)]

    assert len(list(reduced())) == 302
    assert seen[:2] == [1, big] and seen[1] is big and len(seen) == 302
    assert captured_spans.find("reduced").outputs == 302


def test_items_sent_and_thrown_in_are_counted_with_the_others(captured_spans: SpanCapture) -> None:
    @agentel.trace(name="echo")
    def echo() -> Iterator[Any]:
        value = None
        while True:
            try:
                value = yield value
            except KeyError:
                value = "recovered"
            if value == "stop":
                return

    gen = echo()
    assert next(gen) is None
    assert gen.send(1) == 1
    assert gen.throw(KeyError("k")) == "recovered"
    assert gen.send("x") == "x"
    with pytest.raises(StopIteration):
        gen.send("stop")
    span = captured_spans.find("echo")
    assert span.outputs == [None, 1, "recovered", "x"]
    assert span.attributes["agentel.generator.items"] == 4
    assert "agentel.generator.closed_early" not in span.attributes


_REQUEST: contextvars.ContextVar[str] = contextvars.ContextVar("request", default="-")


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_the_span_is_current_in_the_body_only_and_the_body_sees_what_the_consumer_set_before_each_step(
    captured_spans: SpanCapture, kind: str
) -> None:
    seen: list[Any] = []

    def look() -> None:
        current = agentel.get_current_span()
        seen.append((current.name if current else None, _REQUEST.get()))

    @agentel.trace(name="body")
    def body() -> Iterator[int]:
        for i in range(3):
            look()
            yield i

    @agentel.trace(name="body")
    async def abody() -> Any:
        for i in range(3):
            await asyncio.sleep(0)
            look()
            yield i

    consumer: list[Any] = []

    def after_step() -> None:
        current = agentel.get_current_span()
        consumer.append(current.name if current else None)

    def sync() -> None:
        gen = body()
        for request in ("a", "b", "c"):
            _REQUEST.set(request)
            next(gen)
            after_step()
        gen.close()

    async def run_async() -> None:
        gen = abody()
        for request in ("a", "b", "c"):
            _REQUEST.set(request)
            await gen.__anext__()
            after_step()
        await gen.aclose()

    contextvars.copy_context().run(sync if kind == "sync" else lambda: asyncio.run(run_async()))
    assert consumer == [None, None, None]  # never current in the consumer between items
    assert seen == [("body", "a"), ("body", "b"), ("body", "c")]  # the consumer's changes reach the body
    assert captured_spans.find("body").attributes["agentel.generator.closed_early"] is True


def test_a_model_stream_looks_at_every_item_and_keeps_as_many_as_the_others(captured_spans: SpanCapture) -> None:
    # an LLM span reads usage from every item (here the last one), past the items it keeps
    items: list[Any] = [1, "a", 2.5, {"usage": {"prompt_tokens": 3, "completion_tokens": 4}}]
    agentel.testing.reset(provider=False, settings=False, max_generator_items=2)

    @agentel.trace(name="llm", span_type=agentel.SpanType.LLM)
    def llm() -> Iterator[Any]:
        yield from items

    assert list(llm()) == items
    span = captured_spans.find("llm")
    assert span.outputs == [1, "a", "…[+2 items not kept]"]
    assert span.attributes["agentel.generator.items"] == 4
    assert span.attributes["gen_ai.usage.input_tokens"] == 3
    assert span.attributes["gen_ai.usage.output_tokens"] == 4


async def test_an_async_stream_passes_sent_and_thrown_values_to_its_body(captured_spans: SpanCapture) -> None:
    @agentel.trace(name="aecho")
    async def aecho() -> Any:
        value = None
        while True:
            try:
                value = yield value
            except KeyError:
                value = "recovered"
            if value == "stop":
                return

    gen = aecho()
    assert await gen.asend(None) is None
    assert await gen.asend(1) == 1
    assert await gen.athrow(KeyError("k")) == "recovered"
    with pytest.raises(StopAsyncIteration):
        await gen.asend("stop")
    span = captured_spans.find("aecho")
    assert span.outputs == [None, 1, "recovered"]
    assert span.attributes["agentel.generator.items"] == 3
    assert span.status_code == "UNSET"


class Refused(Exception):
    pass


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_the_bodys_exception_reaches_the_consumer_untouched_and_ends_the_span(
    captured_spans: SpanCapture, kind: str
) -> None:
    raised = Refused("no")

    @agentel.trace(name="g")
    def g() -> Iterator[int]:
        yield 1
        raise raised

    @agentel.trace(name="g")
    async def ag() -> Any:
        yield 1
        raise raised

    async def collect() -> list[Any]:
        return [item async for item in ag()]

    with pytest.raises(Refused) as caught:
        list(g()) if kind == "sync" else asyncio.run(collect())
    assert caught.value is raised and caught.value.__context__ is None
    span = captured_spans.find("g")
    assert span.status_code == "ERROR" and span.status_description == "Refused: no"
    assert agentel.get_current_span() is None


def test_an_exception_thrown_in_that_the_body_does_not_catch_ends_the_span_with_it(
    captured_spans: SpanCapture,
) -> None:
    @agentel.trace(name="g")
    def g() -> Iterator[int]:
        yield 1
        yield 2

    gen = g()
    next(gen)
    thrown = Refused("from the consumer")
    with pytest.raises(Refused) as caught:
        gen.throw(thrown)
    assert caught.value is thrown
    span = captured_spans.find("g")
    assert span.status_code == "ERROR" and span.status_description == "Refused: from the consumer"
