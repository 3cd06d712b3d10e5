"""Which ``TracerProvider`` agentel's spans come from, and the state published for it.

If the application installed a global SDK provider (before or after importing agentel) agentel uses it:
same resource, processors and exporters; agentel attaches its span processor at ``import agentel`` or
``configure()`` when the provider is already there, else at its first span. Otherwise agentel builds its
own SDK provider lazily, on the first span, from the environment (``OTEL_*`` read by the SDK and the
OTLP exporters themselves), and installs it as the global provider at that moment (unless
``AGENTEL_SET_GLOBAL_PROVIDER=false``), so every other instrumentation records into the same pipeline.
agentel never replaces a provider someone else installed."""

from __future__ import annotations

import logging
import weakref
from typing import Any, Optional, Sequence

from opentelemetry import trace

from agentel import _otel_internals as _otel
from agentel._background_threads import built_quietly
from agentel._export import otel_sdk
from agentel._export.health import CountingBatchSpanProcessor, quiet_repeated_export_logs
from agentel._export.metrics import METRICS
from agentel._export.otel_sdk import SpanLimits, SpanProcessor, TracerProvider
from agentel._export.processor import AgentelSpanProcessor
from agentel._export.redacting import use_redactor_source
from agentel._forksafe import new_rlock
from agentel._internal_errors import contained, logger
from agentel._payload.redact import Redactor
from agentel._runtime import otel_env as _otel_env
from agentel._runtime import settings as _config
from agentel._runtime import state as _state
from agentel._runtime.exit import ExitHooks
from agentel._runtime.exporters import (
    explicit_processors,
    explicit_setting_names,
    own_processors,
    resource,
    sampler_from_environment,
    service_name,
)
from agentel._runtime.pipeline import Pipeline, innermost, processor_names
from agentel._runtime.sampling import SamplingShortcut
from agentel.version import __version__

TRACING_OFF = f"tracing is off: the OpenTelemetry SDK cannot be imported ({otel_sdk.UNAVAILABLE})"

NOT_GLOBAL_HINT = (
    "agentel's TracerProvider is not installed as the global one (AGENTEL_SET_GLOBAL_PROVIDER=false or "
    "configure(set_global=False)): only agentel's spans are recorded; spans of other OpenTelemetry "
    "instrumentations (anything using trace.get_tracer) are not"
)


LATE_PROVIDER_HINT = (
    "an application TracerProvider was installed after agentel's first span, when agentel's own provider "
    "was already the global one; OpenTelemetry keeps the first and refuses the later one, so spans keep going "
    "to agentel's provider (its exporters from OTEL_*). Install your provider before agentel's first span, "
    "or set AGENTEL_SET_GLOBAL_PROVIDER=false"
)


_ATTACHING = contained("attaching to the global provider")
_PROCESSOR_SHUTDOWN = contained("span processor shutdown")
_RESOLVING = contained("get_tracer_provider")
_WATCHING = contained("watching for a refused provider")


