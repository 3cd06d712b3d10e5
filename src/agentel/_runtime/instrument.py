"""``agentel.instrument()`` and ``AGENTEL_INSTRUMENT``: turn on installed OpenTelemetry instrumentations.

Each supported name maps to a real instrumentor package (the table below); it is enabled with
``tracer_provider=`` set to a provider that follows agentel's (``_following_provider.py``), so its spans
go wherever agentel's go — the application's provider, agentel's own, or a test capture. The
instrumentors' own content capture is set from ``AGENTEL_CAPTURE_CONTENT`` (``configure(capture_content=)``)
without overriding a value the user gave them; a conflicting user value is kept and warned about.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import threading
from dataclasses import dataclass, fields
from importlib import metadata
from typing import Any, Optional

from agentel._errors import ConfigurationError, InstrumentationError, InstrumentationNotInstalledError
from agentel._internal_errors import contained, logger
from agentel._runtime import env as _env
from agentel._runtime.following_provider import FOLLOWING_PROVIDER


@dataclass(frozen=True)
class Instrumentation:
    """One supported name: the instrumentor package, its classes, and the agentel extra pinning it."""

    name: str
    distribution: str  # the instrumentor's package on PyPI
    instrumentors: tuple[str, ...]  # "module:Class"; every one that can run is enabled (httpx + httpx2)
    extra: str  # pip install 'agentel[<extra>]' pins a working combination
    content: Optional[str]  # how its content capture is set: "genai", "openinference" or None
    native: Optional[tuple[str, str]] = None  # (library, module): releases with this module trace themselves

    @property
    def pip_install(self) -> str:
        """The command that installs a working combination."""
        return f"pip install 'agentel[{self.extra}]'"


SUPPORTED: dict[str, Instrumentation] = {
    spec.name: spec
    for spec in (
        Instrumentation(
            "openai",
            "opentelemetry-instrumentation-openai-v2",
            ("opentelemetry.instrumentation.openai_v2:OpenAIInstrumentor",),
            "openai",
            "genai",
        ),
        Instrumentation(
            "anthropic",
            "openinference-instrumentation-anthropic",
            ("openinference.instrumentation.anthropic:AnthropicInstrumentor",),
            "anthropic",
            "openinference",
            native=("anthropic", "anthropic._tracing"),
        ),
        Instrumentation(
            "langchain",
            "openinference-instrumentation-langchain",
            ("openinference.instrumentation.langchain:LangChainInstrumentor",),
            "langchain",
            "openinference",
        ),
        Instrumentation(
            "openai_agents",
            "openinference-instrumentation-openai-agents",
            ("openinference.instrumentation.openai_agents:OpenAIAgentsInstrumentor",),
            "openai-agents",
            "openinference",
        ),
        Instrumentation(
            "httpx",
            "opentelemetry-instrumentation-httpx",
            (
                "opentelemetry.instrumentation.httpx:HTTPXClientInstrumentor",
                "opentelemetry.instrumentation.httpx:HTTPX2ClientInstrumentor",  # httpx2, used by openai 3.x
            ),
            "httpx",
            None,
        ),
        Instrumentation(
            "requests",
            "opentelemetry-instrumentation-requests",
            ("opentelemetry.instrumentation.requests:RequestsInstrumentor",),
            "requests",
            None,
        ),
    )
}

_LOCK = threading.RLock()
_NATIVE_NOTED: set[str] = set()


class _Unavailable(Exception):
    """Why one instrumentor cannot be enabled; ``missing`` when its package or library is absent."""

    def __init__(self, reason: str, missing: bool) -> None:
        super().__init__(reason)
        self.missing = missing


def _supported_list() -> str:
    return ", ".join(SUPPORTED)


def _normalize(name: Any) -> str:
    if not isinstance(name, str):
        raise ConfigurationError(
            f"agentel.instrument() takes instrumentation names as strings, got {name!r}; supported: {_supported_list()}"
        )
    return name.strip().lower().replace("-", "_")


def _installed(distribution: str) -> bool:
    try:
        metadata.distribution(distribution)
        return True
    except metadata.PackageNotFoundError:
        return False


def _load(target: str) -> Any:
    """The instrumentor singleton for ``module:Class``; raises _Unavailable."""
    module_name, _, class_name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise _Unavailable(f"importing {module_name} failed ({type(exc).__name__}: {exc})", False) from exc
    cls = getattr(module, class_name, None)
    if cls is None:
        raise _Unavailable(f"{module_name} has no {class_name} (another version of the package?)", False)
    return cls()


def _dependency_problem(instrumentor: Any) -> Optional[_Unavailable]:
    """The instrumented library missing or at a version the instrumentor does not support."""
    from opentelemetry.instrumentation.dependencies import get_dependency_conflicts

    conflict = get_dependency_conflicts(instrumentor.instrumentation_dependencies())
    if conflict is None:
        return None
    found = getattr(conflict, "found", None) or getattr(conflict, "found_any", None)
    return _Unavailable(str(conflict), not found)


def _env_bool(name: str) -> Optional[bool]:
    raw = os.environ.get(name, "").strip().lower()
    if raw in ("true", "1", "yes", "on"):
        return True
    if raw in ("false", "0", "no", "off"):
        return False
    return None


# -- content capture -----------------------------------------------------------------------------

_GENAI_CONTENT = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
_GENAI_CONTENT_MODES = {"span_only", "event_only", "span_and_event"}


def _genai_latest_conventions() -> bool:
    """Whether opentelemetry-util-genai takes content modes (span_only...) rather than true/false."""
    try:
        from opentelemetry.util.genai.utils import is_experimental_mode

        return bool(is_experimental_mode())
    except Exception:  # noqa: BLE001 - an older util-genai: decided by the stability opt-in
        return "gen_ai_latest_experimental" in os.environ.get("OTEL_SEMCONV_STABILITY_OPT_IN", "")


def _genai_content(name: str, capture: bool) -> dict[str, Any]:
    """openai-v2 (and every opentelemetry-util-genai user) reads one environment variable."""
    latest = _genai_latest_conventions()
    user_value = os.environ.get(_GENAI_CONTENT, "").strip()
    if not user_value:
        if capture:  # their default is no content
            value = "span_only" if latest else "true"
            os.environ[_GENAI_CONTENT] = value
            logger.info(
                "agentel: set %s=%s for the %s instrumentation (%s is on; set %s yourself to choose otherwise)",
                _GENAI_CONTENT,
                value,
                name,
                _env.AGENTEL_CAPTURE_CONTENT,
                _GENAI_CONTENT,
            )
        return {}
    lowered = user_value.lower()
    captures = lowered in _GENAI_CONTENT_MODES if latest else lowered == "true"
    if captures != capture:
        _warn_kept(name, f"{_GENAI_CONTENT}={user_value}", captures, capture)
    return {}


_OPENINFERENCE_HIDE_FIELDS = (
    "hide_inputs",
    "hide_outputs",
    "hide_input_messages",
    "hide_output_messages",
    "hide_input_text",
    "hide_output_text",
    "hide_prompts",
    "hide_choices",
    "hide_retrieval_documents",
    "hide_embeddings_text",
)


def _openinference_content(name: str, capture: bool) -> dict[str, Any]:
    """OpenInference instrumentors take a ``TraceConfig``; fields not passed are read from OPENINFERENCE_*."""
    from openinference.instrumentation import TraceConfig

    known = {f.name: f for f in fields(TraceConfig)}
    hide: dict[str, Any] = {}
    for field_name in _OPENINFERENCE_HIDE_FIELDS:
        spec = known.get(field_name)
        if spec is None:
            continue
        variable = str(spec.metadata.get("env_var") or "")
        user_value = _env_bool(variable) if variable else None
        if user_value is None:
            if not capture:  # their default shows everything
                hide[field_name] = True
        elif user_value == capture:  # hiding is the opposite of capturing
            _warn_kept(name, f"{variable}={os.environ.get(variable, '')}", not user_value, capture)
    return {"config": TraceConfig(**hide)} if hide else {}


def _warn_kept(name: str, setting: str, captures: bool, capture: bool) -> None:
    logger.warning(
        "agentel: keeping %s (set in the environment): the %s instrumentation %s content although %s is %s",
        setting,
        name,
        "records" if captures else "does not record",
        _env.AGENTEL_CAPTURE_CONTENT,
        "true" if capture else "false",
    )


def _content_options(spec: Instrumentation) -> dict[str, Any]:
    from agentel._runtime.state import current_state

    capture = current_state().policy.capture_content
    if spec.content == "genai":
        return _genai_content(spec.name, capture)
    if spec.content == "openinference":
        return _openinference_content(spec.name, capture)
    return {}


_ANTHROPIC_TRACES = "ANTHROPIC_OPEN_TELEMETRY"
_ANTHROPIC_CONTENT = "ANTHROPIC_OPEN_TELEMETRY_TRACES_CONTENT_MODE"


def _traces_itself(spec: Instrumentation) -> bool:
    """The installed library emits its own spans (anthropic >= 2 does, unless ANTHROPIC_OPEN_TELEMETRY=false)."""
    if spec.native is None or not _installed(spec.native[0]):
        return False
    if os.environ.get(_ANTHROPIC_TRACES, "").strip().lower() == "false":
        return False  # the user turned the SDK's own spans off: use the instrumentor
    return importlib.util.find_spec(spec.native[1]) is not None


def _native_content(name: str, capture: bool) -> None:
    """The anthropic SDK's own spans: metadata only unless ANTHROPIC_OPEN_TELEMETRY_TRACES_CONTENT_MODE=content."""
    user_value = os.environ.get(_ANTHROPIC_CONTENT, "").strip()
    if not user_value:
        if capture:
            os.environ[_ANTHROPIC_CONTENT] = "content"
            logger.info(
                "agentel: set %s=content for the %s SDK's own spans (%s is on; set it yourself to choose otherwise)",
                _ANTHROPIC_CONTENT,
                name,
                _env.AGENTEL_CAPTURE_CONTENT,
            )
        return
    captures = user_value.lower() == "content"
    if captures != capture:
        _warn_kept(name, f"{_ANTHROPIC_CONTENT}={user_value}", captures, capture)


