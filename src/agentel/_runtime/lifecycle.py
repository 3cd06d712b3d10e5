"""``configure``, ``force_flush``, ``shutdown`` and ``stats``: the process-wide controls."""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Optional, Union

from agentel._export.metrics import METRICS
from agentel._internal_errors import STATS
from agentel._runtime.provider import RUNTIME


def configure(
    *,
    enabled: Optional[bool] = None,
    service_name: Optional[str] = None,
    capture_content: Optional[bool] = None,
    max_payload_bytes: Optional[int] = None,
    trace_ttl_seconds: Optional[float] = None,
    max_open_traces: Optional[int] = None,
    traces_file: Optional[str] = None,
    semconv: Union[str, Iterable[str], None] = None,
    console: Optional[bool] = None,
    max_generator_items: Optional[int] = None,
    exit_timeout_millis: Optional[int] = None,
    redact: Optional[bool] = None,
    redact_patterns: Optional[Iterable[str]] = None,
    exporters: Optional[Iterable[Any]] = None,
    span_processors: Optional[Iterable[Any]] = None,
    set_global: Optional[bool] = None,
    metrics: Optional[bool] = None,
    prices: Optional[Mapping[str, Mapping[str, float]]] = None,
) -> None:
    """Configure agentel; arguments override the environment, ``None`` keeps it.

    Example::

        agentel.configure(service_name="support-bot", exporters=[OTLPSpanExporter()])

    ``exporters`` replaces the exporters chosen from ``OTEL_TRACES_EXPORTER``/``OTEL_EXPORTER_OTLP_*``
    (each gets a ``BatchSpanProcessor``); ``span_processors`` are added as given. ``set_global=True``
    installs agentel's provider as the global OTel provider unless the application already set one.
    ``metrics=False`` stops the GenAI metrics; ``prices`` adds your own model prices (USD per million
    tokens: ``{"my-model": {"input": 0.5, "output": 1.5, "cache_read": 0.05}}``).
    Invalid arguments raise ``agentel.ConfigurationError``. Settings apply to spans started afterwards;
    agentel's previous provider (if any) is flushed and shut down.
    """
    RUNTIME.configure(
        enabled=enabled,
        service_name=service_name,
        capture_content=capture_content,
        max_payload_bytes=max_payload_bytes,
        trace_ttl_seconds=trace_ttl_seconds,
        max_open_traces=max_open_traces,
        traces_file=traces_file,
        semconv=semconv,
        console=console,
        max_generator_items=max_generator_items,
        exit_timeout_millis=exit_timeout_millis,
        redact=redact,
        redact_patterns=redact_patterns,
        exporters=exporters,
        span_processors=span_processors,
        set_global=set_global,
        metrics=metrics,
        prices=prices,
    )


def force_flush(timeout_millis: int = 30000) -> bool:
    """Export all ended spans now; returns False if the exporters did not finish in time."""
    return RUNTIME.force_flush(timeout_millis)


def shutdown() -> None:
    """Flush and stop agentel's own provider (an application's provider is flushed, not stopped)."""
    RUNTIME.shutdown()


def get_tracer_provider() -> Any:
    """The ``TracerProvider`` agentel's spans go to: the application's global one, or agentel's own
    (built now if it was not yet). Pass it to instrumentors so their spans join the same pipeline.

    Example: ``OpenAIInstrumentor().instrument(tracer_provider=agentel.get_tracer_provider())``.
    """
    return RUNTIME.tracer_provider()


def stats() -> dict[str, Any]:
    """Counters since the process started, and where spans go.

    Spans started/ended/open, ``spans_exported``/``spans_dropped``/``export_failures`` (of the exporters
    agentel manages; ``spans_exported`` is ``None`` when spans go only to an application's exporters,
    which agentel cannot see), ``internal_errors``; ``provider``, ``service_name`` and ``processors``
    (the provider in use and its processors/exporters by class). Example: ``agentel.stats()["internal_errors"]``.
    """
    counts: dict[str, Any] = dict(STATS.snapshot())
    counts.update(RUNTIME.processor.counts())
    if not RUNTIME.exports_visible() and not RUNTIME.app_exports_counted():
        counts["spans_exported"] = None
    counts["destination"] = RUNTIME.destination
    counts["enabled"] = RUNTIME.enabled
    counts.update(RUNTIME.describe())
    counts["metrics_destination"] = METRICS.destination
    return counts