class TracerResolution:
    """The provider in use and how it was chosen; the state published for it. ``Runtime`` adds the
    lifecycle (``configure``, flush, shutdown, exit, fork) and the test hooks."""

    exit_hooks: ExitHooks
    # agentel's own provider's tracer while it is not final (not global: each span looks for a global
    # provider installed since); the final tracer is the state's
    _own_tracer: Optional[trace.Tracer]
    _own_provider: Optional[TracerProvider]
    _own_pipeline: Optional[Pipeline]
    _own_is_global: bool
    _adopted_provider: Optional[Any]
    _app_pipeline: Optional[Pipeline]

    def __init__(self) -> None:
        self._lock = new_rlock()
        settings = _state.current_state().settings
        METRICS.apply(settings)
        METRICS.bind(prices=_current_prices, owns_tracing=self.exports_visible)
        self.processor = AgentelSpanProcessor(prices=_current_prices, metrics=METRICS.processor)
        use_redactor_source(self.redactor_for_export)
        self.processor.kept.configure(settings.keep_traces, settings.keep_traces_bytes)
        self._route_to(None)
        # replaced by configure(), with when: stopped once no span started on them is open
        self._retired: list[tuple[TracerProvider, float]] = []
        self._attached: "weakref.WeakKeyDictionary[Any, Optional[Pipeline]]" = weakref.WeakKeyDictionary()
        self._capturing = 0
        self._explicit: Optional[tuple[_config.Settings, list[SpanProcessor], list[str]]] = None
        self._warned: set[str] = set()
        self.refused_provider: Optional[str] = None  # class of a provider OTel refused after ours was global
        self.destination = "not yet decided (no span started)" if otel_sdk.UNAVAILABLE is None else TRACING_OFF

    # -- the state, read by the rest of agentel through current_state() (these two are for callers
    # outside the hot path: stats, doctor, compat; they read the state's other fields from it)
    @property
    def settings(self) -> _config.Settings:
        """The settings in effect."""
        return _state.current_state().settings

    @property
    def enabled(self) -> bool:
        """Whether tracing is on."""
        return _state.current_state().enabled

    def _route_to(self, adopted: Optional[Any]) -> None:
        """No provider of agentel's own (nor its tracer or pipelines); spans go to ``adopted`` (``None``:
        not decided yet)."""
        self._own_tracer = None
        self._own_provider = None
        self._own_pipeline = None
        self._own_is_global = False
        self._adopted_provider = adopted
        self._app_pipeline = None

    # -- the tracer: called on every span start whose state has no final tracer yet
    def tracer(self) -> trace.Tracer:
        """The tracer for the next span."""
        final = _state.current_state().tracer
        if final is not None:
            return final
        tracer = self._own_tracer
        provider = _otel.global_provider()
        if provider is not None and not isinstance(provider, trace.ProxyTracerProvider):
            return self._adopt(provider)
        if tracer is None:
            tracer = self._build_own()
        return tracer

    def attach_to_global(self) -> None:
        """Use the global SDK provider now if one is installed (at ``import agentel`` and ``configure()``),
        so agentel sees the spans (a server span) that start before its first own span."""
        if not self.enabled or _state.current_state().tracer is not None:
            return
        provider = _otel.global_provider()
        if provider is not None and not isinstance(provider, trace.ProxyTracerProvider):
            with _ATTACHING:
                self._adopt(provider)

    def _adopt(self, provider: Any) -> trace.Tracer:
        with self._lock:
            final = _state.current_state().tracer
            if final is not None:
                return final
            if provider is not self._own_provider:
                if isinstance(provider, TracerProvider) and provider not in self._attached:
                    provider.add_span_processor(self.processor)
                    self._attached[provider] = None
                    self.exit_hooks.install()
                self._apply_to_application(provider, self.settings)
            self._adopted_provider = provider
            tracer: trace.Tracer = provider.get_tracer("agentel", __version__)
            sampling = SamplingShortcut(getattr(provider, "sampler", None))
            _state.publish(_state.current_state().with_provider(tracer, sampling, length_limit(provider)))
            return tracer

    def _build_own(self) -> trace.Tracer:
        with self._lock:
            existing = _state.current_state().tracer or self._own_tracer
            if existing is not None:
                return existing
            quiet_repeated_export_logs()
            settings = self.settings
            provider = TracerProvider(
                resource=resource(settings),
                shutdown_on_exit=False,
                sampler=sampler_from_environment(),
                span_limits=SpanLimits(**_otel_env.span_limit_overrides()),
            )
            provider.add_span_processor(self.processor)
            pipeline = Pipeline()
            provider.add_span_processor(pipeline)
            processors, self.destination = self._own_for(settings)
            pipeline.replace(processors)
            self._own_provider, self._own_pipeline, self._own_is_global = provider, pipeline, False
            self.exit_hooks.install()
            if settings.set_global and isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
                trace.set_tracer_provider(provider)
                if trace.get_tracer_provider() is provider:
                    self._own_is_global = True
                    _watch_refused_providers(self)
                    return self._adopt(provider)
            if not settings.set_global:
                self.destination += f" (only agentel's spans: {NOT_GLOBAL_HINT.split(': ', 1)[0]})"
                self.warn_once("set_global", f"agentel: {NOT_GLOBAL_HINT}.")
            self._own_tracer = tracer = provider.get_tracer("agentel", __version__)
            sampling = SamplingShortcut(provider.sampler)
            _state.publish(_state.current_state().with_provider(None, sampling, length_limit(provider)))
            return tracer

    def redactor_for_export(self) -> Redactor:
        """The current redactor (read at each export, so ``configure(redact=...)`` applies)."""
        return _state.current_state().redactor

    def _apply_to_application(self, provider: Any, settings: _config.Settings) -> None:
        """Under an application's provider: add the exporters/processors explicitly given to agentel
        (``exporters=``, ``traces_file``, ``span_processors=``, ``console=True``) to it, warn once about
        settings that cannot apply; sets ``destination``."""
        processors, added = self._explicit_for(settings)
        name = type(provider).__name__
        service = service_name(provider)
        self.destination = f"the application's global {name} (service.name={service!r}; its processors/exporters)"
        self._app_pipeline = None
        if isinstance(provider, TracerProvider):
            pipeline = self._attached.get(provider)
            if pipeline is None and processors:
                pipeline = Pipeline()
                provider.add_span_processor(pipeline)
                self._attached[provider] = pipeline
            if pipeline is not None:
                self._swap(pipeline, processors)
                self._app_pipeline = pipeline
            if added:
                self.destination += "; also " + "; ".join(added)
        elif added:
            self.warn_once(
                f"app-provider-exporters:{name}",
                f"agentel: {', '.join(explicit_setting_names(settings))} cannot apply: spans go to the "
                f"application's global {name}, which is not an OpenTelemetry SDK TracerProvider (no processors "
                "can be added to it); configure exporters on that provider instead",
            )
        if settings.service_name and settings.service_name != service:
            self.warn_once(
                f"service_name:{settings.service_name}",
                f"agentel: service_name={settings.service_name!r} (configure() / OTEL_SERVICE_NAME for agentel) "
                f"is not applied: spans go to the application's global {name}, whose resource says "
                f"service.name={service!r}; set the service name where that provider is created",
            )

    def _explicit_for(self, settings: _config.Settings) -> tuple[list[SpanProcessor], list[str]]:
        """The processors for what was explicitly given to agentel, built once per ``Settings`` (shared
        by agentel's own provider and an application's provider that takes over later)."""
        cached = self._explicit
        if cached is None or cached[0] is not settings:
            built = built_quietly(lambda: explicit_processors(settings, self.redactor_for_export))
            cached = self._explicit = (settings, *built)
        return list(cached[1]), list(cached[2])

    def _own_for(self, settings: _config.Settings) -> tuple[list[SpanProcessor], str]:
        explicit = self._explicit_for(settings)
        return built_quietly(lambda: own_processors(settings, explicit, self.redactor_for_export))

    def warn_once(self, key: str, message: str) -> None:
        """Log ``message`` as a warning the first time ``key`` is seen."""
        if key in self._warned:
            return
        self._warned.add(key)
        logger.warning(message)

    def _retire(self, processors: Sequence[SpanProcessor], kept: Sequence[SpanProcessor] = ()) -> None:
        """Flush and shut down processors replaced by ``configure()`` (kept during a test capture).

        Processors still in use (``kept``, e.g. the same ``span_processors=`` given again) are left alone;
        an exporter given again to ``configure()`` is flushed and kept open for its new processor."""
        if self._capturing:
            return
        reused = {id(innermost(p)) for p in kept}
        for processor in processors:
            if processor in kept:
                continue
            with _PROCESSOR_SHUTDOWN:  # one failing processor must not keep the others running
                counting = getattr(processor, "_counting", None)
                if counting is not None and id(innermost(processor)) in reused:
                    counting.release_inner = False
                processor.shutdown()

    def _swap(self, pipeline: Pipeline, processors: Sequence[SpanProcessor]) -> None:
        self._retire(pipeline.replace(processors), processors)

    def tracer_provider(self) -> Any:
        """The provider agentel's spans go to, resolving it now (building agentel's own if needed).

        With tracing disabled nothing is built: the global provider (a no-op proxy if none) is returned."""
        if not self.enabled:
            return self.active_provider() or trace.get_tracer_provider()
        with _RESOLVING:
            self.tracer()
        return self.active_provider() or trace.get_tracer_provider()

    @property
    def payload_budget(self) -> int:
        """Byte budget of one payload: ``max_payload_bytes``, or the SDK's length limit when smaller."""
        return _state.current_state().policy.max_payload_bytes

    def active_provider(self) -> Optional[Any]:
        """The provider spans currently go to (``None`` before the first span)."""
        return self._adopted_provider or self._own_provider

    def own_provider(self) -> Optional[TracerProvider]:
        """agentel's own provider, if it built one."""
        return self._own_provider

    def own_provider_is_global(self) -> bool:
        """True when agentel's own provider is the process's global one."""
        return self._own_is_global

    def exports_visible(self) -> bool:
        """Whether every export of the provider in use goes through exporters agentel counts."""
        adopted = self._adopted_provider
        return adopted is None or adopted is self._own_provider

    def app_exports_counted(self) -> bool:
        """Whether exporters agentel added to the application's provider count what they export."""
        pipeline = self._app_pipeline
        return pipeline is not None and any(isinstance(p, CountingBatchSpanProcessor) for p in pipeline.processors)

    def describe(self) -> dict[str, Any]:
        """The provider in use, its resource's ``service.name`` and its processors/exporters, by class."""
        provider = self.active_provider()
        if provider is None:
            global_provider = _otel.global_provider()
            if global_provider is None or isinstance(global_provider, trace.ProxyTracerProvider):
                return {
                    "provider": "none (tracing is off)"
                    if otel_sdk.UNAVAILABLE is not None
                    else "none yet (agentel builds its own at the first span)",
                    "service_name": None,
                    "processors": [],
                }
            provider = global_provider
        if provider is self._own_provider:
            where = "global" if self._own_is_global else "not global: other instrumentations' spans are not recorded"
            label = f"agentel's own {type(provider).__name__} ({where})"
        else:
            label = f"the application's {type(provider).__name__} ({type(provider).__module__})"
        return {"provider": label, "service_name": service_name(provider), "processors": processor_names(provider)}


