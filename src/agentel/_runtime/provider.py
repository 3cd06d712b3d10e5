"""Which ``TracerProvider`` agentel's spans come from, and the exporters of agentel's own provider.

If the application installed a global SDK provider (before or after importing agentel) agentel uses it:
same resource, processors and exporters; agentel attaches its span processor at ``import agentel`` or
``configure()`` when the provider is already there, else at its first span. Otherwise agentel builds its
own SDK provider lazily, on the first span, from the environment (``OTEL_*`` read by the SDK and the
OTLP exporters themselves), and installs it as the global provider at that moment (unless
``AGENTEL_SET_GLOBAL_PROVIDER=false``), so every other instrumentation records into the same pipeline.
agentel never replaces a provider someone else installed.

agentel's exporters and processors sit behind one ``_Pipeline`` processor per provider, so
``configure()`` can swap them after agentel's provider became the (irreplaceable) global one.
"""

from __future__ import annotations

import logging
import os
import time
import weakref
from typing import Any, Callable, Optional, Sequence

from opentelemetry import trace
from opentelemetry.context import Context

from agentel import _otel_internals as _otel
from agentel._conventions.policy import Policy
from agentel._errors import ConfigurationError
from agentel._export import otel_sdk
from agentel._export.health import SETUP_CODES, CountingBatchSpanProcessor, CountingExporter, quiet_repeated_export_logs
from agentel._export.metrics import METRICS
from agentel._export.otel_sdk import (
    SERVICE_NAME,
    BatchSpanProcessor,
    ReadableSpan,
    Resource,
    SimpleSpanProcessor,
    Span,
    SpanExporter,
    SpanLimits,
    SpanProcessor,
    TracerProvider,
)
from agentel._export.processor import AgentelSpanProcessor, GuardedProcessor
from agentel._export.redacting import use_redactor_source
from agentel._forksafe import child_resets, new_rlock
from agentel._internal_errors import STATS, contained, logger, report_internal_error
from agentel._payload.redact import Redactor
from agentel._runtime import checks as _check
from agentel._runtime import otel_env as _otel_env
from agentel._runtime import settings as _config
from agentel._runtime import state as _state
from agentel._runtime.exit import ExitHooks, run_all_bounded, run_bounded
from agentel._runtime.sampling import INACTIVE, SamplingShortcut
from agentel.version import __version__

_OTLP_ENDPOINT_VARS = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")


_OFF = f"tracing is off: the OpenTelemetry SDK cannot be imported ({otel_sdk.UNAVAILABLE})"
RETIRE_GRACE_SECONDS = 1.0
_FORGETTING_IN_CHILD = contained("forgetting the parent's state in a forked child")

NOT_GLOBAL_HINT = (
    "agentel's TracerProvider is not installed as the global one (AGENTEL_SET_GLOBAL_PROVIDER=false or "
    "configure(set_global=False)): only agentel's spans are recorded; spans of other OpenTelemetry "
    "instrumentations (anything using trace.get_tracer) are not"
)


_NOOP_ON_START = (SpanProcessor.on_start, BatchSpanProcessor.on_start, SimpleSpanProcessor.on_start)


