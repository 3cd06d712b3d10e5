"""Behaviours the native API shares with MLflow (issue 13): span names, record_exception,
get_attribute, and client spans inside a trace the fluent API started."""

from __future__ import annotations

import functools
import json
from typing import Any, Iterator

import pytest

import agentel
import agentel.testing
from agentel._tracing.registry import REGISTRY
from agentel.testing import SpanCapture


@pytest.fixture
def mlflow_dialect() -> Iterator[None]:
    agentel.configure(semconv="genai,openinference,mlflow")
    try:
        yield
    finally:
        agentel.configure()


def test_decorated_method_span_is_named_after_its_function_not_its_qualname(captured_spans: SpanCapture) -> None:
    class QAChain:
        @agentel.trace
        def predict(self, x: int) -> int:
            return x

        @classmethod
        @agentel.trace
        def build(cls) -> str:
            return "built"

        @staticmethod
        @agentel.trace
        def helper() -> int:
            return 1

    QAChain().predict(1)
    QAChain.build()
    QAChain.helper()
    assert [span.name for span in captured_spans.spans] == ["predict", "build", "helper"]


def test_wrapped_partial_and_callable_object_get_a_readable_name(captured_spans: SpanCapture) -> None:
    def add(a: int, b: int) -> int:
        return a + b

    class Scorer:
        def __call__(self, x: int) -> int:
            return x * 2

    agentel.trace(functools.partial(add, 1))(2)
    agentel.trace(Scorer())(3)
    assert [span.name for span in captured_spans.spans] == ["add", "Scorer"]


def test_mlflow_dialect_writes_the_function_name(captured_spans: SpanCapture, mlflow_dialect: None) -> None:
    @agentel.trace(name="custom-name")
    def add_one(z: int) -> int:
        return z + 1

    add_one(1)
    span = captured_spans.find("custom-name")
    assert span.attributes["mlflow.spanFunctionName"] == json.dumps("add_one")


def test_function_name_attribute_absent_without_the_mlflow_dialect(captured_spans: SpanCapture) -> None:
    @agentel.trace
    def add_one(z: int) -> int:
        return z + 1

    add_one(1)
    assert "mlflow.spanFunctionName" not in captured_spans.find("add_one").attributes


def test_record_exception_with_a_message_sets_error_and_an_exception_event(captured_spans: SpanCapture) -> None:
    before = agentel.stats()["internal_errors"]
    with agentel.start_span("s") as span:
        span.record_exception("the tool timed out")
    captured = captured_spans.find("s")
    assert captured.status_code == "ERROR"
    assert captured.status_description == "Exception: the tool timed out"
    name, attributes = captured.events[0][0], captured.events[0][1]
    assert name == "exception"
    assert attributes["exception.type"] == "Exception"
    assert attributes["exception.message"] == "the tool timed out"
    assert agentel.stats()["internal_errors"] == before


@pytest.mark.parametrize("bad", [123, None, ["x"], object()])
def test_record_exception_with_something_else_raises_type_error(captured_spans: SpanCapture, bad: Any) -> None:
    with agentel.start_span("s") as span:
        with pytest.raises(TypeError, match="exception or a message string"):
            span.record_exception(bad)
    assert captured_spans.find("s").events == []


def test_record_exception_with_an_exception_object_still_works(captured_spans: SpanCapture) -> None:
    with agentel.start_span("s") as span:
        span.record_exception(KeyError("k"))
    assert captured_spans.find("s").status_description == "KeyError: 'k'"


def test_get_attribute_returns_values_as_set(captured_spans: SpanCapture) -> None:
    with agentel.start_span("s") as span:
        span.set_attributes({"n": 3, "flag": True, "text": "plain", "cfg": {"k": [1, 2]}, "tags": ["a", "b"]})
        span.set_inputs({"q": "hi"})
        assert span.get_attribute("n") == 3
        assert span.get_attribute("flag") is True
        assert span.get_attribute("text") == "plain"
        assert span.get_attribute("cfg") == {"k": [1, 2]}
        assert span.get_attribute("tags") == ["a", "b"]
        assert span.get_attribute("input.value") == {"q": "hi"}
        assert span.get_attribute("missing") is None


