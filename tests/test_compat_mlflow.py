"""agentel.compat.mlflow: MLflow's tracing names and signatures (2.13 and 3.x forms)."""

from __future__ import annotations

import pytest

import agentel
import agentel.compat.mlflow as mlflow
from agentel.compat.mlflow.client import MlflowClient
from agentel.compat.mlflow.entities import SpanEvent, SpanStatus, SpanStatusCode, SpanType
from agentel.testing import SpanCapture


def test_fluent_names_match_mlflow(captured_spans: SpanCapture) -> None:
    @mlflow.trace(name="agent", span_type="TYPE", attributes={"key": "value"})
    def my_function(x: int, y: int) -> int:
        return x + y

    assert my_function(1, 2) == 3
    with mlflow.start_span("my_span", SpanType.TOOL, {"a": 1}) as span:
        assert mlflow.get_current_active_span().span_id == span.span_id  # type: ignore[union-attr]
        span.set_inputs({"x": 1, "y": 2})
        span.set_outputs(3)
        span.set_attribute("key", "value")
        span.add_event(SpanEvent("note", attributes={"k": "v"}))
        span.set_status(SpanStatus(SpanStatusCode.ERROR, "bad"))
        mlflow.update_current_trace(tags={"env": "test"})
    agent = captured_spans.find("agent")
    assert agent.span_type == "TYPE" and agent.attributes["key"] == "value"
    my_span = captured_spans.find("my_span")
    assert my_span.span_type == "TOOL" and my_span.attributes["a"] == 1
    assert my_span.events[0][0] == "note" and my_span.status_description == "bad"
    assert my_span.attributes["agentel.tag.env"] == "test"
    assert mlflow.get_last_active_trace_id() == my_span.trace_id


def test_client_positional_forms_of_mlflow_2_13_and_3(captured_spans: SpanCapture) -> None:
    client = MlflowClient(tracking_uri="databricks")
    old = client.start_trace("v213", {"q": 1}, {"attr": 1}, {"tag": "t"}, "123")  # name, inputs, attrs, tags, exp
    new = client.start_trace("v3", SpanType.AGENT, {"q": 2}, experiment_id="0")
    child = client.start_span("child", old.request_id, old.span_id, SpanType.TOOL, {"in": 1})
    client.end_span(old.request_id, child.span_id, {"out": 1}, {"extra": True}, "OK")
    other = client.start_span("child3", trace_id=new.trace_id, parent_id=new.span_id)
    client.end_span(trace_id=new.trace_id, span_id=other.span_id, outputs=[1])
    client.set_trace_tag(new.request_id, "k", "v")
    client.delete_trace_tag(new.request_id, "k")
    old.end_trace(old.request_id, outputs={"done": 1})  # the page's slip, accepted
    client.end_trace(trace_id="tr-" + new.trace_id, status=SpanStatusCode.OK)
    v213 = captured_spans.find("v213")
    assert v213.inputs == {"q": 1} and v213.attributes["attr"] == 1 and v213.attributes["agentel.tag.tag"] == "t"
    assert v213.outputs == {"done": 1}
    assert captured_spans.find("v3").span_type == "AGENT"
    assert captured_spans.find("v3").inputs == {"q": 2}
    child_span = captured_spans.find("child")
    assert child_span.span_type == "TOOL" and child_span.outputs == {"out": 1} and child_span.attributes["extra"]
    assert captured_spans.find("child3").parent_id == new.span_id


def test_compat_errors_are_agentel_errors() -> None:
    client = MlflowClient()
    with pytest.raises(agentel.TraceNotFoundError):
        client.end_trace("0" * 31 + "1")
    with pytest.raises(agentel.InvalidIdError):
        client.start_span("x", request_id="nope")
