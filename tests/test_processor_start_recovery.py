"""A span processor that raises in ``on_start`` out of ``tracer.start_span``: agentel recovers the span
the SDK had already made (found in the exception's traceback) when its own processor saw it start, and
uses it as usual; otherwise the call runs on a non-recording span. Nothing escapes into the caller."""

from __future__ import annotations

import json
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import agentel


class _RaisingOnStart(SpanProcessor):
    def on_start(self, span: Any, parent_context: Any = None) -> None:
        raise RuntimeError("the application's processor fails in on_start")


@agentel.trace
def step(x: int) -> int:
    return x


def _app_provider() -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return provider, exporter


def test_a_span_agentel_saw_start_is_recovered_and_exported(fresh_runtime: None) -> None:
    provider, exporter = _app_provider()
    assert agentel.get_tracer_provider() is provider  # agentel's processor is attached now
    provider.add_span_processor(_RaisingOnStart())  # after agentel's: agentel saw the span start
    errors = agentel.stats()["internal_errors"]
    assert step(7) == 7
    (span,) = exporter.get_finished_spans()
    assert span.name == "step" and json.loads(span.attributes["input.value"]) == {"x": 7}
    assert agentel.stats()["spans_open"] == 0 and agentel.stats()["internal_errors"] == errors + 1


def test_a_span_agentel_never_saw_start_is_not_used(fresh_runtime: None) -> None:
    provider, exporter = _app_provider()
    provider.add_span_processor(_RaisingOnStart())  # before agentel's processor: agentel never sees it
    assert agentel.get_tracer_provider() is provider
    assert step(8) == 8
    assert exporter.get_finished_spans() == ()
    assert agentel.stats()["spans_open"] == 0