# -- enabling --------------------------------------------------------------------------------------


def _enable(spec: Instrumentation) -> None:
    """Enable every runnable instrumentor of ``spec``; raises _Unavailable when none can run."""
    if _traces_itself(spec):
        # an instrumentor on top would record every call twice (and count its tokens twice)
        from agentel._runtime.state import current_state

        _native_content(spec.name, current_state().policy.capture_content)
        if spec.name in _NATIVE_NOTED:
            return
        _NATIVE_NOTED.add(spec.name)
        logger.info(
            "agentel: %s traces its calls itself (to the global provider); %s is not added",
            spec.name,
            spec.distribution,
        )
        return
    if not _installed(spec.distribution):
        if spec.native is not None:
            raise _Unavailable(
                f"{spec.native[0]} is not installed, or is a release without its own tracing and "
                f"{spec.distribution} is not installed",
                True,
            )
        raise _Unavailable(f"{spec.distribution} is not installed", True)
    problems: list[_Unavailable] = []
    enabled = 0
    for target in spec.instrumentors:
        try:
            instrumentor = _load(target)
            if instrumentor.is_instrumented_by_opentelemetry:  # by us before, by the app or the launcher
                enabled += 1
                continue
            problem = _dependency_problem(instrumentor)
            if problem is not None:
                raise problem
            options = _content_options(spec)
            instrumentor.instrument(tracer_provider=FOLLOWING_PROVIDER, skip_dep_check=True, **options)
            enabled += 1
        except _Unavailable as unavailable:
            problems.append(unavailable)
    if not enabled:
        first = problems[0]
        raise _Unavailable("; ".join(str(p) for p in problems), all(p.missing for p in problems)) from first


