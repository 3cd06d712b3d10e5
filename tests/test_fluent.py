"""The fluent API: the trace decorator on every kind of callable, start_span, nesting, errors."""

from __future__ import annotations

import asyncio
import gc
import inspect
import pickle
import sys
from typing import Any

import pytest
from opentelemetry import trace as otel_trace

import agentel
from agentel.testing import SpanCapture


@agentel.trace
def add(a: int, b: int = 2) -> int:
    """Adds."""
    return a + b


def test_bare_decorator_records_bound_inputs_with_defaults_and_output(captured_spans: SpanCapture) -> None:
    assert add(1) == 3
    span = captured_spans.find("add")
    assert span.inputs == {"a": 1, "b": 2}
    assert span.outputs == 3
    assert span.span_type == "UNKNOWN"
    assert span.status_code == "UNSET"
    assert len(span.trace_id) == 32 and len(span.span_id) == 16
    assert span.parent_id is None


def test_decorator_preserves_signature_docstring_and_name() -> None:
    assert add.__doc__ == "Adds."
    assert add.__name__ == "add"
    assert inspect.signature(add) == inspect.signature(add.__wrapped__)
    assert list(inspect.signature(add).parameters) == ["a", "b"]
    assert inspect.isfunction(add)


def test_name_span_type_and_attributes_apply_to_every_span(captured_spans: SpanCapture) -> None:
    @agentel.trace(name="agent", span_type=agentel.SpanType.AGENT, attributes={"team": "a", "cfg": {"k": 1}})
    def run(x: int) -> int:
        return x

    run(1)
    run(2)
    spans = captured_spans.find_all("agent")
    assert len(spans) == 2
    for span in spans:
        assert span.span_type == "AGENT"
        assert span.attributes["team"] == "a"
        assert span.attributes["cfg"] == '{"k": 1}'
        assert span.attributes["openinference.span.kind"] == "AGENT"
        assert span.attributes["gen_ai.operation.name"] == "invoke_agent"


def test_default_name_is_the_function_name_as_in_mlflow(captured_spans: SpanCapture) -> None:
    class Holder:
        @agentel.trace
        def method(self) -> int:
            return 1

    Holder().method()
    assert captured_spans.spans[0].name == "method"


def test_varargs_and_kwargs_are_kept_under_their_names(captured_spans: SpanCapture) -> None:
    @agentel.trace
    def f(a: int, *rest: int, flag: bool = False, **extra: Any) -> None:
        return None

    f(1, 2, 3, flag=True, color="red")
    assert captured_spans.find("f").inputs == {
        "a": 1,
        "rest": [2, 3],
        "flag": True,
        "extra": {"color": "red"},
    }


class Model:
    factor = 10

    @agentel.trace
    def method(self, x: int) -> int:
        return x * self.factor

    @agentel.trace
    @classmethod
    def build(cls, name: str) -> str:
        return f"{cls.__name__}:{name}"

    @agentel.trace
    @staticmethod
    def helper(x: int) -> int:
        return x + 1


def test_methods_classmethods_staticmethods_exclude_self_and_cls(captured_spans: SpanCapture) -> None:
    model = Model()
    assert model.method(2) == 20
    assert Model.method(model, 3) == 30
    assert Model.build("m") == "Model:m"
    assert model.build("n") == "Model:n"
    assert Model.helper(1) == 2
    assert model.helper(5) == 6
    inputs = [span.inputs for span in captured_spans.spans]
    assert inputs == [{"x": 2}, {"x": 3}, {"name": "m"}, {"name": "n"}, {"x": 1}, {"x": 5}]


class Walker(Model):
    @agentel.trace
    def method(self, x: int) -> int:
        """Walks."""
        return super().method(x) + 1