def _current_prices() -> Any:
    """Price data for cost attributes now (``None`` when there is none): read by the export wing."""
    return _state.current_state().policy.prices


def length_limit(provider: Any) -> Optional[int]:
    """The SDK's attribute length limit of ``provider`` (``OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT``), if any."""
    limits = _otel.span_limits(provider)
    length = getattr(limits, "max_span_attribute_length", None)
    return length if isinstance(length, int) and length >= 0 else None


class _RefusedProviderWatch(logging.Filter):
    """Notices OpenTelemetry refusing an application's provider because agentel's is already global.

    Only observes the record (always lets it through, unchanged) and adds agentel's explanation once.
    """

    def __init__(self, runtime: TracerResolution) -> None:
        super().__init__()
        self._runtime = runtime

    def filter(self, record: logging.LogRecord) -> bool:
        with _WATCHING:
            runtime = self._runtime
            if record.msg == "Overriding of current TracerProvider is not allowed" and runtime._own_is_global:
                runtime.refused_provider = "a TracerProvider"
                runtime.warn_once("refused", f"agentel: {LATE_PROVIDER_HINT}")
        return True


_watch: list[_RefusedProviderWatch] = []


def _watch_refused_providers(runtime: TracerResolution) -> None:
    if not _watch:
        _watch.append(_RefusedProviderWatch(runtime))
        logging.getLogger("opentelemetry.trace").addFilter(_watch[0])
