"""Composing with the rest of OpenTelemetry (issue 11): provider ownership, attaching early, adopting a
local root started before agentel attached, honest stats/doctor, settings that cannot apply, redaction
of other instrumentations' spans, and log handling that touches only agentel's own exporters.

Subprocess tests run a fresh interpreter (the global provider can be set once per process); the others
use the ``fresh_runtime`` fixture and the SDK's in-memory exporter.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, Sequence

import pytest
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import agentel
from agentel._runtime.provider import RUNTIME

SECRET = "sk-proj-" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4"


def _run(code: str, env: dict[str, str], tmp_path: Path) -> tuple[dict[str, Any], str, list[dict[str, Any]]]:
    """Run ``code`` in a fresh interpreter; (its last stdout line as JSON, stderr, spans of the traces file)."""
    spans_file = tmp_path / "spans.jsonl"
    base = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "AGENTEL_"))}
    base.update({"AGENTEL_TRACES_FILE": str(spans_file), "OTEL_TRACES_EXPORTER": "none", **env})
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], env=base, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-4000:]
    spans: list[dict[str, Any]] = []
    if spans_file.exists():
        for line in spans_file.read_text().splitlines():
            for rs in json.loads(line)["resourceSpans"]:
                for ss in rs["scopeSpans"]:
                    spans.extend({**s, "scope": ss["scope"]["name"]} for s in ss["spans"])
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr, spans


# --- provider ownership ------------------------------------------------------------------------


def test_own_provider_is_installed_globally_and_proxy_tracers_obtained_before_import_record_into_it(
    tmp_path: Path,
) -> None:
    result, err, spans = _run(
        """
        import json
        from opentelemetry import trace
        early = trace.get_tracer("some.instrumentation")   # a proxy tracer, before agentel exists
        import agentel

        @agentel.trace(span_type=agentel.SpanType.CHAT_MODEL)
        def call_model():
            with early.start_as_current_span("chat gpt-4o") as span:
                span.set_attribute("gen_ai.prompt", "key is %s")
            return "ok"

        call_model()
        with early.start_as_current_span("after"):
            pass
        agentel.force_flush()
        stats = agentel.stats()
        print(json.dumps({"global": trace.get_tracer_provider() is agentel.get_tracer_provider(),
                          "provider": stats["provider"], "exported": stats["spans_exported"]}))
        """.replace("%s", SECRET),
        {},
        tmp_path,
    )
    by_name = {s["name"]: s for s in spans}
    assert result["global"] is True
    assert "agentel's own TracerProvider (global)" in result["provider"]
    assert set(by_name) == {"call_model", "chat gpt-4o", "after"}
    assert by_name["chat gpt-4o"]["parentSpanId"] == by_name["call_model"]["spanId"]
    assert by_name["chat gpt-4o"]["traceId"] == by_name["call_model"]["traceId"]
    assert result["exported"] == 3
    # redaction applies to the other instrumentation's attribute too (agentel's own provider)
    assert SECRET not in json.dumps(spans) and "[REDACTED]" in json.dumps(by_name["chat gpt-4o"])
    assert err == ""


def test_set_global_false_keeps_agentel_private_and_says_so(tmp_path: Path) -> None:
    result, err, spans = _run(
        """
        import json
        from opentelemetry import trace
        early = trace.get_tracer("some.instrumentation")
        import agentel

        @agentel.trace
        def step():
            with early.start_as_current_span("foreign"):
                pass

        step(); step()
        agentel.force_flush()
        print(json.dumps({"global": type(trace.get_tracer_provider()).__name__,
                          "provider": agentel.stats()["provider"], "doctor": str(agentel.doctor())}))
        """,
        {"AGENTEL_SET_GLOBAL_PROVIDER": "false"},
        tmp_path,
    )
    assert [s["name"] for s in spans] == ["step", "step"]  # the other instrumentation is not recorded
    assert result["global"] == "ProxyTracerProvider"
    assert "not global: other instrumentations' spans are not recorded" in result["provider"]
    assert "spans of other OpenTelemetry instrumentations" in result["doctor"]
    assert err.count("spans of other OpenTelemetry instrumentations") == 1  # the one-time hint


def test_app_provider_installed_after_first_span_is_refused_and_explained(
    fresh_runtime: None, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "none")
    with agentel.start_span("first"):
        pass
    ours = trace.get_tracer_provider()
    late = TracerProvider()
    trace.set_tracer_provider(late)
    trace.set_tracer_provider(late)
    assert trace.get_tracer_provider() is ours is agentel.get_tracer_provider()
    hints = [r for r in caplog.records if r.name == "agentel" and "after agentel's first span" in r.getMessage()]
    assert len(hints) == 1
    report = agentel.doctor()
    assert "OpenTelemetry keeps the first and refuses the later one" in str(report)
    late.shutdown()


def test_configure_again_swaps_exporters_of_the_global_own_provider(fresh_runtime: None) -> None:
    first, second = InMemorySpanExporter(), InMemorySpanExporter()
    agentel.configure(exporters=[first], console=False)
    with agentel.start_span("one"):
        pass
    provider = trace.get_tracer_provider()
    agentel.configure(exporters=[second], console=False, service_name="renamed")
    foreign = trace.get_tracer("cached.instrumentation")
    with agentel.start_span("two"):
        foreign.start_span("foreign").end()
    agentel.force_flush()
    assert trace.get_tracer_provider() is provider  # still the same global provider
    assert [s.name for s in first.get_finished_spans()] == ["one"]
    assert sorted(s.name for s in second.get_finished_spans()) == ["foreign", "two"]
    assert {s.resource.attributes["service.name"] for s in second.get_finished_spans()} == {"renamed"}


# --- attach early, adopt the local root --------------------------------------------------------


def test_launcher_provider_present_at_import_is_attached_at_once(tmp_path: Path) -> None:
    result, _, _ = _run(
        """
        import json
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
        exporter = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        trace.set_tracer_provider(provider)      # what opentelemetry-instrument does before the app runs
        import agentel
        processors = [type(p).__name__ for p in provider._active_span_processor._span_processors]
        with trace.get_tracer("server").start_as_current_span("GET /chat"):   # request 1's server span
            with agentel.start_span("agent", span_type=agentel.SpanType.AGENT):
                agentel.update_current_trace(session_id="s-1", user_id="u-1")
                agentel.start_span("llm", span_type=agentel.SpanType.LLM).__enter__().set_outputs(
                    {"usage": {"prompt_tokens": 7, "completion_tokens": 11}, "model": "m",
                     "choices": [], "object": "chat.completion"})
        print(json.dumps({"processors": processors,
                          "server": dict(next(s for s in exporter.get_finished_spans()
                                              if s.name == "GET /chat").attributes)}))
        """,
        {},
        tmp_path,
    )
    assert "AgentelSpanProcessor" in result["processors"]  # attached at import, before any agentel span
    assert result["server"]["session.id"] == "s-1" and result["server"]["user.id"] == "u-1"


def test_server_span_opened_before_agentel_attached_becomes_the_local_root(fresh_runtime: None) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "web"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)  # after import agentel: agentel attaches at its first span
    with trace.get_tracer("server").start_as_current_span("GET /first") as server:
        with agentel.start_span("agent", span_type=agentel.SpanType.AGENT):
            agentel.update_current_trace(session_id="chat-1", user_id="ann")
            with agentel.start_span("model", span_type=agentel.SpanType.CHAT_MODEL) as llm:
                llm.set_token_usage(input=10, output=8)
        assert server.is_recording()
    spans = {s.name: s for s in exporter.get_finished_spans()}
    root = spans["GET /first"].attributes or {}
    assert root["session.id"] == "chat-1" and root["user.id"] == "ann"
    assert root["agentel.trace.usage.total_tokens"] == 18


# --- honest status, settings that cannot apply --------------------------------------------------


def _app(service: str = "shop") -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return provider, exporter


def test_stats_under_application_provider_say_none_exported_and_name_the_pipeline(fresh_runtime: None) -> None:
    _, exporter = _app()
    with agentel.start_span("s"):
        pass
    counts = agentel.stats()
    assert counts["spans_exported"] is None  # not a false 0: the application's exporters are not agentel's
    assert counts["service_name"] == "shop"
    assert counts["provider"].startswith("the application's TracerProvider")
    assert "SimpleSpanProcessor(InMemorySpanExporter)" in counts["processors"]
    assert "AgentelSpanProcessor" in counts["processors"]
    report = agentel.doctor()
    assert report.ok is True and bool(report) is True
    text = str(report)
    assert "service.name:      shop" in text and "SimpleSpanProcessor(InMemorySpanExporter)" in text
    assert len(exporter.get_finished_spans()) == 1


def test_explicit_exporter_and_traces_file_are_added_to_the_application_provider(
    fresh_runtime: None, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _app("shop")
    extra = InMemorySpanExporter()
    path = tmp_path / "spans.jsonl"
    agentel.configure(exporters=[extra], traces_file=str(path), service_name="bot")
    agentel.configure(exporters=[extra], traces_file=str(path), service_name="bot")  # warned once only
    before = agentel.stats()["spans_exported"]
    assert before is not None  # agentel now counts the exporters it added
    with agentel.start_span("s"):
        trace.get_tracer("other").start_span("foreign").end()
    agentel.force_flush()
    assert sorted(s.name for s in extra.get_finished_spans()) == ["foreign", "s"]
    assert path.read_text().count('"name": "foreign"') + path.read_text().count('"name":"foreign"') == 1
    counts = agentel.stats()
    assert counts["spans_exported"] - before == 4  # two spans, two exporters agentel added and counts
    warnings = [r.getMessage() for r in caplog.records if "service_name='bot'" in r.getMessage()]
    assert len(warnings) == 1 and "service.name='shop'" in warnings[0]


def test_settings_warned_about_under_a_non_sdk_provider(
    fresh_runtime: None, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    trace.set_tracer_provider(trace.NoOpTracerProvider())
    agentel.configure(traces_file=str(tmp_path / "x.jsonl"))
    with agentel.start_span("s"):
        pass
    messages = [r.getMessage() for r in caplog.records if r.name == "agentel"]
    assert sum("traces_file=" in m and "cannot apply" in m for m in messages) == 1


# --- redaction -----------------------------------------------------------------------------------


class _Collect(SpanExporter):
    def __init__(self) -> None:
        self.spans: list[ReadableSpan] = []

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.spans.extend(spans)
        return SpanExportResult.SUCCESS


def test_redacting_span_exporter_redacts_foreign_spans_for_an_application_pipeline() -> None:
    inner = _Collect()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(agentel.RedactingSpanExporter(inner)))
    tracer = provider.get_tracer("openai.instrumentation")
    with tracer.start_as_current_span("chat") as span:
        span.set_attribute("gen_ai.input.messages", json.dumps([{"role": "user", "content": f"use {SECRET}"}]))
        span.set_attribute("http.request.header.authorization", "Bearer abcdefgh12345")
        span.set_attribute("gen_ai.request.model", "gpt-4o")
        span.add_event("log", {"body": f"key={SECRET}"})
    with tracer.start_as_current_span("clean") as span:
        span.set_attribute("gen_ai.request.model", "gpt-4o")
    chat, clean = inner.spans
    dumped = json.dumps({**dict(chat.attributes or {}), **dict(chat.events[0].attributes or {})})
    assert SECRET not in dumped and "abcdefgh12345" not in dumped
    assert (chat.attributes or {})["gen_ai.request.model"] == "gpt-4o"
    assert json.loads((chat.attributes or {})["gen_ai.input.messages"])[0]["role"] == "user"  # still JSON
    assert clean.attributes == {"gen_ai.request.model": "gpt-4o"}
    provider.shutdown()


# --- log handling ----------------------------------------------------------------------------------


_GRPC_LOGGER = "opentelemetry.exporter.otlp.proto.grpc.exporter"


class _FailingLikeOtlp(SpanExporter):
    """Fails the way the OTLP exporter does: it logs on its module's logger and returns FAILURE."""

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        logging.getLogger(_GRPC_LOGGER).warning(
            "Failed to export traces to %s, error code: %s", "localhost:4317", "StatusCode.UNAVAILABLE"
        )
        return SpanExportResult.FAILURE


