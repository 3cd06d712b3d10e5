"""Settings resolved in one place: ``configure()`` arguments, then environment variables, then defaults.

One table (``OPTIONS``) says, for every setting, its type, its range and its environment variable.
The same check runs on both sources: a malformed environment value logs one warning naming the
variable and falls back to the default; a ``configure()`` argument of the wrong type or out of range
raises ``ConfigurationError`` at the call. Reading never changes ``os.environ``.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Optional, Sequence

from agentel._conventions.dialects.registry import NAMES as DIALECT_NAMES
from agentel._errors import ConfigurationError
from agentel._internal_errors import warn_once
from agentel._runtime import env as _env

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}

SEMCONV_DIALECTS = DIALECT_NAMES  # the dialects agentel writes (see _conventions/dialects)

MAX_TIMEOUT_MILLIS = 3_600_000
"""Upper bound of every timeout agentel takes (exit timeout, ``force_flush``): one hour. Larger values
(``float("inf")``, huge integers) are clamped to it."""

MAX_PAYLOAD_BYTES_LIMIT = 1_048_576
"""Upper bound of ``AGENTEL_MAX_PAYLOAD_BYTES`` (1 MiB), so no single span can outgrow an OTLP batch."""


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
    keep_traces: int = 100
    keep_traces_bytes: int = 32 * 1024 * 1024
    exit_timeout_millis: int = 5000
    redact: bool = True
    redact_patterns: tuple[str, ...] = ()
    service_name: Optional[str] = None
    set_global: bool = True
    metrics: bool = True
    prices: Optional[dict[str, dict[str, float]]] = None  # user prices, USD per million tokens
    span_processors: Sequence[Any] = field(default_factory=tuple)
    exporters: Optional[Sequence[Any]] = None


class Invalid(ValueError):
    """A value outside what a setting accepts; the message says what was expected."""


# -- checks: each takes a value (from configure(), or already parsed from the environment) and returns
# the clean value or raises Invalid(expected)


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise Invalid("True or False")


def _int_in(minimum: int, maximum: int, clamp: bool = False) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise Invalid(f"an integer between {minimum} and {maximum}")
        if value < minimum:
            raise Invalid(f"an integer between {minimum} and {maximum}")
        if value > maximum:
            if clamp:
                return maximum
            raise Invalid(f"an integer between {minimum} and {maximum}")
        return value

    return check


def _number_in(minimum: float, maximum: float) -> Callable[[Any], float]:
    def check(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
            raise Invalid(f"a number between {minimum:g} and {maximum:g}")
        if not minimum <= value <= maximum:
            raise Invalid(f"a number between {minimum:g} and {maximum:g}")
        return float(value)

    return check


def timeout_millis(value: Any) -> int:
    """A timeout in milliseconds: a non-negative number, clamped to ``MAX_TIMEOUT_MILLIS``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:  # NaN
        raise Invalid(f"a number of milliseconds between 0 and {MAX_TIMEOUT_MILLIS}")
    if value < 0:
        raise Invalid(f"a number of milliseconds between 0 and {MAX_TIMEOUT_MILLIS}")
    return int(min(value, MAX_TIMEOUT_MILLIS))


def _path(value: Any) -> str:
    """A file path (str or os.PathLike), made absolute against the current directory now."""
    if isinstance(value, bool) or not isinstance(value, (str, os.PathLike)):
        raise Invalid("a file path (str or os.PathLike)")
    text = os.fspath(value)
    if not isinstance(text, str) or not text.strip() or "\x00" in text:
        raise Invalid("a non-empty file path")
    return os.path.abspath(os.path.expanduser(text))


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Invalid("a non-empty string")
    return value