class _Pipeline(SpanProcessor):
    """agentel's exporters and processors on one provider, replaceable as a whole.

    ``paused`` (set by ``agentel.testing`` during a capture) keeps spans away from them.
    """

    def __init__(self) -> None:
        self.processors: tuple[SpanProcessor, ...] = ()
        self._starters: tuple[SpanProcessor, ...] = ()  # those whose on_start does something
        self.paused = False

    def replace(self, processors: Sequence[SpanProcessor]) -> tuple[SpanProcessor, ...]:
        """Use ``processors`` from now on; returns the previous ones (not shut down)."""
        old, self.processors = self.processors, tuple(processors)
        self._starters = tuple(p for p in self.processors if type(p).on_start not in _NOOP_ON_START)
        return old

    def on_start(self, span: Span, parent_context: Optional[Context] = None) -> None:
        if self._starters and not self.paused:
            for processor in self._starters:
                processor.on_start(span, parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        if not self.paused:
            for processor in self.processors:
                processor.on_end(span)

    def shutdown(self) -> None:
        for processor in self.processors:
            processor.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return all([processor.force_flush(timeout_millis) for processor in self.processors])


class Runtime:
    """Process-wide tracing state: settings, the tracer in use, agentel's own provider."""

    def __init__(self) -> None:
        self._lock = new_rlock()
        settings = _state.current_state().settings
        METRICS.apply(settings)
        METRICS.bind(prices=_current_prices, owns_tracing=self.exports_visible)
        self.processor = AgentelSpanProcessor(prices=_current_prices, metrics=METRICS.processor)
        use_redactor_source(self.redactor_for_export)
        self.processor.kept.configure(settings.keep_traces, settings.keep_traces_bytes)
        # agentel's own provider's tracer while it is not final (not global: each span looks for a global
        # provider installed since); the final tracer is the state's
        self._own_tracer: Optional[trace.Tracer] = None
        self._own_provider: Optional[TracerProvider] = None
        self._own_pipeline: Optional[_Pipeline] = None
        self._own_is_global = False
        self._adopted_provider: Optional[Any] = None
        self._app_pipeline: Optional[_Pipeline] = None
        # replaced by configure(), with when: stopped once no span started on them is open
        self._retired: list[tuple[TracerProvider, float]] = []
        self._attached: "weakref.WeakKeyDictionary[Any, Optional[_Pipeline]]" = weakref.WeakKeyDictionary()
        self._capturing = 0
        self._explicit: Optional[tuple[_config.Settings, list[SpanProcessor], list[str]]] = None
        self._warned: set[str] = set()
        self.refused_provider: Optional[str] = None  # class of a provider OTel refused after ours was global
        self.destination = "not yet decided (no span started)" if otel_sdk.UNAVAILABLE is None else _OFF
        self.exit_hooks = ExitHooks(self._finish, self._after_fork, lambda: self.settings.exit_timeout_millis / 1000.0)

    # -- the state, read by the rest of agentel through current_state() (these are for callers outside
    # the hot path: stats, doctor, compat)
    @property
    def settings(self) -> _config.Settings:
        """The settings in effect."""
        return _state.current_state().settings

    @property
    def enabled(self) -> bool:
        """Whether tracing is on."""
        return _state.current_state().enabled

    @property
    def capture_content(self) -> bool:
        """Whether content (inputs, outputs, messages) is recorded."""
        return _state.current_state().policy.capture_content

    @property
    def redactor(self) -> Redactor:
        """The redactor in use."""
        return _state.current_state().redactor

    @property
    def prices(self) -> Any:
        """Price data for cost attributes, ``None`` when there is none."""
        return _state.current_state().policy.prices

    @property
    def sampling(self) -> SamplingShortcut:
        """The sampling shortcut of the provider in use."""
        return _state.current_state().sampling

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
            try:
                self._adopt(provider)
            except Exception as exc:  # noqa: BLE001
                report_internal_error("attaching to the global provider", exc)

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
            _state.publish(_state.current_state().with_provider(tracer, sampling, _length_limit(provider)))
            return tracer

    def _build_own(self) -> trace.Tracer:
        with self._lock:
            existing = _state.current_state().tracer or self._own_tracer
            if existing is not None:
                return existing
            quiet_repeated_export_logs()
            settings = self.settings
            provider = TracerProvider(
                resource=_resource(settings),
                shutdown_on_exit=False,
                sampler=_sampler_from_environment(),
                span_limits=SpanLimits(**_otel_env.span_limit_overrides()),
            )
            provider.add_span_processor(self.processor)
            pipeline = _Pipeline()
            provider.add_span_processor(pipeline)
            processors, self.destination = self._own_for(settings)
            pipeline.replace(processors)
            self._own_provider, self._own_pipeline, self._own_is_global = provider, pipeline, False
            self.exit_hooks.install()
            if settings.set_global and isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
                trace.set_tracer_provider(provider)
                if trace.get_tracer_provider() is provider:
                    self._own_is_global = True
                    _watch_refused_providers()
                    return self._adopt(provider)
            if not settings.set_global:
                self.destination += f" (only agentel's spans: {NOT_GLOBAL_HINT.split(': ', 1)[0]})"
                self.warn_once("set_global", f"agentel: {NOT_GLOBAL_HINT}.")
            self._own_tracer = tracer = provider.get_tracer("agentel", __version__)
            sampling = SamplingShortcut(provider.sampler)
            _state.publish(_state.current_state().with_provider(None, sampling, _length_limit(provider)))
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
        service = _service_name(provider)
        self.destination = f"the application's global {name} (service.name={service!r}; its processors/exporters)"
        self._app_pipeline = None
        if isinstance(provider, TracerProvider):
            pipeline = self._attached.get(provider)
            if pipeline is None and processors:
                pipeline = _Pipeline()
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
                f"agentel: {', '.join(_explicit_setting_names(settings))} cannot apply: spans go to the "
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
            cached = self._explicit = (settings, *_explicit_processors(settings, self.redactor_for_export))
        return list(cached[1]), list(cached[2])

    def _own_for(self, settings: _config.Settings) -> tuple[list[SpanProcessor], str]:
        return _own_processors(settings, self._explicit_for(settings), self.redactor_for_export)

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
        reused = {id(_innermost(p)) for p in kept}
        for processor in processors:
            if processor in kept:
                continue
            try:
                counting = getattr(processor, "_counting", None)
                if counting is not None and id(_innermost(processor)) in reused:
                    counting.release_inner = False
                processor.shutdown()
            except Exception as exc:  # noqa: BLE001
                report_internal_error("span processor shutdown", exc)

    def _swap(self, pipeline: _Pipeline, processors: Sequence[SpanProcessor]) -> None:
        self._retire(pipeline.replace(processors), processors)

    # -- lifecycle
    def configure(self, **overrides: Any) -> None:
        """Apply ``configure()`` arguments over the environment (see ``agentel.configure``)."""
        settings = _config.with_overrides(_config.from_environment(), **overrides)
        with self._lock:
            state = _state.current_state()
            previous = state.settings
            old = self._own_provider
            _state.publish(state.with_settings(settings))
            self.processor.kept.configure(settings.keep_traces, settings.keep_traces_bytes)
            METRICS.apply(settings)
            self._reap_retired()  # those replaced earlier; the one replaced now waits for the next call
            if old is not None and self._own_is_global:
                self._reconfigure_own_global(old, settings, previous)
            elif old is not None and self._adopted_provider is not old:
                self._own_provider = None
                self._own_pipeline = None
                state = _state.current_state()
                if state.tracer is None:
                    self._own_tracer = None
                    _state.publish(state.with_provider(None, INACTIVE, state.length_limit))
                if not self._capturing:
                    self._retired.append((old, time.monotonic()))
            adopted = self._adopted_provider
            if adopted is not None and adopted is not self._own_provider:
                self._apply_to_application(adopted, settings)
            self.attach_to_global()
            if overrides.get("set_global") is True and self.enabled:
                self.tracer()

    def _reconfigure_own_global(self, provider: TracerProvider, settings: _config.Settings, previous: Any) -> None:
        """agentel's provider is the global one and cannot be replaced: swap its exporters instead."""
        pipeline = self._own_pipeline
        if pipeline is not None:
            processors, self.destination = self._own_for(settings)
            self._swap(pipeline, processors)
        if settings.service_name != previous.service_name and settings.service_name:
            update = getattr(provider, "_update_resource", None)
            if update is not None:
                update(Resource({SERVICE_NAME: settings.service_name}))  # every tracer handed out follows
            else:
                self.warn_once(
                    "service_name-late",
                    f"agentel: service_name={settings.service_name!r} cannot apply: agentel's provider was "
                    "already installed globally; call configure() before the first span",
                )
        if not settings.set_global:
            self.warn_once(
                "set_global-late",
                "agentel: set_global=False cannot apply: agentel's provider was already installed as the global "
                "one at its first span (OpenTelemetry cannot uninstall it); call configure() before the first span",
            )

    def tracer_provider(self) -> Any:
        """The provider agentel's spans go to, resolving it now (building agentel's own if needed).

        With tracing disabled nothing is built: the global provider (a no-op proxy if none) is returned."""
        if not self.enabled:
            return self.active_provider() or trace.get_tracer_provider()
        try:
            self.tracer()
        except Exception as exc:  # noqa: BLE001
            report_internal_error("get_tracer_provider", exc)
        return self.active_provider() or trace.get_tracer_provider()

    @property
    def policy(self) -> Policy:
        """The content policy in effect, for the convention builders (callers outside the hot path)."""
        return _state.current_state().policy

    @property
    def payload_budget(self) -> int:
        """Byte budget of one payload: ``max_payload_bytes``, or the SDK's length limit when smaller."""
        return _state.current_state().policy.max_payload_bytes

    def _retired_providers(self) -> list[TracerProvider]:
        return [provider for provider, _ in self._retired]

    def _reap_retired(self) -> None:
        """Shut down the providers replaced by ``configure()`` once no span started on them is open.

        A span open across ``configure()`` (a request in flight) ends on the provider it started on and
        is exported by it; the provider is stopped afterwards (at the latest at exit). A provider replaced
        less than ``RETIRE_GRACE_SECONDS`` ago is kept too: a thread may still hold its tracer.
        """
        with self._lock:
            retired, self._retired = self._retired, []
            now = time.monotonic()
            for provider, since in retired:
                if now - since < RETIRE_GRACE_SECONDS or self.processor.has_open_spans_of(provider):
                    self._retired.append((provider, since))
                else:
                    _shutdown_quietly(provider)

    def set_enabled(self, enabled: bool) -> None:
        """Turn tracing on or off, keeping every other setting (``mlflow.tracing.enable/disable``)."""
        from dataclasses import replace

        with self._lock:
            state = _state.current_state()
            _state.publish(replace(state, settings=replace(state.settings, enabled=enabled)))

    def active_provider(self) -> Optional[Any]:
        """The provider spans currently go to (``None`` before the first span)."""
        return self._adopted_provider or self._own_provider

    def own_provider(self) -> Optional[TracerProvider]:
        """agentel's own provider, if it built one."""
        return self._own_provider

    def save_warnings(self) -> tuple[set[str], Optional[str]]:
        """The warnings given once and the refused provider (``agentel.testing.reset``)."""
        return set(self._warned), self.refused_provider

    def restore_warnings(self, saved: tuple[set[str], Optional[str]]) -> None:
        """Undo everything since ``save_warnings()``."""
        self._warned, self.refused_provider = saved

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
        return {"provider": label, "service_name": _service_name(provider), "processors": processor_names(provider)}

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Export every ended span now; False if that did not finish within ``timeout_millis``.

        The wait is bounded here (the SDK's batch processor can outlast its own timeout when the
        collector stalls); a flush still running in the background after the timeout is harmless.
        """
        try:
            millis = _check.timeout_millis(timeout_millis)
        except _check.Invalid as exc:
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
        """Flush and shut down agentel's own exporters (an application's provider is only flushed)."""
        with self._lock:
            own = self._own_provider
            if self._adopted_provider is not None and self._adopted_provider is not own:
                self.force_flush()
                if self._app_pipeline is not None:
                    self._retire(self._app_pipeline.replace(()))
            retired, self._retired = self._retired, []
            for provider, _ in retired:
                _shutdown_quietly(provider)
            METRICS.shutdown()
            if own is not None and self._own_is_global and self._own_pipeline is not None:
                # the global provider stays (OTel cannot replace it); its exporters stop until configure()
                self._retire(self._own_pipeline.replace(()))
                self.destination = "nowhere: agentel.shutdown() stopped its exporters (configure() restarts them)"
            elif own is not None:
                _shutdown_quietly(own)
                self._own_provider = None
                self._own_pipeline = None
                # a shut-down global provider still hands out (no-op) tracers; our own is rebuilt lazily
                state = _state.current_state()
                self._own_tracer = None
                if state.tracer is not None:
                    tracer = own.get_tracer("agentel", __version__)
                    _state.publish(state.with_provider(tracer, state.sampling, state.length_limit))

    # -- used by agentel.testing to route spans to a capture and restore everything afterwards
    _STATE_FIELDS = (
        "_own_tracer",
        "_own_provider",
        "_own_pipeline",
        "_own_is_global",
        "_adopted_provider",
        "_app_pipeline",
        "destination",
    )

    def save_state(self) -> tuple[Any, ...]:
        """Everything ``configure()`` and provider resolution may change."""
        with self._lock:
            fields = tuple(getattr(self, name) for name in self._STATE_FIELDS)
            pipelines = tuple((p, p.processors) for p in (self._own_pipeline, self._app_pipeline) if p is not None)
            return (_state.current_state(), *fields, pipelines)

    def restore_state(self, state: tuple[Any, ...]) -> None:
        """Undo everything since ``save_state()``; a provider or exporters built in between are shut down."""
        with self._lock:
            built = self._own_provider
            saved, *fields, pipelines = state
            _state.publish(saved)
            for name, value in zip(self._STATE_FIELDS, fields):
                setattr(self, name, value)
            for pipeline, processors in pipelines:
                current = pipeline.replace(processors)
                self._retire(current, processors)
            if built is not None and built is not self._own_provider and not self._own_is_global:
                _shutdown_quietly(built)

    def begin_capture(self) -> Optional[_Pipeline]:
        """A test capture starts: exporters built by ``configure()`` inside it are kept until restore;
        agentel's own exporters are paused (returned, to resume them)."""
        with self._lock:
            self._capturing += 1
            pipeline = self._own_pipeline if self.active_provider() is self._own_provider else None
            if pipeline is not None and not pipeline.paused:
                pipeline.paused = True
                return pipeline
            return None

    def end_capture(self, paused: Optional[_Pipeline]) -> None:
        """The capture ended: resume the exporters paused by ``begin_capture``."""
        with self._lock:
            self._capturing = max(0, self._capturing - 1)
            if paused is not None:
                paused.paused = False

    def use_settings(self, settings: _config.Settings) -> None:
        """Put ``settings`` in effect as they are, nothing else changed (``agentel.testing.reset``)."""
        with self._lock:
            self.processor.kept.configure(settings.keep_traces, settings.keep_traces_bytes)
            _state.publish(_state.current_state().with_settings(settings))

    def forget_provider(self) -> None:
        """As just imported: no provider chosen, no warning given yet (``agentel.testing.reset``)."""
        with self._lock:
            self._own_tracer = None
            self._own_provider = None
            self._own_pipeline = None
            self._own_is_global = False
            self._adopted_provider = None
            self._app_pipeline = None
            self._warned = set()
            self.refused_provider = None
            self.destination = "not yet decided (no span started)" if otel_sdk.UNAVAILABLE is None else _OFF
            _state.publish(_state.current_state().with_provider(None, INACTIVE, None))

    def use_provider(self, provider: TracerProvider) -> None:
        """Send agentel's spans to ``provider`` (with agentel's processor added) until state is restored."""
        with self._lock:
            provider.add_span_processor(self.processor)
            self._own_provider = None
            self._own_pipeline = None
            self._own_is_global = False
            self._adopted_provider = provider
            self._app_pipeline = None
            self._own_tracer = None
            tracer = provider.get_tracer("agentel", __version__)
            sampling = SamplingShortcut(provider.sampler)
            _state.publish(_state.current_state().with_provider(tracer, sampling, _length_limit(provider)))
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
                for processor in processors:  # agentel's pipeline: each of its processors on its own
                    inner = processor.processors if isinstance(processor, _Pipeline) else (processor,)
                    work.extend(p.shutdown for p in inner)
            else:
                work.append(provider.shutdown)
        work.append(METRICS.shutdown)
        run_all_bounded(work, timeout_s)

    def _after_fork(self) -> None:
        """In a forked child: the parent's open spans and client traces are not this process's."""
        self._lock = new_rlock()
        self.processor.forget_after_fork()
        METRICS.after_fork()
        for reset in child_resets():  # e.g. the client's open traces (registered by _tracing.registry)
            with _FORGETTING_IN_CHILD:
                reset()
        STATS.reset()