def instrument(*names: str) -> list[str]:
    """Turn on installed OpenTelemetry instrumentations, recording into the provider agentel uses.

    Example::

        agentel.instrument("openai", "httpx")   # -> ["openai", "httpx"]
        agentel.instrument()                    # every supported one that is installed

    Supported: ``openai`` (opentelemetry-instrumentation-openai-v2), ``anthropic`` (the SDK's own spans
    where it has them, else OpenInference), ``langchain``, ``openai_agents`` (OpenInference), ``httpx``,
    ``requests``. Returns the names now enabled; calling
    again is harmless. Their content capture follows ``AGENTEL_CAPTURE_CONTENT``. An unknown name raises
    ``agentel.ConfigurationError`` (a ``ValueError``); a supported one that is not installed raises
    ``agentel.InstrumentationNotInstalledError`` carrying the ``pip install`` line.
    """
    wanted = [_normalize(name) for name in names]
    unknown = [name for name in wanted if name not in SUPPORTED]
    if unknown:
        raise ConfigurationError(
            f"agentel.instrument(): unknown instrumentation(s) {', '.join(map(repr, unknown))}; "
            f"supported: {_supported_list()}"
        )
    explicit = bool(wanted)
    targets = list(dict.fromkeys(wanted)) if explicit else list(SUPPORTED)
    enabled: list[str] = []
    with _LOCK:
        for name in targets:
            spec = SUPPORTED[name]
            try:
                _enable(spec)
            except _Unavailable as unavailable:
                if explicit:
                    raise _error_for(spec, unavailable) from None
                if not unavailable.missing:  # installed but unusable: say so even when not asked by name
                    logger.warning("agentel: the %s instrumentation cannot be enabled: %s", name, unavailable)
                continue
            except Exception as exc:  # noqa: BLE001 - the instrumentor's own failure
                if explicit:
                    raise InstrumentationError(
                        f"agentel.instrument({name!r}): {spec.distribution} failed to instrument: "
                        f"{type(exc).__name__}: {exc}"
                    ) from exc
                logger.warning("agentel: the %s instrumentation failed to instrument: %s", name, exc)
                continue
            enabled.append(name)
    return enabled


