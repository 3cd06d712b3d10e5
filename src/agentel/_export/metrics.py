"""Which ``MeterProvider`` agentel's GenAI metrics are recorded on (what is recorded: ``recorder.py``;
the instruments: ``instruments.py``).

The application's global SDK ``MeterProvider`` when there is one; otherwise agentel's own, built from
``OTEL_METRICS_EXPORTER`` (``otlp``, ``prometheus``, ``console``, ``none``; the OTLP metrics endpoint
alone selects ``otlp``, the generic OTLP endpoint alone does not), installed globally when
``set_global`` is on and nobody else set one. With no exporter configured nothing is recorded at all.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Optional

from opentelemetry import metrics

from agentel._background_threads import built_quietly
from agentel._conventions.cost import Prices
from agentel._export.instruments import Instruments
from agentel._export.recorder import MetricsRecorder
from agentel._forksafe import new_rlock
from agentel._internal_errors import contained, logger, never_raises
from agentel._otel_internals import global_meter_provider, metric_exporter_class

# decided when the first span that records a metric (a model call, tool, agent or workflow) ends
_UNDECIDED = "not yet decided (no span that records a metric has ended)"


def _owns_tracing() -> bool:
    return True


class MetricsRuntime:
    """Which ``MeterProvider`` the instruments come from, and agentel's own one when it builds it.

    ``processor`` is the recorder agentel's span processor hands the spans to. What this needs from
    the runtime is given with ``bind``: the price data in use, and whether agentel owns the tracer
    provider (an application that installed its own configured its telemetry itself).
    """

    def __init__(self) -> None:
        self._lock = new_rlock()
        self.processor = MetricsRecorder(self.instruments)
        self._owns_tracing: Callable[[], bool] = _owns_tracing
        self._instruments: Optional[Instruments] = None
        self._final = False  # True once instruments come from a global SDK MeterProvider (or a test's)
        self._built = False  # agentel's own provider was decided (built, or nothing configured)
        self._own: Optional[Any] = None
        self.destination = _UNDECIDED
        self.settings: Any = None

    def apply(self, settings: Any) -> None:
        """New settings: metrics on/off. agentel's own provider is kept (its readers, e.g. the
        Prometheus endpoint, keep serving) unless the resource (service name) changed; then it is
        rebuilt lazily. Not yet built: decided again on the next span."""
        with self._lock:
            old = self.settings
            self.settings = settings
            self.processor.enabled = bool(getattr(settings, "metrics", True))
            if self._final:
                return
            same_resource = old is not None and getattr(old, "service_name", None) == getattr(
                settings, "service_name", None
            )
            if self._own is not None and same_resource:
                return
            self._shutdown_own()
            self._instruments = None
            self._built = False
            self.processor.dormant = False

    def bind(
        self,
        prices: Optional[Callable[[], Optional[Prices]]] = None,
        owns_tracing: Optional[Callable[[], bool]] = None,
    ) -> None:
        """Called by the runtime: readers of the price data in use and of whether agentel's own tracer
        provider is the one in use (or none is chosen yet)."""
        if prices is not None:
            self.processor.prices = prices
        if owns_tracing is not None:
            self._owns_tracing = owns_tracing

    def instruments(self) -> Optional[Instruments]:
        """The instruments to record on, or ``None`` when metrics go nowhere."""
        if self._final:
            return self._instruments
        provider = global_meter_provider()
        if provider is not None and provider is not self._own and _is_sdk_meter_provider(provider):
            return self._adopt(provider)
        if not self._built:
            self._build_own()
        return self._instruments

    def _adopt(self, provider: Any) -> Optional[Instruments]:
        with self._lock:
            if not self._final:
                self._shutdown_own()
                self._instruments = Instruments(provider)
                self._final = True
                self.processor.dormant = False
                self.destination = "the application's global MeterProvider (its readers/exporters)"
            return self._instruments

    def _build_own(self) -> None:
        with self._lock:
            if self._built:
                return
            self._built = True
            settings, owns_tracing = self.settings, self._owns_tracing()
            provider = _BUILDING(built_quietly)(lambda: build_meter_provider(settings, owns_tracing))
            if provider is None:
                self.destination = "nowhere (no metrics exporter configured)"
                self.processor.sleep()
                return
            self._own = provider
            self._instruments = Instruments(provider)
            self.destination = f"agentel's own MeterProvider ({provider._agentel_destination})"
            if getattr(self.settings, "set_global", False) and type(metrics.get_meter_provider()).__name__ in (
                "_ProxyMeterProvider",
                "NoOpMeterProvider",
            ):
                metrics.set_meter_provider(provider)
                self._final = True

    def use_meter_provider(self, provider: Any) -> None:
        """Record on ``provider`` until ``reset()`` (used by tests and captures)."""
        with self._lock:
            self._instruments = Instruments(provider)
            self._final = True
            self.processor.dormant = False
            self.destination = "a test MeterProvider"

    def reset(self) -> None:
        """Forget the provider choice (agentel's own provider is shut down); decided again lazily."""
        with self._lock:
            self._shutdown_own()
            self._instruments = None
            self._final = False
            self._built = False
            self.processor.dormant = False
            self.destination = _UNDECIDED

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Export recorded metrics now (agentel's own provider, or the adopted one)."""
        instruments = self._instruments
        provider = instruments.provider if instruments is not None else None
        flush = getattr(provider, "force_flush", None)
        if flush is None:
            return True
        return bool(_FLUSHING(flush)(timeout_millis))

    def shutdown(self) -> None:
        """At exit: flush an adopted provider, shut down agentel's own."""
        if self._own is None and self._final:
            self.force_flush(5000)
        with self._lock:
            self._shutdown_own()

    def _shutdown_own(self) -> None:
        own = self._own
        self._own = None
        if own is not None:
            if self._instruments is not None and self._instruments.provider is own:
                self._instruments = None
                self._built = False
            with _SHUTTING_DOWN:
                own.shutdown()

    def after_fork(self) -> None:
        """In a forked child: fresh lock and bookkeeping."""
        self._lock = new_rlock()
        self.processor.forget_after_fork()


def _is_sdk_meter_provider(provider: Any) -> bool:
    from opentelemetry.sdk.metrics import MeterProvider

    return isinstance(provider, MeterProvider)


# Only the metrics endpoint: a generic OTLP endpoint often points at a traces-only backend (Phoenix,
# MLflow), which would answer every metrics push with an error.
_OTLP_METRICS_ENDPOINT_VARS = ("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",)


def metrics_exporter_names(endpoint_selects_otlp: bool = True) -> list[str]:
    """Names from ``OTEL_METRICS_EXPORTER``; ``otlp`` when only ``OTEL_EXPORTER_OTLP_METRICS_ENDPOINT``
    is set (and ``endpoint_selects_otlp``: agentel owns the tracer provider too); else none."""
    raw = os.environ.get("OTEL_METRICS_EXPORTER", "").strip().lower()
    if raw:
        return [name.strip() for name in raw.split(",") if name.strip() and name.strip() != "none"]
    if endpoint_selects_otlp and any(os.environ.get(name, "").strip() for name in _OTLP_METRICS_ENDPOINT_VARS):
        return ["otlp"]
    return []


def _otlp_metrics_timeout_seconds() -> Optional[float]:
    for name in ("OTEL_EXPORTER_OTLP_METRICS_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT"):
        raw = os.environ.get(name, "").strip()
        if raw:
            try:
                return float(raw) / 1000.0
            except ValueError:
                return None
    return None


def build_meter_provider(settings: Any, owns_tracing: bool = True) -> Optional[Any]:
    """agentel's own ``MeterProvider`` from the environment, or ``None`` when no exporter is configured.

    ``owns_tracing``: agentel's own tracer provider is in use (or none yet). An application that
    installed its own configured its telemetry itself: an OTLP endpoint in the environment then
    selects no metrics exporter unless ``OTEL_METRICS_EXPORTER`` says so.
    """
    names = metrics_exporter_names(endpoint_selects_otlp=owns_tracing)
    if not names:
        return None
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import MetricExporter, MetricReader, PeriodicExportingMetricReader
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource

    readers: list[Any] = []
    described: list[str] = []
    for name in names:
        try:
            entry, cls = metric_exporter_class(name)
            if issubclass(cls, MetricReader):
                readers.append(cls())
                described.append(name)
            elif issubclass(cls, MetricExporter):
                timeout = _otlp_metrics_timeout_seconds() if entry.startswith("otlp") else None
                exporter = cls(timeout=timeout) if timeout is not None else cls()
                readers.append(PeriodicExportingMetricReader(exporter))
                described.append(name)
        except Exception as exc:  # noqa: BLE001 - more than a report: the documented fallback, by name
            logger.warning(
                "agentel: ignoring OTEL_METRICS_EXPORTER=%r: cannot create the metrics exporter %r (%s); "
                "using the default for it (no metrics exporter)",
                os.environ.get("OTEL_METRICS_EXPORTER", ""),
                name,
                exc,
            )
    if not readers:
        return None
    service_name = getattr(settings, "service_name", None)
    attributes = {SERVICE_NAME: service_name} if service_name else {}
    provider = MeterProvider(metric_readers=readers, resource=Resource.create(attributes), shutdown_on_exit=False)
    provider._agentel_destination = ", ".join(described)  # type: ignore[attr-defined]
    provider._agentel_readers = readers  # type: ignore[attr-defined]
    return provider


_BUILDING = never_raises("metrics: building the MeterProvider")
_FLUSHING = never_raises("metrics: force_flush", False)
_SHUTTING_DOWN = contained("metrics: MeterProvider shutdown")

METRICS = MetricsRuntime()
