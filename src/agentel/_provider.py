"""Which ``TracerProvider`` agentel's spans come from, and the exporters of agentel's own provider.

If the application installed a global provider (before or after importing agentel) agentel uses it:
same resource, processors and exporters. Otherwise agentel builds its own SDK provider lazily on the
first span, from the environment (``OTEL_*`` read by the SDK and the OTLP exporters themselves). Only
``configure(set_global=True)`` installs it globally; agentel never replaces someone else's provider.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Optional

from opentelemetry import trace
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import SpanLimits, TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter

from . import _config, _otel_env
from ._cost import Prices
from ._errors import ConfigurationError
from ._exit import ExitHooks, run_all_bounded, run_bounded
from ._export_health import CountingBatchSpanProcessor, CountingExporter, quiet_repeated_export_logs
from ._forksafe import new_rlock
from ._metrics import METRICS
from ._processors import AgentelSpanProcessor
from ._redact import Redactor
from ._safety import STATS, logger, report_internal_error
from ._sampling import INACTIVE, SamplingShortcut
from .version import __version__

_OTLP_ENDPOINT_VARS = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")


_UNKNOWN = object()


class Runtime:
    """Process-wide tracing state: settings, the tracer in use, agentel's own provider."""

    def __init__(self) -> None:
        self._lock = new_rlock()
        self.settings = _config.from_environment()
        self.enabled = self.settings.enabled
        self.capture_content = self.settings.capture_content
        self.redactor = Redactor(self.settings.redact, self.settings.redact_patterns)
        self.prices = _prices(self.settings)
        METRICS.apply(self.settings)
        self.processor = AgentelSpanProcessor()
        self.processor.kept.configure(self.settings.keep_traces, self.settings.keep_traces_bytes)
        self.sampling = INACTIVE  # set when the provider is known: see _sampling.py
        self._tracer: Optional[trace.Tracer] = None
        self._tracer_is_final = False  # True once the tracer comes from a global provider
        self._own_provider: Optional[TracerProvider] = None
        self._adopted_provider: Optional[Any] = None
        self._retired: list[TracerProvider] = []  # replaced by configure() while their spans were open
        self.destination = "not yet decided (no span started)"
        self.exit_hooks = ExitHooks(self._finish, self._after_fork, lambda: self.settings.exit_timeout_millis / 1000.0)

    # -- the tracer: called on every span start, so the common path is two attribute reads
    def tracer(self) -> trace.Tracer:
        """The tracer for the next span."""
        tracer = self._tracer
        if self._tracer_is_final and tracer is not None:
            return tracer
        # the module global, not get_tracer_provider(): that reads os.environ on every call while unset
        provider = getattr(trace, "_TRACER_PROVIDER", _UNKNOWN)
        if provider is _UNKNOWN:
            provider = trace.get_tracer_provider()
        if provider is not None and not isinstance(provider, trace.ProxyTracerProvider):
            return self._adopt(provider)
        if tracer is None:
            tracer = self._build_own()
        return tracer

    def _adopt(self, provider: Any) -> trace.Tracer:
        with self._lock:
            if self._tracer_is_final and self._tracer is not None:
                return self._tracer
            if provider is not self._own_provider and isinstance(provider, TracerProvider):
                provider.add_span_processor(self.processor)
                provider.add_span_processor(METRICS.processor)
                self.exit_hooks.install()
                self.destination = "the application's global TracerProvider (its processors/exporters)"
            elif provider is not self._own_provider:
                self.destination = f"the application's global {type(provider).__name__}"
            self._adopted_provider = provider
            self.sampling = SamplingShortcut(getattr(provider, "sampler", None))
            self._tracer = provider.get_tracer("agentel", __version__)
            self._tracer_is_final = True
            return self._tracer

    def _build_own(self) -> trace.Tracer:
        with self._lock:
            if self._tracer is not None:
                return self._tracer
            quiet_repeated_export_logs()
            settings = self.settings
            attributes = {SERVICE_NAME: settings.service_name} if settings.service_name else {}
            provider = TracerProvider(
                resource=Resource.create(attributes),
                shutdown_on_exit=False,
                sampler=_sampler_from_environment(),
                span_limits=SpanLimits(**_otel_env.span_limit_overrides()),
            )
            provider.add_span_processor(self.processor)
            provider.add_span_processor(METRICS.processor)
            for processor in settings.span_processors:
                provider.add_span_processor(processor)
            self.destination = _add_exporters(provider, settings)
            self._own_provider = provider
            self.exit_hooks.install()
            if settings.set_global and isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
                trace.set_tracer_provider(provider)
                return self._adopt(provider)
            self.sampling = SamplingShortcut(provider.sampler)
            self._tracer = provider.get_tracer("agentel", __version__)
            return self._tracer

    # -- lifecycle
    def configure(self, **overrides: Any) -> None:
        """Apply ``configure()`` arguments over the environment; rebuild the own provider lazily."""
        settings = _config.with_overrides(_config.from_environment(), **overrides)
        with self._lock:
            old = self._own_provider
            self.settings = settings
            self.enabled = settings.enabled
            self.capture_content = settings.capture_content
            self.redactor = Redactor(settings.redact, settings.redact_patterns)
            self.processor.kept.configure(settings.keep_traces, settings.keep_traces_bytes)
            self.prices = _prices(settings)
            METRICS.apply(settings)
            if old is not None and self._adopted_provider is not old:
                self._own_provider = None
                self._tracer = None
                self.sampling = INACTIVE
                self._retired.append(old)
            self._reap_retired()
            if settings.set_global and self.enabled:
                self.tracer()

    def tracer_provider(self) -> Any:
        """The provider agentel's spans go to, resolving it now (building agentel's own if needed)."""
        try:
            self.tracer()
        except Exception as exc:  # noqa: BLE001
            report_internal_error("get_tracer_provider", exc)
        return self.active_provider() or trace.get_tracer_provider()

    def _retired_providers(self) -> list[TracerProvider]:
        return list(self._retired)

    def _reap_retired(self) -> None:
        """Shut down the providers replaced by ``configure()`` once no span started on them is open.

        A span open across ``configure()`` (a request in flight) ends on the provider it started on and
        is exported by it; the provider is stopped afterwards (at the latest at exit).
        """
        with self._lock:
            retired, self._retired = self._retired, []
            for provider in retired:
                if self.processor.has_open_spans_of(provider):
                    self._retired.append(provider)
                else:
                    _shutdown_quietly(provider)

    def set_enabled(self, enabled: bool) -> None:
        """Turn tracing on or off, keeping every other setting (``mlflow.tracing.enable/disable``)."""
        from dataclasses import replace

        with self._lock:
            self.settings = replace(self.settings, enabled=enabled)
            self.enabled = enabled

    def active_provider(self) -> Optional[Any]:
        """The provider spans currently go to (``None`` before the first span)."""
        return self._adopted_provider or self._own_provider

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Export every ended span now; False if that did not finish within ``timeout_millis``.

        The wait is bounded here (the SDK's batch processor can outlast its own timeout when the
        collector stalls); a flush still running in the background after the timeout is harmless.
        """
        try:
            millis = _config.timeout_millis(timeout_millis)
        except _config.Invalid as exc:
            message = f"force_flush(timeout_millis=...): expected {exc}; got {timeout_millis!r}"
            raise ConfigurationError(message) from None
        providers = [p for p in (self.active_provider(), *self._retired_providers()) if p is not None]
        outcome: list[bool] = []

        def flush_all() -> None:
            for provider in providers:
                flush = getattr(provider, "force_flush", None)
                outcome.append(bool(flush(millis)) if flush is not None else True)

        finished = run_bounded(flush_all, millis / 1000.0)
        finished = finished and all(outcome) and len(outcome) == len(providers)
        metrics_flushed = run_bounded(lambda: METRICS.force_flush(millis), millis / 1000.0)
        return finished and metrics_flushed

    def shutdown(self) -> None:
        """Flush and shut down agentel's own provider (an application's provider is only flushed)."""
        with self._lock:
            own = self._own_provider
            if self._adopted_provider is not None and self._adopted_provider is not own:
                self.force_flush()
            retired, self._retired = self._retired, []
            for provider in retired:
                _shutdown_quietly(provider)
            METRICS.shutdown()
            if own is not None:
                _shutdown_quietly(own)
                self._own_provider = None
                # a shut-down global provider still hands out (no-op) tracers; our own is rebuilt lazily
                self._tracer = own.get_tracer("agentel", __version__) if self._tracer_is_final else None

    # -- used by agentel.testing to route spans to a capture and restore everything afterwards
    _STATE_FIELDS = (
        "settings",
        "enabled",
        "capture_content",
        "redactor",
        "prices",
        "_tracer",
        "_tracer_is_final",
        "_own_provider",
        "_adopted_provider",
        "sampling",
        "destination",
    )

    def save_state(self) -> tuple[Any, ...]:
        """Everything ``configure()`` and provider resolution may change."""
        with self._lock:
            return tuple(getattr(self, name) for name in self._STATE_FIELDS)

    def restore_state(self, state: tuple[Any, ...]) -> None:
        """Undo everything since ``save_state()``; a provider built in between is shut down."""
        with self._lock:
            built = self._own_provider
            for name, value in zip(self._STATE_FIELDS, state):
                setattr(self, name, value)
            if built is not None and built is not self._own_provider:
                _shutdown_quietly(built)

    def use_provider(self, provider: TracerProvider) -> None:
        """Send spans to ``provider`` (with agentel's processor added) until state is restored."""
        with self._lock:
            provider.add_span_processor(self.processor)
            provider.add_span_processor(METRICS.processor)
            self._own_provider = None
            self._adopted_provider = provider
            self.sampling = SamplingShortcut(provider.sampler)
            self._tracer = provider.get_tracer("agentel", __version__)
            self._tracer_is_final = True
            self.destination = "a test capture"

    def _finish(self, reason: str) -> None:
        """At exit or SIGTERM: end open spans (marked), then flush (and stop our own provider), bounded."""
        self.processor.end_open_spans(reason)
        own = self._own_provider
        adopted = self._adopted_provider
        timeout_s = self.settings.exit_timeout_millis / 1000.0

        retired = self._retired_providers()
        work: list[Callable[[], Any]] = []
        if adopted is not None and adopted is not own:
            work.append(lambda: adopted.force_flush(self.settings.exit_timeout_millis))
        for provider in (own, *retired):
            if provider is None:
                continue
            # each exporter's processor shut down on its own thread: a stalled collector must not keep
            # the traces file (or another exporter) from getting its spans within the bound
            processors = getattr(getattr(provider, "_active_span_processor", None), "_span_processors", None)
            if isinstance(processors, tuple) and processors:
                work.extend(processor.shutdown for processor in processors)
            else:
                work.append(provider.shutdown)
        work.append(METRICS.shutdown)
        run_all_bounded(work, timeout_s)

    def _after_fork(self) -> None:
        """In a forked child: the parent's open spans and client traces are not this process's."""
        self._lock = new_rlock()
        self.processor.forget_after_fork()
        METRICS.after_fork()
        from ._client import REGISTRY

        REGISTRY.forget_after_fork()
        STATS.reset()


def _prices(settings: _config.Settings) -> Optional[Prices]:
    """Price data for cost attributes: the user's prices and/or genai-prices; ``None`` when neither."""
    prices = Prices(settings.prices)
    return prices if prices.available else None


def _shutdown_quietly(provider: TracerProvider) -> None:
    try:
        provider.shutdown()
    except Exception as exc:  # noqa: BLE001
        report_internal_error("provider shutdown", exc)


def _sampler_from_environment() -> Any:
    """None (the SDK reads OTEL_TRACES_SAMPLER itself), or the documented fallback when it is malformed."""
    fallback = _otel_env.sampler_fallback()
    if fallback is None:
        return None
    from opentelemetry.sdk.trace import sampling

    name, ratio = fallback
    if name.endswith("traceidratio"):
        base = sampling.TraceIdRatioBased(ratio if ratio is not None else 1.0)
        return sampling.ParentBased(base) if name.startswith("parentbased") else base
    return {
        "always_on": sampling.ALWAYS_ON,
        "always_off": sampling.ALWAYS_OFF,
        "parentbased_always_off": sampling.ParentBased(sampling.ALWAYS_OFF),
    }.get(name, sampling.ParentBased(sampling.ALWAYS_ON))


def _exporter_names() -> list[str]:
    """Exporter names from OTEL_TRACES_EXPORTER (checked), or otlp when an endpoint is set."""
    names = _otel_env.exporter_names()
    if names is not None:
        resolved = []
        for name in names:
            if name.strip().lower() == "none":
                continue
            resolved.append(_otlp_entry_point() if name.strip().lower() == "otlp" else name.strip())
        return resolved
    if any(os.environ.get(name, "").strip() for name in _OTLP_ENDPOINT_VARS):
        return [_otlp_entry_point()]
    return []


def _otlp_entry_point() -> str:
    return "otlp_proto_http" if _otel_env.otlp_protocol() == _otel_env.HTTP else "otlp_proto_grpc"


def _add_exporters(provider: TracerProvider, settings: _config.Settings) -> str:
    """Attach the configured exporters; returns a sentence saying where spans go."""
    from ._console import ConsoleTreeProcessor

    destinations: list[str] = []
    exporters: list[SpanExporter] = list(settings.exporters or ())
    console = settings.console
    names: list[str] = []
    if settings.exporters is None:
        try:
            names = _exporter_names()
        except Exception as exc:  # noqa: BLE001 - e.g. an unknown OTLP protocol
            logger.warning(
                "agentel: cannot use the exporter configured by OTEL_TRACES_EXPORTER / "
                "OTEL_EXPORTER_OTLP_*PROTOCOL (%s); printing traces to stderr instead",
                exc,
            )
            console = True
    failed = 0
    for name in names:
        if name == "console":
            console = True
            continue
        exporter = _load_exporter(name)
        if exporter is not None:
            exporters.append(exporter)
        else:
            failed += 1
    if failed and not exporters and console is None:
        logger.warning("agentel: no span exporter could be created; printing traces to stderr instead")
        console = True
    if settings.traces_file:
        from ._file_exporter import OtlpJsonFileExporter

        exporters.append(OtlpJsonFileExporter(settings.traces_file))
    batch = _otel_env.batch_options()
    for exporter in exporters:
        destination = _describe(exporter)
        provider.add_span_processor(CountingBatchSpanProcessor(CountingExporter(exporter, destination), **batch))
        destinations.append(destination)
    if console is None:  # auto: only when nothing else receives spans
        console = not exporters and not names and not settings.span_processors and not settings.traces_file
        if console and os.environ.get("OTEL_TRACES_EXPORTER", "").strip().lower() == "none":
            console = False
    if console:
        provider.add_span_processor(ConsoleTreeProcessor())
        destinations.append("a readable tree on stderr")
    if settings.span_processors:
        destinations.append(f"{len(settings.span_processors)} span processor(s) given to configure()")
    return "; ".join(destinations) or "nowhere (OTEL_TRACES_EXPORTER=none)"


def _load_exporter(name: str) -> Optional[SpanExporter]:
    from opentelemetry.sdk._configuration import _import_exporters

    try:
        exporters, _, _ = _import_exporters([name], [], [])
        exporter_class: Any = exporters[name]
        if name in ("otlp_proto_grpc", "otlp_proto_http"):
            return exporter_class(**_otlp_arguments(name))  # type: ignore[no-any-return]
        return exporter_class()  # type: ignore[no-any-return]
    except Exception as exc:  # noqa: BLE001
        logger.warning("agentel: cannot create the span exporter %r: %s; it is skipped", name, exc)
        return None


def _otlp_arguments(name: str) -> dict[str, Any]:
    """Explicit arguments for agentel's OTLP exporter: the timeout in seconds (the specification gives
    milliseconds), and the fallback for every malformed variable (the exporter would read it otherwise)."""
    protocol = _otel_env.GRPC if name == "otlp_proto_grpc" else _otel_env.HTTP
    arguments: dict[str, Any] = {"timeout": _otel_env.otlp_timeout_seconds()}
    endpoint = _otel_env.otlp_endpoint_override(protocol)
    if endpoint is not None:
        arguments["endpoint"] = endpoint
    compression = _otel_env.otlp_compression_override()
    if compression is not None:
        from grpc import Compression

        arguments["compression"] = Compression.Gzip if compression == "gzip" else Compression.NoCompression
    missing = _otel_env.missing_files()
    if missing:
        ca = _otel_env.readable_file("OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", "OTEL_EXPORTER_OTLP_CERTIFICATE")
        key = _otel_env.readable_file("OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY", "OTEL_EXPORTER_OTLP_CLIENT_KEY")
        cert = _otel_env.readable_file(
            "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE", "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE"
        )
        if protocol == _otel_env.GRPC:
            import grpc

            arguments["credentials"] = grpc.ssl_channel_credentials(
                root_certificates=_read_bytes(ca), private_key=_read_bytes(key), certificate_chain=_read_bytes(cert)
            )
        else:
            arguments["certificate_file"] = ca or True  # True: the system's trusted roots
    return arguments


def _read_bytes(path: Optional[str]) -> Optional[bytes]:
    if path is None:
        return None
    with open(path, "rb") as handle:
        return handle.read()


def _describe(exporter: SpanExporter) -> str:
    path = getattr(exporter, "path", None)
    if path is not None:
        return f"OTLP/JSON lines in {path}"
    endpoint = getattr(exporter, "_endpoint", None)
    kind = type(exporter).__module__
    if "grpc" in kind:
        return f"OTLP/gRPC to {endpoint}"
    if "http" in kind:
        return f"OTLP/HTTP to {endpoint}"
    return type(exporter).__name__


RUNTIME = Runtime()
