"""Start attributes handed to agentel's processor (``DEFERRED_START``): where the sampler does not read
them and only no-op ``on_start`` processors run before agentel's, a span starts without them and gets
them first thing in agentel's ``on_start``. Every span must end exactly as when they are passed to
``start_span``; a sampler or an earlier processor that could look at them must still see them."""

from __future__ import annotations

import threading
from typing import Any, Optional

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import SpanLimits, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_ON, ParentBased, Sampler, SamplingResult, TraceIdRatioBased

import agentel
from agentel import _otel_internals as internals
from agentel._tracing import otel_spans
from agentel.testing import reset

SpanType = agentel.SpanType


def _app(sampler: Optional[Sampler] = None, limits: Optional[SpanLimits] = None) -> InMemorySpanExporter:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(sampler=sampler or ParentBased(ALWAYS_ON), span_limits=limits or SpanLimits())
    provider.add_span_processor(SimpleSpanProcessor(exporter))  # before agentel's: a no-op on_start
    trace.set_tracer_provider(provider)
    assert agentel.get_tracer_provider() is provider
    return exporter


def _workload() -> None:
    @agentel.trace(span_type=SpanType.LLM)
    def llm(question: str) -> dict[str, Any]:
        return {"content": f"answer to {question}"}

    @agentel.trace(name="agent", span_type=SpanType.AGENT, attributes={"team": "a", "tags": ["x", "y"], "n": 3})
    def run(question: str) -> Any:
        agentel.update_current_trace(tags={"env": "test"})
        with agentel.start_span("retrieve", span_type=SpanType.RETRIEVER, attributes={"k": 2}) as span:
            span.set_outputs(["doc"])
        with agentel.start_span("plain", attributes={"note": "a rather long text value", "": "empty key"}):
            pass
        return llm(question)

    run("hi")
    client = agentel.TraceClient()
    root = client.start_trace("client-trace", attributes={"size": 1.5, "flag": True})
    child = client.start_span("client-child", root.request_id, root.span_id, span_type=SpanType.TOOL)
    client.end_span(root.request_id, child.span_id, outputs={"ok": True})
    client.end_trace(root.request_id)


def _spans(sampler: Optional[Sampler] = None, limits: Optional[SpanLimits] = None) -> list[tuple[Any, ...]]:
    with reset():
        exporter = _app(sampler, limits)
        _workload()
        return [
            (s.name, s.kind, list(s.attributes.items()), s.dropped_attributes)
            for s in sorted(exporter.get_finished_spans(), key=lambda s: s.name)
        ]


@pytest.mark.parametrize(
    "limits",
    [None, SpanLimits(max_span_attributes=3), SpanLimits(max_attribute_length=4)],
    ids=["no limits", "3 attributes", "4 characters"],
)
def test_every_span_ends_as_when_start_span_is_given_the_attributes(
    limits: Optional[SpanLimits], monkeypatch: pytest.MonkeyPatch
) -> None:
    deferred = _spans(limits=limits)
    assert otel_spans._DEFERRAL._last[3] is True, "the default sampler and a simple processor: deferred"
    monkeypatch.setattr(otel_spans, "_DEFERRAL", internals.StartDeferral(lambda sampler, processors: False))
    passed = _spans(limits=limits)
    assert len(deferred) == 6
    assert deferred == passed