def _semconv(value: Any) -> frozenset[str]:
    if isinstance(value, str):
        names = [value]
    else:
        try:
            names = list(value)
        except TypeError:
            raise Invalid("a comma list (or an iterable) of genai, openinference, mlflow") from None
    if not all(isinstance(name, str) for name in names):
        raise Invalid("a comma list (or an iterable) of genai, openinference, mlflow")
    parts = {part.strip().lower() for name in names for part in name.split(",") if part.strip()}
    unknown = parts - set(SEMCONV_DIALECTS)
    if unknown or not parts:
        listed = ", ".join(sorted(unknown)) or "none given"
        raise Invalid(f"names from {', '.join(SEMCONV_DIALECTS)} (unknown: {listed})")
    return frozenset(parts)


def _patterns(value: Any) -> tuple[str, ...]:
    from agentel._payload.redact import compile_error

    patterns = [value] if isinstance(value, str) else _list_or_invalid(value, "a list of regular expressions")
    for pattern in patterns:
        if not isinstance(pattern, str):
            raise Invalid("a list of regular expressions (strings)")
        error = compile_error(pattern)
        if error is not None:
            raise Invalid(f"valid regular expressions ({pattern!r}: {error})")
    return tuple(patterns)


def _list_or_invalid(value: Any, expected: str) -> list[Any]:
    if isinstance(value, (str, bytes)) or value is None:
        raise Invalid(expected)
    try:
        return list(value)
    except TypeError:
        raise Invalid(expected) from None


def _processors(value: Any) -> tuple[Any, ...]:
    items = _list_or_invalid(value, "a list of span processors")
    for item in items:
        if isinstance(item, type) or not all(callable(getattr(item, m, None)) for m in ("on_start", "on_end")):
            raise Invalid(f"span processor instances (with on_start/on_end); got {type(item).__name__}")
    return tuple(items)


def _exporters(value: Any) -> tuple[Any, ...]:
    items = _list_or_invalid(value, "a list of span exporters")
    for item in items:
        if isinstance(item, type) or not callable(getattr(item, "export", None)):
            raise Invalid(f"span exporter instances (with export()); got {type(item).__name__}")
    return tuple(items)


# -- parsers for environment text: turn the text into the value the check above then validates


def _parse_bool(raw: str) -> Any:
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise Invalid("true or false")


def _parse_int(raw: str) -> Any:
    try:
        return int(raw.strip())
    except ValueError:
        raise Invalid("an integer") from None


def _parse_number(raw: str) -> Any:
    try:
        return float(raw.strip())
    except ValueError:
        raise Invalid("a number") from None


def _parse_console(raw: str) -> Any:
    value = raw.strip().lower()
    return None if value == "auto" else _parse_bool(value)


def _parse_patterns(raw: str) -> Any:
    import json

    try:
        patterns = json.loads(raw)
    except ValueError as exc:
        raise Invalid(f"a JSON array of regular expressions ({exc})") from None
    if not isinstance(patterns, list):
        raise Invalid("a JSON array of regular expressions")
    return patterns


def _prices(value: Any) -> dict[str, dict[str, float]]:
    from agentel._conventions.cost import parse_prices

    table, error = parse_prices(value)
    if error is not None:
        raise Invalid(f'model prices like {{"my-model": {{"input": 0.5, "output": 1.5}}}} ({error})')
    return table


def _parse_prices_file(raw: str) -> Any:
    import json

    try:
        with open(os.path.expanduser(raw.strip()), encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError) as exc:
        raise Invalid(f"a readable JSON file of model prices ({exc})") from None


def _check_console(value: Any) -> Optional[bool]:
    if value is None or isinstance(value, bool):
        return value
    raise Invalid("True, False, or None (auto)")


@dataclass(frozen=True)
class Option:
    """One setting: its ``configure()`` keyword, its environment variable, how each source is read."""

    name: str
    check: Callable[[Any], Any]
    env: Optional[str] = None
    parse: Callable[[str], Any] = str