def test_plain_wrappers_of_functions_and_methods_look_and_bind_like_the_originals(
    captured_spans: SpanCapture,
) -> None:
    # sync functions and methods are traced by plain Python wrappers (for the recursion depth), so
    # everything a caller can see must match the undecorated function's
    assert (add.__name__, add.__qualname__, add.__module__) == ("add", "add", __name__)
    assert add.__wrapped__.__qualname__ == "add" and not hasattr(add.__wrapped__, "__wrapped__")
    walker = Walker()
    bound = walker.method
    assert (bound.__self__, bound.__name__, bound.__qualname__, bound.__doc__) == (
        walker,
        "method",
        "Walker.method",
        "Walks.",
    )
    assert list(inspect.signature(bound).parameters) == ["x"]
    assert list(inspect.signature(Walker.method).parameters) == ["self", "x"]
    assert bound == walker.method and pickle.loads(pickle.dumps(add)) is add
    assert pickle.loads(pickle.dumps(Model().method))(4) == 40
    assert walker.method(2) == 21 and Walker.method(walker, 3) == 31  # super() through two traced levels
    twice = agentel.trace(agentel.trace(add, name="inner"), name="outer")
    assert twice(5) == 7
    assert [(s.name, s.inputs) for s in captured_spans.spans] == [
        ("method", {"x": 4}),
        ("method", {"x": 2}),
        ("method", {"x": 2}),
        ("method", {"x": 3}),
        ("method", {"x": 3}),
        ("add", {"a": 5, "b": 2}),
        ("inner", {"a": 5, "b": 2}),
        ("outer", {"a": 5, "b": 2}),
    ]
    by_name = {s.span_id: s for s in captured_spans.spans}
    assert [by_name[s.parent_id].name for s in captured_spans.spans if s.parent_id] == [
        "method",
        "method",
        "inner",
        "outer",
    ]


def test_wrapping_a_bound_method_of_a_foreign_object(captured_spans: SpanCapture) -> None:
    class DeployClient:
        def predict(self, endpoint: str, inputs: dict[str, Any]) -> dict[str, Any]:
            return {"endpoint": endpoint}

    client = DeployClient()
    traced = agentel.trace(client.predict)
    assert traced(endpoint="e", inputs={"q": 1}) == {"endpoint": "e"}
    span = captured_spans.spans[0]
    assert span.name == "predict"
    assert span.inputs == {"endpoint": "e", "inputs": {"q": 1}}


def test_wrapping_an_uninspectable_callable(captured_spans: SpanCapture) -> None:
    traced_max = agentel.trace(max)
    assert traced_max(3, 9, key=abs) == 9
    span = captured_spans.find("max")
    assert span.inputs["args"] == [3, 9]
    assert span.outputs == 9


def test_wrapping_a_callable_object(captured_spans: SpanCapture) -> None:
    class Scorer:
        def __call__(self, y_true: list[int], y_pred: list[int]) -> float:
            return sum(a == b for a, b in zip(y_true, y_pred)) / len(y_true)

    traced = agentel.trace(Scorer())
    assert traced([0, 1, 2, 3], [0, 2, 1, 3]) == 0.5
    assert captured_spans.spans[0].name.endswith("Scorer")
    assert captured_spans.spans[0].inputs == {"y_true": [0, 1, 2, 3], "y_pred": [0, 2, 1, 3]}


class Boom(Exception):
    pass


def test_exception_sets_error_status_event_and_reraises_same_object(captured_spans: SpanCapture) -> None:
    error = ValueError("bad input")

    @agentel.trace
    def fail() -> None:
        raise error

    with pytest.raises(ValueError) as raised:
        fail()
    assert raised.value is error
    frames = [frame.name for frame in __import__("traceback").extract_tb(raised.value.__traceback__)]
    assert frames[-1] == "fail"
    span = captured_spans.spans[0]
    assert span.status_code == "ERROR"
    assert span.status_description == "ValueError: bad input"
    name, attributes = span.events[0]
    assert name == "exception"
    assert attributes["exception.type"] == "ValueError"
    assert attributes["exception.message"] == "bad input"
    assert "raise error" in attributes["exception.stacktrace"]


