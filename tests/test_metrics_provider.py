"""Which MeterProvider agentel's metrics go to: each rule in a fresh interpreter."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "e2e"))
from _agent import run_python  # noqa: E402

_AGENT = """
import agentel

@agentel.trace(span_type=agentel.SpanType.TOOL)
def search(q):
    return [q]

@agentel.trace(span_type=agentel.SpanType.CHAT_MODEL)
def chat(q):
    agentel.set_llm(model="gpt-4o", provider="openai")
    agentel.set_token_usage(input=100, output=20)
    return "answer"

@agentel.trace(name="bot", span_type=agentel.SpanType.AGENT)
def bot(q):
    search(q)
    return chat(q)
"""

_APP_METER_PROVIDER = (
    """
import json
from opentelemetry import metrics
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

reader = InMemoryMetricReader()
LATE = __LATE__
if not LATE:
    metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))
"""
    + _AGENT
    + """
if LATE:
    bot("before")  # no meter provider yet, no exporter: recorded nowhere
    metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))
bot("hi")
data = reader.get_metrics_data()
resource_metrics = data.resource_metrics if data else []
names = sorted(
    m.name
    for rm in resource_metrics
    for sm in rm.scope_metrics if sm.scope.name == "agentel"
    for m in sm.metrics
)
counts = {
    m.name: sum(p.count for p in m.data.data_points)
    for rm in resource_metrics
    for sm in rm.scope_metrics if sm.scope.name == "agentel"
    for m in sm.metrics if m.name == "gen_ai.client.operation.duration"
}
print(json.dumps({"names": names, "counts": counts, "destination": agentel.stats()["metrics_destination"]}))
"""
)


def _app(late: bool) -> str:
    return _APP_METER_PROVIDER.replace("__LATE__", repr(late))


@pytest.mark.parametrize("late", [False, True], ids=["installed-before", "installed-after-first-span"])
def test_application_global_meter_provider_is_used(late: bool) -> None:
    out, err = run_python(["-c", _app(late)], {"AGENTEL_CONSOLE": "false"})
    result = json.loads(out.strip().splitlines()[-1])
    assert "gen_ai.client.operation.duration" in result["names"]
    assert "gen_ai.invoke_agent.duration" in result["names"]
    assert "gen_ai.execute_tool.duration" in result["names"]
    assert result["counts"] == {"gen_ai.client.operation.duration": 1}  # only the run after it was installed
    assert "application's global MeterProvider" in result["destination"]
    assert err == ""


def test_agentel_metrics_false_records_nothing_even_on_the_app_provider() -> None:
    out, _ = run_python(["-c", _app(False)], {"AGENTEL_CONSOLE": "false", "AGENTEL_METRICS": "false"})
    assert json.loads(out.strip().splitlines()[-1])["names"] == []


def test_no_exporter_configured_exports_and_prints_nothing() -> None:
    script = (
        _AGENT
        + """
import json
from opentelemetry import metrics
bot("hi")
agentel.force_flush()
print(json.dumps({"destination": agentel.stats()["metrics_destination"],
                  "global": type(metrics.get_meter_provider()).__name__}))
"""
    )
    out, err = run_python(["-c", script], {"AGENTEL_CONSOLE": "false"})
    assert out.strip().count("\n") == 0  # only our own line: nothing printed per metric
    result = json.loads(out)
    assert result["destination"] == "nowhere (no metrics exporter configured)"
    assert result["global"] == "_ProxyMeterProvider"  # agentel installed nothing
    assert err == ""


def test_the_destination_is_decided_by_the_first_span_that_records_a_metric() -> None:
    script = (
        _AGENT
        + """
import json

@agentel.trace(span_type=agentel.SpanType.CHAIN)
def step(q):
    return q

for i in range(3):
    step(i)  # a CHAIN records no metric: the destination is not decided yet
