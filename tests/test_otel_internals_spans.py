"""The SDK internals the export wing reads (``agentel._otel_internals``) are still where it reads
them: each test fails loudly when an OpenTelemetry SDK release moves one, instead of agentel quietly
taking the slower or blind fallback."""

from __future__ import annotations

from types import SimpleNamespace

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from agentel import _otel_internals as internals


def _provider() -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


def test_attribute_dict_is_the_sdk_spans_own_dict_open_and_ended() -> None:
    provider, exporter = _provider()
    span = provider.get_tracer("t").start_span("s", attributes={"a": 1})
    plain = internals.attribute_dict(span)
    assert type(plain) is dict and plain == {"a": 1}
    span.set_attribute("b", "x")
    assert plain == {"a": 1, "b": "x"}  # the live dict, not a copy
    span.end()
    ended = exporter.get_finished_spans()[0]
    assert internals.attribute_dict(ended) is plain


def test_attribute_dict_of_other_objects_is_their_public_mapping() -> None:
    assert internals.attribute_dict(SimpleNamespace(attributes={"k": "v"})) == {"k": "v"}
    assert internals.attribute_dict(SimpleNamespace(attributes=None)) == {}


def test_plain_mapping_and_span_events_read_the_sdk_containers() -> None:
    provider, exporter = _provider()
    with provider.get_tracer("t").start_as_current_span("s") as span:
        span.add_event("e", {"k": 1})
    ended = exporter.get_finished_spans()[0]
    events = internals.span_events(ended)
    assert events is not ended.events and [e.name for e in events] == ["e"]  # no tuple copy
    assert type(internals.plain_mapping(events[0].attributes)) is dict
    assert internals.plain_mapping({"x": 1}) == {"x": 1}


def test_global_meter_provider_is_read_without_the_api() -> None:
    from opentelemetry import metrics

    internal = metrics._internal  # type: ignore[attr-defined]
    assert hasattr(internal, "_METER_PROVIDER")
    provider = MeterProvider()
    saved = internal._METER_PROVIDER
    internal._METER_PROVIDER = provider
    try:
        assert internals.global_meter_provider() is provider
    finally:
        internal._METER_PROVIDER = saved
        provider.shutdown()


def test_started_on_tells_which_provider_a_span_started_on() -> None:
    first, _ = _provider()
    second, _ = _provider()
    span = first.get_tracer("t").start_span("s")
    assert internals.started_on(span, first) and not internals.started_on(span, second)
    span.end()


def test_queued_spans_counts_a_batch_processors_queue() -> None:
    provider, _ = _provider()
    batch = BatchSpanProcessor(InMemorySpanExporter(), schedule_delay_millis=60000, max_export_batch_size=100)
    provider.add_span_processor(batch)
    for _ in range(3):
        provider.get_tracer("t").start_span("s").end()
    assert internals.queued_spans(batch) == 3
    batch.shutdown()
    assert internals.queued_spans(object()) == 0


def test_span_parts_reads_the_sdk_spans_context_parent_and_plain_dict_in_one_call() -> None:
    from opentelemetry import trace

    provider, exporter = _provider()
    tracer = provider.get_tracer("t")
    with tracer.start_as_current_span("root") as root:
        child = tracer.start_span("child", attributes={"a": 1})
    assert internals.span_parts is not internals.span_parts_of, "the SDK span layout changed: the slow fallback"
    context, parent, attributes = internals.span_parts(child)
    assert context is child.get_span_context() and parent is child.parent and parent == root.get_span_context()
    assert attributes is internals.attribute_dict(child) and attributes == {"a": 1}
    assert context[internals.TRACE_ID] == context.trace_id and context[internals.SPAN_ID] == context.span_id
    assert parent[internals.IS_REMOTE] is False and parent[internals.SPAN_ID] == root.get_span_context().span_id
    child.end()
    ended = exporter.get_finished_spans()[-1]  # the ReadableSpan the processors got
    assert internals.span_parts(ended) == (context, parent, attributes)
    assert internals.span_parts(root)[1] is None
    remote = trace.SpanContext(5, 6, is_remote=True)
    assert internals.span_parts_of(SimpleNamespace(context=remote, parent=None, attributes={"k": 2})) == (
        (5, 6, True),
        None,
        {"k": 2},
    )
