"""agentel.compat.mlflow follows MLflow's semantics (issue 13): status OK on success, chunk events,
update_current_trace's MLflow 3 arguments, string metadata, str(dt) datetimes, MLflow 3 names,
tracing on/off, tracking URIs and experiments, and traces read back with get_trace."""

from __future__ import annotations

import asyncio
import datetime
import json
import logging
import threading
from typing import Any, AsyncIterator, Iterator

import pytest

import agentel
import agentel.compat.mlflow as mlflow
from agentel.compat.mlflow import MlflowClient
from agentel.compat.mlflow.entities import SpanEvent, SpanStatusCode, SpanType, Trace, TraceState
from agentel.compat.mlflow.exceptions import MlflowException
from agentel.testing import SpanCapture


# -- item 3: status OK when a span ends normally
def test_decorated_function_that_returns_has_status_ok(captured_spans: SpanCapture) -> None:
    @mlflow.trace
    def predict(x: int) -> int:
        return x + 1

    @mlflow.trace
    async def apredict(x: int) -> int:
        return x + 1

    predict(1)
    asyncio.run(apredict(1))
    assert [s.status_code for s in captured_spans.spans] == ["OK", "OK"]


def test_decorated_function_that_raises_stays_error(captured_spans: SpanCapture) -> None:
    @mlflow.trace
    def fail() -> None:
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        fail()
    span = captured_spans.find("fail")
    assert span.status_code == "ERROR" and span.status_description == "ValueError: boom"


def test_start_span_block_ok_on_success_error_on_exception_and_explicit_error_kept(
    captured_spans: SpanCapture,
) -> None:
    with mlflow.start_span("fine"):
        pass
    with pytest.raises(KeyError):
        with mlflow.start_span("broken"):
            raise KeyError("k")
    with mlflow.start_span("marked") as span:
        span.set_status("ERROR")
    assert captured_spans.find("fine").status_code == "OK"
    assert captured_spans.find("broken").status_code == "ERROR"
    assert captured_spans.find("marked").status_code == "ERROR"


def test_native_api_keeps_the_otel_rule_unset_on_success(captured_spans: SpanCapture) -> None:
    @agentel.trace
    def native() -> int:
        return 1

    native()
    with agentel.start_span("native_block"):
        pass
    assert [s.status_code for s in captured_spans.spans] == ["UNSET", "UNSET"]


# -- item 4: one mlflow.chunk.item.N event per yielded item, bounded
def test_traced_generator_records_one_chunk_event_per_item(captured_spans: SpanCapture) -> None:
    @mlflow.trace
    def stream(n: int) -> Iterator[dict[str, int]]:
        for i in range(n):
            yield {"i": i}

    assert list(stream(3)) == [{"i": 0}, {"i": 1}, {"i": 2}]
    span = captured_spans.find("stream")
    assert [name for name, _ in span.events] == ["mlflow.chunk.item.0", "mlflow.chunk.item.1", "mlflow.chunk.item.2"]
    assert [json.loads(attrs["mlflow.chunk.value"]) for _, attrs in span.events] == [{"i": 0}, {"i": 1}, {"i": 2}]
    assert span.outputs == [{"i": 0}, {"i": 1}, {"i": 2}]
    assert span.status_code == "OK"


def test_traced_async_generator_records_chunk_events(captured_spans: SpanCapture) -> None:
    @mlflow.trace
    async def astream() -> AsyncIterator[str]:
        yield "a"
        yield "b"

    async def consume() -> list[str]:
        return [item async for item in astream()]

    assert asyncio.run(consume()) == ["a", "b"]
    span = captured_spans.find("astream")
    assert [(name, attrs["mlflow.chunk.value"]) for name, attrs in span.events] == [
        ("mlflow.chunk.item.0", '"a"'),
        ("mlflow.chunk.item.1", '"b"'),
    ]


