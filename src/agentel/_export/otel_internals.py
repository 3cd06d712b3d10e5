"""The OpenTelemetry SDK internals the export wing reads — each in one function here, with a public
fallback, and each pinned by ``tests/test_export_otel_internals.py`` (which fails loudly when an SDK
release changes one, instead of agentel silently taking the slow or blind fallback).

Why they are read at all: the SDK's public ``span.attributes`` is a ``MappingProxyType`` over a
``BoundedAttributes``, whose misses raise and catch a ``KeyError`` (about 240 ns per absent key; the
plain dict behind it: about 12 ns). agentel's span processor looks at every span of the provider,
the application's too, so the few keys it checks per span must cost what a dict lookup costs.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional

from opentelemetry import metrics

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
