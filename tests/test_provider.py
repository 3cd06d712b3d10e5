"""Provider strategy: the application's global SDK provider is used; otherwise agentel's own."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import agentel
from agentel._runtime.provider import RUNTIME


def _app_provider(service: str) -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


@agentel.trace
def step(x: int) -> int:
    return x


def test_uses_application_provider_installed_before_first_span(fresh_runtime: None) -> None:
    provider, exporter = _app_provider("checkout")
    trace.set_tracer_provider(provider)
    step(1)
    spans = exporter.get_finished_spans()
    assert [s.name for s in spans] == ["step"]
    assert spans[0].resource.attributes["service.name"] == "checkout"
    assert RUNTIME.active_provider() is provider


def test_switches_to_application_provider_installed_after_agentel_started(
    fresh_runtime: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "none")
    monkeypatch.setenv("AGENTEL_SET_GLOBAL_PROVIDER", "false")
    agentel.configure()
    step(1)  # agentel's own provider (not global), nothing exported
    provider, exporter = _app_provider("late")
    trace.set_tracer_provider(provider)
    step(2)
    assert [json.loads(s.attributes["input.value"]) for s in exporter.get_finished_spans()] == [{"x": 2}]


def test_own_provider_reads_service_name_and_resource_from_environment(
    fresh_runtime: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_SERVICE_NAME", "agent-svc")
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=test")
    exporter = InMemorySpanExporter()
    agentel.configure(exporters=[exporter])
    step(1)
    agentel.force_flush()
    span = exporter.get_finished_spans()[0]
    assert span.resource.attributes["service.name"] == "agent-svc"
    assert span.resource.attributes["deployment.environment"] == "test"
    assert trace.get_tracer_provider() is RUNTIME.active_provider()  # installed globally when built


def test_set_global_installs_own_provider_only_when_none_is_set(fresh_runtime: None) -> None:
    agentel.configure(set_global=True, exporters=[InMemorySpanExporter()])
    assert trace.get_tracer_provider() is RUNTIME.active_provider()


def test_set_global_never_replaces_the_application_provider(fresh_runtime: None) -> None:
    provider, exporter = _app_provider("app")
    trace.set_tracer_provider(provider)
    agentel.configure(set_global=True)
    step(3)
    assert trace.get_tracer_provider() is provider
    assert len(exporter.get_finished_spans()) == 1


def test_sdk_disabled_means_no_spans(fresh_runtime: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    agentel.configure()
    provider, exporter = _app_provider("app")
    trace.set_tracer_provider(provider)
    assert step(4) == 4
    assert exporter.get_finished_spans() == ()
    agentel.configure(enabled=True)


def test_default_without_exporter_prints_a_tree_to_stderr(
    fresh_runtime: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)

    @agentel.trace(span_type=agentel.SpanType.AGENT)
    def agent() -> str:
        with pytest.raises(ValueError):
            failing_tool()
        return step(7) and "done"

    @agentel.trace(span_type=agentel.SpanType.TOOL)
    def failing_tool() -> None:
        raise ValueError("tool broke")

    agent()
    err = capsys.readouterr().err
    assert "OTEL_EXPORTER_OTLP_ENDPOINT" in err  # says once how to send to a collector
    assert f"trace {agentel.get_last_trace_id()}" in err
    assert "agent [AGENT]" in err
    assert "failing_tool [TOOL]" in err and "ValueError: tool broke" in err
    assert "step [UNKNOWN]" in err and "\033[" not in err  # no colours off a TTY
    agent()
    assert capsys.readouterr().err.count("OTEL_EXPORTER_OTLP_ENDPOINT") == 0


def test_traces_exporter_none_prints_nothing(
    fresh_runtime: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "none")
    step(1)
    assert capsys.readouterr().err == ""


def test_traces_exporter_console_prints_the_tree(
    fresh_runtime: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "console")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9")
    step(1)
    assert "step [UNKNOWN]" in capsys.readouterr().err


def test_otlp_endpoint_selects_the_otlp_exporter_for_the_protocol(
    fresh_runtime: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OTEL_TRACES_EXPORTER", raising=False)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/protobuf")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "0.2")
    step(1)
    assert "OTLP/HTTP to http://127.0.0.1:9/v1/traces" in RUNTIME.destination
    assert "tree" not in RUNTIME.destination


def test_traces_file_writes_otlp_json_lines(
    fresh_runtime: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "spans.jsonl"
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "none")
    monkeypatch.setenv("AGENTEL_TRACES_FILE", str(path))
    agentel.configure()
    with agentel.start_span("outer", span_type=agentel.SpanType.AGENT) as outer:
        step(1)
    agentel.force_flush()
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    spans = [s for line in lines for rs in line["resourceSpans"] for ss in rs["scopeSpans"] for s in ss["spans"]]
    by_name = {s["name"]: s for s in spans}
    assert by_name["outer"]["traceId"] == outer.trace_id
    assert by_name["step"]["parentSpanId"] == outer.span_id
    assert by_name["outer"]["kind"] == 1  # SPAN_KIND_INTERNAL, as an integer


def test_malformed_agentel_variable_warns_once_and_falls_back(
    fresh_runtime: None, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("AGENTEL_MAX_PAYLOAD_BYTES", "lots")
    monkeypatch.setenv("AGENTEL_ENABLED", "perhaps")
    agentel.configure()
    assert RUNTIME.settings.max_payload_bytes == 8192
    assert RUNTIME.enabled is True
    messages = [r.getMessage() for r in caplog.records]
    assert any("AGENTEL_MAX_PAYLOAD_BYTES='lots'" in m and "8192" in m for m in messages)
    assert any("AGENTEL_ENABLED='perhaps'" in m for m in messages)


def test_configure_arguments_override_environment(fresh_runtime: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTEL_MAX_PAYLOAD_BYTES", "100")
    agentel.configure(max_payload_bytes=5000)
    assert RUNTIME.settings.max_payload_bytes == 5000
    with pytest.raises(agentel.ConfigurationError):
        agentel.configure(max_payload_bytes=1)
    with pytest.raises(agentel.ConfigurationError):
        agentel.configure(semconv="klingon")


def test_capture_content_off_records_structure_only(captured_spans: Any) -> None:
    agentel.configure(capture_content=False)
    try:
        with pytest.raises(ValueError):
            with agentel.start_span("s", inputs={"secret": 1}) as span:
                span.set_outputs("secret")
                raise ValueError("secret message")
    finally:
        agentel.configure(capture_content=True)
    span = captured_spans.find("s")
    assert "input.value" not in span.attributes and "output.value" not in span.attributes
    assert span.status_description == "ValueError"
    assert "exception.message" not in span.events[0][1]


def test_get_tracer_provider_returns_the_application_provider(fresh_runtime: None) -> None:
    provider, exporter = _app_provider("app")
    trace.set_tracer_provider(provider)
    assert agentel.get_tracer_provider() is provider
    provider.get_tracer("instrumentation").start_span("foreign").end()
    assert [s.name for s in exporter.get_finished_spans()] == ["foreign"]


def test_get_tracer_provider_builds_agentel_own_provider_once(
    fresh_runtime: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    exporter = InMemorySpanExporter()
    agentel.configure(exporters=[exporter])
    provider = agentel.get_tracer_provider()
    assert isinstance(provider, TracerProvider)
    assert provider is agentel.get_tracer_provider() is RUNTIME.active_provider()
    provider.get_tracer("instrumentation").start_span("foreign").end()
    step(1)
    agentel.force_flush()
    assert sorted(s.name for s in exporter.get_finished_spans()) == ["foreign", "step"]
