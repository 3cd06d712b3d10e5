"""agentel doctor and send-test against a real Phoenix, configured only by environment variables."""

from __future__ import annotations

import os
import subprocess
import sys

from _receivers import Phoenix


def _agentel(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agentel", *args],
        capture_output=True,
        text=True,
        timeout=90,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env},
    )


def test_doctor_and_send_test_over_grpc_and_http(phoenix: Phoenix, phoenix_project: str) -> None:
    for protocol, endpoint in (("grpc", phoenix.grpc_endpoint), ("http/protobuf", phoenix.http_url)):
        env = {
            "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
            "OTEL_EXPORTER_OTLP_PROTOCOL": protocol,
            "OTEL_RESOURCE_ATTRIBUTES": f"openinference.project.name={phoenix_project}",
        }
        doctor = _agentel("doctor", env=env)
        assert doctor.returncode == 0, doctor.stdout + doctor.stderr
        assert "connection check:  OK" in doctor.stdout
        sent = _agentel("send-test", env=env)
        assert sent.returncode == 0, sent.stdout + sent.stderr
        trace_id = sent.stdout.split("trace id: ")[1].split()[0]
        spans = phoenix.spans(phoenix_project, trace_id, expect=3)
        names = {span["name"]: span for span in spans}
        assert set(names) == {"agentel send-test", "test llm call", "test tool call"}
        root_id = names["agentel send-test"]["context"]["span_id"]
        assert names["test llm call"]["parent_id"] == root_id
        assert names["test llm call"]["span_kind"] == "LLM"
        assert names["test tool call"]["span_kind"] == "TOOL"