def test_chunk_events_are_bounded_by_max_generator_items(
    captured_spans: SpanCapture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGENTEL_MAX_GENERATOR_ITEMS", "5")
    agentel.configure()
    try:

        @mlflow.trace
        def many() -> Iterator[int]:
            yield from range(50)

        assert sum(many()) == sum(range(50))
    finally:
        monkeypatch.delenv("AGENTEL_MAX_GENERATOR_ITEMS")
        agentel.configure()
    span = captured_spans.find("many")
    assert len(span.events) == 5
    assert span.attributes["agentel.generator.items"] == 50


def test_native_generator_has_no_chunk_events(captured_spans: SpanCapture) -> None:
    @agentel.trace
    def gen() -> Iterator[int]:
        yield 1

    list(gen())
    assert captured_spans.find("gen").events == []


def test_output_reducer_on_a_plain_function_is_rejected_as_in_mlflow() -> None:
    def plain() -> int:
        return 1

    with pytest.raises(MlflowException, match="only supported for generator"):
        mlflow.trace(plain, output_reducer=lambda items: items)


# -- item 6
def test_get_last_active_trace_id_thread_local(captured_spans: SpanCapture) -> None:
    with mlflow.start_span("main-thread") as main_span:
        pass
    seen: dict[str, Any] = {}

    def worker() -> None:
        seen["before"] = mlflow.get_last_active_trace_id(thread_local=True)
        with mlflow.start_span("worker") as span:
            seen["id"] = span.trace_id
        seen["after"] = mlflow.get_last_active_trace_id(thread_local=True)

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert seen["before"] is None
    assert seen["after"] == seen["id"]
    assert mlflow.get_last_active_trace_id(thread_local=True) == main_span.trace_id
    assert mlflow.get_last_active_trace_id() == seen["id"]


# -- items 7 and 8
def test_update_current_trace_mlflow3_arguments_are_read_back(captured_spans: SpanCapture) -> None:
    @mlflow.trace
    def predict(x: int) -> int:
        mlflow.update_current_trace({"fruit": "apple"}, metadata={"n": 1, "ok": True})  # tags positional
        mlflow.update_current_trace(
            client_request_id="req-12345",
            request_preview="custom request",
            response_preview="custom response",
            metadata={"more": "yes"},
            session_id="s-1",
            user="u-1",
            model_id="m-1",
        )
        return x

    predict(1)
    trace = mlflow.get_last_active_trace()
    assert trace is not None
    assert trace.info.tags == {"fruit": "apple"}
    assert trace.info.trace_metadata == {
        "n": "1",
        "ok": "True",
        "more": "yes",
        "mlflow.trace.session": "s-1",
        "mlflow.trace.user": "u-1",
        "mlflow.modelId": "m-1",
    }
    assert trace.info.client_request_id == "req-12345"
    assert trace.info.request_preview == "custom request"
    assert trace.info.response_preview == "custom response"
    root = captured_spans.find("predict")
    assert json.loads(root.attributes["metadata"])["n"] == "1"  # stored as strings
    assert root.attributes["session.id"] == "s-1" and root.attributes["user.id"] == "u-1"


@pytest.mark.parametrize("state", ["OK", "ERROR"])
def test_update_current_trace_state_overrides_the_trace_state(captured_spans: SpanCapture, state: str) -> None:
    with mlflow.start_span("root") as span:
        mlflow.update_current_trace(state=state)
    trace = mlflow.get_trace(span.trace_id)
    assert trace is not None and trace.info.state == state
    assert captured_spans.find("root").status_code == "OK"  # the span's own status is not changed


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"state": "DONE"}, "State must be either 'OK' or 'ERROR'"),
        ({"state": "IN_PROGRESS"}, "State must be either"),
        ({"request_preview": 123}, "request_preview"),
        ({"response_preview": ["x"]}, "response_preview"),
    ],
)
def test_update_current_trace_rejects_invalid_arguments(
    captured_spans: SpanCapture, kwargs: dict[str, Any], message: str
) -> None:
    with mlflow.start_span("root"):
        with pytest.raises(MlflowException, match=message):
            mlflow.update_current_trace(**kwargs)
    assert isinstance(MlflowException("x"), agentel.AgentelError)


def test_update_current_trace_outside_a_span_warns(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="agentel"):
        mlflow.update_current_trace(tags={"a": "b"})
    assert "outside a span" in caplog.text