before = agentel.stats()
bot("hi")
print(json.dumps({"before": before["metrics_destination"], "ended_before": before["spans_ended"],
                  "after": agentel.stats()["metrics_destination"]}))
"""
    )
    out, err = run_python(["-c", script], {"AGENTEL_CONSOLE": "false"})
    result = json.loads(out.strip().splitlines()[-1])
    assert result["ended_before"] == 3
    assert result["before"] == "not yet decided (no span that records a metric has ended)"
    assert result["after"] == "nowhere (no metrics exporter configured)"
    assert err == ""


def test_console_exporter_and_global_install_with_set_global() -> None:
    script = (
        _AGENT
        + """
import json, sys
from opentelemetry import metrics
from agentel._export.metrics import METRICS
agentel.configure(set_global=True)
bot("hi")
own = METRICS.instruments().provider
print(json.dumps({"global_is_agentel": metrics.get_meter_provider() is own,
                  "destination": agentel.stats()["metrics_destination"]}), file=sys.stderr)
"""
    )
    out, err = run_python(["-c", script], {"AGENTEL_CONSOLE": "false", "OTEL_METRICS_EXPORTER": "console"})
    result = json.loads(err.strip().splitlines()[-1])
    assert result["global_is_agentel"] is True
    assert "agentel's own MeterProvider (console)" in result["destination"]
    exported = out  # the console exporter prints at exit (agentel shuts its provider down)
    assert "gen_ai.client.token.usage" in exported and "gen_ai.invoke_agent.duration" in exported


def test_without_set_global_agentel_keeps_its_meter_provider_to_itself() -> None:
    script = (
        _AGENT
        + """
import json, sys
from opentelemetry import metrics
bot("hi")
print(json.dumps({"global": type(metrics.get_meter_provider()).__name__}), file=sys.stderr)
"""
    )
    env = {"AGENTEL_CONSOLE": "false", "OTEL_METRICS_EXPORTER": "console", "AGENTEL_SET_GLOBAL_PROVIDER": "false"}
    _, err = run_python(["-c", script], env)
    assert json.loads(err.strip().splitlines()[-1])["global"] == "_ProxyMeterProvider"


def test_signal_specific_otlp_metrics_endpoint_wins_over_the_generic_one() -> None:
    script = """
import json
from agentel._export.metrics import build_meter_provider
from agentel._runtime.provider import RUNTIME
provider = build_meter_provider(RUNTIME.settings)
reader = provider._agentel_readers[0]
exporter = reader._exporter
print(json.dumps({"endpoint": exporter._endpoint, "type": type(exporter).__module__,
                  "interval": reader._export_interval_millis}))
provider.shutdown()
"""
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9",
        "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": "http://127.0.0.1:14318/v1/metrics",
        "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL": "http/protobuf",
        "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT": "2500",
        "OTEL_METRIC_EXPORT_INTERVAL": "1500",
        "OTEL_METRICS_EXPORTER": "otlp",
    }
    out, _ = run_python(["-c", script], env)
    result = json.loads(out.strip().splitlines()[-1])
    assert result["endpoint"] == "http://127.0.0.1:14318/v1/metrics"
    assert "http" in result["type"]
    assert result["interval"] == 1500


def test_otlp_metrics_endpoint_alone_selects_otlp_metrics_when_agentel_owns_the_providers() -> None:
    script = """
import json
from agentel._export.metrics import metrics_exporter_names
print(json.dumps([metrics_exporter_names(), metrics_exporter_names(endpoint_selects_otlp=False)]))
"""
    out, _ = run_python(["-c", script], {"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": "http://127.0.0.1:9"})
    assert json.loads(out.strip().splitlines()[-1]) == [["otlp"], []]
    # the generic endpoint alone (often a traces-only backend such as Phoenix) selects no metrics exporter
    out, _ = run_python(["-c", script], {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9"})
    assert json.loads(out.strip().splitlines()[-1]) == [[], []]
    out, _ = run_python(["-c", script], {"OTEL_METRICS_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://x:1"})
    assert json.loads(out.strip().splitlines()[-1]) == [[], []]


def test_configure_after_metrics_started_keeps_the_prometheus_endpoint_serving() -> None:
    sys.path.insert(0, str(Path(__file__).parent / "e2e"))
    from _receivers import free_port

    port = free_port()
    script = (
        _AGENT
        + f"""