def _error_for(spec: Instrumentation, unavailable: _Unavailable) -> InstrumentationNotInstalledError:
    return InstrumentationNotInstalledError(
        f"agentel.instrument({spec.name!r}): {unavailable}; install a working combination with: {spec.pip_install}",
        instrumentation=spec.name,
        pip_install=spec.pip_install,
    )


_FROM_ENVIRONMENT = contained(_env.AGENTEL_INSTRUMENT)


def instrument_from_environment() -> list[str]:
    """Apply ``AGENTEL_INSTRUMENT`` (at ``import agentel``): problems are warnings, never errors."""
    raw = os.environ.get(_env.AGENTEL_INSTRUMENT, "").strip()
    if not raw:
        return []
    with _FROM_ENVIRONMENT:  # the variable never crashes the import
        parts = [part.strip().lower().replace("-", "_") for part in raw.split(",") if part.strip()]
        if parts in (["all"], ["*"]):
            return instrument()
        enabled: list[str] = []
        for name in dict.fromkeys(parts):
            if name not in SUPPORTED:
                logger.warning(
                    "agentel: %s names an unknown instrumentation %r; it is skipped (supported: %s, or all)",
                    _env.AGENTEL_INSTRUMENT,
                    name,
                    _supported_list(),
                )
                continue
            try:
                enabled.extend(instrument(name))
            except InstrumentationError as exc:
                logger.warning("agentel: %s: %s; it is skipped", _env.AGENTEL_INSTRUMENT, exc)
        return enabled
    return []
