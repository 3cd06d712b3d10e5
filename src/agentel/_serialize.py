"""Payloads (inputs, outputs, non-primitive attribute values) to JSON text within a byte budget.

``to_json`` never raises. Plain JSON-able values take a fast path (one ``json.dumps``); anything else is
first converted to JSON-able data: dataclasses, pydantic models, enums, datetimes, bytes, objects with
``to_dict``/``model_dump``, numpy values (only when numpy is already imported), then a guarded
``repr``. Cycles are detected. A payload over budget is cut so that the text is still valid JSON:
long strings end with ``…[+N chars]``, long lists with ``"…[+N items]"``, dicts with a ``"…"`` key.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import json
import math
import sys
from collections import deque
from collections.abc import Mapping
from typing import Any

MAX_DEPTH = 32
_PRIMITIVES = (str, int, float, bool, type(None))
_TRUNCATION_RESERVE = 48  # bytes kept free for the markers that say what was cut


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


def byte_size(text: str) -> int:
    """UTF-8 size of ``text`` (fast for ASCII)."""
    return len(text) if text.isascii() else len(text.encode("utf-8", "replace"))


def _fix_surrogates(text: str) -> str:
    """Lone surrogates cannot be encoded as UTF-8 by exporters: replace them with U+FFFD."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def safe_text(value: Any, fallback: str = "<unprintable>") -> str:
    """``str(value)`` that never raises and is always encodable as UTF-8 (for names and keys)."""
    try:
        text = value if isinstance(value, str) else str(value)
        if not isinstance(text, str):
            return fallback
        return _fix_surrogates(text)
    except Exception:  # noqa: BLE001
        return fallback


def to_json(value: Any, budget: int) -> str:
    """Serialize ``value`` to JSON text of at most ``budget`` UTF-8 bytes; never raises."""
    try:
        try:
            text = _dumps(value)
        except (TypeError, ValueError, RecursionError):
            text = _dumps(to_jsonable(value, budget))
        text = _fix_surrogates(text)
        if len(text) <= budget // 4 or byte_size(text) <= budget:
            return text
        return _dumps(_clip_top(json.loads(text), budget))
    except Exception:  # noqa: BLE001 - last resort: the payload must never break tracing
        return json.dumps(f"<unserializable {_type_name(value)}>")