def test_custom_exception_type_is_qualified_in_event(captured_spans: SpanCapture) -> None:
    @agentel.trace
    def fail() -> None:
        raise Boom("x")

    with pytest.raises(Boom):
        fail()
    span = captured_spans.spans[0]
    assert span.status_description == "Boom: x"
    assert span.events[0][1]["exception.type"] == f"{__name__}.Boom"


def test_set_outputs_in_body_wins_over_return_value(captured_spans: SpanCapture) -> None:
    @agentel.trace
    def f() -> str:
        span = agentel.get_current_span()
        assert span is not None
        span.set_outputs({"custom": True})
        return "ignored"

    f()
    assert captured_spans.spans[0].outputs == {"custom": True}


def test_nesting_parentage_and_current_span(captured_spans: SpanCapture) -> None:
    @agentel.trace(span_type=agentel.SpanType.TOOL)
    def tool() -> str:
        current = agentel.get_current_span()
        assert current is not None and current.name.endswith("tool")
        return "t"

    @agentel.trace(span_type=agentel.SpanType.AGENT)
    def agent() -> str:
        with agentel.start_span("plan", span_type=agentel.SpanType.CHAIN, inputs={"q": 1}) as span:
            span.set_outputs("p")
            tool()
        return tool()

    agent()
    spans = {s.name.split(".")[-1]: s for s in captured_spans.spans}
    root = captured_spans.find_all(captured_spans.spans[-1].name)[0]
    plan = captured_spans.find("plan")
    tools = [s for s in captured_spans.spans if s.name.endswith("tool")]
    assert plan.parent_id == root.span_id
    assert tools[0].parent_id == plan.span_id
    assert tools[1].parent_id == root.span_id
    assert {s.trace_id for s in captured_spans.spans} == {root.trace_id}
    assert agentel.get_current_span() is None
    assert agentel.get_last_trace_id() == root.trace_id
    assert spans


def test_agentel_spans_nest_under_foreign_otel_span_and_vice_versa(captured_spans: SpanCapture) -> None:
    tracer = otel_trace.get_tracer("some.other.library")

    @agentel.trace
    def step() -> None:
        with tracer.start_as_current_span("http-call"):
            pass

    with tracer.start_as_current_span("request") as outer:
        step()
    request = captured_spans.find("request")
    step_span = captured_spans.spans[1]
    http = captured_spans.find("http-call")
    assert step_span.parent_id == request.span_id
    assert http.parent_id == step_span.span_id
    assert request.trace_id == step_span.trace_id == http.trace_id
    assert outer.get_span_context().span_id == int(request.span_id, 16)


def test_start_span_records_error_and_passes_exception_through(captured_spans: SpanCapture) -> None:
    with pytest.raises(KeyError):
        with agentel.start_span("lookup") as span:
            span.set_attributes({"k": 1, "nested": [1, 2]})
            raise KeyError("missing")
    captured = captured_spans.find("lookup")
    assert captured.status_code == "ERROR"
    assert captured.status_description == "KeyError: 'missing'"
    assert captured.attributes["k"] == 1
    assert captured.attributes["nested"] == (1, 2)


def test_live_span_ids_and_properties(captured_spans: SpanCapture) -> None:
    with agentel.start_span("outer") as outer:
        with agentel.start_span("inner", span_type="CUSTOM_KIND") as inner:
            assert inner.trace_id == outer.trace_id == inner.request_id
            assert inner.parent_id == outer.span_id
            assert inner.span_type == "CUSTOM_KIND"
            assert inner.name == "inner"
            inner.set_status("ERROR")
            inner.add_event("retry", {"attempt": 2})
    inner_span = captured_spans.find("inner")
    assert inner_span.status_code == "ERROR"
    assert inner_span.events == [("retry", {"attempt": 2})]
    assert inner_span.attributes["openinference.span.kind"] == "UNKNOWN"


