"""Small, forgiving readers of user values and SDK objects: each answers ``None`` (or an empty value)
for what it cannot read, never raising, and never importing the SDKs whose objects it reads."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any, Optional

from agentel._payload.serialize import static_attribute, to_jsonable


def field(obj: Any, name: str) -> Any:
    """``obj[name]`` for mappings, ``obj.name`` otherwise; ``None`` when absent or unreadable."""
    if obj is None:
        return None
    if type(obj) is dict or isinstance(obj, Mapping):  # a plain dict first: no ABC check
        return obj.get(name)
    return static_attribute(obj, name)  # never through __getattr__: proxies and mocks are opaque


def first(obj: Any, *names: str) -> Any:
    """The first of ``obj``'s fields ``names`` that is not ``None``."""
    for name in names:
        value = field(obj, name)
        if value is not None:
            return value
    return None


def count(value: Any) -> Optional[int]:
    """A token count: a non-negative int (ints, integral floats, digit strings), else ``None``."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float) and value.is_integer():
        return int(value) if value >= 0 else None
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def recorded_count(value: Any) -> Optional[int]:
    """A token count read back from a span attribute: only a non-negative int counts."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def number(value: Any) -> Optional[float]:
    """A finite float, else ``None``."""
    if value is None or isinstance(value, bool):
        return None
    try:
        result = float(value)
    except (TypeError, ValueError):
        return None
    return result if math.isfinite(result) else None


def text(value: Any) -> Optional[str]:
    """``value`` as a string (``None`` stays ``None``)."""
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def strings(value: Any) -> list[str]:
    """One string or a list of them, as a list of strings."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        return [str(item) for item in value if item is not None]
    return [str(value)]


def json_value(value: Any, budget: int) -> Any:
    """JSON-able data; a string holding a JSON object or array is parsed (best effort, as the spec asks)."""
    if isinstance(value, str):
        stripped = value.strip()
        if stripped[:1] in ("{", "["):
            try:
                return json.loads(stripped)
            except ValueError:
                return value
        return value
    return to_jsonable(value, budget)


def dumps(value: Any) -> str:
    """Compact JSON text of JSON-able ``value``, UTF-8 encodable."""
    result = json.dumps(value, ensure_ascii=False, allow_nan=False)
    try:
        result.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates cannot be exported
        result = result.encode("utf-8", "replace").decode("utf-8")
    return result


def as_json_text(value: Any) -> str:
    """A string stays itself; anything else becomes its JSON text."""
    return value if isinstance(value, str) else dumps(value)