def _current_prices() -> Any:
    """Price data for cost attributes now (``None`` when there is none): read by the export wing."""
    return _state.current_state().policy.prices


def _length_limit(provider: Any) -> Optional[int]:
    """The SDK's attribute length limit of ``provider`` (``OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT``), if any."""
    limits = _otel.span_limits(provider)
    length = getattr(limits, "max_span_attribute_length", None)
    return length if isinstance(length, int) and length >= 0 else None


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


def _resource(settings: _config.Settings) -> Resource:
    return Resource.create({SERVICE_NAME: settings.service_name} if settings.service_name else {})


def _service_name(provider: Any) -> Optional[str]:
    resource = getattr(provider, "resource", None)
    value = getattr(resource, "attributes", {}).get(SERVICE_NAME)
    return None if value is None else str(value)


def _exporter_processor(exporter: SpanExporter, redactor: Any) -> tuple[SpanProcessor, str]:
    """An exporter of agentel's behind redaction (every span, whoever made it), counting and batching."""
    from agentel._export.redacting import RedactingSpanExporter

    destination = _describe(exporter)
    wrapped = RedactingSpanExporter(exporter, redactor)
    processor = CountingBatchSpanProcessor(CountingExporter(wrapped, destination), **_otel_env.batch_options())
    return processor, destination


