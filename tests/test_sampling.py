"""Sampled-out calls make no span at all; sampled ones are unaffected."""

from __future__ import annotations

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_ON, ParentBased, TraceIdRatioBased

import agentel
from agentel._runtime.sampling import SamplingShortcut


@agentel.trace
def step(x: int) -> int:
    return x * 2


def _provider(sampler: object) -> InMemorySpanExporter:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(sampler=sampler)  # type: ignore[arg-type]
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return exporter


def test_ratio_zero_makes_no_span_object(fresh_runtime: None) -> None:
    exporter = _provider(ParentBased(TraceIdRatioBased(0)))
    step(1)  # the first call resolves the provider
    started = agentel.stats()["spans_started"]
    assert [step(i) for i in range(100)] == [i * 2 for i in range(100)]
    with agentel.start_span("block") as span:
        assert span.is_recording() is False
    assert agentel.stats()["spans_started"] == started
    assert exporter.get_finished_spans() == ()


def test_unsampled_remote_parent_makes_no_span_but_sampled_parent_does(fresh_runtime: None) -> None:
    exporter = _provider(ParentBased(TraceIdRatioBased(0)))
    step(0)
    unsampled = agentel.extract({"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"})
    sampled = agentel.extract({"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"})
    with agentel.attach(unsampled):
        step(1)
        assert agentel.inject({})["traceparent"].endswith("-00")  # the decision still propagates
    with agentel.attach(sampled):
        step(2)
    spans = exporter.get_finished_spans()
    assert [s.name for s in spans] == ["step"]
    assert spans[0].parent is not None and spans[0].parent.span_id == 0xB7AD6B7169203331


@pytest.mark.parametrize(
    ("sampler", "active"),
    [
        (ALWAYS_ON, False),
        (ParentBased(ALWAYS_ON), False),
        (ParentBased(TraceIdRatioBased(0)), True),
        (TraceIdRatioBased(0), True),
        (TraceIdRatioBased(0.5), False),
    ],
)
def test_shortcut_only_where_the_sampler_is_certain(sampler: object, active: bool) -> None:
    assert SamplingShortcut(sampler).active is active
