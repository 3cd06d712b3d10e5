"""The OpenTelemetry SDK names agentel's modules build on, imported in this one place.

The SDK can raise while it is being imported: opentelemetry-sdk 1.4x reads
``OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT`` when ``opentelemetry.sdk.trace`` is imported and raises
``ValueError`` for a negative or non-integer value (an application's own ``import
opentelemetry.sdk.trace`` fails the same way). ``import agentel`` must not stop the application from
starting, so the import is tried here once. When it fails, ``UNAVAILABLE`` says why (one warning names
the cause), each name below is a stand-in (a class agentel's modules can subclass, which does
nothing) and the runtime keeps tracing off for the life of the process: every public API is then a
no-op — traced functions run untraced, ``stats()`` and ``doctor()`` say that tracing is off and why.
The SDK's own modules are left as they are: the application importing them still gets the SDK's error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

from agentel._internal_errors import logger

__all__ = [
    "ALWAYS_OFF",
    "ALWAYS_ON",
    "SERVICE_NAME",
    "UNAVAILABLE",
    "BatchSpanProcessor",
    "Event",
    "InMemorySpanExporter",
    "ParentBased",
    "ReadableSpan",
    "Resource",
    "SimpleSpanProcessor",
    "Span",
    "SpanExportResult",
    "SpanExporter",
    "SpanLimits",
    "SpanProcessor",
    "TraceIdRatioBased",
    "TracerProvider",
]

UNAVAILABLE: Optional[str] = None
"""Why the SDK could not be imported (``"ValueError: OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT must be ..."``), else None."""

if TYPE_CHECKING:
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import Event, ReadableSpan, Span, SpanLimits, SpanProcessor, TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter, SpanExportResult
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ALWAYS_ON, ParentBased, TraceIdRatioBased
else:
    try:
        from opentelemetry.sdk.resources import SERVICE_NAME, Resource
        from opentelemetry.sdk.trace import Event, ReadableSpan, Span, SpanLimits, SpanProcessor, TracerProvider
        from opentelemetry.sdk.trace.export import (
            BatchSpanProcessor,
            SimpleSpanProcessor,
            SpanExporter,
            SpanExportResult,
        )
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
        from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ALWAYS_ON, ParentBased, TraceIdRatioBased
    except Exception as exc:  # noqa: BLE001 - whatever the SDK raised: tracing is off, the application starts
        UNAVAILABLE = f"{type(exc).__name__}: {exc}"[:500]
        logger.warning(
            "agentel: tracing is off: the OpenTelemetry SDK cannot be imported (%s); your code runs untraced "
            "and agentel's API does nothing until that is fixed",
            UNAVAILABLE,
        )

        class _StandIn:
            """Stands for an SDK class that could not be imported: constructible, subclassable, inert."""

            def __init__(self, *args: Any, **kwargs: Any) -> None:
                pass

            def on_start(self, *args: Any, **kwargs: Any) -> None:
                pass

            def on_end(self, *args: Any, **kwargs: Any) -> None:
                pass

            def shutdown(self, *args: Any, **kwargs: Any) -> None:
                pass

            def force_flush(self, *args: Any, **kwargs: Any) -> bool:
                return True

        _stand_ins: dict[str, Any] = {}

        def __getattr__(name: str) -> Any:  # PEP 562: the names the failed import did not bind
            if name not in __all__:
                raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
            if name not in _stand_ins:
                _stand_ins[name] = "service.name" if name == "SERVICE_NAME" else type(name, (_StandIn,), {})
            return _stand_ins[name]