def test_invalid_status_is_a_typed_error(captured_spans: SpanCapture) -> None:
    with agentel.start_span("s") as span:
        with pytest.raises(agentel.InvalidStatusError, match="unknown span status code"):
            span.set_status("MAYBE")
        span.set_status(agentel.SpanStatus(agentel.SpanStatusCode.ERROR, "why"))
    assert captured_spans.find("s").status_description == "why"


# -- async, generators, async generators ----------------------------------------------------------


async def test_async_function_span_and_context(captured_spans: SpanCapture) -> None:
    @agentel.trace(span_type=agentel.SpanType.LLM)
    async def call_model(prompt: str) -> str:
        await asyncio.sleep(0)
        inner = agentel.get_current_span()
        assert inner is not None
        return prompt.upper()

    @agentel.trace(name="agent")
    async def agent() -> list[str]:
        return list(await asyncio.gather(call_model("a"), call_model("b")))

    assert inspect.iscoroutinefunction(call_model)
    assert await agent() == ["A", "B"]
    root = captured_spans.find("agent")
    llms = captured_spans.by_type("LLM")
    assert len(llms) == 2 and all(s.parent_id == root.span_id for s in llms)
    assert sorted(s.outputs for s in llms) == ["A", "B"]


async def test_async_exception_passes_through(captured_spans: SpanCapture) -> None:
    @agentel.trace
    async def fail() -> None:
        raise Boom("async")

    with pytest.raises(Boom, match="async"):
        await fail()
    assert captured_spans.spans[0].status_description == "Boom: async"


def test_generator_span_opens_on_first_next_and_ends_when_exhausted(captured_spans: SpanCapture) -> None:
    @agentel.trace(name="stream")
    def stream(n: int) -> Any:
        current = agentel.get_current_span()
        assert current is not None and current.name == "stream"
        for i in range(n):
            yield i

    gen = stream(3)
    assert len(captured_spans) == 0
    assert next(gen) == 0
    assert agentel.get_current_span() is None  # consumer side: the span is not current
    assert list(gen) == [1, 2]
    span = captured_spans.find("stream")
    assert span.outputs == [0, 1, 2]
    assert span.inputs == {"n": 3}
    assert span.attributes["agentel.generator.items"] == 3
    assert "agentel.time_to_first_item_ms" in span.attributes
    assert span.status_code == "UNSET"


def test_generator_span_ends_when_consumer_breaks(captured_spans: SpanCapture) -> None:
    cleaned = []

    @agentel.trace(name="stream")
    def stream() -> Any:
        try:
            for i in range(100):
                yield i
        finally:
            cleaned.append(True)

    for item in stream():
        if item == 2:
            break
    gc.collect()
    span = captured_spans.find("stream")
    assert span.outputs == [0, 1, 2]
    assert span.attributes["agentel.generator.closed_early"] is True
    assert cleaned == [True]


def test_generator_span_ends_on_close_and_on_garbage_collection(captured_spans: SpanCapture) -> None:
    @agentel.trace(name="g")
    def g() -> Any:
        yield 1
        yield 2

    first = g()
    next(first)
    first.close()
    second = g()
    next(second)
    del second
    gc.collect()
    assert [s.outputs for s in captured_spans.find_all("g")] == [[1], [1]]


def test_generator_error_is_recorded_and_reraised(captured_spans: SpanCapture) -> None:
    @agentel.trace(name="g")
    def g() -> Any:
        yield 1
        raise Boom("mid-stream")

    with pytest.raises(Boom):
        list(g())
    span = captured_spans.find("g")
    assert span.status_description == "Boom: mid-stream"
    assert span.outputs is None or span.outputs == [1]


def test_generator_send_throw_and_return_value(captured_spans: SpanCapture) -> None:
    @agentel.trace(name="echo")
    def echo() -> Any:
        received = []
        try:
            while True:
                value = yield len(received)
                received.append(value)
        except Boom:
            yield "caught"
        return received

    gen = echo()
    next(gen)
    assert gen.send("a") == 1
    assert gen.throw(Boom("x")) == "caught"
    with pytest.raises(StopIteration) as stop:
        next(gen)
    assert stop.value.value == ["a"]
    assert captured_spans.find("echo").status_code == "UNSET"


