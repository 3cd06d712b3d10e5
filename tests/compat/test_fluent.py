"""Port of MLflow's tests/tracing/test_fluent.py (MLflow 3.x): the fluent tracing API.

Each test carries the name of the upstream test it reproduces; scenarios and assertions are upstream's,
checked against real MLflow 3.17.2 (``AGENTEL_COMPAT_TARGET=mlflow``). Where MLflow 3.17.2 behaves
differently from the upstream snapshot, the assertion follows 3.17.2 and says so. Left-out tests and
assertions: README.md.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import pytest

from ._target import (
    MlflowException,
    SpanStatusCode,
    SpanType,
    TraceState,
    get_trace,
    get_traces,
    mlflow,
    span_processor,
    tracer_unavailable,
)

# -- the models upstream's tests share --------------------------------------------------------------


class SyncModel:
    @mlflow.trace()
    def predict(self, x: int, y: int) -> int:
        total = self.add_one(x + y)
        return mlflow.trace(self.square)(total)

    @mlflow.trace(span_type=SpanType.LLM, name="add_one_with_custom_name", attributes={"delta": 1})
    def add_one(self, z: int) -> int:
        return z + 1

    def square(self, t: int) -> int:
        time.sleep(0.1)
        return t**2


class AsyncModel:
    @mlflow.trace()
    async def predict(self, x: int, y: int) -> int:
        total = await self.add_one(x + y)
        return await mlflow.trace(self.square)(total)

    @mlflow.trace(span_type=SpanType.LLM, name="add_one_with_custom_name", attributes={"delta": 1})
    async def add_one(self, z: int) -> int:
        return z + 1

    async def square(self, t: int) -> int:
        time.sleep(0.1)
        return t**2


class StreamModel:
    @mlflow.trace(output_reducer=sum)
    def predict_stream(self, x: int, y: int) -> Any:
        n = x + y
        yield from range(n)
        for i in range(n):  # a traced plain function called between chunks
            yield self.square(i)
        yield from self.generate_numbers(n)  # a nested traced generator

    @mlflow.trace
    def square(self, t: int) -> int:
        time.sleep(0.1)
        return t**2

    @mlflow.trace  # no output_reducer: the outputs are the list of chunks
    def generate_numbers(self, z: int) -> Any:
        yield from range(z)


class AsyncStreamModel:
    @mlflow.trace(output_reducer=sum)
    async def predict_stream(self, x: int, y: int) -> Any:
        n = x + y
        for i in range(n):
            yield i
        for i in range(n):
            yield await self.square(i)
        async for number in self.generate_numbers(n):
            yield number

    @mlflow.trace
    async def square(self, t: int) -> int:
        await asyncio.sleep(0.1)
        return t**2

    @mlflow.trace
    async def generate_numbers(self, z: int) -> Any:
        for i in range(z):
            yield i


class FailingModel:
    @mlflow.trace()
    def predict(self, x: int, y: int) -> int:
        return self.some_operation_raise_error(x, y)

    @mlflow.trace()
    def some_operation_raise_error(self, x: int, y: int) -> int:
        raise ValueError("Some error")


class FailingAsyncModel:
    @mlflow.trace()
    async def predict(self, x: int, y: int) -> int:
        return await self.some_operation_raise_error(x, y)

    @mlflow.trace()
    async def some_operation_raise_error(self, x: int, y: int) -> int:
        raise ValueError("Some error")


class FailingStreamModel:
    @mlflow.trace
    def predict_stream(self, x: int) -> Any:
        for i in range(x):
            yield self.some_operation_raise_error(i)

    @mlflow.trace
    def some_operation_raise_error(self, i: int) -> int:
        if i >= 1:
            raise ValueError("Some error")
        return i


def run_predict(model: Any, *args: Any) -> Any:
    result = model.predict(*args)
    return asyncio.run(result) if asyncio.iscoroutine(result) else result


def only_trace() -> Any:
    traces = get_traces()
    assert len(traces) == 1
    return traces[0]


# MLflow 3.17.2 adds ``mlflow.spanLogLevel`` to root spans (span log levels: newer than the upstream
# snapshot and out of scope, see README); the attribute comparisons leave that one key out.
NEWER_THAN_SNAPSHOT = {"mlflow.spanLogLevel"}


def attributes_of(span: Any) -> dict[str, Any]:
    return {key: value for key, value in span.attributes.items() if key not in NEWER_THAN_SNAPSHOT}


def user_tags(trace: Any) -> dict[str, str]:
    return {key: value for key, value in trace.info.tags.items() if not key.startswith("mlflow.")}


# -- decorator -----------------------------------------------------------------------------------


@pytest.mark.parametrize("model", [SyncModel(), AsyncModel()], ids=["sync", "async"])
def test_trace(model: Any) -> None:
    run_predict(model, 2, 5)

    trace = only_trace()
    assert trace.info.trace_id is not None
    assert trace.info.execution_time_ms >= 100  # square sleeps 0.1 s
    assert trace.info.status == SpanStatusCode.OK
    assert trace.info.request_metadata["mlflow.traceInputs"] == '{"x": 2, "y": 5}'
    assert trace.info.request_metadata["mlflow.traceOutputs"] == "64"
    assert trace.data.request == '{"x": 2, "y": 5}'
    assert trace.data.response == "64"
    assert len(trace.data.spans) == 3

    by_name = {span.name: span for span in trace.data.spans}
    root = by_name["predict"]
    assert root.parent_id is None
    assert attributes_of(root) == {
        "mlflow.traceRequestId": trace.info.trace_id,
        "mlflow.spanFunctionName": "predict",
        "mlflow.spanType": "UNKNOWN",
        "mlflow.spanInputs": {"x": 2, "y": 5},
        "mlflow.spanOutputs": 64,
    }
    add_one = by_name["add_one_with_custom_name"]
    assert add_one.parent_id == root.span_id
    assert attributes_of(add_one) == {
        "delta": 1,
        "mlflow.traceRequestId": trace.info.trace_id,
        "mlflow.spanFunctionName": "add_one",
        "mlflow.spanType": "LLM",
        "mlflow.spanInputs": {"z": 7},
        "mlflow.spanOutputs": 8,
    }
    square = by_name["square"]
    assert square.parent_id == root.span_id
    assert square.start_time_ns <= square.end_time_ns - 0.1 * 1e6
    assert attributes_of(square) == {
        "mlflow.traceRequestId": trace.info.trace_id,
        "mlflow.spanFunctionName": "square",
        "mlflow.spanType": "UNKNOWN",
        "mlflow.spanInputs": {"t": 8},
        "mlflow.spanOutputs": 64,
    }


@pytest.mark.parametrize("model", [StreamModel(), AsyncStreamModel()], ids=["sync", "async"])
def test_trace_stream(model: Any) -> None:
    stream = model.predict_stream(1, 2)
    # nothing is traced until the generator is consumed, and its span is never the active one
    assert get_traces() == []
    assert mlflow.get_current_active_span() is None

    chunks: list[int] = []
    if isinstance(model, StreamModel):
        for chunk in stream:
            chunks.append(chunk)
            assert mlflow.get_current_active_span() is None
    else:

        async def consume() -> None:
            async for chunk in stream:
                chunks.append(chunk)
                assert mlflow.get_current_active_span() is None

        asyncio.run(consume())

    trace = only_trace()
    assert trace.info.trace_id is not None
    assert trace.info.execution_time_ms >= 100
    assert trace.info.status == SpanStatusCode.OK
    assert trace.info.request_metadata["mlflow.traceInputs"] == '{"x": 1, "y": 2}'
    assert trace.info.request_metadata["mlflow.traceOutputs"] == "11"  # the reducer's sum

    spans = trace.data.spans
    assert len(spans) == 5  # the stream, three squares, generate_numbers
    root = spans[0]
    assert root.name == "predict_stream"
    assert root.inputs == {"x": 1, "y": 2}
    assert root.outputs == 11
    assert len(root.events) == 9
    assert root.events[0].name == "mlflow.chunk.item.0"
    assert root.events[0].attributes == {"mlflow.chunk.value": "0"}
    assert root.events[8].name == "mlflow.chunk.item.8"
    for i in range(3):
        # MLflow 3.17.2 keeps duplicate span names (the upstream snapshot expected square_1..3)
        assert spans[i + 1].name == "square"
        assert spans[i + 1].inputs == {"t": i}
        assert spans[i + 1].outputs == i**2
        assert spans[i + 1].parent_id == root.span_id
    assert spans[4].name == "generate_numbers"
    assert spans[4].inputs == {"z": 3}
    assert spans[4].outputs == [0, 1, 2]
    assert len(spans[4].events) == 3


@pytest.mark.parametrize("model", [FailingModel(), FailingAsyncModel()], ids=["sync", "async"])
def test_trace_handle_exception_during_prediction(model: Any) -> None:
    # the user's exception reaches the caller, and the trace is still recorded, as ERROR
    with pytest.raises(ValueError, match=r"Some error"):
        run_predict(model, 2, 5)

    trace = get_trace(mlflow.get_last_active_trace_id())
    assert trace.info.trace_id is not None
    assert trace.info.state == TraceState.ERROR
    assert trace.info.request_metadata["mlflow.traceInputs"] == '{"x": 2, "y": 5}'
    assert trace.info.request_metadata["mlflow.traceOutputs"] == ""
    assert trace.data.request == '{"x": 2, "y": 5}'
    assert trace.data.response is None
    assert len(trace.data.spans) == 2


def test_trace_handle_exception_during_streaming() -> None:
    chunks = []
    with pytest.raises(ValueError, match=r"Some error"):  # noqa: PT012
        for chunk in FailingStreamModel().predict_stream(2):
            chunks.append(chunk)
    assert len(chunks) == 1  # the second chunk raised

    trace = only_trace()
    assert trace.info.state == TraceState.ERROR
    assert trace.info.request_metadata["mlflow.traceInputs"] == '{"x": 2}'
    spans = trace.data.spans
    assert len(spans) == 3
    assert spans[0].name == "predict_stream"
    assert spans[0].status.status_code == SpanStatusCode.ERROR  # from the failing child
    # MLflow 3.17.2 keeps duplicate span names (the snapshot expected some_operation_raise_error_1/_2)
    assert spans[1].name == "some_operation_raise_error"
    assert spans[1].status.status_code == SpanStatusCode.OK
    assert spans[2].name == "some_operation_raise_error"
    assert spans[2].status.status_code == SpanStatusCode.ERROR
    # one chunk event, then the exception
    assert len(spans[0].events) == 2
    assert spans[0].events[0].name == "mlflow.chunk.item.0"
    assert spans[0].events[1].name == "exception"


@pytest.mark.parametrize(
    "model",
    [SyncModel(), AsyncModel(), StreamModel(), AsyncStreamModel()],
    ids=["sync", "async", "stream", "async_stream"],
)
def test_trace_ignore_exception(monkeypatch: pytest.MonkeyPatch, model: Any) -> None:
    # the tracing machinery failing must change nothing for the traced code
    def call_and_check() -> None:
        if isinstance(model, (SyncModel, AsyncModel)):
            assert run_predict(model, 2, 5) == 64
        elif isinstance(model, StreamModel):
            assert len(list(model.predict_stream(2, 5))) == 21
        else:

            async def consume() -> list[int]:
                return [chunk async for chunk in model.predict_stream(2, 5)]

            assert len(asyncio.run(consume())) == 21

    # starting spans fails: no trace
    with tracer_unavailable():
        call_and_check()
    assert get_traces() == []

    # ending spans fails: no trace either
    def always_fail(*args: Any, **kwargs: Any) -> None:
        raise ValueError("Some error")

    monkeypatch.setattr(span_processor(), "on_end", always_fail)
    call_and_check()
    assert len(get_traces()) == 0


# -- start_span ----------------------------------------------------------------------------------


def test_start_span_context_manager() -> None:
    now = datetime.now()

    class Model:
        def predict(self, x: int, y: int) -> int:
            with mlflow.start_span(name="root_span") as root_span:
                root_span.set_inputs({"x": x, "y": y})
                z = x + y
                with mlflow.start_span(name="child_span", span_type=SpanType.LLM) as child_span:
                    child_span.set_inputs(z)
                    z = z + 2
                    child_span.set_outputs(z)
                    child_span.set_attributes({"delta": 2, "time": now})
                result = self.square(z)
                root_span.set_outputs(result)
            return result

        def square(self, t: int) -> int:
            with mlflow.start_span(name="child_span") as span:
                span.set_inputs({"t": t})
                time.sleep(0.1)
                span.set_outputs(t**2)
                return t**2

    Model().predict(1, 2)

    trace = only_trace()
    assert trace.info.trace_id is not None
    assert trace.info.execution_time_ms >= 100
    assert trace.info.state == TraceState.OK
    assert trace.info.request_metadata["mlflow.traceInputs"] == '{"x": 1, "y": 2}'
    assert trace.info.request_metadata["mlflow.traceOutputs"] == "25"
    assert trace.data.request == '{"x": 1, "y": 2}'
    assert trace.data.response == "25"
    spans = trace.data.spans
    assert len(spans) == 3

    root = spans[0]
    assert root.name == "root_span"
    assert root.parent_id is None
    assert attributes_of(root) == {
        "mlflow.traceRequestId": trace.info.trace_id,
        "mlflow.spanType": "UNKNOWN",
        "mlflow.spanInputs": {"x": 1, "y": 2},
        "mlflow.spanOutputs": 25,
    }
    # MLflow 3.17.2 keeps both spans named child_span (the snapshot expected child_span_1/_2)
    first, second = spans[1], spans[2]
    assert first.name == second.name == "child_span"
    assert first.parent_id == root.span_id
    assert attributes_of(first) == {
        "delta": 2,
        "time": str(now),
        "mlflow.traceRequestId": trace.info.trace_id,
        "mlflow.spanType": "LLM",
        "mlflow.spanInputs": 3,
        "mlflow.spanOutputs": 5,
    }
    assert second.parent_id == root.span_id
    assert attributes_of(second) == {
        "mlflow.traceRequestId": trace.info.trace_id,
        "mlflow.spanType": "UNKNOWN",
        "mlflow.spanInputs": {"t": 5},
        "mlflow.spanOutputs": 25,
    }
    assert second.start_time_ns <= second.end_time_ns - 0.1 * 1e6


@pytest.mark.parametrize("api", ["start_span_no_context", "client"])
def test_start_span_context_manager_with_imperative_apis(api: str) -> None:
    # an imperative child span inside a fluent trace: what callback handlers (LangChain's) do.
    # MLflow 3.x writes it with start_span_no_context(parent_span=...); MLflow 2.x's version of this
    # test used MlflowClient().start_span(..., parent_id=...), which MLflow 3.17.2 still supports.
    def start_child(root_span: Any) -> Any:
        if api == "client":
            return mlflow.MlflowClient().start_span(
                "child_span_1", span_type=SpanType.LLM, trace_id=root_span.trace_id, parent_id=root_span.span_id
            )
        return mlflow.start_span_no_context(name="child_span_1", span_type=SpanType.LLM, parent_span=root_span)

    def predict(x: int, y: int) -> int:
        with mlflow.start_span(name="root_span") as root_span:
            root_span.set_inputs({"x": x, "y": y})
            z = x + y
            child = start_child(root_span)
            child.set_inputs(z)
            z = z + 2
            time.sleep(0.1)
            child.set_outputs(z)
            child.set_attributes({"delta": 2})
            child.end()
            root_span.set_outputs(z)
        return z

    predict(1, 2)

    trace = only_trace()
    assert trace.info.trace_id is not None
    assert trace.info.execution_time_ms >= 100
    assert trace.info.state == TraceState.OK
    assert trace.info.request_metadata["mlflow.traceInputs"] == '{"x": 1, "y": 2}'
    assert trace.info.request_metadata["mlflow.traceOutputs"] == "5"
    assert trace.data.request == '{"x": 1, "y": 2}'
    assert trace.data.response == "5"
    assert len(trace.data.spans) == 2
    by_name = {span.name: span for span in trace.data.spans}
    root = by_name["root_span"]
    assert root.parent_id is None
    assert attributes_of(root) == {
        "mlflow.traceRequestId": trace.info.trace_id,
        "mlflow.spanType": "UNKNOWN",
        "mlflow.spanInputs": {"x": 1, "y": 2},
        "mlflow.spanOutputs": 5,
    }
    child = by_name["child_span_1"]
    assert child.parent_id == root.span_id
    assert attributes_of(child) == {
        "delta": 2,
        "mlflow.traceRequestId": trace.info.trace_id,
        "mlflow.spanType": "LLM",
        "mlflow.spanInputs": 3,
        "mlflow.spanOutputs": 5,
    }


# -- reading traces back -------------------------------------------------------------------------


def test_get_trace(target_warnings: list[Any]) -> None:
    # (upstream also checks that no notebook display is triggered: out of scope, see README)
    SyncModel().predict(2, 5)

    trace = mlflow.get_trace(mlflow.get_last_active_trace_id())
    trace_id = trace.info.trace_id
    again = mlflow.get_trace(trace_id)
    assert again.info.trace_id == trace.info.trace_id

    # an unknown id: None, and one warning
    assert mlflow.get_trace("not_found") is None
    assert len([r for r in target_warnings if r.levelname == "WARNING"]) == 1


def test_get_last_active_trace_id() -> None:
    assert mlflow.get_last_active_trace_id() is None

    @mlflow.trace()
    def predict(x: int, y: int) -> int:
        return x + y

    predict(1, 2)
    predict(2, 5)
    predict(3, 6)

    trace = mlflow.get_trace(mlflow.get_last_active_trace_id())
    assert trace.info.trace_id is not None
    assert trace.data.request == '{"x": 3, "y": 6}'

    # get_trace hands out a copy: changing it does not change the recorded trace
    trace.info.state = TraceState.ERROR
    assert mlflow.get_trace(trace.info.trace_id).info.state == TraceState.OK


def test_get_last_active_trace_thread_local() -> None:
    assert mlflow.get_last_active_trace_id() is None

    def run(index: int) -> Any:
        @mlflow.trace(name=f"predict_{index}")
        def predict(x: int, y: int) -> int:
            return x + y

        predict(1, 2)
        return mlflow.get_last_active_trace_id(thread_local=True)

    with ThreadPoolExecutor(max_workers=4) as pool:
        trace_ids = list(pool.map(run, range(10)))

    assert len(trace_ids) == 10
    for index, trace_id in enumerate(trace_ids):
        trace = get_trace(trace_id)
        assert trace.info.state == TraceState.OK
        assert trace.data.spans[0].name == f"predict_{index}"


# -- classmethod / staticmethod (the same four tests as test_fluent_classmethod.py) ----------------


def _check_predict_span() -> None:
    trace_id = mlflow.get_last_active_trace_id()
    assert trace_id is not None
    trace = get_trace(trace_id)
    assert trace is not None
    assert len(trace.data.spans) > 0
    span = trace.data.spans[0]
    assert span.name == "predict"
    assert span.inputs == {"x": 1, "y": 2}
    assert span.outputs == 3


def test_trace_with_classmethod() -> None:
    class Model:
        @mlflow.trace
        @classmethod
        def predict(cls, x: int, y: int) -> int:
            return x + y

    assert Model.predict(1, 2) == 3
    _check_predict_span()


def test_trace_with_classmethod_order_reversed() -> None:
    class Model:
        @classmethod
        @mlflow.trace
        def predict(cls, x: int, y: int) -> int:
            return x + y

    assert Model.predict(1, 2) == 3
    _check_predict_span()


def test_trace_with_staticmethod() -> None:
    class Model:
        @mlflow.trace
        @staticmethod
        def predict(x: int, y: int) -> int:
            return x + y

    assert Model.predict(1, 2) == 3
    _check_predict_span()


def test_trace_with_staticmethod_order_reversed() -> None:
    class Model:
        @staticmethod
        @mlflow.trace
        def predict(x: int, y: int) -> int:
            return x + y

    assert Model.predict(1, 2) == 3
    _check_predict_span()


# -- update_current_trace ------------------------------------------------------------------------


def test_update_current_trace() -> None:
    @mlflow.trace(name="root_function")
    def f(x: int) -> int:
        mlflow.update_current_trace(tags={"fruit": "apple", "animal": "dog"})
        return g(x) + 1

    @mlflow.trace(name="level_1_function")
    def g(y: int) -> int:
        with mlflow.start_span(name="level_2_span"):
            mlflow.update_current_trace(tags={"fruit": "orange", "vegetable": "carrot"})
            return h(y) * 2

    @mlflow.trace(name="level_3_function")
    def h(z: int) -> int:
        with mlflow.start_span(name="level_4_span"):
            with mlflow.start_span(name="level_5_span"):
                mlflow.update_current_trace(tags={"depth": "deep", "level": "5"})
                return z + 10

    f(1)

    expected = {"animal": "dog", "fruit": "orange", "vegetable": "carrot", "depth": "deep", "level": "5"}
    trace = get_trace(mlflow.get_last_active_trace_id())
    assert trace.info.state == TraceState.OK
    assert user_tags(trace) == expected
    traces = get_traces()
    assert len(traces) == 1
    assert traces[0].info.state == TraceState.OK
    assert user_tags(traces[0]) == expected
    # (upstream then finds the trace with search_traces by span name: out of scope, see README)


def test_update_current_trace_with_client_request_id() -> None:
    # (upstream reads the in-progress trace from MLflow's in-memory trace manager; the finished
    # trace is read back here)
    with mlflow.start_span("test_span") as span:
        mlflow.update_current_trace(tags={"operation": "test"}, client_request_id="req-12345")
    trace = get_trace(span.trace_id)
    assert trace.info.client_request_id == "req-12345"
    assert user_tags(trace)["operation"] == "test"

    with mlflow.start_span("test_span_2") as span:
        mlflow.update_current_trace(tags={"operation": "tags_only"})
    trace = get_trace(span.trace_id)
    assert trace.info.client_request_id is None
    assert user_tags(trace)["operation"] == "tags_only"

    with mlflow.start_span("test_span_3") as span:
        mlflow.update_current_trace(client_request_id="req-67890")
    assert get_trace(span.trace_id).info.client_request_id == "req-67890"


def test_update_current_trace_client_request_id_overwrites() -> None:
    with mlflow.start_span("overwrite_test") as span:
        mlflow.update_current_trace(client_request_id="req-initial")
        mlflow.update_current_trace(client_request_id="req-updated")
    assert get_trace(span.trace_id).info.client_request_id == "req-updated"


def test_update_current_trace_client_request_id_stringification() -> None:
    cases = [
        (123, "123"),
        (45.67, "45.67"),
        (True, "True"),
        (False, "False"),
        (None, None),  # None leaves the id unset
        (["list", "value"], "['list', 'value']"),
        ({"dict": "value"}, "{'dict': 'value'}"),
    ]
    for value, expected in cases:
        with mlflow.start_span(f"stringification_test_{value}") as span:
            mlflow.update_current_trace(client_request_id=value)
        recorded = get_trace(span.trace_id).info.client_request_id
        assert recorded == expected
        if expected is not None:
            assert isinstance(recorded, str)


def test_update_current_trace_with_metadata() -> None:
    @mlflow.trace
    def f() -> None:
        mlflow.update_current_trace(
            metadata={
                "mlflow.source.name": "inference.py",
                "mlflow.source.git.commit": "1234567890",
                "mlflow.source.git.repoURL": "https://github.com/mlflow/mlflow",
                "non-string-metadata": 123,
            },
        )

    f()

    expected = {
        "mlflow.source.name": "inference.py",
        "mlflow.source.git.commit": "1234567890",
        "mlflow.source.git.repoURL": "https://github.com/mlflow/mlflow",
        "non-string-metadata": "123",  # stored as a string
    }
    trace = get_trace(mlflow.get_last_active_trace_id())
    for key, value in expected.items():
        assert trace.info.trace_metadata[key] == value
    traces = get_traces()
    assert len(traces) == 1
    assert traces[0].info.status == "OK"
    for key, value in expected.items():
        assert traces[0].info.trace_metadata[key] == value


def test_update_current_trace_with_state() -> None:
    with mlflow.start_span("test_span") as span:
        mlflow.update_current_trace(state=TraceState.ERROR)
    assert get_trace(span.trace_id).info.state == TraceState.ERROR

    with mlflow.start_span("test_span_2") as span:
        mlflow.update_current_trace(state="OK")
    assert get_trace(span.trace_id).info.state == TraceState.OK

    with mlflow.start_span("test_span_3") as span:
        mlflow.update_current_trace(state="ERROR", tags={"error_type": "validation"}, client_request_id="req-123")
    trace = get_trace(span.trace_id)
    assert trace.info.state == TraceState.ERROR
    assert trace.info.tags["error_type"] == "validation"
    assert trace.info.client_request_id == "req-123"


def test_update_current_trace_state_none() -> None:
    with mlflow.start_span("test_span") as span:
        mlflow.update_current_trace(state="OK")
        mlflow.update_current_trace(state=None, tags={"test": "value"})  # state=None changes nothing
    trace = get_trace(span.trace_id)
    assert trace.info.state == TraceState.OK
    assert trace.info.tags["test"] == "value"


def test_update_current_trace_state_validation() -> None:
    with mlflow.start_span("test_span"):
        for valid in ("OK", "ERROR", TraceState.OK, TraceState.ERROR):
            mlflow.update_current_trace(state=valid)
        with pytest.raises(MlflowException, match=r"State must be either 'OK' or 'ERROR', but got 'IN_PROGRESS'"):
            mlflow.update_current_trace(state="IN_PROGRESS")
        with pytest.raises(MlflowException, match=r"State must be either 'OK' or 'ERROR', but got 'STATE_UNSPECIFIED'"):
            mlflow.update_current_trace(state=TraceState.STATE_UNSPECIFIED)
        with pytest.raises(MlflowException, match=r"State must be either 'OK' or 'ERROR', but got 'CUSTOM_STATE'"):
            mlflow.update_current_trace(state="CUSTOM_STATE")
        with pytest.raises(MlflowException, match=r"State must be either 'OK' or 'ERROR', but got '123'"):
            mlflow.update_current_trace(state=123)


def test_update_current_trace_state_isolation() -> None:
    # the trace's state and the span's status are independent
    with mlflow.start_span("test_span") as span:
        span.set_status("OK")
        mlflow.update_current_trace(state="ERROR")
        assert span.status.status_code == SpanStatusCode.OK

    trace = only_trace()
    assert trace.info.state == TraceState.ERROR
    assert trace.data.spans[0].status.status_code == SpanStatusCode.OK


# -- record_exception ----------------------------------------------------------------------------


def exception_events(span: Any) -> list[Any]:
    return [event for event in span.events if "exception" in event.name.lower()]


def test_span_record_exception_with_string() -> None:
    with mlflow.start_span("test_span") as span:
        span.record_exception("Something went wrong")

    recorded = only_trace().data.spans[0]
    assert recorded.status.status_code == SpanStatusCode.ERROR
    events = exception_events(recorded)
    assert len(events) == 1
    assert "Something went wrong" in str(events[0].attributes)


def test_span_record_exception_with_exception() -> None:
    with mlflow.start_span("test_span") as span:
        span.record_exception(ValueError("Custom error message"))

    recorded = only_trace().data.spans[0]
    assert recorded.status.status_code == SpanStatusCode.ERROR
    events = exception_events(recorded)
    assert len(events) == 1
    assert "ValueError" in str(events[0].attributes)
    assert "Custom error message" in str(events[0].attributes)


def test_span_record_exception_invalid_type() -> None:
    with mlflow.start_span("test_span") as span:
        with pytest.raises(
            MlflowException, match="The `exception` parameter must be an Exception instance or a string"
        ):
            span.record_exception(123)


def test_combined_state_and_record_exception() -> None:
    @mlflow.trace
    def test_function() -> str:
        mlflow.get_current_active_span().record_exception("Processing failed")
        mlflow.update_current_trace(state="ERROR", tags={"error_source": "processing"})
        return "result"

    test_function()

    trace = only_trace()
    assert trace.info.state == TraceState.ERROR
    assert trace.info.tags["error_source"] == "processing"
    root = trace.data.spans[0]
    assert root.status.status_code == SpanStatusCode.ERROR
    events = exception_events(root)
    assert len(events) == 1
    assert "Processing failed" in str(events[0].attributes)


def test_span_record_exception_no_op_span() -> None:
    # MLflow's placeholder span (handed out when tracing cannot start) ignores record_exception
    no_op_span = mlflow.entities.NoOpSpan()
    no_op_span.record_exception("This should be ignored")
    assert get_traces() == []
