"""Each private OpenTelemetry attribute agentel relies on, pinned against the installed SDK.

agentel reads them only in ``agentel._otel_internals``; when an SDK release renames or removes one,
the test of that function fails here, naming the attribute, instead of agentel silently degrading.
"""

from __future__ import annotations

from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.trace import SpanLimits, TracerProvider

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