# -- items 9, 10, 11 through the compat span
def test_compat_span_record_exception_and_get_attribute(captured_spans: SpanCapture) -> None:
    with mlflow.start_span("s") as span:
        span.set_attribute("key", {"a": [1]})
        assert span.get_attribute("key") == {"a": [1]}
        span.record_exception("message")
        with pytest.raises(MlflowException, match="must be an Exception instance or a string") as caught:
            span.record_exception(123)  # type: ignore[arg-type]
        assert isinstance(caught.value, TypeError)  # as the native LiveSpan raises
    captured = captured_spans.find("s")
    assert captured.status_code == "ERROR"
    assert [name for name, _ in captured.events] == ["exception"]


# -- item 13: dates and times as str(dt)
def test_datetime_attributes_are_str_of_the_value(captured_spans: SpanCapture) -> None:
    now = datetime.datetime.now()
    with mlflow.start_span("s", attributes={"at": now}) as span:
        span.set_attributes({"delta": 2, "time": now, "nested": {"when": now.date()}})
        span.set_inputs({"t": now})
    captured = captured_spans.find("s")
    assert captured.attributes["time"] == str(now)
    assert captured.attributes["at"] == str(now)
    assert json.loads(captured.attributes["nested"]) == {"when": str(now.date())}
    assert captured.inputs == {"t": str(now)}
    assert captured.attributes["delta"] == 2


# -- item 14: tracking URIs, experiments, autolog
def test_tracking_uri_and_experiment_are_accepted_and_ignored(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="agentel"):
        mlflow.set_tracking_uri("http://127.0.0.1:5000")
        experiment = mlflow.set_experiment("my-experiment")
    assert mlflow.get_tracking_uri() == "http://127.0.0.1:5000"
    assert experiment.name == "my-experiment" and experiment.experiment_id == "0"
    debug_lines = [r for r in caplog.records if "ignored" in r.getMessage()]
    assert len(debug_lines) == 2 and all(r.levelno == logging.DEBUG for r in debug_lines)
    mlflow.set_tracking_uri(None)


def test_flavor_autolog_calls_agentel_instrument(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, ...]] = []

    def fake_instrument(*names: str) -> list[str]:
        calls.append(names)
        return list(names) or ["openai", "langchain"]

    monkeypatch.setattr(agentel, "instrument", fake_instrument, raising=False)
    mlflow.openai.autolog()
    mlflow.langchain.autolog(log_models=False)
    from agentel.compat.mlflow import anthropic

    anthropic.autolog()
    mlflow.autolog()
    assert calls == [("openai",), ("langchain",), ("anthropic",), ("openai",), ("anthropic",), ("langchain",), ("openai_agents",)]


