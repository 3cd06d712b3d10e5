"""Each private OpenTelemetry attribute agentel relies on, pinned against the installed SDK.

agentel reads them only in ``agentel._otel_internals``; when an SDK release renames or removes one,
the test of that function fails here, naming the attribute, instead of agentel silently degrading.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanLimits, TracerProvider, sampling
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from agentel import _otel_internals as otel


def pinned(owner: Any, attribute: str) -> Any:
    """``owner.attribute``, or a failure that names it."""
    where = getattr(owner, "__name__", type(owner).__qualname__)
    assert hasattr(owner, attribute), (
        f"the OpenTelemetry SDK no longer has {where}.{attribute}: update agentel._otel_internals"
    )
    return getattr(owner, attribute)


def test_global_provider_is_trace__TRACER_PROVIDER() -> None:
    pinned(trace, "_TRACER_PROVIDER")
    pinned(trace, "_TRACER_PROVIDER_SET_ONCE")
    saved = otel.clear_global_provider()
    try:
        assert trace._TRACER_PROVIDER is None
        assert otel.global_provider() is None
        provider = TracerProvider()
        trace.set_tracer_provider(provider)  # allowed again: the set-once guard was reset
        assert trace.get_tracer_provider() is provider
        assert otel.global_provider() is provider
    finally:
        otel.restore_global_provider(saved)
    assert trace._TRACER_PROVIDER is saved[0]


def test_span_limits_is_TracerProvider__span_limits() -> None:
    provider = TracerProvider(span_limits=SpanLimits(max_span_attribute_length=77))
    limits = pinned(provider, "_span_limits")
    assert isinstance(limits, SpanLimits)
    assert otel.span_limits(provider) is limits
    assert otel.span_limits(provider).max_span_attribute_length == 77
    assert otel.span_limits(object()) is None


def test_span_processors_is_the_providers_processor_chain() -> None:
    provider = TracerProvider()
    first, second = SimpleSpanProcessor(InMemorySpanExporter()), SimpleSpanProcessor(InMemorySpanExporter())
    provider.add_span_processor(first)
    provider.add_span_processor(second)
    chain = pinned(provider, "_active_span_processor")
    assert pinned(chain, "_span_processors") == (first, second)
    assert otel.span_processors(provider) == (first, second)
    assert otel.span_processors(object()) is None


def test_update_resource_is_TracerProvider__update_resource() -> None:
    provider = TracerProvider(resource=Resource.create({"service.name": "before"}))
    tracer = provider.get_tracer("t")
    pinned(provider, "_update_resource")
    assert otel.update_resource(provider, Resource({"service.name": "after"})) is True
    assert provider.resource.attributes["service.name"] == "after"
    span = tracer.start_span("s")  # a tracer handed out before follows
    assert span.resource.attributes["service.name"] == "after"  # type: ignore[attr-defined]
    span.end()
    assert otel.update_resource(object(), Resource({})) is False


def test_parent_based_sampler_parts_are_its_private_delegates() -> None:
    sampler = sampling.ParentBased(sampling.ALWAYS_OFF)
    assert pinned(sampler, "_root") is sampling.ALWAYS_OFF
    assert otel.root_sampler(sampler) is sampling.ALWAYS_OFF
    local, remote = otel.unsampled_parent_samplers(sampler)
    assert local is pinned(sampler, "_local_parent_not_sampled") is sampling.ALWAYS_OFF
    assert remote is pinned(sampler, "_remote_parent_not_sampled") is sampling.ALWAYS_OFF
    assert otel.root_sampler(sampling.ALWAYS_ON) is None


def test_attribute_count_limit_is_the_spans_bounded_attributes_maxlen() -> None:
    provider = TracerProvider(span_limits=SpanLimits(max_span_attributes=7))
    span = provider.get_tracer("t").start_span("s")
    assert pinned(pinned(span, "_attributes"), "maxlen") == 7
    assert otel.attribute_count_limit(span, 128) == 7
    span.end()
    assert otel.attribute_count_limit(object(), 128) == 128


def test_exporters_load_by_entry_point_name_as_the_sdk_does() -> None:
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk import _configuration

    pinned(_configuration, "_import_exporters")
    pinned(_configuration, "_get_exporter_entry_point")
    assert otel.span_exporter_class("otlp_proto_grpc") is OTLPSpanExporter
    entry, cls = otel.metric_exporter_class("console")
    assert entry == "console"
    assert cls.__name__ == "ConsoleMetricExporter"


def test_exporter_endpoint_is_the_otlp_exporters__endpoint() -> None:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    exporter = OTLPSpanExporter(endpoint="http://127.0.0.1:9/v1/traces")
    assert pinned(exporter, "_endpoint") == "http://127.0.0.1:9/v1/traces"
    assert otel.exporter_endpoint(exporter) == "http://127.0.0.1:9/v1/traces"
    assert otel.exporter_endpoint(object()) is None


def test_peek_count_reads_an_itertools_count_without_advancing_it() -> None:
    counter = itertools.count()
    next(counter)
    next(counter)
    assert repr(counter) == "count(2)", "itertools.count's repr changed: update agentel._otel_internals.peek_count"
    assert otel.peek_count(counter) == 2
    assert next(counter) == 2


def test_context_switches_are_the_runtime_contexts_contextvar() -> None:
    import contextvars

    from opentelemetry import context as otel_context

    runtime = pinned(otel_context, "_RUNTIME_CONTEXT")
    variable = pinned(runtime, "_current_context")
    assert isinstance(variable, contextvars.ContextVar)
    attach, detach = otel.context_switches()
    assert attach == variable.set  # the fast pair, not the API's fallback
    before = otel_context.get_current()
    ours = otel_context.set_value("k", "v")
    token = attach(ours)
    assert otel_context.get_current() is ours and otel_context.get_value("k") == "v"
    detach(token)
    assert otel_context.get_current() is before


def test_a_failing_detach_is_logged_by_the_api_as_without_agentel(caplog: Any) -> None:
    from opentelemetry import context as otel_context

    attach, detach = otel.context_switches()
    token = attach(otel_context.set_value("k", "v"))
    detach(token)
    detach(token)  # used twice: the ContextVar refuses, the API's detach logs it
    assert "Failed to detach context" in caplog.text


def test_raw_context_switches_are_the_contextvars_own_set_and_reset() -> None:
    from opentelemetry import context as otel_context

    variable = pinned(pinned(otel_context, "_RUNTIME_CONTEXT"), "_current_context")
    attach, reset = otel.raw_context_switches()
    assert attach == variable.set and reset == variable.reset
    before = otel_context.get_current()
    token = attach(otel_context.set_value("k", "v"))
    reset(token)
    assert otel_context.get_current() is before
    with pytest.raises(RuntimeError):  # used twice: the caller hands it to the API's detach, which logs
        reset(token)


def test_start_parts_are_the_tracers_sampler_and_its_synchronous_processor_chain() -> None:
    from opentelemetry.sdk.trace import SynchronousMultiSpanProcessor, Tracer

    sampler = sampling.ParentBased(sampling.TraceIdRatioBased(0.5))
    provider = TracerProvider(sampler=sampler)
    processor = SimpleSpanProcessor(InMemorySpanExporter())
    provider.add_span_processor(processor)
    tracer = provider.get_tracer("t")
    assert type(tracer) is Tracer
    assert pinned(tracer, "sampler") is sampler
    chain = pinned(tracer, "span_processor")
    assert type(chain) is SynchronousMultiSpanProcessor
    assert otel.start_parts(tracer) == (sampler, (processor,))
    for name in otel._PARENT_BASED_DELEGATES:
        pinned(sampler, name)
    assert otel.start_parts(trace.NoOpTracer()) is None


def test_start_attributes_deferred_are_the_spans_first_attributes() -> None:
    span = TracerProvider().get_tracer("t").start_span("s")
    otel.set_start_attributes(span, {"agentel.span.type": "TOOL", "n": 1})
    assert list(span.attributes.items()) == [("agentel.span.type", "TOOL"), ("n", 1)]
    otel.set_start_attributes(span, {"tags": ["a"]})  # not empty any more, not plain: the SDK's call
    assert span.attributes["tags"] == ("a",)