def _explicit_processors(settings: _config.Settings, redactor: Any) -> tuple[list[SpanProcessor], list[str]]:
    """What was explicitly given to agentel: exporters=, traces_file, console=True, span_processors=."""
    from agentel._export.console import ConsoleTreeProcessor

    processors: list[SpanProcessor] = []
    destinations: list[str] = []
    exporters: list[SpanExporter] = list(settings.exporters or ())
    if settings.traces_file:
        from agentel._export.file import OtlpJsonFileExporter

        exporters.append(OtlpJsonFileExporter(settings.traces_file))
    for exporter in exporters:
        processor, destination = _exporter_processor(exporter, redactor)
        processors.append(processor)
        destinations.append(destination)
    if settings.console:
        processors.append(ConsoleTreeProcessor(redactor=redactor))
        destinations.append("a readable tree on stderr")
    if settings.span_processors:  # guarded: one that raises must not keep spans from the others
        processors.extend(GuardedProcessor(processor) for processor in settings.span_processors)
        destinations.append(f"{len(settings.span_processors)} span processor(s) given to configure()")
    return processors, destinations


def _explicit_setting_names(settings: _config.Settings) -> list[str]:
    names = []
    if settings.exporters:
        names.append("exporters=")
    if settings.traces_file:
        names.append(f"traces_file={settings.traces_file!r} (AGENTEL_TRACES_FILE)")
    if settings.console:
        names.append("console=True (AGENTEL_CONSOLE)")
    if settings.span_processors:
        names.append("span_processors=")
    return names


