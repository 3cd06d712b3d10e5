"""GenAI metrics recorded from agentel's spans, read back with the SDK's InMemoryMetricReader."""

from __future__ import annotations

from typing import Any, Iterator

import pytest
from opentelemetry import trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

import agentel
from agentel._export.metrics import METRICS
from agentel.testing import SpanCapture, capture_spans

DURATION_BUCKETS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92]
TOKEN_BUCKETS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864]
AGENT_BUCKETS = [0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 12.8, 25.6, 51.2, 102.4, 204.8, 409.6]
WORKFLOW_BUCKETS = [1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200]
COUNT_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128]


class Metrics:
    """The points recorded so far: ``points(name)`` -> [(attributes, point)]; ``metric(name)``."""

    def __init__(self, reader: InMemoryMetricReader) -> None:
        self.reader = reader
        self._metrics: dict[str, Any] = {}

    def collect(self) -> "Metrics":
        self._metrics = {}
        data = self.reader.get_metrics_data()
        for resource_metrics in data.resource_metrics if data else ():
            for scope_metrics in resource_metrics.scope_metrics:
                if scope_metrics.scope.name != "agentel":
                    continue
                for metric in scope_metrics.metrics:
                    self._metrics[metric.name] = metric
        return self

    def names(self) -> set[str]:
        return set(self._metrics)

    def metric(self, name: str) -> Any:
        return self._metrics[name]

    def points(self, name: str) -> list[tuple[dict[str, Any], Any]]:
        metric = self._metrics.get(name)
        if metric is None:
            return []
        return [(dict(point.attributes), point) for point in metric.data.data_points]

    def point(self, name: str, **attributes: Any) -> Any:
        found = [p for attrs, p in self.points(name) if all(attrs.get(k) == v for k, v in attributes.items())]
        assert len(found) == 1, (name, attributes, self.points(name))
        return found[0]


@pytest.fixture
def recorded() -> Iterator[tuple[Metrics, SpanCapture]]:
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    METRICS.use_meter_provider(provider)
    try:
        with capture_spans() as spans:
            yield Metrics(reader), spans
    finally:
        METRICS.reset()
        provider.shutdown()


@agentel.trace(span_type=agentel.SpanType.TOOL)
def search(query: str) -> list[str]:
    return ["doc-1"]


@agentel.trace(span_type=agentel.SpanType.TOOL)
def broken_tool(query: str) -> str:
    raise TimeoutError("slow")


@agentel.trace(span_type=agentel.SpanType.CHAT_MODEL)
def chat(question: str) -> dict[str, Any]:
    agentel.set_llm(model="gpt-4o", provider="openai")
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": "gpt-4o-2024-08-06",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
        "usage": {
            "prompt_tokens": 1000,
            "completion_tokens": 500,
            "total_tokens": 1500,
            "prompt_tokens_details": {"cached_tokens": 200},
        },
    }


@agentel.trace(name="support-bot", span_type=agentel.SpanType.AGENT)
def agent(question: str) -> str:
    search(question)
    chat(question)
    chat(question)
    try:
        broken_tool(question)
    except TimeoutError:
        pass
    return "done"


def test_instruments_have_the_conventions_names_units_and_buckets(recorded: tuple[Metrics, SpanCapture]) -> None:
    metrics, _ = recorded
    agent("hi")
    metrics.collect()
    expected = {
        "gen_ai.client.operation.duration": ("s", DURATION_BUCKETS),
        "gen_ai.client.token.usage": ("{token}", TOKEN_BUCKETS),
        "gen_ai.invoke_agent.duration": ("s", AGENT_BUCKETS),
        "gen_ai.invoke_agent.inference_calls": ("{inference_call}", COUNT_BUCKETS),
        "gen_ai.invoke_agent.tool_calls": ("{tool_call}", COUNT_BUCKETS),
        "gen_ai.execute_tool.duration": ("s", DURATION_BUCKETS),
    }
    for name, (unit, buckets) in expected.items():
        metric = metrics.metric(name)
        assert metric.unit == unit, name
        for _, point in metrics.points(name):
            assert list(point.explicit_bounds) == buckets, name
    assert metrics.metric("agentel.gen_ai.client.cost").unit == "USD"