def _clip_top(data: Any, budget: int) -> Any:
    clipped = _clip(data, budget)
    if byte_size(_dumps(clipped)) <= budget:
        return clipped
    text = _dumps(data)
    preview = text[: max(0, budget // 2 - _TRUNCATION_RESERVE)]
    return {"truncated": True, "original_bytes": byte_size(text), "preview": preview}


def _clip(data: Any, room: int) -> Any:
    """Cut JSON-able ``data`` so that its encoding fits in about ``room`` bytes."""
    if isinstance(data, str):
        return _clip_string(data, room)
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        used = 2
        keys = list(data)
        for index, key in enumerate(keys):
            key_size = byte_size(_dumps(key)) + 2
            left = room - used - key_size - _TRUNCATION_RESERVE
            if left <= 8:
                out["…"] = f"+{len(keys) - index} more entries"
                break
            item = _clip(data[key], left)
            used += key_size + byte_size(_dumps(item))
            out[key] = item
        return out
    if isinstance(data, list):
        items: list[Any] = []
        used = 2
        for index, element in enumerate(data):
            left = room - used - 1 - _TRUNCATION_RESERVE
            if left <= 8:
                items.append(f"…[+{len(data) - index} items]")
                break
            item = _clip(element, left)
            used += byte_size(_dumps(item)) + 1
            items.append(item)
        return items
    if byte_size(_dumps(data)) <= room:
        return data
    return "…"


def _clip_string(text: str, room: int) -> str:
    if byte_size(_dumps(text)) <= room:
        return text
    keep = max(0, room - _TRUNCATION_RESERVE)
    cut = text[:keep]
    while cut and byte_size(_dumps(cut)) > keep:
        cut = cut[: max(0, len(cut) - max(1, (byte_size(_dumps(cut)) - keep) // 2))]
    return f"{cut}…[+{len(text) - len(cut)} chars]"


def to_jsonable(value: Any, budget: int = 1 << 20) -> Any:
    """Convert ``value`` to data ``json.dumps`` accepts; never raises."""
    return _Converter(max_items=max(16, budget // 2)).convert(value, 0)


class _Converter:
    def __init__(self, max_items: int) -> None:
        self.max_items = max_items
        self.active: set[int] = set()  # ids on the current path: a repeat is a cycle

    def convert(self, value: Any, depth: int) -> Any:
        try:
            return self._convert(value, depth)
        except Exception:  # noqa: BLE001 - one bad element must not lose the rest
            return f"<unserializable {_type_name(value)}>"

    def _convert(self, value: Any, depth: int) -> Any:
        if isinstance(value, float):
            if math.isfinite(value):
                return value
            return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
        if isinstance(value, _PRIMITIVES):
            if isinstance(value, enum.Enum):
                return self.convert(value.value, depth)
            return value if type(value) in _PRIMITIVES else _primitive_base(value)
        if depth >= MAX_DEPTH:
            return f"<max depth {MAX_DEPTH}: {_type_name(value)}>"
        if isinstance(value, enum.Enum):
            return self.convert(value.value, depth + 1)
        if isinstance(value, (bytes, bytearray, memoryview)):
            raw = bytes(value[:64])
            return f"<{len(value)} bytes: {raw!r}{'…' if len(value) > 64 else ''}>"
        if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
            return value.isoformat()
        if isinstance(value, datetime.timedelta):
            return value.total_seconds()
        if isinstance(value, BaseException):
            return f"{type(value).__name__}: {_safe_str(value)}"
        marker = id(value)
        if marker in self.active:
            return f"<cycle: {_type_name(value)}>"
        self.active.add(marker)
        try:
            return self._convert_container(value, depth + 1)
        finally:
            self.active.discard(marker)

    def _convert_container(self, value: Any, depth: int) -> Any:
        if isinstance(value, Mapping):
            out: dict[str, Any] = {}
            for index, (key, item) in enumerate(value.items()):
                if index >= self.max_items:
                    out["…"] = f"+{len(value) - index} more entries"
                    break
                out[_key(key)] = self.convert(item, depth)
            return out
        if isinstance(value, (list, tuple, set, frozenset)) or _is_sequence_like(value):
            items = []
            for index, item in enumerate(value):
                if index >= self.max_items:
                    items.append(f"…[+{_len_or(value, index) - index} items]")
                    break
                items.append(self.convert(item, depth))
            return items
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            fields = dataclasses.fields(value)
            return {f.name: self.convert(getattr(value, f.name, None), depth) for f in fields}
        numpy = sys.modules.get("numpy")
        if numpy is not None:
            if isinstance(value, numpy.ndarray):  # nested lists when small, else a flat prefix
                small = value.size <= self.max_items
                return self.convert(value.tolist() if small else value.ravel()[: self.max_items].tolist(), depth)
            if isinstance(value, numpy.generic):
                return self.convert(value.item(), depth)
        for method in ("model_dump", "dict", "to_dict"):  # pydantic v2, pydantic v1, others
            dump = getattr(value, method, None)
            if callable(dump) and not isinstance(value, type):
                try:
                    return self.convert(dump(), depth)
                except Exception:  # noqa: BLE001 - fall through to repr
                    break
        return _safe_repr(value)


def _primitive_base(value: Any) -> Any:
    """Subclasses of str/int/float/bool as their base type (json handles those natively)."""
    for base in (bool, int, float, str):
        if isinstance(value, base):
            return base(value)
    return None


def _is_sequence_like(value: Any) -> bool:
    return isinstance(value, (deque, range)) or type(value).__name__ in ("dict_keys", "dict_values")


def _len_or(value: Any, default: int) -> int:
    try:
        return len(value)
    except Exception:  # noqa: BLE001
        return default


def _key(key: Any) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, (int, float, bool)) or key is None:
        return json.dumps(key) if not isinstance(key, str) else key
    return _safe_str(key)


def _type_name(value: Any) -> str:
    try:
        return type(value).__name__
    except Exception:  # noqa: BLE001
        return "object"


def _safe_str(value: Any) -> str:
    try:
        return str(value)
    except Exception:  # noqa: BLE001
        return _safe_repr(value)


def _safe_repr(value: Any) -> str:
    try:
        text = repr(value)
        if not isinstance(text, str):
            raise TypeError
        return text
    except Exception:  # noqa: BLE001
        return f"<unrepresentable {_type_name(value)} object>"