def test_autolog_never_raises_when_instrumentation_fails(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def failing(*names: str) -> list[str]:
        raise RuntimeError("pip install opentelemetry-instrumentation-openai-v2")

    monkeypatch.setattr(agentel, "instrument", failing, raising=False)
    monkeypatch.setattr(mlflow._autolog, "_warned", set())
    with caplog.at_level(logging.WARNING, logger="agentel"):
        mlflow.openai.autolog()
        mlflow.openai.autolog()
    warnings = [r for r in caplog.records if "did not instrument" in r.getMessage()]
    assert len(warnings) == 1 and "pip install" in warnings[0].getMessage()


def test_autolog_of_a_flavor_without_counterpart_warns_once(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="agentel"):
        mlflow.dspy.autolog()
        mlflow.dspy.autolog()
        from agentel.compat.mlflow import llama_index  # type: ignore[attr-defined]

        llama_index.autolog()
    messages = [r.getMessage() for r in caplog.records if "no counterpart" in r.getMessage()]
    assert len(messages) == 2 and "dspy" in messages[0] and "llama_index" in messages[1]
    with pytest.raises(AttributeError):
        mlflow.not_a_flavor  # noqa: B018
    with pytest.raises(AttributeError, match="out of scope"):
        mlflow.sklearn.log_model  # noqa: B018


def test_flavor_modules_import_in_one_line() -> None:
    import importlib

    for name in ("openai", "anthropic", "langchain"):
        module = importlib.import_module(f"agentel.compat.mlflow.{name}")
        assert callable(module.autolog)
        assert getattr(mlflow, name) is module


# -- item 15: MLflow 3 names
def test_start_span_no_context_is_not_current_and_ends_ok(captured_spans: SpanCapture) -> None:
    root = mlflow.start_span_no_context("my_trace", span_type=SpanType.AGENT, inputs={"q": 1}, tags={"t": "v"})
    assert mlflow.get_current_active_span() is None
    child = mlflow.start_span_no_context("child_span", parent_span=root, attributes={"k": 1})
    child.end(outputs={"a": 2})
    root.end()
    captured_spans.assert_tree(
        """
        my_trace [AGENT]
          child_span [UNKNOWN]
        """
    )
    assert captured_spans.find("child_span").status_code == "OK"
    assert captured_spans.find("child_span").outputs == {"a": 2}
    assert captured_spans.find("my_trace").attributes["agentel.tag.t"] == "v"


def test_start_span_no_context_without_parent_starts_a_new_trace(captured_spans: SpanCapture) -> None:
    with mlflow.start_span("outer") as outer:
        detached = mlflow.start_span_no_context("detached")
        detached.end()
    assert detached.trace_id != outer.trace_id
    assert captured_spans.find("detached").parent_id is None


def test_get_active_trace_id(captured_spans: SpanCapture) -> None:
    assert mlflow.get_active_trace_id() is None

    @mlflow.trace
    def f() -> str | None:
        return mlflow.get_active_trace_id()

    trace_id = f()
    assert trace_id == captured_spans.find("f").trace_id


def test_tracing_disable_and_enable(captured_spans: SpanCapture) -> None:
    @mlflow.trace
    def f() -> int:
        return 1

    mlflow.tracing.disable()
    try:
        assert not mlflow.tracing.is_tracing_enabled()
        assert f() == 1
        with mlflow.start_span("off") as off:
            off.end_trace  # noqa: B018 - still the compat span class, doing nothing
            off.record_exception("ignored")
        assert len(captured_spans.spans) == 0
    finally:
        mlflow.tracing.enable()
    f()
    assert [s.name for s in captured_spans.spans] == ["f"]


def test_get_trace_returns_the_trace_shape_mlflow_users_read(captured_spans: SpanCapture) -> None:
    class Model:
        @mlflow.trace()
        def predict(self, x: int, y: int) -> int:
            z = self.add_one(x + y)
            with mlflow.start_span("square") as span:
                span.add_event(SpanEvent("event", 0, attributes={"foo": "bar"}))
                z = z * z
            return z

        @mlflow.trace(span_type=SpanType.LLM, name="add_one_with_custom_name", attributes={"delta": 1})
        def add_one(self, z: int) -> int:
            return z + 1

    assert Model().predict(2, 5) == 64
    trace_id = mlflow.get_last_active_trace_id()
    assert trace_id is not None
    trace = mlflow.get_trace(trace_id)
    assert isinstance(trace, Trace)
    assert trace.info.trace_id == trace_id and trace.info.request_id == trace_id
    assert trace.info.state == TraceState.OK and trace.info.status == "OK"
    assert trace.info.execution_duration is not None and trace.info.execution_duration >= 0
    assert trace.data.request == '{"x": 2, "y": 5}' and trace.data.response == "64"
    spans = {span.name: span for span in trace.data.spans}
    assert [span.name for span in trace.data.spans] == ["predict", "add_one_with_custom_name", "square"]
    root, child, square = spans["predict"], spans["add_one_with_custom_name"], spans["square"]
    assert root.parent_id is None and child.parent_id == root.span_id and square.parent_id == root.span_id
    assert root.inputs == {"x": 2, "y": 5} and root.outputs == 64
    assert child.span_type == "LLM" and child.inputs == {"z": 7} and child.outputs == 8
    assert child.attributes["delta"] == 1 and child.get_attribute("delta") == 1
    assert root.status.status_code == SpanStatusCode.OK
    assert [(e.name, e.timestamp, e.attributes) for e in square.events] == [("event", 0, {"foo": "bar"})]
    assert mlflow.get_trace("tr-" + trace_id) is not None  # MLflow's prefix accepted
    assert MlflowClient().get_trace(trace_id).info.trace_id == trace_id
    assert trace.search_spans(span_type="LLM") == [child] or trace.search_spans(span_type="LLM")[0].name == child.name


def test_get_trace_of_a_failed_trace_has_state_error_and_the_exception_event(captured_spans: SpanCapture) -> None:
    @mlflow.trace
    def predict() -> None:
        raise ValueError("Some error")

    with pytest.raises(ValueError, match="Some error"):
        predict()
    trace = mlflow.get_last_active_trace()
    assert trace is not None and trace.info.state == TraceState.ERROR
    span = trace.data.spans[0]
    assert span.status.status_code == "ERROR"
    assert span.events[0].name == "exception"
    assert span.events[0].attributes["exception.message"] == "Some error"
    assert trace.data.response is None


def test_get_trace_of_a_client_trace_with_tags(captured_spans: SpanCapture) -> None:
    client = MlflowClient()
    root = client.start_trace("agent", inputs={"q": "hi"}, tags={"env": "test"})
    child = client.start_span("search", root.request_id, root.span_id, inputs={"k": 3})
    client.end_span(root.request_id, child.span_id, outputs=["doc"])
    client.set_trace_tag(root.request_id, "extra", "1")
    client.end_trace(root.request_id, outputs={"answer": "a"})
    trace = client.get_trace(root.request_id)
    assert trace.info.tags == {"env": "test", "extra": "1"}
    assert [span.name for span in trace.data.spans] == ["agent", "search"]
    assert trace.data.spans[1].outputs == ["doc"]


def test_get_trace_of_an_unknown_trace(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="agentel"):
        assert mlflow.get_trace("0" * 31 + "7") is None
        assert mlflow.get_trace("not-an-id") is None
    assert "not kept in this process" in caplog.text
    caplog.clear()
    assert mlflow.get_trace("0" * 31 + "7", silent=True) is None
    assert caplog.text == ""
    with pytest.raises(KeyError):
        MlflowClient().get_trace("0" * 31 + "7")


def test_get_trace_while_the_trace_is_in_progress(captured_spans: SpanCapture) -> None:
    with mlflow.start_span("root") as root:
        with mlflow.start_span("done"):
            pass
        trace = mlflow.get_trace(root.trace_id)
        assert trace is not None and trace.info.state == TraceState.IN_PROGRESS
        assert [s.name for s in trace.data.spans] == ["done"]
    finished = mlflow.get_trace(root.trace_id)
    assert finished is not None and finished.info.state == TraceState.OK
    assert [s.name for s in finished.data.spans] == ["root", "done"]


def test_mlflow_client_child_of_a_fluent_span(captured_spans: SpanCapture) -> None:
    client = MlflowClient()
    with mlflow.start_span("parent_span") as parent:
        child = client.start_span(name="child_span", trace_id=parent.trace_id, parent_id=parent.span_id)
        child.set_attribute("when", datetime.date(2024, 1, 2))
        client.end_span(trace_id=parent.trace_id, span_id=child.span_id)
    trace = mlflow.get_trace(parent.trace_id)
    assert trace is not None
    assert [(s.name, s.parent_id) for s in trace.data.spans] == [
        ("parent_span", None),
        ("child_span", parent.span_id),
    ]
    assert trace.data.spans[1].attributes["when"] == "2024-01-02"


# -- the kept-traces buffer is bounded by count and bytes
@pytest.fixture
def keep_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    yield monkeypatch
    for name in ("AGENTEL_KEEP_TRACES", "AGENTEL_KEEP_TRACES_BYTES"):
        monkeypatch.delenv(name, raising=False)
    agentel.configure()


def test_only_the_last_keep_traces_traces_are_kept(captured_spans: SpanCapture, keep_env: pytest.MonkeyPatch) -> None:
    keep_env.setenv("AGENTEL_KEEP_TRACES", "3")
    agentel.configure()
    ids = []
    for i in range(10):
        with mlflow.start_span(f"t{i}") as span:
            pass
        ids.append(span.trace_id)
    assert [mlflow.get_trace(t, silent=True) is not None for t in ids] == [False] * 7 + [True] * 3
    from agentel._runtime.provider import RUNTIME

    assert RUNTIME.processor.kept.usage()["kept_traces"] == 3


def test_kept_traces_are_bounded_by_bytes(captured_spans: SpanCapture, keep_env: pytest.MonkeyPatch) -> None:
    keep_env.setenv("AGENTEL_KEEP_TRACES_BYTES", "100000")
    keep_env.setenv("AGENTEL_MAX_PAYLOAD_BYTES", "32768")  # string attributes are cut to this budget
    agentel.configure()
    ids = []
    for i in range(20):
        with mlflow.start_span(f"big{i}") as span:
            span.set_attribute("blob", "x" * 20000)
        ids.append(span.trace_id)
    from agentel._runtime.provider import RUNTIME

    usage = RUNTIME.processor.kept.usage()
    assert usage["kept_traces_bytes"] <= 100000
    assert 1 <= usage["kept_traces"] <= 5
    assert mlflow.get_trace(ids[-1]) is not None and mlflow.get_trace(ids[0], silent=True) is None


def test_keep_traces_zero_keeps_nothing(captured_spans: SpanCapture, keep_env: pytest.MonkeyPatch) -> None:
    keep_env.setenv("AGENTEL_KEEP_TRACES", "0")
    agentel.configure()
    with mlflow.start_span("not-kept") as span:
        pass
    assert mlflow.get_trace(span.trace_id, silent=True) is None
    assert mlflow.get_last_active_trace() is None
    assert captured_spans.find("not-kept").status_code == "OK"  # tracing itself is unaffected


def test_malformed_keep_traces_falls_back_to_the_default(
    keep_env: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    keep_env.setenv("AGENTEL_KEEP_TRACES", "lots")
    with caplog.at_level(logging.WARNING, logger="agentel"):
        agentel.configure()
    from agentel._runtime.provider import RUNTIME

    assert RUNTIME.settings.keep_traces == 100
    assert "AGENTEL_KEEP_TRACES" in caplog.text


def test_end_trace_of_an_unknown_or_finished_trace_raises_mlflow_exception(captured_spans: SpanCapture) -> None:
    client = MlflowClient()
    with pytest.raises(MlflowException, match="Trace with ID 'test' not found"):
        client.end_trace("test")
    root = client.start_trace("t")
    client.end_trace(root.trace_id, status="ERROR")
    with pytest.raises(MlflowException, match=rf"Trace with ID {root.trace_id} already finished") as caught:
        client.end_trace(root.trace_id)
    assert isinstance(caught.value, agentel.TraceNotFoundError)  # the native except clause still works


def test_noop_span_ignores_everything(captured_spans: SpanCapture) -> None:
    from agentel.compat.mlflow.entities import NoOpSpan

    span = NoOpSpan()
    span.record_exception("ignored")
    span.set_attributes({"a": 1})
    span.end()
    assert captured_spans.spans == []


def test_nothing_is_kept_until_the_compat_layer_is_imported() -> None:
    import subprocess
    import sys

    program = """
import agentel
from agentel._runtime.provider import RUNTIME
agentel.configure(console=False)
with agentel.start_span("before"):
    pass
assert RUNTIME.processor.kept.usage()["kept_traces"] == 0, RUNTIME.processor.kept.usage()
import agentel.compat.mlflow as mlflow
with mlflow.start_span("after") as span:
    pass
assert RUNTIME.processor.kept.usage()["kept_traces"] == 1
assert mlflow.get_trace(span.trace_id).data.spans[0].name == "after"
print("ok")
"""
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_set_trace_tag_on_an_open_fluent_trace(captured_spans: SpanCapture) -> None:
    with mlflow.start_span("root") as span:
        with mlflow.start_span("child"):
            mlflow.set_trace_tag(span.trace_id, "key", "value")
    trace = mlflow.get_trace(span.trace_id)
    assert trace is not None and trace.info.tags == {"key": "value"}
    with pytest.raises(agentel.TraceNotFoundError):
        mlflow.set_trace_tag(span.trace_id, "late", "x")  # the trace has ended
