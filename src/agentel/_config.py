"""Settings resolved in one place: ``configure()`` arguments, then environment variables, then defaults.

A malformed environment value logs one warning naming the variable and falls back to the default.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Optional, Sequence, TypeVar

from opentelemetry.sdk.environment_variables import OTEL_SDK_DISABLED

from . import _env
from ._errors import ConfigurationError

logger = logging.getLogger("agentel")

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}

SEMCONV_DIALECTS = ("genai", "openinference", "mlflow")

T = TypeVar("T")


@dataclass(frozen=True)
class Settings:
    """The effective configuration; immutable, swapped as a whole by ``configure()``."""

    enabled: bool = True
    capture_content: bool = True
    max_payload_bytes: int = 8192
    trace_ttl_seconds: float = 600.0
    max_open_traces: int = 10000
    traces_file: Optional[str] = None
    semconv: frozenset[str] = frozenset({"genai", "openinference"})
    console: Optional[bool] = None  # None: auto
    max_generator_items: int = 100
    exit_timeout_millis: int = 5000
    redact: bool = True
    redact_patterns: tuple[str, ...] = ()
    service_name: Optional[str] = None
    set_global: bool = False
    span_processors: Sequence[Any] = field(default_factory=tuple)
    exporters: Optional[Sequence[Any]] = None


def _warn_malformed(name: str, raw: str, default: object, expected: str) -> None:
    logger.warning("agentel: ignoring %s=%r: expected %s; using the default %r", name, raw, expected, default)


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    _warn_malformed(name, raw, default, "true or false")
    return default


def _env_number(name: str, default: T, parse: Callable[[str], T], minimum: float) -> T:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = parse(raw.strip())
        if not value >= minimum:  # type: ignore[operator]  # also rejects NaN
            raise ValueError(raw)
        return value
    except (ValueError, OverflowError):
        _warn_malformed(name, raw, default, f"a number >= {minimum:g}")
        return default


def _env_semconv(default: frozenset[str]) -> frozenset[str]:
    raw = os.environ.get(_env.AGENTEL_SEMCONV)
    if raw is None or raw.strip() == "":
        return default
    names = {part.strip().lower() for part in raw.split(",") if part.strip()}
    unknown = names - set(SEMCONV_DIALECTS)
    if unknown or not names:
        _warn_malformed(
            _env.AGENTEL_SEMCONV, raw, ",".join(sorted(default)), "a comma list of genai, openinference, mlflow"
        )
        names &= set(SEMCONV_DIALECTS)
        return frozenset(names) or default
    return frozenset(names)


def _env_console() -> Optional[bool]:
    raw = os.environ.get(_env.AGENTEL_CONSOLE)
    value = (raw or "").strip().lower()
    if value in ("", "auto"):
        return None
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    _warn_malformed(_env.AGENTEL_CONSOLE, raw or "", "auto", "true, false or auto")
    return None


def _env_patterns() -> tuple[str, ...]:
    from ._redact import parse_patterns

    raw = os.environ.get(_env.AGENTEL_REDACT_PATTERNS)
    patterns, error = parse_patterns(raw)
    if error is not None:
        _warn_malformed(
            _env.AGENTEL_REDACT_PATTERNS, raw or "", "none", f"a JSON array of regular expressions ({error})"
        )
    return tuple(patterns)


def from_environment() -> Settings:
    """Read every ``AGENTEL_*`` variable (and ``OTEL_SDK_DISABLED``) into a ``Settings``."""
    d = Settings()
    enabled = _env_bool(_env.AGENTEL_ENABLED, d.enabled) and not _env_bool(OTEL_SDK_DISABLED, False)
    traces_file = os.environ.get(_env.AGENTEL_TRACES_FILE) or None
    return Settings(
        enabled=enabled,
        capture_content=_env_bool(_env.AGENTEL_CAPTURE_CONTENT, d.capture_content),
        max_payload_bytes=_env_number(_env.AGENTEL_MAX_PAYLOAD_BYTES, d.max_payload_bytes, int, 64),
        trace_ttl_seconds=_env_number(_env.AGENTEL_TRACE_TTL_SECONDS, d.trace_ttl_seconds, float, 0.001),
        max_open_traces=_env_number(_env.AGENTEL_MAX_OPEN_TRACES, d.max_open_traces, int, 1),
        traces_file=traces_file,
        semconv=_env_semconv(d.semconv),
        console=_env_console(),
        max_generator_items=_env_number(_env.AGENTEL_MAX_GENERATOR_ITEMS, d.max_generator_items, int, 0),
        exit_timeout_millis=_env_number(_env.AGENTEL_EXIT_TIMEOUT_MILLIS, d.exit_timeout_millis, int, 0),
        redact=_env_bool(_env.AGENTEL_REDACT, d.redact),
        redact_patterns=_env_patterns(),
    )


def with_overrides(base: Settings, **overrides: Any) -> Settings:
    """Apply the non-``None`` ``configure()`` arguments over ``base``, validating each."""
    clean: dict[str, Any] = {}
    for key, value in overrides.items():
        if value is None:
            continue
        if key == "semconv":
            names = [value] if isinstance(value, str) else list(value)
            parts = {p.strip().lower() for n in names for p in n.split(",") if p.strip()}
            unknown = parts - set(SEMCONV_DIALECTS)
            if unknown:
                raise ConfigurationError(
                    f"unknown semconv dialect(s) {sorted(unknown)}; choose from {SEMCONV_DIALECTS}"
                )
            value = frozenset(parts)
        elif key == "max_payload_bytes" and (not isinstance(value, int) or value < 64):
            raise ConfigurationError(f"max_payload_bytes must be an int >= 64, got {value!r}")
        elif key in ("span_processors", "exporters"):
            value = tuple(value)
        elif key == "redact_patterns":
            from ._redact import parse_patterns

            patterns = [value] if isinstance(value, str) else list(value)
            _, error = parse_patterns(json.dumps(patterns))
            if error is not None:
                raise ConfigurationError(f"redact_patterns: {error}")
            value = tuple(patterns)
        clean[key] = value
    return replace(base, **clean)
