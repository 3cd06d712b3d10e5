"""Every access to a private attribute of the OpenTelemetry API or SDK, behind a named function.

agentel relies on a few SDK internals that have no public equivalent; each one is read here and only
here, and tests/test_otel_internals.py pins each against the installed SDK, naming the attribute, so an
SDK release that renames or removes one fails loudly there instead of silently changing behaviour.
"""

from __future__ import annotations

from typing import Any, Optional

from opentelemetry import trace

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
