"""The checks and environment parsers of the settings table (``settings.OPTIONS``).

A check takes a value — a ``configure()`` argument, or environment text already parsed — and returns
the clean value or raises ``Invalid`` saying what was expected; a parser turns environment text into a
value for the check. Both sources go through the same check.
"""

from __future__ import annotations

import math
import os
from typing import Any, Callable, Optional

from agentel._conventions.dialects.registry import NAMES as DIALECT_NAMES

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}

SEMCONV_DIALECTS = DIALECT_NAMES  # the dialects agentel writes (see _conventions/dialects)

MAX_TIMEOUT_MILLIS = 3_600_000
"""Upper bound of every timeout agentel takes (exit timeout, ``force_flush``): one hour. Larger values
(``float("inf")``, huge integers) are clamped to it."""

MAX_PAYLOAD_BYTES_LIMIT = 1_048_576
"""Upper bound of ``AGENTEL_MAX_PAYLOAD_BYTES`` (1 MiB), so no single span can outgrow an OTLP batch."""


class Invalid(ValueError):
    """A value outside what a setting accepts; the message says what was expected."""


# -- checks: each takes a value (from configure(), or already parsed from the environment) and returns
# the clean value or raises Invalid(expected)


def boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise Invalid("True or False")


def int_in(minimum: int, maximum: int, clamp: bool = False) -> Callable[[Any], int]:
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


def number_in(minimum: float, maximum: float) -> Callable[[Any], float]:
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


def path(value: Any) -> str:
    """A file path (str or os.PathLike), made absolute against the current directory now."""
    if isinstance(value, bool) or not isinstance(value, (str, os.PathLike)):
        raise Invalid("a file path (str or os.PathLike)")
    text = os.fspath(value)
    if not isinstance(text, str) or not text.strip() or "\x00" in text:
        raise Invalid("a non-empty file path")
    return os.path.abspath(os.path.expanduser(text))


def text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Invalid("a non-empty string")
    return value


def semconv(value: Any) -> frozenset[str]:
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


def patterns(value: Any) -> tuple[str, ...]:
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


def processors(value: Any) -> tuple[Any, ...]:
    items = _list_or_invalid(value, "a list of span processors")
    for item in items:
        if isinstance(item, type) or not all(callable(getattr(item, m, None)) for m in ("on_start", "on_end")):
            raise Invalid(f"span processor instances (with on_start/on_end); got {type(item).__name__}")
    return tuple(items)


def exporters(value: Any) -> tuple[Any, ...]:
    items = _list_or_invalid(value, "a list of span exporters")
    for item in items:
        if isinstance(item, type) or not callable(getattr(item, "export", None)):
            raise Invalid(f"span exporter instances (with export()); got {type(item).__name__}")
    return tuple(items)


# -- parsers for environment text: turn the text into the value the check above then validates


def parse_bool(raw: str) -> Any:
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise Invalid("true or false")


def parse_int(raw: str) -> Any:
    try:
        return int(raw.strip())
    except ValueError:
        raise Invalid("an integer") from None


def parse_number(raw: str) -> Any:
    try:
        return float(raw.strip())
    except ValueError:
        raise Invalid("a number") from None


def parse_console(raw: str) -> Any:
    value = raw.strip().lower()
    return None if value == "auto" else parse_bool(value)


def parse_patterns(raw: str) -> Any:
    import json

    try:
        patterns = json.loads(raw)
    except ValueError as exc:
        raise Invalid(f"a JSON array of regular expressions ({exc})") from None
    if not isinstance(patterns, list):
        raise Invalid("a JSON array of regular expressions")
    return patterns


def prices(value: Any) -> dict[str, dict[str, float]]:
    from agentel._conventions.cost import parse_prices

    table, error = parse_prices(value)
    if error is not None:
        raise Invalid(f'model prices like {{"my-model": {{"input": 0.5, "output": 1.5}}}} ({error})')
    return table


def parse_prices_file(raw: str) -> Any:
    import json

    try:
        with open(os.path.expanduser(raw.strip()), encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError) as exc:
        raise Invalid(f"a readable JSON file of model prices ({exc})") from None


def console(value: Any) -> Optional[bool]:
    if value is None or isinstance(value, bool):
        return value
    raise Invalid("True, False, or None (auto)")