def test_client_span_under_an_open_fluent_span(captured_spans: SpanCapture) -> None:
    client = agentel.TraceClient()
    with agentel.start_span("parent_span") as parent:
        child = client.start_span("child_span", request_id=parent.trace_id, parent_id=parent.span_id, inputs={"x": 2})
        grandchild = client.start_span("grandchild", request_id=parent.trace_id, parent_id=child.span_id)
        assert client.get_span(parent.trace_id, grandchild.span_id).span_id == grandchild.span_id
        assert client.get_span(parent.trace_id, parent.span_id).span_id == parent.span_id
        client.end_span(parent.trace_id, grandchild.span_id)
        client.end_span(parent.trace_id, child.span_id, outputs={"y": 4})
        with pytest.raises(agentel.SpanAlreadyEndedError):
            client.end_span(parent.trace_id, child.span_id)
    captured_spans.assert_tree(
        """
        parent_span [UNKNOWN]
          child_span [UNKNOWN]
            grandchild [UNKNOWN]
        """
    )
    assert captured_spans.find("child_span").outputs == {"y": 4}
    assert captured_spans.find("child_span").status_code == "OK"
    client.end_trace(client.start_trace("t", new_trace=True).request_id)  # a client call sweeps
    assert int(parent.trace_id, 16) not in REGISTRY.borrowed  # dropped once the fluent trace ended


def test_client_span_under_a_fluent_trace_defaults_to_its_root(captured_spans: SpanCapture) -> None:
    client = agentel.TraceClient()

    @agentel.trace
    def agent() -> None:
        with agentel.start_span("inner"):
            trace_id = agentel.get_current_span().trace_id  # type: ignore[union-attr]
            span = client.start_span("callback", request_id=trace_id)
            client.end_span(trace_id, span.span_id)

    agent()
    assert captured_spans.find("callback").parent_id == captured_spans.find("agent").span_id


def test_end_trace_on_a_fluent_trace_is_refused_with_a_clear_error(captured_spans: SpanCapture) -> None:
    client = agentel.TraceClient()
    with agentel.start_span("root") as root:
        child = client.start_span("c", request_id=root.trace_id, parent_id=root.span_id)
        with pytest.raises(agentel.TraceNotFoundError, match="not started with start_trace"):
            client.end_trace(root.trace_id)
        client.end_span(root.trace_id, child.span_id)
    assert captured_spans.find("root").end_time_ns is not None


def test_unknown_trace_still_raises_trace_not_found(captured_spans: SpanCapture) -> None:
    client = agentel.TraceClient()
    with pytest.raises(agentel.TraceNotFoundError):
        client.start_span("x", request_id="0" * 31 + "1", parent_id="0" * 15 + "1")
    with agentel.start_span("root") as root:
        pass
    with pytest.raises(agentel.TraceNotFoundError):  # the fluent trace has ended
        client.start_span("x", request_id=root.trace_id, parent_id=root.span_id)


def test_parent_span_of_another_trace_is_not_accepted(captured_spans: SpanCapture) -> None:
    client = agentel.TraceClient()
    other = client.start_trace("other", new_trace=True)
    with agentel.start_span("fluent") as fluent:
        with pytest.raises(agentel.TraceNotFoundError):  # other's id is not an open span of this trace
            client.start_span("x", request_id="f" * 32, parent_id=fluent.span_id)
    client.end_trace(other.request_id)


def test_abandoned_client_spans_in_a_fluent_trace_end_after_ttl_but_its_root_does_not(
    captured_spans: SpanCapture,
) -> None:
    class Clock:
        now = 1000.0

        def __call__(self) -> float:
            return self.now

    clock = Clock()
    client = agentel.TraceClient(clock=clock)
    agentel.testing.reset(provider=False, trace_ttl_seconds=60)  # the capture restores
    with agentel.start_span("fluent-root") as root:
        client.start_span("forgotten", request_id=root.trace_id, parent_id=root.span_id)
        clock.now += 61
        client.end_trace(client.start_trace("other", new_trace=True).request_id)  # sweeps
        forgotten = captured_spans.find("forgotten")
        assert forgotten.status_code == "ERROR"
        assert forgotten.attributes["agentel.ended_by"] == "ttl_or_capacity"
        assert root.is_recording()  # the fluent root is not the client's to end
    assert captured_spans.find("fluent-root").status_code == "UNSET"