OPTIONS: tuple[Option, ...] = (
    Option("enabled", _bool, _env.AGENTEL_ENABLED, _parse_bool),
    Option("capture_content", _bool, _env.AGENTEL_CAPTURE_CONTENT, _parse_bool),
    Option("max_payload_bytes", _int_in(64, MAX_PAYLOAD_BYTES_LIMIT), _env.AGENTEL_MAX_PAYLOAD_BYTES, _parse_int),
    Option("trace_ttl_seconds", _number_in(0.001, 31_536_000), _env.AGENTEL_TRACE_TTL_SECONDS, _parse_number),
    Option("max_open_traces", _int_in(1, 10_000_000), _env.AGENTEL_MAX_OPEN_TRACES, _parse_int),
    Option("traces_file", _path, _env.AGENTEL_TRACES_FILE),
    Option("semconv", _semconv, _env.AGENTEL_SEMCONV),
    Option("console", _check_console, _env.AGENTEL_CONSOLE, _parse_console),
    Option("max_generator_items", _int_in(0, 1_000_000), _env.AGENTEL_MAX_GENERATOR_ITEMS, _parse_int),
    Option("keep_traces", _int_in(0, 100_000), _env.AGENTEL_KEEP_TRACES, _parse_int),
    Option("keep_traces_bytes", _int_in(0, 1 << 40, clamp=True), _env.AGENTEL_KEEP_TRACES_BYTES, _parse_int),
    Option("exit_timeout_millis", timeout_millis, _env.AGENTEL_EXIT_TIMEOUT_MILLIS, _parse_number),
    Option("redact", _bool, _env.AGENTEL_REDACT, _parse_bool),
    Option("redact_patterns", _patterns, _env.AGENTEL_REDACT_PATTERNS, _parse_patterns),
    Option("metrics", _bool, _env.AGENTEL_METRICS, _parse_bool),
    Option("prices", _prices, _env.AGENTEL_PRICES_FILE, _parse_prices_file),
    Option("service_name", _text),
    Option("set_global", _bool, _env.AGENTEL_SET_GLOBAL_PROVIDER, _parse_bool),
    Option("span_processors", _processors),
    Option("exporters", _exporters),
)
_BY_NAME = {option.name: option for option in OPTIONS}


def _from_env(option: Option, default: Any) -> Any:
    assert option.env is not None
    raw = os.environ.get(option.env)
    if raw is None or raw.strip() == "":
        return default
    try:
        return option.check(option.parse(raw))
    except Invalid as exc:
        shown = default if not isinstance(default, (frozenset, tuple)) else ",".join(sorted(default)) or "none"
        warn_once(
            ("env", option.env, raw),
            "agentel: ignoring %s=%r: expected %s; using the default %r",
            option.env,
            raw,
            str(exc),
            "auto" if option.name == "console" and default is None else shown,
        )
        return default


def from_environment() -> Settings:
    """Read every ``AGENTEL_*`` variable (and ``OTEL_SDK_DISABLED``) into a ``Settings``; never raises."""
    defaults = Settings()
    values = {
        option.name: _from_env(option, getattr(defaults, option.name)) for option in OPTIONS if option.env is not None
    }
    sdk_disabled = _from_env(Option("enabled", _bool, "OTEL_SDK_DISABLED", _parse_bool), False)
    values["enabled"] = values["enabled"] and not sdk_disabled
    return replace(defaults, **values)


def with_overrides(base: Settings, **overrides: Any) -> Settings:
    """Apply the non-``None`` ``configure()`` arguments over ``base``; ``ConfigurationError`` if one is invalid."""
    clean: dict[str, Any] = {}
    for key, value in overrides.items():
        if value is None:
            continue
        option = _BY_NAME.get(key)
        if option is None:
            raise ConfigurationError(f"configure() got an unknown setting {key!r}")
        try:
            clean[key] = option.check(value)
        except Invalid as exc:
            raise ConfigurationError(
                f"configure({key}=...): expected {exc}, got {type(value).__name__} {_short_repr(value)}"
            ) from None
    return replace(base, **clean)


def _short_repr(value: Any) -> str:
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a hostile __repr__
        return "<unrepresentable>"
    return text if len(text) <= 80 else text[:77] + "..."
