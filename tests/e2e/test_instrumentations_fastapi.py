"""A FastAPI app run by uvicorn under the zero-code launcher ``opentelemetry-instrument`` (a subprocess on a
free port of 127.0.0.1, exporting to a real Phoenix over OTLP/gRPC), calling the real ``openai`` SDK
inside agentel agent/tool spans (see _fastapi_app.py).

One HTTP request is one trace — the server span, the agent and tool under it, openai-v2's ``chat`` span
and the httpx client span under the tool — from the first request on, with the trace-level data agentel
owns (session, user, the token total) on the server span, which is the trace's local root.
``agentel.doctor()`` inside the app names the launcher's provider and the service.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from _agent import clean_env
from _fake_openai import FakeOpenAI, completion_tokens, prompt_tokens
from _receivers import Phoenix, free_port
from _span_tree import assert_tree, check_one_trace, named, parent_of

_HERE = Path(__file__).resolve().parent
_LAUNCHER = Path(sys.executable).with_name("opentelemetry-instrument")
QUESTIONS = ["Where is my order 42?", "And my order 43, is it late?"]


class App:
    """The service: its base URL, its log, and the fake OpenAI server it calls."""

    def __init__(self, process: subprocess.Popen[bytes], url: str, log: Path, model: FakeOpenAI) -> None:
        self.process, self.url, self.log, self.model = process, url, log, model

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


@pytest.fixture
def app(phoenix: Phoenix, phoenix_project: str, tmp_path: Path) -> Iterator[App]:
    assert _LAUNCHER.exists(), f"{_LAUNCHER} missing: the dev extra installs opentelemetry-distro"
    port = free_port()
    log = tmp_path / "app.log"
    with FakeOpenAI() as model, log.open("wb") as out:
        env = clean_env(
            {
                "FAKE_OPENAI_BASE_URL": model.base_url,
                "OTEL_SERVICE_NAME": "support-api",
                "OTEL_RESOURCE_ATTRIBUTES": f"openinference.project.name={phoenix_project}",
                "OTEL_TRACES_EXPORTER": "otlp",
                "OTEL_METRICS_EXPORTER": "none",
                "OTEL_LOGS_EXPORTER": "none",
                "OTEL_EXPORTER_OTLP_ENDPOINT": phoenix.grpc_endpoint,
                "OTEL_EXPORTER_OTLP_INSECURE": "true",
                "OTEL_BSP_SCHEDULE_DELAY": "200",
            }
        )
        command = [str(_LAUNCHER), sys.executable, "-m", "uvicorn", "_fastapi_app:app", "--app-dir", str(_HERE),
                   "--host", "127.0.0.1", "--port", str(port), "--no-access-log"]  # fmt: skip
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        service = App(process, f"http://127.0.0.1:{port}", log, model)
        try:
            deadline = time.monotonic() + 60
            while True:
                assert process.poll() is None, f"the app exited {process.returncode}:\n{service.log_tail()}"
                try:
                    if requests.get(f"{service.url}/openapi.json", timeout=1).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                assert time.monotonic() < deadline, f"the app did not start within 60 s:\n{service.log_tail()}"
                time.sleep(0.2)
            yield service
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(5)


def _tokens(question: str) -> dict[str, int]:
    prompt = prompt_tokens([{"role": "user", "content": question}])
    return {"input": prompt, "output": completion_tokens(), "total": prompt + completion_tokens()}


def test_one_request_is_one_trace_from_the_first_request(app: App, phoenix: Phoenix, phoenix_project: str) -> None:
    runs: list[dict[str, Any]] = []
    for number, question in enumerate(QUESTIONS, 1):
        response = requests.post(f"{app.url}/ask", json={"question": question, "session": f"chat-{number}"}, timeout=30)
        assert response.status_code == 200, f"{response.text}\n{app.log_tail()}"
        runs.append(response.json())
    assert len({run["trace_id"] for run in runs}) == 2
    traceparents = [r["headers"].get("traceparent", "") for r in app.model.requests]
    assert [header.split("-")[1] for header in traceparents] == [run["trace_id"] for run in runs]

    for number, (run, question) in enumerate(zip(runs, QUESTIONS), 1):
        spans = check_one_trace(phoenix.spans(phoenix_project, run["trace_id"], expect=7, timeout=30), run["trace_id"])
        server = next(s for s in spans if s["parent_id"] is None)
        assert server["name"] == "POST /ask", f"request {number}: the root is {server['name']}"
        # ASGI's own "http receive" / "http send" spans sit beside the agent under the server span
        asgi = [s for s in spans if s["name"].endswith((" http receive", " http send"))]
        assert_tree(
            [s for s in spans if s not in asgi],
            """
            POST /ask
              support_agent
                lookup_order
                  chat gpt-4o-mini
                    POST
            """,
        )
        assert asgi and {parent_of(spans, s)["name"] for s in asgi} == {"POST /ask"}
        chat = named(spans, "chat gpt-4o-mini")[0]
        tokens = _tokens(question)
        assert chat["attributes"]["gen_ai.usage.input_tokens"] == tokens["input"]
        assert chat["attributes"]["gen_ai.usage.output_tokens"] == tokens["output"]
        post = named(spans, "POST")[0]
        assert post["context"]["span_id"] == traceparents[number - 1].split("-")[2], "httpx span is the parent sent"
        assert server["attributes"]["http.route"] == "/ask" or server["attributes"].get("http.target") == "/ask"
        # trace-level data lands on the service's server span (the local root), first request included
        attributes = server["attributes"]
        assert attributes.get("session.id") == f"chat-{number}", f"request {number}: {attributes}"
        assert attributes.get("user.id") == "user-7", f"request {number}"
        got = {key: attributes.get(f"agentel.trace.usage.{key}_tokens") for key in ("input", "output", "total")}
        assert got == tokens, f"request {number}: trace total on the server span {got} != {tokens}"
        agent = named(spans, "support_agent")[0]
        assert agent["attributes"]["agentel.span.type"] == "AGENT" and agent["span_kind"] == "AGENT"


def test_doctor_inside_the_app_names_the_launchers_provider_and_service(app: App) -> None:
    response = requests.get(f"{app.url}/doctor", timeout=30)
    assert response.status_code == 200, f"{response.text}\n{app.log_tail()}"
    report = response.json()
    text = report["text"]
    assert "support-api" in text, text
    assert "TracerProvider" in text and "application" in text.lower(), text
    assert "BatchSpanProcessor" in text and "OTLPSpanExporter" in text, text
    assert report["ok"] is True, text