import json, urllib.request
bot("first")
agentel.configure(capture_content=False)  # settings change after metrics were recorded
bot("second")
text = urllib.request.urlopen("http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
line = next(l for l in text.splitlines() if l.startswith("gen_ai_invoke_agent_duration_seconds_count"))
print(json.dumps({{"agent_runs": float(line.rsplit(" ", 1)[1])}}))
"""
    )
    env = {
        "AGENTEL_CONSOLE": "false",
        "OTEL_METRICS_EXPORTER": "prometheus",
        "OTEL_EXPORTER_PROMETHEUS_HOST": "127.0.0.1",
        "OTEL_EXPORTER_PROMETHEUS_PORT": str(port),
    }
    out, err = run_python(["-c", script], env)
    assert json.loads(out.strip().splitlines()[-1]) == {"agent_runs": 2.0}
    assert err == ""


@pytest.mark.parametrize("exemplar_filter", ["trace_based", "always_off"])
def test_exemplar_filter_of_the_environment_applies_to_agentels_own_provider(exemplar_filter: str) -> None:
    script = (
        _AGENT
        + """
import sys
search("q")
print(format(int(agentel.get_last_trace_id(), 16), "d"), file=sys.stderr)
"""
    )
    env = {
        "AGENTEL_CONSOLE": "false",
        "OTEL_METRICS_EXPORTER": "console",
        "OTEL_METRICS_EXEMPLAR_FILTER": exemplar_filter,
    }
    out, err = run_python(["-c", script], env)
    trace_id = int(err.strip().splitlines()[-1])
    exported = json.loads(out)  # the console exporter's push at exit
    [point] = [
        p
        for rm in exported["resource_metrics"]
        for sm in rm["scope_metrics"]
        for m in sm["metrics"]
        if m["name"] == "gen_ai.execute_tool.duration"
        for p in m["data"]["data_points"]
    ]
    trace_ids = [e["trace_id"] for e in point.get("exemplars", [])]
    assert trace_ids == ([trace_id] if exemplar_filter == "trace_based" else [])


def test_while_metrics_go_nowhere_spans_are_not_tracked_until_a_provider_appears() -> None:
    script = (
        _AGENT
        + """
import json
from opentelemetry import metrics
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from agentel._runtime.provider import RUNTIME

recorder = RUNTIME.processor._metrics
tracked = []

@agentel.trace(span_type=agentel.SpanType.AGENT)
def watched(q):
    tracked.append(len(recorder.owner))  # spans of this open run the recorder is tracking
    return bot(q)

watched("first")  # decides: no exporter, no MeterProvider
dormant_after_first = recorder.dormant
watched("second")
reader = InMemoryMetricReader()
metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))
watched("third")  # a new trace: the provider is found at its start
points = sum(
    len(m.data.data_points)
    for rm in reader.get_metrics_data().resource_metrics
    for sm in rm.scope_metrics
    for m in sm.metrics
    if m.name == "gen_ai.client.operation.duration"
)
print(json.dumps({"dormant": dormant_after_first, "tracked": tracked, "points": points,
                  "destination": agentel.stats()["metrics_destination"]}))
"""
    )
    out, err = run_python(["-c", script], {"AGENTEL_CONSOLE": "false"})
    result = json.loads(out.strip().splitlines()[-1])
    assert result["dormant"] is True
    assert result["tracked"] == [1, 0, 1]  # the first run (undecided) and the third are tracked
    assert result["points"] == 1  # the third run's model call, recorded on the application's provider
    assert "application's global MeterProvider" in result["destination"]
    assert err == ""