def test_other_components_exporter_records_are_untouched_and_agentel_reports_its_own_once(
    fresh_runtime: None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    agentel.configure(exporters=[_FailingLikeOtlp()], console=False)
    with agentel.start_span("warm"):
        pass
    agentel.force_flush()
    # the application's *metrics* exporter, same module logger, same cause: never rewritten or suppressed
    for attempt in range(3):  # distinct templates: OTel's own DuplicateFilter drops identical repeats
        logging.getLogger(_GRPC_LOGGER).warning(
            f"Failed to export metrics (attempt {attempt}) to %s, error code: %s", "localhost:4317", "UNAVAILABLE"
        )
    foreign = [r for r in caplog.records if "metrics" in r.getMessage()]
    assert len(foreign) == 3 and all("agentel" not in r.getMessage() for r in foreign)
    assert all(r.msg.startswith("Failed to export metrics (attempt") and r.msg.endswith("%s") for r in foreign)
    before = agentel.stats()["export_failures"]
    for _ in range(3):
        with agentel.start_span("s"):
            pass
        agentel.force_flush()
    own = [r.getMessage() for r in caplog.records if "traces" in r.getMessage()]
    assert len(own) == 1 and "[agentel:" in own[0]  # 4 failed exports, one cause: logged once, with a hint
    assert agentel.stats()["export_failures"] == before + 3


def test_agentel_export_failure_is_reported_even_after_others_logged_that_cause(
    fresh_runtime: None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    logging.getLogger(_GRPC_LOGGER).warning("Failed to export metrics, error code: StatusCode.UNAVAILABLE")

    class _Unique(_FailingLikeOtlp):
        pass

    agentel.configure(exporters=[_Unique()], console=False)
    for _ in range(3):
        with agentel.start_span("s"):
            pass
        agentel.force_flush()
    own = [r.getMessage() for r in caplog.records if "traces" in r.getMessage()]
    assert len(own) == 1 and "[agentel:" in own[0]
    assert agentel.stats()["export_failures"] >= 3


# --- one model call, one count -----------------------------------------------------------------------

_RESPONSE = {
    "object": "chat.completion",
    "id": "chatcmpl-1",
    "model": "gpt-4o-mini",
    "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "hi"}}],
    "usage": {"prompt_tokens": 10, "completion_tokens": 8, "total_tokens": 18},
}
_USAGE_KEYS = ("gen_ai.usage.", "llm.token_count.", "mlflow.chat.tokenUsage")


def _instrumented_create() -> dict[str, Any]:
    """What openai-v2 does around ``create()``: a CLIENT ``chat`` span carrying the call's usage."""
    with trace.get_tracer("opentelemetry.instrumentation.openai_v2").start_as_current_span("chat gpt-4o-mini") as s:
        s.set_attributes({"gen_ai.usage.input_tokens": 10, "gen_ai.usage.output_tokens": 8})
    return _RESPONSE


def test_model_call_recorded_by_another_instrumentation_is_counted_once(captured_spans: Any) -> None:
    agentel.configure(semconv="genai,openinference,mlflow")
    try:

        @agentel.trace(name="ask", span_type=agentel.SpanType.CHAT_MODEL)
        def ask() -> dict[str, Any]:
            return _instrumented_create()

        with agentel.start_span("agent", span_type=agentel.SpanType.AGENT):
            ask()
    finally:
        agentel.configure()
    step, chat, root = captured_spans.find("ask"), captured_spans.find("chat gpt-4o-mini"), captured_spans.find("agent")
    assert not [k for k in step.attributes if k.startswith(_USAGE_KEYS)]  # no dialect repeats the usage
    assert step.attributes["agentel.usage.recorded_by"] == chat.span_id
    assert step.attributes["gen_ai.response.model"] == "gpt-4o-mini"  # the rest of the response is kept
    assert root.attributes["agentel.trace.usage.total_tokens"] == 18
    assert root.attributes["agentel.trace.usage.spans"] == 1


def test_usage_set_before_the_instrumented_call_is_still_counted_once(captured_spans: Any) -> None:
    with agentel.start_span("agent", span_type=agentel.SpanType.AGENT):
        with agentel.start_span("llm", span_type=agentel.SpanType.LLM) as llm:
            llm.set_token_usage(input=10, output=8)
            _instrumented_create()
            llm.set_token_usage(input=10, output=8)  # after the child: not written again
    root = captured_spans.find("agent")
    assert root.attributes["agentel.trace.usage.total_tokens"] == 18


def test_model_span_without_instrumented_child_keeps_its_usage(captured_spans: Any) -> None:
    @agentel.trace(name="ask", span_type=agentel.SpanType.CHAT_MODEL)
    def ask() -> dict[str, Any]:
        return _RESPONSE

    with agentel.start_span("agent", span_type=agentel.SpanType.AGENT):
        ask()
    assert captured_spans.find("ask").attributes["gen_ai.usage.input_tokens"] == 10
    assert captured_spans.find("agent").attributes["agentel.trace.usage.total_tokens"] == 18


def test_capture_response_false_turns_response_capture_off_for_one_decorator(captured_spans: Any) -> None:
    @agentel.trace(name="ask", span_type=agentel.SpanType.CHAT_MODEL, capture_response=False)
    def ask() -> dict[str, Any]:
        return _RESPONSE

    @agentel.trace(name="stream", span_type=agentel.SpanType.CHAT_MODEL, capture_response=False)
    def stream() -> Any:
        yield {"object": "chat.completion.chunk", "model": "m", "choices": [], "usage": _RESPONSE["usage"]}

    ask()
    list(stream())
    for name in ("ask", "stream"):
        attributes = captured_spans.find(name).attributes
        assert not [k for k in attributes if k.startswith(_USAGE_KEYS) or k.startswith("gen_ai.response.")]
    assert "chatcmpl-1" in captured_spans.find("ask").attributes["output.value"]  # outputs still recorded


def test_capture_pauses_agentel_exporters_and_undoes_configure_inside_it(fresh_runtime: None) -> None:
    from agentel.testing import capture_spans

    before = InMemorySpanExporter()
    agentel.configure(exporters=[before], console=False)
    with agentel.start_span("a"):
        pass
    with capture_spans() as spans:
        inside = InMemorySpanExporter()
        agentel.configure(exporters=[inside], console=False, capture_content=False)
        with agentel.start_span("b"):
            pass
    with agentel.start_span("c"):
        pass
    agentel.force_flush()
    assert [s.name for s in spans] == ["b"]
    assert [s.name for s in before.get_finished_spans()] == ["a", "c"]  # paused during the capture only
    assert inside.get_finished_spans() == ()
    assert RUNTIME.settings.capture_content is True  # the settings changed inside the capture were restored


def test_doctor_under_the_zero_code_launcher_names_its_provider_and_service() -> None:
    """``opentelemetry-instrument agentel doctor``: the launcher installs its SDK provider before agentel
    is imported; doctor shows it, its service.name and its processors (agentel's attached at import)."""
    bin_dir = Path(sys.executable).parent
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "AGENTEL_"))}
    env.update(
        OTEL_TRACES_EXPORTER="console",
        OTEL_METRICS_EXPORTER="none",
        OTEL_LOGS_EXPORTER="none",
        OTEL_SERVICE_NAME="launched-svc",
    )
    done = subprocess.run(
        [str(bin_dir / "opentelemetry-instrument"), str(bin_dir / "agentel"), "doctor"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = {line.split(":", 1)[0]: line.split(":", 1)[1].strip() for line in done.stdout.splitlines() if ":" in line}
    assert lines["provider"] == "the application's TracerProvider (opentelemetry.sdk.trace)"
    assert lines["service.name"] == "launched-svc"
    assert "BatchSpanProcessor(ConsoleSpanExporter)" in lines["processors"]
    assert "AgentelSpanProcessor" in lines["processors"]
    assert "spans_exported=None" in lines["stats"]


def test_configure_attaches_to_an_application_provider_installed_after_import(fresh_runtime: None) -> None:
    provider, exporter = _app("late-but-before-configure")
    agentel.configure()
    assert "AgentelSpanProcessor" in agentel.stats()["processors"]  # before any agentel span
    with trace.get_tracer("server").start_as_current_span("GET /"):
        with agentel.start_span("agent"):
            agentel.update_current_trace(user_id="u-7")
    server = next(s for s in exporter.get_finished_spans() if s.name == "GET /")
    assert (server.attributes or {})["user.id"] == "u-7"


def test_header_parse_records_are_dropped_only_while_agentel_creates_its_exporter(
    fresh_runtime: None, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "authorization:Bearer tok_0123456789abcdef")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "200")
    agentel.configure(console=False)
    agentel.get_tracer_provider()  # agentel creates its OTLP exporter (which parses the headers)
    assert "tok_0123456789abcdef" not in caplog.text
    from opentelemetry.util.re import parse_env_headers

    parse_env_headers("other:component-value", liberal=True)  # another component's parse: untouched
    assert "Header format invalid" in caplog.text and "other:component-value" in caplog.text
