"""Configuration by environment: malformed OTEL_*/AGENTEL_* values warn once, fall back, tracing goes on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = """
import json, sys, agentel
@agentel.trace(span_type=agentel.SpanType.TOOL)
def tool(x):
    return x * 2
assert tool(21) == 42
agentel.force_flush(2000)
print(json.dumps(agentel.stats()))
"""

MALFORMED = {
    "OTEL_BSP_SCHEDULE_DELAY": "soon",
    "OTEL_BSP_EXPORT_TIMEOUT": "-3",
    "OTEL_BSP_MAX_QUEUE_SIZE": "abc",
    "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "0",
    "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT": "long",
    # the span limits: the SDK raises for these only when a SpanLimits is built (agentel passes checked
    # values); OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT=-1 breaks the SDK's import itself, so tracing is off then
    # (tests/hostile/test_sdk_unavailable.py)
    "OTEL_SPAN_LINK_COUNT_LIMIT": "-1",
    "OTEL_SPAN_EVENT_COUNT_LIMIT": "x",
    "OTEL_ATTRIBUTE_COUNT_LIMIT": "-5",
    "OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT": "1.5",
    "OTEL_LINK_ATTRIBUTE_COUNT_LIMIT": "many",
    "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT": "-2",
    "OTEL_TRACES_SAMPLER": "sometimes",
    "OTEL_EXPORTER_OTLP_PROTOCOL": "carrier-pigeon",
    "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/json5",
    "OTEL_EXPORTER_OTLP_TIMEOUT": "forever",
    "OTEL_EXPORTER_OTLP_COMPRESSION": "zip",
    "OTEL_EXPORTER_OTLP_HEADERS": "garbage",
    "OTEL_EXPORTER_OTLP_ENDPOINT": "not a url",
    "OTEL_EXPORTER_OTLP_INSECURE": "maybe",
    "OTEL_EXPORTER_OTLP_CERTIFICATE": "/nonexistent/ca.pem",
    "OTEL_EXPORTER_OTLP_CLIENT_KEY": "/nonexistent/key.pem",
    "OTEL_RESOURCE_ATTRIBUTES": "garbage",
    "OTEL_PROPAGATORS": "tracecontext,bogus",
    "OTEL_TRACES_EXPORTER": "none,bogus",
    "OTEL_SDK_DISABLED": "perhaps",
    "AGENTEL_ENABLED": "perhaps",
    "AGENTEL_CAPTURE_CONTENT": "sometimes",
    "AGENTEL_MAX_PAYLOAD_BYTES": "huge",
    "AGENTEL_TRACE_TTL_SECONDS": "-1",
    "AGENTEL_MAX_OPEN_TRACES": "0",
    "AGENTEL_SEMCONV": "klingon",
    "AGENTEL_CONSOLE": "loud",
    "AGENTEL_MAX_GENERATOR_ITEMS": "many",
    "AGENTEL_METRICS": "sometimes",
    "AGENTEL_PRICES_FILE": "/nonexistent/prices.json",
    "OTEL_METRICS_EXPORTER": "bogus",
}


def _run(env: dict[str, str], tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], list[dict[str, object]]]:
    spans_file = tmp_path / "spans.jsonl"
    base = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "OTEL_TRACES_EXPORTER": "none",
        "AGENTEL_TRACES_FILE": str(spans_file),
        "OTEL_EXPORTER_OTLP_TIMEOUT": "200",
    }
    base.update(env)
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60, env=base)
    spans: list[dict[str, object]] = []
    if spans_file.exists():
        for line in spans_file.read_text().splitlines():
            for resource in json.loads(line)["resourceSpans"]:
                for scope in resource["scopeSpans"]:
                    spans.extend(scope["spans"])
    return result, spans


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_variable_warns_once_names_it_and_tracing_still_works(name: str, tmp_path: Path) -> None:
    value = MALFORMED[name]
    result, spans = _run({name: value}, tmp_path)
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if name in line and "ignoring" in line]
    assert len(warnings) == 1, result.stderr
    if name.endswith("HEADERS"):  # may hold credentials: never echoed
        assert value not in result.stderr and "not shown" in warnings[0]
    else:
        assert repr(value) in warnings[0]
    assert "default" in warnings[0]
    assert "Traceback" not in result.stderr
    stats = json.loads(result.stdout.strip().splitlines()[-1])
    assert stats["internal_errors"] == 0
    assert [span["name"] for span in spans] == ["tool"], result.stderr


def test_otlp_timeout_is_read_in_milliseconds_as_the_specification_says(monkeypatch: pytest.MonkeyPatch) -> None:
    from agentel._runtime.exporters import load_exporter as _load_exporter

    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "2500")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "1500")  # signal-specific wins
    exporter = _load_exporter("otlp_proto_grpc")
    assert exporter is not None
    assert exporter._timeout == pytest.approx(1.5)  # type: ignore[attr-defined]
    exporter.shutdown()


def test_sampled_out_traces_serialize_nothing(tmp_path: Path) -> None:
    script = """
import agentel
calls = []
class Spy:
    def to_dict(self):
        calls.append(1)
        return {}
@agentel.trace
def f(x):
    return Spy()
for _ in range(100):
    f(Spy())
print(len(calls), agentel.stats()["spans_started"])
"""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "OTEL_TRACES_EXPORTER": "none",
        "OTEL_TRACES_SAMPLER": "traceidratio",
        "OTEL_TRACES_SAMPLER_ARG": "0",
    }
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["0", "0"]  # no serialization; sampled-out spans never reach processors
