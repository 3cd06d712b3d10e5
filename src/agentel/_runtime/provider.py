"""The process-wide ``Runtime`` (``RUNTIME``): its lifecycle — ``configure()``, ``force_flush``,
``shutdown``, the end at exit or SIGTERM, the reset in a forked child — and the hooks ``agentel.testing``
uses to route spans to a capture and put everything back.

Which provider spans go to is ``resolution.py``; the exporters and processors of agentel's own provider
are ``exporters.py`` (behind one replaceable ``pipeline.Pipeline`` per provider, so ``configure()`` can
swap them after agentel's provider became the irreplaceable global one); the settings, content policy,
tracer and sampling shortcut in effect are one frozen value, ``state.py``.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Optional

from opentelemetry import trace

from agentel import _otel_internals as _otel
from agentel._errors import ConfigurationError
from agentel._export import otel_sdk
from agentel._export.metrics import METRICS
from agentel._export.otel_sdk import SERVICE_NAME, Resource, TracerProvider
from agentel._forksafe import child_resets, new_rlock
from agentel._internal_errors import STATS, contained
from agentel._runtime import checks as _check
from agentel._runtime import settings as _config
from agentel._runtime import state as _state
from agentel._runtime.exit import ExitHooks, run_all_bounded, run_bounded
from agentel._runtime.pipeline import Pipeline, shutdown_quietly
from agentel._runtime.resolution import LATE_PROVIDER_HINT, NOT_GLOBAL_HINT, TRACING_OFF, TracerResolution, length_limit
from agentel._runtime.sampling import INACTIVE, SamplingShortcut
from agentel.version import __version__

__all__ = ["LATE_PROVIDER_HINT", "NOT_GLOBAL_HINT", "RUNTIME", "Runtime", "resolved_state"]

RETIRE_GRACE_SECONDS = 1.0

_FORGETTING_IN_CHILD = contained("forgetting the parent's state in a forked child")


class Runtime(TracerResolution):
    """Process-wide tracing state: settings, the tracer in use, agentel's own provider; its lifecycle."""

    def __init__(self) -> None:
        super().__init__()
        self.exit_hooks = ExitHooks(self._finish, self._after_fork, lambda: self.settings.exit_timeout_millis / 1000.0)

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
            # every tracer handed out follows
            if not _otel.update_resource(provider, Resource({SERVICE_NAME: settings.service_name})):
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
                    shutdown_quietly(provider)

    def set_enabled(self, enabled: bool) -> None:
        """Turn tracing on or off, keeping every other setting (``mlflow.tracing.enable/disable``)."""
        from dataclasses import replace

        with self._lock:
            state = _state.current_state()
            _state.publish(replace(state, settings=replace(state.settings, enabled=enabled)))

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
                shutdown_quietly(provider)
            METRICS.shutdown()
            if own is not None and self._own_is_global and self._own_pipeline is not None:
                # the global provider stays (OTel cannot replace it); its exporters stop until configure()
                self._retire(self._own_pipeline.replace(()))
                self.destination = "nowhere: agentel.shutdown() stopped its exporters (configure() restarts them)"
            elif own is not None:
                shutdown_quietly(own)
                self._own_provider = None
                self._own_pipeline = None
                # a shut-down global provider still hands out (no-op) tracers; our own is rebuilt lazily
                state = _state.current_state()
                self._own_tracer = None
                if state.tracer is not None:
                    tracer = own.get_tracer("agentel", __version__)
                    _state.publish(state.with_provider(tracer, state.sampling, state.length_limit))

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
            processors = _otel.span_processors(provider)
            if processors:
                for processor in processors:  # agentel's pipeline: each of its processors on its own
                    inner = processor.processors if isinstance(processor, Pipeline) else (processor,)
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
                shutdown_quietly(built)

    def begin_capture(self) -> Optional[Pipeline]:
        """A test capture starts: exporters built by ``configure()`` inside it are kept until restore;
        agentel's own exporters are paused (returned, to resume them)."""
        with self._lock:
            self._capturing += 1
            pipeline = self._own_pipeline if self.active_provider() is self._own_provider else None
            if pipeline is not None and not pipeline.paused:
                pipeline.paused = True
                return pipeline
            return None

    def end_capture(self, paused: Optional[Pipeline]) -> None:
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
            self._route_to(None)
            self._warned = set()
            self.refused_provider = None
            self.destination = "not yet decided (no span started)" if otel_sdk.UNAVAILABLE is None else TRACING_OFF
            _state.publish(_state.current_state().with_provider(None, INACTIVE, None))

    def use_provider(self, provider: TracerProvider) -> None:
        """Send agentel's spans to ``provider`` (with agentel's processor added) until state is restored."""
        with self._lock:
            provider.add_span_processor(self.processor)
            self._route_to(provider)
            tracer = provider.get_tracer("agentel", __version__)
            sampling = SamplingShortcut(provider.sampler)
            _state.publish(_state.current_state().with_provider(tracer, sampling, length_limit(provider)))
            self.destination = "a test capture"

    def save_warnings(self) -> tuple[set[str], Optional[str]]:
        """The warnings given once and the refused provider (``agentel.testing.reset``)."""
        return set(self._warned), self.refused_provider

    def restore_warnings(self, saved: tuple[set[str], Optional[str]]) -> None:
        """Undo everything since ``save_warnings()``."""
        self._warned, self.refused_provider = saved


RUNTIME = Runtime()


def resolved_state() -> tuple[_state.State, trace.Tracer]:
    """The state and the tracer for a span starting now, when ``current_state().tracer`` is ``None``:
    the provider is resolved first (adopted or built at the first span), then the state read again, so
    that span already follows the provider's limits and sampler."""
    tracer = RUNTIME.tracer()
    return _state.current_state(), tracer


RUNTIME.attach_to_global()  # the launcher case: opentelemetry-instrument installed its provider before us
