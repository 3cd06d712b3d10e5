"""``agentel.instrument()`` / ``AGENTEL_INSTRUMENT`` with the real instrumentors installed by the dev extra.

Instrumentors are process-wide singletons: the ``restore_instrumentation`` fixture uninstruments what a
test enabled and restores the environment variables ``instrument()`` may set. HTTP calls go to servers
started on 127.0.0.1 by the test (a stdlib server, and the OpenAI-compatible one of tests/e2e).
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import agentel
from agentel._runtime import instrument as _instrument
from agentel._runtime.instrument import SUPPORTED, Instrumentation
from agentel.testing import SpanCapture

sys.path.insert(0, str(Path(__file__).parent / "e2e"))
from _fake_openai import FakeOpenAI, completion_tokens, prompt_tokens  # noqa: E402

_CONTENT_VARIABLES = (
    "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT",
    "ANTHROPIC_OPEN_TELEMETRY_TRACES_CONTENT_MODE",
) + tuple(
    f"OPENINFERENCE_HIDE_{suffix}" for suffix in ("INPUTS", "OUTPUTS", "INPUT_MESSAGES", "OUTPUT_MESSAGES")
)


def _instrumentors() -> list[Any]:
    found = []
    for spec in SUPPORTED.values():
        for target in spec.instrumentors:
            module_name, _, class_name = target.partition(":")
            try:
                found.append(getattr(importlib.import_module(module_name), class_name)())
            except Exception:  # noqa: BLE001 - not importable here: nothing to restore
                continue
    return found


@pytest.fixture(autouse=True)
def restore_instrumentation(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Uninstrument what the test instrumented; restore the variables instrument() may set."""
    for name in _CONTENT_VARIABLES + ("AGENTEL_CAPTURE_CONTENT", "ANTHROPIC_OPEN_TELEMETRY"):
        monkeypatch.delenv(name, raising=False)
    before = {id(i): i.is_instrumented_by_opentelemetry for i in _instrumentors()}
    saved = {name: os.environ.get(name) for name in _CONTENT_VARIABLES}
    yield
    for instrumentor in _instrumentors():
        if instrumentor.is_instrumented_by_opentelemetry and not before.get(id(instrumentor), False):
            instrumentor.uninstrument()
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