def test_model_call_records_duration_and_tokens_with_required_attributes(
    recorded: tuple[Metrics, SpanCapture],
) -> None:
    metrics, spans = recorded
    agent("hi")
    metrics.collect()
    common = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o",
        "gen_ai.response.model": "gpt-4o-2024-08-06",
    }
    [(attributes, duration)] = metrics.points("gen_ai.client.operation.duration")
    assert attributes == common
    assert duration.count == 2
    model_spans = spans.find_all("chat")
    expected_seconds = sum((s.end_time_ns - s.start_time_ns) / 1e9 for s in model_spans)  # type: ignore[operator]
    assert duration.sum == pytest.approx(expected_seconds)
    tokens = {attrs["gen_ai.token.type"]: (attrs, p) for attrs, p in metrics.points("gen_ai.client.token.usage")}
    assert set(tokens) == {"input", "output"}
    assert tokens["input"][0] == {**common, "gen_ai.token.type": "input"}
    assert (tokens["input"][1].sum, tokens["input"][1].count) == (2000, 2)
    assert (tokens["output"][1].sum, tokens["output"][1].count) == (1000, 2)
    assert metrics.points("gen_ai.client.operation.time_to_first_chunk") == []  # not streamed


def test_agent_run_records_duration_and_its_own_inference_and_tool_calls(
    recorded: tuple[Metrics, SpanCapture],
) -> None:
    metrics, spans = recorded
    agent("hi")
    metrics.collect()
    root = spans.find("support-bot")
    run = {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "support-bot"}
    [(attributes, duration)] = metrics.points("gen_ai.invoke_agent.duration")
    assert attributes == run
    assert duration.sum == pytest.approx((root.end_time_ns - root.start_time_ns) / 1e9)  # type: ignore[operator]
    [(attributes, inference)] = metrics.points("gen_ai.invoke_agent.inference_calls")
    assert attributes == run and (inference.sum, inference.count) == (2, 1)
    [(attributes, tools)] = metrics.points("gen_ai.invoke_agent.tool_calls")
    assert attributes == run and (tools.sum, tools.count) == (2, 1)


def test_tool_duration_and_error_type_on_failure(recorded: tuple[Metrics, SpanCapture]) -> None:
    metrics, _ = recorded
    agent("hi")
    metrics.collect()
    ok = metrics.point("gen_ai.execute_tool.duration", **{"gen_ai.tool.name": "search"})
    failed = metrics.point("gen_ai.execute_tool.duration", **{"gen_ai.tool.name": "broken_tool"})
    points = dict((attrs["gen_ai.tool.name"], attrs) for attrs, _ in metrics.points("gen_ai.execute_tool.duration"))
    assert points["search"] == {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "search",
        "gen_ai.agent.name": "support-bot",
    }
    assert points["broken_tool"]["error.type"] == "TimeoutError"
    assert ok.count == 1 and failed.count == 1


def test_failed_model_call_and_agent_carry_error_type(recorded: tuple[Metrics, SpanCapture]) -> None:
    metrics, _ = recorded

    class RateLimitError(Exception):
        pass

    @agentel.trace(span_type=agentel.SpanType.CHAT_MODEL)
    def failing_chat() -> None:
        agentel.set_llm(model="gpt-4o", provider="openai")
        raise RateLimitError("429")

    @agentel.trace(name="fragile", span_type=agentel.SpanType.AGENT)
    def fragile() -> None:
        failing_chat()

    with pytest.raises(RateLimitError):
        fragile()
    metrics.collect()
    [(attributes, _)] = metrics.points("gen_ai.client.operation.duration")
    assert attributes["error.type"].endswith("RateLimitError")
    assert metrics.points("gen_ai.client.token.usage") == []  # no usage known: no token measurement
    [(attributes, _)] = metrics.points("gen_ai.invoke_agent.duration")
    assert attributes["error.type"].endswith("RateLimitError")
    assert attributes["gen_ai.agent.name"] == "fragile"


