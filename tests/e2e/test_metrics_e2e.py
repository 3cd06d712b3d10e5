"""agentel's GenAI metrics in real backends: Prometheus scraping the OTel Prometheus exporter
(``OTEL_METRICS_EXPORTER=prometheus``), and OTLP pushed through a real Rotel collector."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import genai_prices
import pytest
from _agent import clean_env, otlp_exporter
from _receivers import HOST, Phoenix, Prometheus, ReceiverError, Rotel, free_port

import agentel

_AGENT = Path(__file__).parent / "_metrics_agent.py"


def _expected_cost() -> float:
    """The run's cost according to genai-prices itself: two gpt-4o calls, the second with 200 cached."""
    total = 0.0
    for cached in (0, 200):
        usage = genai_prices.Usage(input_tokens=1000, output_tokens=500, cache_read_tokens=cached)
        total += float(genai_prices.calc_price(usage, "gpt-4o", provider_id="openai").total_price)
    return total


@pytest.fixture
def agent_serving_metrics() -> Iterator[tuple[int, str]]:
    """The known agent run in a subprocess that keeps serving /metrics (OTel Prometheus exporter,
    configured by the environment only) until the test is done: (port, trace id)."""
    port = free_port()
    env = clean_env(
        {
            "OTEL_METRICS_EXPORTER": "prometheus",
            "OTEL_EXPORTER_PROMETHEUS_HOST": HOST,
            "OTEL_EXPORTER_PROMETHEUS_PORT": str(port),
            "OTEL_TRACES_EXPORTER": "none",
            "OTEL_SERVICE_NAME": "metrics-e2e",
        }
    )
    proc = subprocess.Popen(
        [sys.executable, str(_AGENT), "--wait"],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line:
            raise AssertionError(f"the agent exited early: {proc.stderr.read() if proc.stderr else ''}")
        yield port, json.loads(line)["trace_id"]
    finally:
        if proc.stdin is not None:
            proc.stdin.write("done\n")
            proc.stdin.close()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _value(result: list[dict[str, object]]) -> float:
    assert len(result) == 1, result
    return float(result[0]["value"][1])  # type: ignore[index]


def test_prometheus_scrapes_token_sums_tool_counts_and_cost(agent_serving_metrics: tuple[int, str]) -> None:
    port, _ = agent_serving_metrics
    prometheus = Prometheus(targets=[f"{HOST}:{port}"])
    try:
        prometheus.start()
    except ReceiverError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        by_type = prometheus.wait_for(
            'sum by (gen_ai_token_type) (gen_ai_client_token_usage_sum{gen_ai_request_model="gpt-4o",'
            'gen_ai_provider_name="openai",job="agentel"})'
        )
        tokens = {r["metric"]["gen_ai_token_type"]: float(r["value"][1]) for r in by_type}
        assert tokens == {"input": 2000.0, "output": 1000.0}
        assert _value(prometheus.query('sum(gen_ai_client_token_usage_count{gen_ai_token_type="input"})')) == 2
        assert _value(prometheus.query('gen_ai_execute_tool_duration_seconds_count{gen_ai_tool_name="search"}')) == 3
        failed = prometheus.query('gen_ai_execute_tool_duration_seconds_count{gen_ai_tool_name="lookup"}')
        assert failed[0]["metric"]["error_type"] == "KeyError" and _value(failed) == 1
        assert _value(prometheus.query("gen_ai_invoke_agent_tool_calls_sum")) == 4
        assert _value(prometheus.query("gen_ai_invoke_agent_inference_calls_sum")) == 2
        agent = prometheus.query('gen_ai_invoke_agent_duration_seconds_count{gen_ai_agent_name="support-bot"}')
        assert _value(agent) == 1
        cost = _value(prometheus.query('sum(agentel_gen_ai_client_cost_USD_total{gen_ai_request_model="gpt-4o"})'))
        assert cost == pytest.approx(_expected_cost(), rel=1e-9)
        # the README's example queries answer on real data (rate() needs two scrapes)
        per_model = prometheus.wait_for(
            "sum by (gen_ai_request_model, gen_ai_token_type) (rate(gen_ai_client_token_usage_sum[5m]))"
        )
        assert {r["metric"]["gen_ai_token_type"] for r in per_model} == {"input", "output"}
        p95 = prometheus.wait_for(
            "histogram_quantile(0.95, sum by (le, gen_ai_tool_name) "
            "(rate(gen_ai_execute_tool_duration_seconds_bucket[5m])))"
        )
        assert {r["metric"]["gen_ai_tool_name"] for r in p95} == {"search", "lookup"}
    finally:
        prometheus.stop()


@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
def test_otlp_metrics_leave_the_process_through_rotel(protocol: str) -> None:
    """The push path: agentel's own MeterProvider (OTEL_METRICS_EXPORTER=otlp, signal-specific
    endpoint) pushes to a real collector, which logs every metric it received, with exemplars."""
    rotel = Rotel(exporter="blackhole", extra_args=["--debug-log", "metrics", "--debug-log-verbosity", "detailed"])
    try:
        rotel.start()
    except ReceiverError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        endpoint = rotel.grpc_endpoint if protocol == "grpc" else f"{rotel.http_endpoint}/v1/metrics"
        env = clean_env(
            {
                "OTEL_METRICS_EXPORTER": "otlp",
                "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": endpoint,
                "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL": protocol,
                "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9",  # the generic one must not be used
                "OTEL_TRACES_EXPORTER": "none",
                "OTEL_METRIC_EXPORT_INTERVAL": "60000",  # the push at exit is what must arrive
            }
        )
        done = subprocess.run(
            [sys.executable, str(_AGENT)], env=env, capture_output=True, text=True, timeout=60, check=False
        )
        assert done.returncode == 0, done.stderr
        assert done.stderr == "", done.stderr  # nothing printed per metric, no export error
        trace_id = json.loads(done.stdout.strip().splitlines()[-1])["trace_id"]
        deadline = time.monotonic() + 20
        log = ""
        while time.monotonic() < deadline:
            log = rotel.log_path.read_text(errors="replace")
            if "gen_ai.invoke_agent.duration" in log and "agentel.gen_ai.client.cost" in log:
                break
            time.sleep(0.2)
        for name in (
            "gen_ai.client.token.usage",
            "gen_ai.client.operation.duration",
            "gen_ai.execute_tool.duration",
            "gen_ai.invoke_agent.duration",
            "gen_ai.invoke_agent.inference_calls",
            "gen_ai.invoke_agent.tool_calls",
            "agentel.gen_ai.client.cost",
        ):
            assert f"Name: {name}" in log, f"{name} not received by Rotel:\n{rotel.log_tail(60)}"
        assert "InstrumentationScope agentel" in log
        assert f"Trace ID: {trace_id}" in log  # exemplars link the measurements to the trace
    finally:
        rotel.stop()


def test_cost_attributes_reach_phoenix(
    phoenix: Phoenix, phoenix_project: str, export_agentel: Callable[..., None]
) -> None:
    """The per-call cost (``llm.cost.*``, which Phoenix reads) and the trace total on the root, as
    Phoenix's REST API returns them."""
    export_agentel(otlp_exporter("grpc", phoenix.grpc_endpoint), project=phoenix_project)
    sys.path.insert(0, str(_AGENT.parent))
    import _metrics_agent

    _metrics_agent.support_bot("where is my order?")
    trace_id = agentel.get_last_trace_id()
    assert trace_id is not None
    assert agentel.force_flush(10_000)
    spans = {s["name"]: s for s in phoenix.spans(phoenix_project, trace_id, expect=7)}
    calls = [s for s in phoenix.spans(phoenix_project, trace_id, expect=7) if s["name"] == "chat"]
    assert len(calls) == 2
    per_call = sorted(float(s["attributes"]["llm.cost.total"]) for s in calls)
    assert sum(per_call) == pytest.approx(_expected_cost())
    assert per_call[0] < per_call[1]  # the call with cached input tokens is cheaper
    for call in calls:
        attributes = call["attributes"]
        assert float(attributes["llm.cost.prompt"]) + float(attributes["llm.cost.completion"]) == pytest.approx(
            float(attributes["llm.cost.total"])
        )
    root = spans["support-bot"]["attributes"]
    assert float(root["agentel.trace.cost.total_usd"]) == pytest.approx(_expected_cost())
    assert "llm.cost.total" not in root


class _FakeOpenAI(BaseHTTPRequestHandler):
    """Answers POST /v1/chat/completions like the OpenAI API (non-streamed)."""

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet
        pass

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers.get("content-length", "0"))))
        answer = {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": f"{body['model']}-2024-08-06",
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": "on its way"}, "finish_reason": "stop"}
            ],
            "usage": {"prompt_tokens": 1000, "completion_tokens": 500, "total_tokens": 1500},
        }
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def test_openai_v2_records_the_client_metrics_and_agentel_does_not_record_them_again() -> None:
    """Real openai SDK + real openai-v2 instrumentation inside agentel's CHAT_MODEL spans: each call
    is measured once (by openai-v2), the agent's inference count counts each call once, and the cost
    (which openai-v2 does not record) is counted once per call by agentel."""
    server = ThreadingHTTPServer((HOST, 0), _FakeOpenAI)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        done = subprocess.run(
            [
                sys.executable,
                str(_AGENT.parent / "_openai_metrics_program.py"),
                f"http://{HOST}:{server.server_port}/v1",
            ],
            env=clean_env({"AGENTEL_CONSOLE": "false"}),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        server.shutdown()
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    points = result["points"]
    others = {scope for scope in points if scope != "agentel"}
    assert others, f"openai-v2 recorded no metrics: {sorted(points)}"
    durations = {
        scope: sum(p["count"] for p in metrics.get("gen_ai.client.operation.duration", []))
        for scope, metrics in points.items()
    }
    assert sum(durations.values()) == 2 and durations.get("agentel", 0) == 0, durations  # one per call
    assert "gen_ai.client.token.usage" not in points["agentel"]
    [inference] = points["agentel"]["gen_ai.invoke_agent.inference_calls"]
    assert inference["sum"] == 2
    [cost] = points["agentel"]["agentel.gen_ai.client.cost"]
    one_call = float(
        genai_prices.calc_price(
            genai_prices.Usage(input_tokens=1000, output_tokens=500), "gpt-4o-2024-08-06", provider_id="openai"
        ).total_price
    )
    assert cost["value"] == pytest.approx(2 * one_call)
    root = next(s for s in result["spans"] if s["name"] == "support-bot")
    assert root["attributes"]["agentel.trace.cost.total_usd"] == pytest.approx(2 * one_call)  # each call once