def test_start_attributes_are_not_handed_through_the_sdks_checks_where_deferred(
    fresh_runtime: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    exporter = _app()
    handed: list[Any] = []
    real_start = trace.get_tracer_provider().get_tracer("agentel").__class__.start_span

    def spy(self: Any, name: str, context: Any = None, kind: Any = None, attributes: Any = None, **kw: Any) -> Any:
        handed.append(attributes)
        return real_start(self, name, context, kind, attributes, **kw)

    monkeypatch.setattr(trace.get_tracer_provider().get_tracer("agentel").__class__, "start_span", spy)
    agentel.trace(lambda: 1, name="step")()
    assert handed == [None]
    (span,) = exporter.get_finished_spans()
    assert span.attributes["agentel.span.type"] == "UNKNOWN"


class _Watching(Sampler):
    """A sampler that reads the start attributes (so they must be given to it)."""

    def __init__(self) -> None:
        self.seen: list[Any] = []

    def should_sample(self, parent_context: Any, trace_id: int, name: str, kind: Any = None,
                      attributes: Any = None, links: Any = None, trace_state: Any = None) -> SamplingResult:
        self.seen.append(dict(attributes or {}))
        return ALWAYS_ON.should_sample(parent_context, trace_id, name, kind, attributes, links)

    def get_description(self) -> str:
        return "watching"


def test_a_sampler_that_may_read_them_is_given_the_start_attributes(fresh_runtime: None) -> None:
    sampler = _Watching()
    exporter = _app(sampler)
    agentel.trace(lambda: 1, name="step", span_type=SpanType.TOOL)()
    assert sampler.seen[-1]["agentel.span.type"] == "TOOL"
    assert exporter.get_finished_spans()[0].attributes["agentel.span.type"] == "TOOL"
    assert not internals.attribute_blind(ParentBased(sampler))


class _ReadsOnStart(SpanProcessor):
    def __init__(self) -> None:
        self.seen: list[Any] = []

    def on_start(self, span: Any, parent_context: Any = None) -> None:
        self.seen.append(dict(span.attributes))


def test_a_processor_before_agentels_that_looks_at_start_sees_the_start_attributes(fresh_runtime: None) -> None:
    provider = TracerProvider()
    watcher = _ReadsOnStart()
    provider.add_span_processor(watcher)
    trace.set_tracer_provider(provider)
    assert agentel.get_tracer_provider() is provider
    agentel.trace(lambda: 1, name="step", span_type=SpanType.CHAIN)()
    assert watcher.seen == [{"agentel.span.type": "CHAIN", "openinference.span.kind": "CHAIN"}]


def test_the_sdks_own_samplers_are_attribute_blind_and_others_are_not() -> None:
    assert internals.attribute_blind(ParentBased(ALWAYS_ON))
    assert internals.attribute_blind(ParentBased(TraceIdRatioBased(0.5)))
    assert internals.attribute_blind(TraceIdRatioBased(0.1))

    class Overriding(TraceIdRatioBased):
        def should_sample(self, *args: Any, **kwargs: Any) -> SamplingResult:
            return super().should_sample(*args, **kwargs)

    assert not internals.attribute_blind(Overriding(0.5))
    assert not internals.attribute_blind(ParentBased(ALWAYS_ON, local_parent_sampled=_Watching()))
    assert not internals.attribute_blind(object())


def test_sampled_out_spans_leave_nothing_for_the_next_span(fresh_runtime: None) -> None:
    exporter = _app(TraceIdRatioBased(0.5))
    for index in range(200):
        span_type = (SpanType.TOOL, SpanType.LLM, SpanType.CHAIN)[index % 3]
        agentel.trace(lambda: 1, name=f"{span_type}-{index}", span_type=span_type)()
    spans = exporter.get_finished_spans()
    assert 40 < len(spans) < 160
    for span in spans:
        assert span.attributes["agentel.span.type"] == span.name.split("-")[0]


def test_spans_started_at_once_in_many_threads_each_get_their_own(fresh_runtime: None) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(exporter, max_queue_size=10_000))
    trace.set_tracer_provider(provider)
    types = (SpanType.TOOL, SpanType.LLM, SpanType.CHAIN, SpanType.RETRIEVER, SpanType.AGENT, SpanType.EMBEDDING)
    barrier = threading.Barrier(len(types))

    def work(span_type: str) -> None:
        traced = agentel.trace(lambda: 1, name=span_type, span_type=span_type)
        barrier.wait()
        for _ in range(300):
            traced()

    threads = [threading.Thread(target=work, args=(t,)) for t in types]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    provider.force_flush()
    spans = exporter.get_finished_spans()
    assert len(spans) == 300 * len(types)
    assert otel_spans._DEFERRAL._last[3] is True
    for span in spans:
        assert span.attributes["agentel.span.type"] == span.name