def test_streamed_model_call_records_time_to_first_chunk(recorded: tuple[Metrics, SpanCapture]) -> None:
    metrics, spans = recorded

    @agentel.trace(span_type=agentel.SpanType.CHAT_MODEL)
    def stream() -> Any:
        agentel.set_llm(model="gpt-4o-mini", provider="openai")
        yield {"object": "chat.completion.chunk", "model": "gpt-4o-mini", "choices": [{"delta": {"content": "a"}}]}
        yield {
            "object": "chat.completion.chunk",
            "model": "gpt-4o-mini",
            "choices": [],
            "usage": {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15},
        }

    assert len(list(stream())) == 2
    metrics.collect()
    span = spans.find("stream")
    [(attributes, point)] = metrics.points("gen_ai.client.operation.time_to_first_chunk")
    assert attributes["gen_ai.request.model"] == "gpt-4o-mini" and attributes["gen_ai.provider.name"] == "openai"
    assert point.count == 1
    assert point.sum == pytest.approx(span.attributes["agentel.time_to_first_item_ms"] / 1000.0)
    tokens = {a["gen_ai.token.type"]: p.sum for a, p in metrics.points("gen_ai.client.token.usage")}
    assert tokens == {"input": 12, "output": 3}


def test_workflow_duration(recorded: tuple[Metrics, SpanCapture]) -> None:
    metrics, _ = recorded
    with agentel.start_span("nightly-report", span_type=agentel.SpanType.WORKFLOW):
        agent("hi")
    metrics.collect()
    [(attributes, point)] = metrics.points("gen_ai.workflow.duration")
    assert attributes == {"gen_ai.operation.name": "invoke_workflow", "gen_ai.workflow.name": "nightly-report"}
    assert list(point.explicit_bounds) == WORKFLOW_BUCKETS and point.count == 1


def test_sub_agent_calls_count_on_the_sub_agent(recorded: tuple[Metrics, SpanCapture]) -> None:
    metrics, _ = recorded

    @agentel.trace(name="planner", span_type=agentel.SpanType.AGENT)
    def planner() -> None:
        agent("sub")  # support-bot: 2 model calls, 2 tools
        chat("plan")

    planner()
    metrics.collect()
    calls = {a["gen_ai.agent.name"]: p.sum for a, p in metrics.points("gen_ai.invoke_agent.inference_calls")}
    tools = {a["gen_ai.agent.name"]: p.sum for a, p in metrics.points("gen_ai.invoke_agent.tool_calls")}
    assert calls == {"planner": 1, "support-bot": 2}
    assert tools == {"planner": 0, "support-bot": 2}


def test_exemplars_carry_the_trace_id(recorded: tuple[Metrics, SpanCapture]) -> None:
    metrics, spans = recorded
    agent("hi")
    metrics.collect()
    trace_id = int(spans.find("support-bot").trace_id, 16)
    for name in ("gen_ai.client.operation.duration", "gen_ai.invoke_agent.duration", "gen_ai.execute_tool.duration"):
        for _, point in metrics.points(name):
            assert point.exemplars, name
            assert {e.trace_id for e in point.exemplars} == {trace_id}, name
            span_ids = {int(s.span_id, 16) for s in spans.spans}
            assert {e.span_id for e in point.exemplars} <= span_ids


def test_no_duplicate_when_another_instrumentation_records_the_model_call(
    recorded: tuple[Metrics, SpanCapture],
) -> None:
    """An instrumentation like openai-v2 makes its own chat span under agentel's and records the
    client metrics itself: agentel then records none for that call (one call, one measurement)."""
    metrics, spans = recorded
    reader = metrics.reader
    # the other instrumentation: its own tracer and meter (on the same MeterProvider, as in an app)
    other_tracer = trace.get_tracer("opentelemetry.instrumentation.openai_v2")
    provider = METRICS.instruments().provider  # type: ignore[union-attr]
    other_duration = provider.get_meter("opentelemetry.instrumentation.openai_v2").create_histogram(
        "gen_ai.client.operation.duration", unit="s"
    )

    @agentel.trace(span_type=agentel.SpanType.CHAT_MODEL)
    def wrapped_call() -> None:
        agentel.set_llm(model="gpt-4o", provider="openai")
        with other_tracer.start_as_current_span("chat gpt-4o", attributes={"gen_ai.operation.name": "chat"}) as s:
            s.set_attributes(
                {
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.model": "gpt-4o",
                    "gen_ai.usage.input_tokens": 10_000,
                    "gen_ai.usage.output_tokens": 1000,
                }
            )
            other_duration.record(0.5, {"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o"})
        agentel.set_token_usage(input=10, output=2)

    @agentel.trace(name="bot", span_type=agentel.SpanType.AGENT)
    def bot() -> None:
        wrapped_call()
        chat("plain")  # an agentel model call with no instrumentation below it: recorded by agentel

    bot()
    plain_cost = spans.find("chat").attributes["agentel.cost.total_usd"]
    data = reader.get_metrics_data()
    per_scope: dict[str, int] = {}
    for rm in data.resource_metrics:
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                if metric.name == "gen_ai.client.operation.duration":
                    per_scope[sm.scope.name] = sum(p.count for p in metric.data.data_points)
    assert per_scope == {"opentelemetry.instrumentation.openai_v2": 1, "agentel": 1}
    metrics.collect()
    [(attributes, _)] = metrics.points("gen_ai.client.operation.duration")
    assert attributes["gen_ai.response.model"] == "gpt-4o-2024-08-06"  # the plain call only
    inference = metrics.point("gen_ai.invoke_agent.inference_calls")
    assert inference.sum == 2  # the wrapped call counts once, not twice
    # the other instrumentation records no cost: agentel counts the wrapped call's cost once, from its span
    wrapped_cost = 10_000 * 2.5e-6 + 1000 * 10e-6
    costs = {a.get("gen_ai.response.model"): p.value for a, p in metrics.points("agentel.gen_ai.client.cost")}
    assert costs == {None: pytest.approx(wrapped_cost), "gpt-4o-2024-08-06": pytest.approx(plain_cost)}