class _Hello(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def do_GET(self) -> None:  # noqa: N802
        self.server.traceparents.append(self.headers.get("traceparent"))  # type: ignore[attr-defined]
        body = b"hello"
        self.send_response(200)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def http_server() -> Iterator[Any]:
    """A stdlib HTTP server on 127.0.0.1 recording the traceparent of each request."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    server.traceparents = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_address[1]}/"  # type: ignore[attr-defined]
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


# -- names and errors -----------------------------------------------------------------------------


def test_unknown_name_raises_a_value_error_listing_the_supported_ones() -> None:
    with pytest.raises(ValueError) as caught:
        agentel.instrument("openai", "lamgchain")
    assert isinstance(caught.value, agentel.ConfigurationError)
    message = str(caught.value)
    assert "'lamgchain'" in message
    for name in ("openai", "anthropic", "langchain", "openai_agents", "httpx", "requests"):
        assert name in message
    openai_v2 = importlib.import_module("opentelemetry.instrumentation.openai_v2")
    assert not openai_v2.OpenAIInstrumentor().is_instrumented_by_opentelemetry, "nothing enabled on an error"


def test_a_name_that_is_not_a_string_is_a_configuration_error() -> None:
    with pytest.raises(agentel.ConfigurationError, match="strings"):
        agentel.instrument(["openai"])  # type: ignore[arg-type]


def test_a_supported_instrumentation_that_is_not_installed_raises_with_the_pip_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    missing = Instrumentation("openai", "no-such-instrumentor-package", ("no_such_module:X",), "openai", None)
    monkeypatch.setitem(SUPPORTED, "openai", missing)
    with pytest.raises(agentel.InstrumentationNotInstalledError) as caught:
        agentel.instrument("openai")
    error = caught.value
    assert isinstance(error, ImportError) and isinstance(error, agentel.AgentelError)
    assert error.pip_install == "pip install 'agentel[openai]'"
    assert error.instrumentation == "openai"
    assert "no-such-instrumentor-package is not installed" in str(error)
    assert "pip install 'agentel[openai]'" in str(error)


def test_an_instrumented_library_that_is_missing_raises_with_the_pip_line(monkeypatch: pytest.MonkeyPatch) -> None:
    from importlib.metadata import PackageNotFoundError

    import opentelemetry.instrumentation.dependencies as dependencies

    real_version = dependencies.version

    def version(name: str) -> str:
        if name == "requests":
            raise PackageNotFoundError(name)
        return real_version(name)

    monkeypatch.setattr(dependencies, "version", version)
    with pytest.raises(agentel.InstrumentationNotInstalledError, match=r"requests.*pip install 'agentel\[requests\]'"):
        agentel.instrument("requests")
    assert agentel.instrument() == [name for name in SUPPORTED if name != "requests"]  # skipped, no error


def test_an_instrumentor_that_fails_to_import_names_the_cause(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "opentelemetry.instrumentation.openai_v2", None)
    with pytest.raises(agentel.InstrumentationNotInstalledError) as caught:
        agentel.instrument("openai")
    assert "importing opentelemetry.instrumentation.openai_v2 failed" in str(caught.value)
    assert caught.value.pip_install == "pip install 'agentel[openai]'"


def test_no_names_enables_every_supported_installed_one_and_twice_is_harmless(
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert agentel.instrument() == list(SUPPORTED)  # the dev extra installs all of them
    with caplog.at_level(logging.WARNING):
        assert agentel.instrument() == list(SUPPORTED)
        assert agentel.instrument("requests", "requests", "HTTPX") == ["requests", "httpx"]
    assert not [r for r in caplog.records if "already instrumented" in r.getMessage()]


# -- where the spans go ---------------------------------------------------------------------------


def test_spans_go_to_agentels_provider_and_nest_under_agentel_spans(fresh_runtime: None, http_server: Any) -> None:
    exporter = InMemorySpanExporter()
    agentel.configure(exporters=[exporter], console=False, set_global=False)
    assert agentel.instrument("requests") == ["requests"]
    assert agentel.instrument("requests") == ["requests"]  # twice: still one span per request

    @agentel.trace(name="fetch", span_type=agentel.SpanType.TOOL)
    def fetch() -> str:
        return requests.get(http_server.url, timeout=5).text

    assert fetch() == "hello"
    assert agentel.force_flush(5000)
    finished = exporter.get_finished_spans()
    assert sorted(s.name for s in finished) == ["GET", "fetch"], "one requests span, exported by agentel's exporter"
    spans = {span.name: span for span in finished}
    assert spans["GET"].parent is not None and spans["GET"].parent.span_id == spans["fetch"].context.span_id
    assert spans["GET"].context.trace_id == spans["fetch"].context.trace_id
    sent = [header.rsplit("-", 1)[0] for header in http_server.traceparents]
    assert sent == [f"00-{spans['GET'].context.trace_id:032x}-{spans['GET'].context.span_id:016x}"]


def test_spans_follow_agentels_provider_when_it_is_rebuilt(fresh_runtime: None, http_server: Any) -> None:
    first, second = InMemorySpanExporter(), InMemorySpanExporter()
    agentel.configure(exporters=[first], console=False, set_global=False)
    agentel.instrument("requests")
    requests.get(http_server.url, timeout=5)
    agentel.configure(exporters=[second], console=False, set_global=False)  # the first provider is shut down
    requests.get(http_server.url, timeout=5)
    assert agentel.force_flush(5000)
    assert [s.name for s in first.get_finished_spans()] == ["GET"]
    assert [s.name for s in second.get_finished_spans()] == ["GET"]


def test_captured_spans_sees_instrumented_spans_in_consecutive_captures(http_server: Any) -> None:
    agentel.instrument("requests")
    for _ in range(3):
        with agentel.testing.capture_spans() as spans:
            with agentel.start_span("step"):
                requests.get(http_server.url, timeout=5)
        spans.assert_tree("""
            step [UNKNOWN]
              GET [UNKNOWN]
        """)


def test_openai_chat_spans_with_the_real_sdk(captured_spans: SpanCapture, fake_openai: FakeOpenAI) -> None:
    import openai

    assert agentel.instrument("openai", "httpx") == ["openai", "httpx"]
    client = openai.OpenAI(base_url=fake_openai.base_url, api_key="sk-test", max_retries=0)
    messages = [{"role": "user", "content": "Where is my order 42?"}]

    @agentel.trace(name="agent", span_type=agentel.SpanType.AGENT)
    def agent() -> str:
        response = client.chat.completions.create(model="gpt-4o-mini", messages=messages)  # type: ignore[arg-type]
        return response.choices[0].message.content or ""

    agent()
    captured_spans.assert_tree("""
        agent [AGENT]
          chat gpt-4o-mini [UNKNOWN]
            POST [UNKNOWN]
    """)
    chat = captured_spans.find("chat gpt-4o-mini")
    assert chat.attributes["gen_ai.request.model"] == "gpt-4o-mini"
    assert chat.attributes["gen_ai.usage.input_tokens"] == prompt_tokens(messages)
    assert chat.attributes["gen_ai.usage.output_tokens"] == completion_tokens()
    # AGENTEL_CAPTURE_CONTENT is on (default): openai-v2 was told to record the messages on the span
    assert os.environ["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"] == "span_only"
    assert "Where is my order 42?" in str(chat.attributes.get("gen_ai.input.messages"))


def _anthropic_agent(server: FakeOpenAI) -> Any:
    import anthropic

    client = anthropic.Anthropic(base_url=server.base_url[: -len("/v1")], api_key="sk-ant-test", max_retries=0)

    @agentel.trace(name="agent", span_type=agentel.SpanType.AGENT)
    def agent() -> Any:
        return client.messages.create(
            model="claude-sonnet-4-5", max_tokens=64, messages=[{"role": "user", "content": "Where is order 42?"}]
        )

    return agent


def test_anthropic_sdk_that_traces_itself_is_not_instrumented_twice(
    captured_spans: SpanCapture, fake_openai: FakeOpenAI
) -> None:
    from openinference.instrumentation.anthropic import AnthropicInstrumentor

    assert agentel.instrument("anthropic") == ["anthropic"]
    assert not AnthropicInstrumentor().is_instrumented_by_opentelemetry, "the SDK's own spans suffice"
    assert os.environ["ANTHROPIC_OPEN_TELEMETRY_TRACES_CONTENT_MODE"] == "content"  # AGENTEL_CAPTURE_CONTENT on
    _anthropic_agent(fake_openai)()
    captured_spans.assert_tree("""
        agent
          anthropic.messages.create
    """)
    call = captured_spans.find("anthropic.messages.create")
    assert call.attributes["gen_ai.usage.input_tokens"] == prompt_tokens([{"content": "Where is order 42?"}])
    root = captured_spans.find("agent").attributes
    assert root["agentel.trace.usage.total_tokens"] == prompt_tokens([{"content": "Where is order 42?"}]) + 5


def test_anthropic_with_its_own_spans_off_gets_the_openinference_instrumentor(
    monkeypatch: pytest.MonkeyPatch, captured_spans: SpanCapture, fake_openai: FakeOpenAI
) -> None:
    monkeypatch.setenv("ANTHROPIC_OPEN_TELEMETRY", "false")
    assert agentel.instrument("anthropic") == ["anthropic"]
    _anthropic_agent(fake_openai)()
    captured_spans.assert_tree("""
        agent
          messages.create
    """)
    assert captured_spans.find("messages.create").attributes["llm.token_count.completion"] == completion_tokens()


def test_openai_agents_sdk_runs_nest_under_agentel(captured_spans: SpanCapture, fake_openai: FakeOpenAI) -> None:
    import openai
    from agents import Agent, OpenAIChatCompletionsModel, Runner

    assert agentel.instrument("openai_agents") == ["openai_agents"]
    model = OpenAIChatCompletionsModel(
        model="gpt-4o-mini",
        openai_client=openai.AsyncOpenAI(base_url=fake_openai.base_url, api_key="sk-test", max_retries=0),
    )
    with agentel.start_span("outer", span_type=agentel.SpanType.AGENT):
        result = Runner.run_sync(Agent(name="support", instructions="Help.", model=model), "Where is order 42?")
    assert result.final_output == "Your order 42 has shipped."
    assert len(captured_spans.traces()) == 1
    generation = captured_spans.find("generation")
    assert generation.attributes["openinference.span.kind"] == "LLM"
    assert generation.attributes["llm.token_count.completion"] == completion_tokens()
    ancestors, span = [], generation
    while span.parent_id is not None:
        span = next(s for s in captured_spans.spans if s.span_id == span.parent_id)
        ancestors.append(span.name)
    assert ancestors[-1] == "outer" and "support" in ancestors, ancestors


# -- content capture ------------------------------------------------------------------------------


def test_openai_content_capture_off_leaves_the_instrumentor_default(
    captured_spans: SpanCapture, fake_openai: FakeOpenAI
) -> None:
    import openai

    agentel.configure(capture_content=False)
    try:
        agentel.instrument("openai")
        assert "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT" not in os.environ  # their default: no content
        client = openai.OpenAI(base_url=fake_openai.base_url, api_key="sk-test", max_retries=0)
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "secret question"}])
    finally:
        agentel.configure(capture_content=True)
    chat = captured_spans.find("chat gpt-4o-mini")
    assert "secret question" not in json.dumps({k: str(v) for k, v in chat.attributes.items()})
    assert chat.attributes["gen_ai.usage.output_tokens"] == completion_tokens()


def test_a_users_content_setting_is_kept_and_the_conflict_warned(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "no_content")
    monkeypatch.setenv("OPENINFERENCE_HIDE_INPUTS", "true")
    with caplog.at_level(logging.WARNING, logger="agentel"):
        assert agentel.instrument("openai", "langchain") == ["openai", "langchain"]
    assert os.environ["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"] == "no_content"
    assert os.environ["OPENINFERENCE_HIDE_INPUTS"] == "true"
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=no_content" in w and "openai" in w for w in warnings)
    assert any("OPENINFERENCE_HIDE_INPUTS=true" in w and "langchain" in w for w in warnings)


def test_openinference_content_capture_follows_agentel(captured_spans: SpanCapture) -> None:
    from langchain_core.runnables import RunnableLambda

    agentel.configure(capture_content=False)
    try:
        agentel.instrument("langchain")
        RunnableLambda(lambda text: text.upper()).invoke("private words")
    finally:
        agentel.configure(capture_content=True)
    attributes = json.dumps({k: str(v) for k, v in captured_spans.spans[0].attributes.items()})
    assert captured_spans.spans[0].attributes["openinference.span.kind"] == "CHAIN"
    assert "private words" not in attributes and "PRIVATE WORDS" not in attributes


# -- AGENTEL_INSTRUMENT ---------------------------------------------------------------------------


def _run(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("AGENTEL_", "OTEL_"))}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-c", code], env=environment, capture_output=True, text=True, timeout=120, check=False
    )


_REPORT = (
    "import importlib, json, os, agentel\n"
    "from agentel._runtime.instrument import SUPPORTED\n"
    "on = []\n"
    "for name, spec in SUPPORTED.items():\n"
    "    if name == 'anthropic' and os.environ.get('ANTHROPIC_OPEN_TELEMETRY_TRACES_CONTENT_MODE') == 'content':\n"
    "        on.append(name)  # the SDK traces itself: instrument() only set its content mode\n"
    "        continue\n"
    "    module, _, cls = spec.instrumentors[0].partition(':')\n"
    "    try:\n"
    "        if getattr(importlib.import_module(module), cls)().is_instrumented_by_opentelemetry: on.append(name)\n"
    "    except ImportError: pass\n"
    "print(json.dumps(on))\n"
)


def test_the_variable_enables_the_names_and_only_warns_about_bad_ones() -> None:
    code = "import sys; sys.modules['opentelemetry.instrumentation.openai_v2'] = None\n" + _REPORT
    result = _run(code, AGENTEL_INSTRUMENT="requests, bogus ,openai,httpx")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == ["httpx", "requests"]
    assert "AGENTEL_INSTRUMENT names an unknown instrumentation 'bogus'" in result.stderr
    assert "supported: openai, anthropic, langchain, openai_agents, httpx, requests" in result.stderr
    assert "pip install 'agentel[openai]'" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_variable_all_enables_every_installed_one() -> None:
    result = _run(_REPORT, AGENTEL_INSTRUMENT="all")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == list(SUPPORTED)


def test_unset_variable_enables_nothing() -> None:
    result = _run(_REPORT)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []


def test_the_variable_is_documented() -> None:
    from agentel._runtime import env as _env

    assert _env.AGENTEL_INSTRUMENT in _env.ALL
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    assert "| `AGENTEL_INSTRUMENT` |" in readme


def test_instrument_does_not_choose_a_provider_by_itself(fresh_runtime: None) -> None:
    """Enabling happens at import with AGENTEL_INSTRUMENT: agentel's provider is still chosen lazily."""
    from agentel._runtime.provider import RUNTIME

    agentel.instrument("requests")
    assert RUNTIME.active_provider() is None
    assert isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)


def test_registry_entries_are_consistent() -> None:
    for name, spec in SUPPORTED.items():
        assert spec.name == name and spec.instrumentors
        assert _instrument._installed(spec.distribution), f"the dev extra should install {spec.distribution}"