def _own_processors(
    settings: _config.Settings, explicit: tuple[list[SpanProcessor], list[str]], redactor: Any
) -> tuple[list[SpanProcessor], str]:
    """The processors of agentel's own provider — the explicit ones, then the exporters chosen by the
    environment (``OTEL_TRACES_EXPORTER``, an OTLP endpoint) and the automatic tree printer — and a
    sentence saying where spans go."""
    from agentel._export.console import ConsoleTreeProcessor

    processors, destinations = explicit
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
    found = failed = 0
    for name in names:
        if name == "console":
            console = True
            continue
        exporter = _load_exporter(name)
        if exporter is not None:
            processor, destination = _exporter_processor(exporter, redactor)
            processors.insert(found, processor)
            destinations.insert(found, destination)
            found += 1
        else:
            failed += 1
    if failed and not processors and console is None:
        logger.warning("agentel: no span exporter could be created; printing traces to stderr instead")
        console = True
    if console is None:  # auto: only when nothing else receives spans
        console = not processors and not names
        if console and os.environ.get("OTEL_TRACES_EXPORTER", "").strip().lower() == "none":
            console = False
    if console and not settings.console:  # console=True is among the explicit processors already
        processors.append(ConsoleTreeProcessor(redactor=redactor))
        destinations.append("a readable tree on stderr")
    return processors, "; ".join(destinations) or "nowhere (OTEL_TRACES_EXPORTER=none)"