def test_metrics_off_records_nothing(recorded: tuple[Metrics, SpanCapture]) -> None:
    metrics, _ = recorded
    agentel.configure(metrics=False)
    try:
        METRICS.use_meter_provider(METRICS.instruments().provider)  # type: ignore[union-attr]
        agent("hi")
    finally:
        agentel.configure(metrics=True)
    metrics.collect()
    assert metrics.names() == set()


def test_attributes_stay_bounded(recorded: tuple[Metrics, SpanCapture]) -> None:
    """Inputs, outputs, ids and messages never become metric attributes."""
    metrics, _ = recorded
    for question in ("user question one", "another user question"):
        agent(question)
    metrics.collect()
    allowed = {
        "gen_ai.operation.name",
        "gen_ai.provider.name",
        "gen_ai.request.model",
        "gen_ai.response.model",
        "gen_ai.token.type",
        "gen_ai.agent.name",
        "gen_ai.tool.name",
        "error.type",
    }
    for name in metrics.names():
        points = metrics.points(name)
        for attributes, _ in points:
            assert set(attributes) <= allowed, (name, attributes)
            assert not any("question" in str(v) for v in attributes.values())
    assert len(metrics.points("gen_ai.invoke_agent.duration")) == 1  # two runs, one series


def test_tool_calls_from_many_threads_are_all_counted(recorded: tuple[Metrics, SpanCapture]) -> None:
    metrics, _ = recorded

    @agentel.trace(name="fan-out", span_type=agentel.SpanType.AGENT)
    def fan_out() -> None:
        with agentel.ContextThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(search, [f"q{i}" for i in range(200)]))

    fan_out()
    metrics.collect()
    assert metrics.point("gen_ai.invoke_agent.tool_calls").sum == 200
    assert metrics.point("gen_ai.execute_tool.duration", **{"gen_ai.agent.name": "fan-out"}).count == 200


def test_cost_of_another_instrumentations_model_call_in_an_agent_run_is_counted_once(
    recorded: tuple[Metrics, SpanCapture],
) -> None:
    """openai-v2 (say) called directly from an agent, no agentel model span around it: its call counts
    in the run's inference calls and its cost in the counter; agentel records no client metrics."""
    metrics, spans = recorded
    other = trace.get_tracer("opentelemetry.instrumentation.openai_v2")

    @agentel.trace(name="direct", span_type=agentel.SpanType.AGENT)
    def direct() -> None:
        with other.start_as_current_span("chat gpt-4o", attributes={"gen_ai.operation.name": "chat"}) as span:
            span.set_attributes(
                {
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.model": "gpt-4o",
                    "gen_ai.usage.input_tokens": 4000,
                    "gen_ai.usage.output_tokens": 100,
                }
            )

    direct()
    metrics.collect()
    assert metrics.points("gen_ai.client.operation.duration") == []
    assert metrics.point("gen_ai.invoke_agent.inference_calls").sum == 1
    expected = 4000 * 2.5e-6 + 100 * 10e-6
    assert metrics.point("agentel.gen_ai.client.cost").value == pytest.approx(expected)
    assert spans.find("direct").attributes["agentel.trace.cost.total_usd"] == pytest.approx(expected)
