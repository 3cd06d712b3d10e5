"""Every access to a private attribute of the OpenTelemetry API or SDK, behind a named function.

agentel relies on a few SDK internals that have no public equivalent; each one is read here and only
here, and tests/test_otel_internals.py pins each against the installed SDK, naming the attribute, so an
SDK release that renames or removes one fails loudly there instead of silently changing behaviour.

Why the span readers exist: the SDK's public ``span.attributes`` is a ``MappingProxyType`` over a
``BoundedAttributes``, whose misses raise and catch a ``KeyError`` (about 240 ns per absent key; the
plain dict behind it: about 12 ns). agentel's span processor looks at every span of the provider, the
application's too, so the few keys it checks per span must cost what a dict lookup costs.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional

from opentelemetry import metrics, trace

_UNKNOWN = object()


def global_provider() -> Any:
    """The provider installed with ``trace.set_tracer_provider`` (``None`` while none is).

    The module global ``trace._TRACER_PROVIDER``, not ``get_tracer_provider()``: that reads
    ``os.environ`` on every call while no provider is set, and this is read on every span start until
    a provider is final. Falls back to the public call if the global is gone."""
    provider = getattr(trace, "_TRACER_PROVIDER", _UNKNOWN)
    if provider is _UNKNOWN:
        provider = trace.get_tracer_provider()
        return None if isinstance(provider, trace.ProxyTracerProvider) else provider
    return provider


def clear_global_provider() -> tuple[Any, Any]:
    """Uninstall the global provider (tests only: OpenTelemetry allows setting it once); returns what
    ``restore_global_provider`` needs to put it back."""
    from opentelemetry.util._once import Once

    saved = (trace._TRACER_PROVIDER, trace._TRACER_PROVIDER_SET_ONCE)
    trace._TRACER_PROVIDER = None
    trace._TRACER_PROVIDER_SET_ONCE = Once()
    return saved


def restore_global_provider(saved: tuple[Any, Any]) -> None:
    """Put back the global provider ``clear_global_provider`` removed."""
    trace._TRACER_PROVIDER, trace._TRACER_PROVIDER_SET_ONCE = saved


def span_limits(provider: Any) -> Optional[Any]:
    """The ``SpanLimits`` an SDK provider applies (``TracerProvider._span_limits``), ``None`` if unknown."""
    return getattr(provider, "_span_limits", None)


_EMPTY: Mapping[str, Any] = {}


def attribute_dict(span: Any) -> Mapping[str, Any]:
    """The attributes of an SDK span (open or ended) as the plain dict the SDK keeps; read only.

    Another object (a redacted copy, a test double) gives its public ``attributes``.
    """
    try:
        return span._attributes._dict  # type: ignore[no-any-return]
    except AttributeError:
        return span.attributes or _EMPTY


def plain_mapping(attributes: Any) -> Mapping[str, Any]:
    """The plain dict behind a ``BoundedAttributes`` (iterating the mapping itself takes a lock per
    item: about 10 times slower); any other mapping as it is."""
    inner = getattr(attributes, "_dict", None)
    return inner if isinstance(inner, dict) else (attributes or _EMPTY)


def span_events(span: Any) -> Any:
    """The events of an SDK span without the tuple copy the public ``events`` makes (read only)."""
    events = getattr(span, "_events", None)
    return span.events if events is None else events


def global_meter_provider() -> Optional[Any]:
    """The ``MeterProvider`` set globally, or ``None`` — without the environment lookup that
    ``metrics.get_meter_provider()`` does on every call while none is set."""
    internal = getattr(metrics, "_internal", None)
    provider = getattr(internal, "_METER_PROVIDER", None)
    return provider


def started_on(span: Any, provider: Any) -> bool:
    """Whether ``span`` was started on ``provider`` (an SDK span keeps its provider's processor chain)."""
    pipeline = getattr(provider, "_active_span_processor", None)
    return pipeline is not None and getattr(span, "_span_processor", None) is pipeline


def queued_spans(batch_processor: Any) -> int:
    """How many spans an SDK ``BatchSpanProcessor`` holds in its queue (0 when that cannot be read)."""
    queue = getattr(getattr(batch_processor, "_batch_processor", None), "_queue", ())
    try:
        return len(queue)
    except TypeError:
        return 0