def _innermost(processor: Any) -> Any:
    """The exporter at the bottom of a processor's wrappers (or the processor itself)."""
    exporter = getattr(processor, "span_exporter", None)
    if exporter is None:
        return processor
    while isinstance(getattr(exporter, "__dict__", {}).get("inner"), SpanExporter):
        exporter = exporter.__dict__["inner"]
    return exporter


def processor_names(provider: Any) -> list[str]:
    """An SDK provider's span processors by class, with exporters: ``BatchSpanProcessor(OTLPSpanExporter)``."""
    multi = getattr(provider, "_active_span_processor", None)
    names: list[str] = []
    for processor in getattr(multi, "_span_processors", ()):
        names.extend(_processor_names(processor))
    return names


def _processor_names(processor: Any) -> list[str]:
    if isinstance(processor, _Pipeline):
        return [name for inner in processor.processors for name in _processor_names(inner)]
    exporter = getattr(processor, "span_exporter", None)
    if exporter is None:
        return [type(processor).__name__]
    wrappers = []
    while hasattr(exporter, "inner") and isinstance(exporter.__dict__.get("inner"), SpanExporter):
        if type(exporter).__name__ == "RedactingSpanExporter":
            wrappers.append("redacted")
        exporter = exporter.__dict__["inner"]
    suffix = f", {', '.join(wrappers)}" if wrappers else ""
    return [f"{type(processor).__name__}({type(exporter).__name__}{suffix})"]