def test_generator_output_reducer_and_bounded_items(captured_spans: SpanCapture) -> None:
    @agentel.trace(name="joined", output_reducer=lambda items: "".join(items))
    def chunks() -> Any:
        yield from ["he", "llo"]

    @agentel.trace(name="many")
    def many() -> Any:
        yield from range(1000)

    assert "".join(chunks()) == "hello"
    assert sum(many()) == sum(range(1000))
    assert captured_spans.find("joined").outputs == "hello"
    outputs = captured_spans.find("many").outputs
    assert len(outputs) == 101 and outputs[-1] == "…[+900 items not kept]"


def test_generator_consumed_on_another_thread_keeps_its_creators_parent(captured_spans: SpanCapture) -> None:
    import threading

    @agentel.trace(name="g")
    def g() -> Any:
        yield agentel.get_current_span().name  # type: ignore[union-attr]

    with agentel.start_span("creator") as creator:
        gen = g()
    result: list[Any] = []
    thread = threading.Thread(target=lambda: result.extend(gen))
    thread.start()
    thread.join()
    assert result == ["g"]
    span = captured_spans.find("g")
    assert span.trace_id == creator.trace_id
    assert span.parent_id == creator.span_id  # parent: where the generator was created


async def test_async_generator_span_lifecycle(captured_spans: SpanCapture) -> None:
    @agentel.trace(name="astream", span_type=agentel.SpanType.LLM)
    async def astream(n: int) -> Any:
        for i in range(n):
            await asyncio.sleep(0)
            current = agentel.get_current_span()
            assert current is not None and current.name == "astream"
            yield i

    assert inspect.isasyncgenfunction(astream)
    items = [item async for item in astream(3)]
    assert items == [0, 1, 2]
    gen = astream(10)
    async for item in gen:
        if item == 1:
            break
    await gen.aclose()
    spans = captured_spans.find_all("astream")
    assert [s.outputs for s in spans] == [[0, 1, 2], [0, 1]]
    assert spans[1].attributes["agentel.generator.closed_early"] is True


async def test_async_generator_error(captured_spans: SpanCapture) -> None:
    @agentel.trace(name="abad")
    async def abad() -> Any:
        yield 1
        raise Boom("async stream")

    with pytest.raises(Boom):
        async for _ in abad():
            pass
    assert captured_spans.find("abad").status_code == "ERROR"


# -- robustness --------------------------------------------------------------------------------------


def test_unserializable_and_huge_inputs_never_break_the_call(captured_spans: SpanCapture) -> None:
    class Hostile:
        def __repr__(self) -> str:
            raise RuntimeError("no repr")

    cyclic: list[Any] = []
    cyclic.append(cyclic)

    @agentel.trace
    def f(a: Any, b: Any, c: Any) -> str:
        return "ok"

    assert f(Hostile(), cyclic, "x" * 100_000) == "ok"
    span = captured_spans.spans[0]
    inputs = span.inputs
    assert inputs["a"] == "<unrepresentable Hostile object>"
    assert inputs["b"] == ["<cycle: list>"]
    assert inputs["c"].endswith("chars]")
    assert len(span.attributes["input.value"].encode()) <= 8192


