"""The SDK internals the export wing reads (``agentel._otel_internals``) are still where it reads
them: each test fails loudly when an OpenTelemetry SDK release moves one, instead of agentel quietly
taking the slower or blind fallback."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
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


def test_span_hooks_hand_over_the_sdk_spans_context_parent_and_plain_dict() -> None:
    from opentelemetry import trace

    seen: list[tuple[str, Any, Any, Any, Any]] = []

    class Recording(internals.SpanHooks, SpanProcessor):
        def span_started(self, span: Any, context: Any, parent: Any, attributes: Any, parent_context: Any) -> None:
            seen.append(("start", span, context, parent, attributes))

        def span_ended(self, span: Any, context: Any, parent: Any, attributes: Any) -> None:
            seen.append(("end", span, context, parent, attributes))

    assert not internals._PUBLIC_ONLY, "the SDK span layout changed: SpanHooks reads the public properties"
    provider, exporter = _provider()
    provider.add_span_processor(Recording())
    tracer = provider.get_tracer("t")
    with tracer.start_as_current_span("root") as root:
        child = tracer.start_span("child", attributes={"a": 1})
        child.end()
    (_, started, context, parent, attributes) = seen[1]
    assert started is child and context is child.get_span_context() and parent is child.parent
    assert attributes is internals.attribute_dict(child) and attributes == {"a": 1}
    assert context[internals.TRACE_ID] == context.trace_id and context[internals.SPAN_ID] == context.span_id
    assert parent[internals.IS_REMOTE] is False and parent[internals.SPAN_ID] == root.get_span_context().span_id
    (_, ended, end_context, end_parent, end_attributes) = seen[2]
    assert ended is exporter.get_finished_spans()[0]  # the ReadableSpan every processor got
    assert (end_context, end_parent, end_attributes) == (context, parent, attributes)
    assert seen[0][3] is None and seen[3][0] == "end" and seen[3][3] is None  # the root: no parent
    # a span without the SDK layout is read through its public properties
    remote = trace.SpanContext(5, 6, is_remote=True)
    Recording().on_end(SimpleNamespace(context=remote, parent=None, attributes={"k": 2}))
    assert seen[-1][2:] == ((5, 6, True), None, {"k": 2})


def test_span_whose_start_raised_is_the_self_of_the_sdks_span_start_frame() -> None:
    class Raising(SpanProcessor):
        def on_start(self, span: Any, parent_context: Any = None) -> None:
            raise RuntimeError("on_start")

    provider, exporter = _provider()
    provider.add_span_processor(Raising())
    try:
        provider.get_tracer("t").start_span("broken")
    except RuntimeError as exc:
        span = internals.span_whose_start_raised(exc)
    assert span is not None and span.name == "broken" and span.end_time is None
    assert internals.span_whose_start_raised(RuntimeError("elsewhere")) is None
