"""``import agentel`` never changes ``os.environ``: the app's own OTel setup and its child processes see
exactly what was set, malformed or not (issue 12, items 5 and 18)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _run import run_program

PROGRAM = r"""
import json, os, subprocess, sys
before = dict(os.environ)
import agentel

@agentel.trace
def tool(x):
    return x + 1

assert tool(1) == 2
client = agentel.TraceClient()
root = client.start_trace("run")
client.end_trace(root.request_id)
with agentel.start_span("outer"):
    headers = agentel.inject({})
agentel.force_flush(2000)
after = dict(os.environ)
child = subprocess.run(
    [sys.executable, "-c", "import json, os; print(json.dumps(dict(os.environ)))"],
    capture_output=True, text=True, check=True,
)
from opentelemetry.sdk.resources import Resource  # the application's own OTel setup, after the import
print(json.dumps({
    "changed": {k: [before.get(k), after.get(k)] for k in set(before) | set(after) if before.get(k) != after.get(k)},
    "child": json.loads(child.stdout),
    "resource": {k: str(v) for k, v in Resource.create().attributes.items()},
    "traceparent": "traceparent" in headers,
}))
"""

# shapes that were deleted from os.environ before, accepted by the SDK or not
SHAPES = {
    "resource list with one bad item": {"OTEL_RESOURCE_ATTRIBUTES": "service.namespace=shop,bad,team=core"},
    "grpc unix endpoint": {"OTEL_EXPORTER_OTLP_ENDPOINT": "unix:///tmp/agentel-hostile.sock"},
    "broken IPv6 endpoint": {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://[::1:4317"},
    "propagators with a trailing comma": {"OTEL_PROPAGATORS": "tracecontext,baggage,"},
    "unknown propagator": {"OTEL_PROPAGATORS": "tracecontext,nosuch"},
    "headers with a credential and a bad item": {"OTEL_EXPORTER_OTLP_HEADERS": "api-key=s3cr3t-value,oops"},
    "queue smaller than the default batch": {"OTEL_BSP_MAX_QUEUE_SIZE": "100"},
    "negative link limit": {"OTEL_SPAN_LINK_COUNT_LIMIT": "-1"},
    "unknown sampler": {"OTEL_TRACES_SAMPLER": "sometimes"},
    "timeout in words": {"OTEL_EXPORTER_OTLP_TIMEOUT": "forever"},
    "unknown compression": {"OTEL_EXPORTER_OTLP_COMPRESSION": "zip"},
    "missing CA file": {"OTEL_EXPORTER_OTLP_CERTIFICATE": "/nonexistent/ca.pem"},
    "unknown protocol": {"OTEL_EXPORTER_OTLP_PROTOCOL": "http/json5"},
    "everything at once": {
        "OTEL_PROPAGATORS": ",tracecontext,,",
        "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "9999",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "not a url",
        "OTEL_RESOURCE_ATTRIBUTES": "=,a=1",
        "AGENTEL_MAX_PAYLOAD_BYTES": "huge",
    },
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_import_and_tracing_leave_the_environment_exactly_as_set(shape: str, tmp_path: Path) -> None:
    env = {"OTEL_EXPORTER_OTLP_TIMEOUT": "200", **SHAPES[shape]}
    result = run_program(PROGRAM, env=env, traces_file=tmp_path / "spans.jsonl", timeout=60)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    found = result.last_json_line()
    assert found["changed"] == {}, f"os.environ changed: {found['changed']}"
    for name, value in SHAPES[shape].items():
        assert found["child"].get(name) == value, f"the child process lost {name}"
    assert found["traceparent"], "inject() must work whatever OTEL_PROPAGATORS says"
    assert sorted(result.span_names()) == ["outer", "run", "tool"], result.stderr
    if shape == "resource list with one bad item":
        assert found["resource"].get("service.namespace") == "shop" and found["resource"].get("team") == "core"
    if "api-key" in json.dumps(SHAPES[shape]):
        assert "s3cr3t-value" not in result.stderr  # a header value is never echoed


def test_each_malformed_variable_is_named_once(tmp_path: Path) -> None:
    env = {
        "OTEL_PROPAGATORS": "tracecontext,baggage,",
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://[::1:4317",
        "OTEL_BSP_MAX_QUEUE_SIZE": "100",
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_TIMEOUT": "200",
    }
    result = run_program(PROGRAM, env=env, traces_file=tmp_path / "spans.jsonl", timeout=60)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    for name in ("OTEL_PROPAGATORS", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_BSP_MAX_QUEUE_SIZE"):
        assert len([line for line in lines if name in line and line.startswith("agentel:")]) == 1, result.stderr
    assert sorted(result.span_names()) == ["outer", "run", "tool"]