def test_internal_error_is_counted_and_user_function_still_runs(
    captured_spans: SpanCapture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agentel._tracing import calls as _calls

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("agentel bug")

    before = agentel.stats()["internal_errors"]
    monkeypatch.setattr(_calls.SpanPlan, "start", broken)

    @agentel.trace
    def f(x: int) -> int:
        return x + 1

    assert f(1) == 2
    with agentel.start_span("s") as span:
        span.set_inputs({"still": "fine"})
    assert agentel.stats()["internal_errors"] >= before + 2


def test_disabled_runs_functions_without_spans(captured_spans: SpanCapture) -> None:
    agentel.configure(enabled=False)
    try:
        calls = []

        @agentel.trace
        def f(x: int) -> int:
            calls.append(x)
            return x

        @agentel.trace
        def gen() -> Any:
            yield 1

        assert f(3) == 3
        assert list(gen()) == [1]
        with agentel.start_span("nothing") as span:
            span.set_inputs("ignored")
            assert span.is_recording() is False
        assert calls == [3]
        assert len(captured_spans) == 0
    finally:
        agentel.configure(enabled=True)


def test_start_span_while_disabled_is_one_shared_no_op_and_follows_reenabling(captured_spans: SpanCapture) -> None:
    agentel.configure(enabled=False)
    try:
        first, second = agentel.start_span("a", inputs={"q": 1}), agentel.start_span("b", span_type="TOOL")
        assert first is second  # nothing is made per block while tracing is off
        with first as span:
            span.set_outputs({"ignored": True})
            assert span.is_recording() is False and agentel.get_current_span() is None
        assert len(captured_spans) == 0
    finally:
        agentel.configure(enabled=True)
    with agentel.start_span("a", inputs={"q": 1}) as span:
        span.set_outputs({"ok": True})
    assert [(s.name, s.inputs, s.outputs) for s in captured_spans.spans] == [("a", {"q": 1}, {"ok": True})]


def _kept_global(a: int, b: int = 2) -> int:
    """A module function traced under another name (the global stays the plain function)."""
    return a * b


def test_tracing_an_existing_global_keeps_it_and_the_copy_pickles_and_records(
    captured_spans: SpanCapture,
) -> None:
    traced = agentel.trace(_kept_global, name="kept")
    assert _kept_global(2) == 4 and len(captured_spans) == 0  # the global itself is not traced
    assert traced(3) == 6 and traced(3, b=3) == 9
    assert inspect.isfunction(traced) and traced.__name__ == "_kept_global"
    assert inspect.signature(traced) == inspect.signature(_kept_global)
    again = pickle.loads(pickle.dumps(traced))  # "trace the global again, with the same options"
    assert again is not traced and again(5) == 10

    assert [(s.name, s.inputs, s.outputs) for s in captured_spans.spans] == [
        ("kept", {"a": 3, "b": 2}, 6),
        ("kept", {"a": 3, "b": 3}, 9),
        ("kept", {"a": 5, "b": 2}, 10),
    ]


def test_last_trace_id_per_thread(captured_spans: SpanCapture) -> None:
    import threading

    ids: dict[str, Any] = {}

    def worker() -> None:
        add(1)
        ids["thread"] = agentel.get_last_trace_id(this_thread=True)

    add(5)
    main_id = agentel.get_last_trace_id(this_thread=True)
    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert ids["thread"] != main_id
    assert agentel.get_last_trace_id(this_thread=True) == main_id
    assert agentel.get_last_trace_id() == ids["thread"]
    assert agentel.get_last_active_trace_id is agentel.get_last_trace_id
    assert sys.modules["agentel"].get_current_active_span is agentel.get_current_span


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_an_internal_error_while_recording_a_yielded_item_never_reaches_the_consumer(
    captured_spans: SpanCapture, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    from agentel._tracing import generators as _generators

    def broken(*args: Any, **kwargs: Any) -> int:
        raise RuntimeError("agentel bug")

    monkeypatch.setattr(_generators, "json_size_hint", broken)
    before = agentel.stats()["internal_errors"]

    @agentel.trace(name="items")
    def items() -> Any:
        yield {"a": 1}
        yield {"b": 2}

    @agentel.trace(name="items")
    async def async_items() -> Any:
        yield {"a": 1}
        yield {"b": 2}

    async def collect() -> list[Any]:
        return [item async for item in async_items()]

    got = list(items()) if kind == "sync" else asyncio.run(collect())
    assert got == [{"a": 1}, {"b": 2}]
    span = captured_spans.find("items")
    assert span.attributes["agentel.generator.items"] == 2  # ended (captured) and every item counted
    assert agentel.stats()["internal_errors"] >= before + 1