class _RefusedProviderWatch(logging.Filter):
    """Notices OpenTelemetry refusing an application's provider because agentel's is already global.

    Only observes the record (always lets it through, unchanged) and adds agentel's explanation once.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            if record.msg == "Overriding of current TracerProvider is not allowed" and RUNTIME._own_is_global:
                RUNTIME.refused_provider = "a TracerProvider"
                RUNTIME.warn_once("refused", f"agentel: {LATE_PROVIDER_HINT}")
        except Exception:  # noqa: BLE001
            pass
        return True


LATE_PROVIDER_HINT = (
    "an application TracerProvider was installed after agentel's first span, when agentel's own provider "
    "was already the global one; OpenTelemetry keeps the first and refuses the later one, so spans keep going "
    "to agentel's provider (its exporters from OTEL_*). Install your provider before agentel's first span, "
    "or set AGENTEL_SET_GLOBAL_PROVIDER=false"
)

_watch: list[_RefusedProviderWatch] = []


def _watch_refused_providers() -> None:
    if not _watch:
        _watch.append(_RefusedProviderWatch())
        logging.getLogger("opentelemetry.trace").addFilter(_watch[0])


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


SETUP_CODES.add(_load_exporter.__code__)


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


def resolved_state() -> tuple[_state.State, trace.Tracer]:
    """The state and the tracer for a span starting now, when ``current_state().tracer`` is ``None``:
    the provider is resolved first (adopted or built at the first span), then the state read again, so
    that span already follows the provider's limits and sampler."""
    tracer = RUNTIME.tracer()
    return _state.current_state(), tracer
RUNTIME.attach_to_global()  # the launcher case: opentelemetry-instrument installed its provider before us
