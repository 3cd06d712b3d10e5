"""The agentel command: doctor (configuration, masking, reachability verdict) and send-test."""

from __future__ import annotations

import http.server
import os
import subprocess
import sys
import threading
from typing import Iterator

import pytest


def _agentel(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "OTEL_EXPORTER_OTLP_TIMEOUT": "500"}
    base.update(env)
    return subprocess.run(
        [sys.executable, "-m", "agentel", *args], capture_output=True, text=True, timeout=60, env=base
    )


class _Handler(http.server.BaseHTTPRequestHandler):
    status = 200

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length", 0))
        self.rfile.read(length)
        allowed = self.headers.get("x-api-key") == "right-key"
        self.send_response(200 if allowed else 401)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def http_receiver() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_doctor_without_collector_explains_the_default() -> None:
    result = _agentel("doctor")
    assert result.returncode == 0, result.stderr
    assert "printed to stderr as a tree" in result.stdout
    assert "OTEL_EXPORTER_OTLP_ENDPOINT" in result.stdout


def test_doctor_fails_with_nonzero_exit_when_endpoint_unreachable_and_masks_headers() -> None:
    port = _closed_port()
    result = _agentel(
        "doctor",
        OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{port}",
        OTEL_EXPORTER_OTLP_HEADERS="authorization=Bearer%20sk-supersecret",
    )
    assert result.returncode == 1
    assert f"127.0.0.1:{port}" in result.stdout and "FAILED" in result.stdout
    assert "authorization=****" in result.stdout
    assert "supersecret" not in result.stdout + result.stderr


def test_doctor_checks_http_credentials(http_receiver: str) -> None:
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": http_receiver, "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"}
    wrong = _agentel("doctor", OTEL_EXPORTER_OTLP_HEADERS="x-api-key=wrong-key", **env)
    assert wrong.returncode == 1 and "refused the credentials (HTTP 401)" in wrong.stdout
    right = _agentel("doctor", OTEL_EXPORTER_OTLP_HEADERS="x-api-key=right-key", **env)
    assert right.returncode == 0, right.stdout
    assert f"{http_receiver}/v1/traces (http/protobuf" in right.stdout
    assert "right-key" not in right.stdout


def test_send_test_reports_failure_when_nothing_receives() -> None:
    result = _agentel("send-test", OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{_closed_port()}")
    assert result.returncode == 1
    assert "trace id: " in result.stdout and "FAILED" in result.stdout


def test_send_test_succeeds_against_an_http_receiver(http_receiver: str) -> None:
    result = _agentel(
        "send-test",
        OTEL_EXPORTER_OTLP_ENDPOINT=http_receiver,
        OTEL_EXPORTER_OTLP_PROTOCOL="http/protobuf",
        OTEL_EXPORTER_OTLP_HEADERS="x-api-key=right-key",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    trace_id = result.stdout.split("trace id: ")[1].split()[0]
    assert len(trace_id) == 32


def test_version_and_python_dash_m() -> None:
    result = _agentel("version")
    assert result.returncode == 0 and result.stdout.strip() == __import__("agentel").__version__
