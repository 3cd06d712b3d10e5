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
import re
import sys
import types
from collections import deque
from collections.abc import Mapping
from typing import Any

MAX_DEPTH = 32
_PRIMITIVES = (str, int, float, bool, type(None))
_TRUNCATION_RESERVE = 48  # bytes kept free for the markers that say what was cut
_CUT_MARKER = re.compile(r"…\[\+(\d+) chars\]$")
_ITEMS_MARKER = re.compile(r"…\[\+(\d+) items\]")


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
        if _fits_quick_path(value, budget):
            try:
                text = _dumps(value)
            except (TypeError, ValueError, RecursionError):
                text = _dumps(to_jsonable(value, budget))
        else:  # large: convert only what can fit, never the whole value
            text = _dumps(to_jsonable(value, budget))
        text = _fix_surrogates(text)
        if len(text) <= budget // 4 or byte_size(text) <= budget:
            return text
        clipped = _dumps(_clip_top(json.loads(text), budget))
        return clipped if byte_size(clipped) <= budget else _smallest_json(budget)
    except Exception:  # noqa: BLE001 - last resort: the payload must never break tracing
        fallback = json.dumps(f"<unserializable {_type_name(value)}>")
        return fallback if len(fallback) <= budget else _smallest_json(budget)


def _smallest_json(budget: int) -> str:
    """Valid JSON saying "cut" in at most ``budget`` bytes, for budgets too small for a preview."""
    for candidate in ('"…"', "null", "0"):
        if byte_size(candidate) <= budget:
            return candidate
    return "0"


def _fits_quick_path(value: Any, budget: int) -> bool:
    """Whether plain JSON data this small can go through one ``json.dumps`` as a whole.

    Walks at most about ``budget`` elements (each costs at least one byte of JSON): a huge list, dict
    or string is seen to be too big after that much work, not after converting all of it.
    """
    kind = type(value)
    if kind is dict and len(value) <= 32:  # the usual case, inputs bound to a signature: one flat pass
        left = budget
        for key, item in value.items():
            if type(key) is str:
                left -= len(key)
            item_kind = type(item)
            if item_kind is str:
                left -= len(item) + 32
            elif item_kind in _FLAT:
                left -= 32
            else:
                return _fits_walk(value, budget)
        return left >= 0
    if kind is str:
        return len(value) <= budget
    if kind in _FLAT:
        return True
    return _fits_walk(value, budget)


_FLAT = (int, float, bool, type(None))


def _fits_walk(value: Any, budget: int) -> bool:
    left = budget
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is str:
            left -= len(item) + 2
        elif kind is dict:
            left -= len(item) + 2
            if left >= 0:
                stack.extend(item.values())
                left -= sum(len(key) if type(key) is str else 8 for key in item)
        elif kind is list or kind is tuple:
            left -= len(item) + 2
            if left >= 0:
                stack.extend(item)
        else:
            left -= 1
        if left < 0:
            return False
    return True


def json_size_hint(value: Any, limit: int) -> int:
    """About how many bytes of JSON plain data ``value`` makes (counting stops past ``limit``);
    -1 when ``value`` is not plain JSON data (an object: its size is unknown without converting it)."""
    left = limit
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is str:
            left -= len(item) + 2
        elif kind in _FLAT:
            left -= 8
        elif kind is dict:
            left -= 2 * len(item) + 2
            stack.extend(item.values())
            stack.extend(item.keys())
        elif kind is list or kind is tuple:
            left -= len(item) + 2
            stack.extend(item)
        else:
            return -1
        if left < 0:
            return limit + 1
    return limit - left


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
            key_size = byte_size(_dumps(key)) + 4  # the key, ": " and ", "
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
        not_kept = 0
        last = data[-1] if data else None
        marker = _ITEMS_MARKER.fullmatch(last) if isinstance(last, str) else None
        if marker is not None:  # cut once already by the converter: count from the original length
            not_kept = int(marker.group(1))
            data = data[:-1]
        for index, element in enumerate(data):
            left = room - used - 2 - _TRUNCATION_RESERVE
            if left <= 8:
                not_kept += len(data) - index
                break
            item = _clip(element, left)
            used += byte_size(_dumps(item)) + 2  # the item and ", "
            items.append(item)
        if not_kept:
            items.append(f"…[+{not_kept} items]")
        return items
    if byte_size(_dumps(data)) <= room:
        return data
    return "…"


def _clip_string(text: str, room: int) -> str:
    if byte_size(_dumps(text)) <= room:
        return text
    already = 0
    marker = _CUT_MARKER.search(text)
    if marker is not None:  # cut once already by the converter: count from the original length
        already = int(marker.group(1))
        text = text[: marker.start()]
    keep = max(0, room - _TRUNCATION_RESERVE)
    cut = text[:keep]
    while cut and byte_size(_dumps(cut)) > keep:
        cut = cut[: max(0, len(cut) - max(1, (byte_size(_dumps(cut)) - keep) // 2))]
    return f"{cut}…[+{len(text) - len(cut) + already} chars]"


def to_jsonable(value: Any, budget: int = 1 << 20) -> Any:
    """Convert ``value`` to data ``json.dumps`` accepts; never raises."""
    return _Converter(max_items=max(16, budget // 2), max_chars=max(64, budget)).convert(value, 0)


class _Converter:
    """Converts at most ``max_items`` elements in all (each is at least two bytes of JSON) and strings
    of at most ``max_chars``: the cost follows the budget, not the size of the value."""

    def __init__(self, max_items: int, max_chars: int) -> None:
        self.max_items = max_items
        self.left = max_items  # elements still allowed, over the whole value
        self.max_chars = max_chars
        self.active: set[int] = set()  # ids on the current path: a repeat is a cycle

    def convert(self, value: Any, depth: int) -> Any:
        self.left -= 1
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
            value = value if type(value) in _PRIMITIVES else _primitive_base(value)
            if type(value) is str and len(value) > self.max_chars:
                return f"{value[: self.max_chars]}…[+{len(value) - self.max_chars} chars]"
            return value
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
                if index >= self.max_items or self.left <= 0:
                    out["…"] = f"+{len(value) - index} more entries"
                    break
                out[_key(key)] = self.convert(item, depth)
            return out
        if isinstance(value, (list, tuple, set, frozenset)) or _is_sequence_like(value):
            items = []
            for index, item in enumerate(value):
                if index >= self.max_items or self.left <= 0:
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
                room = max(1, min(self.max_items, self.left))
                small = value.size <= room
                return self.convert(value.tolist() if small else value.ravel()[:room].tolist(), depth)
            if isinstance(value, numpy.generic):
                return self.convert(value.item(), depth)
        if not isinstance(value, type):
            for method in ("model_dump", "dict", "to_dict"):  # pydantic v2, pydantic v1, others
                dump = _defined_on_type(value, method)
                if dump is not None:
                    try:
                        return self.convert(dump(), depth)
                    except Exception:  # noqa: BLE001 - fall through to repr
                        break
        return _safe_repr(value)


_MISSING = object()


def static_attribute(value: Any, name: str) -> Any:
    """``value.name`` as Python would find it, minus ``__getattr__``; ``None`` when absent or failing.

    The instance's own ``__dict__`` and what its classes define (properties and slots included) are
    read; a class's ``__getattr__`` never runs — so reading an RPC proxy or a mock has no effect on
    it (no network call, no recorded call), and an attribute they would invent reads as absent.
    """
    try:
        found: Any = _MISSING
        for klass in type(value).__mro__:
            if name in klass.__dict__:
                found = klass.__dict__[name]
                break
        if found is not _MISSING and hasattr(type(found), "__set__"):  # a data descriptor wins
            return found.__get__(value, type(value))
        try:
            own = object.__getattribute__(value, "__dict__")
        except AttributeError:
            own = None
        if isinstance(own, dict) and name in own:
            return own[name]
        if found is _MISSING:
            return None
        if hasattr(type(found), "__get__"):
            return found.__get__(value, type(value))
        return found
    except Exception:  # noqa: BLE001 - a property that raises
        return None


def _defined_on_type(value: Any, name: str) -> Any:
    """``value.name`` bound, only if a class of ``value`` defines it as a plain function.

    Looked up in the classes' own dictionaries — never through ``__getattr__``: an RPC proxy
    (``xmlrpc.client.ServerProxy``) would make a network call for any attribute, a ``MagicMock``
    would record calls the program never made. Those, and anything else without such a method, are
    shown by their ``repr``.
    """
    for klass in type(value).__mro__:
        found = klass.__dict__.get(name)
        if found is not None:
            if isinstance(found, types.FunctionType):
                return found.__get__(value, type(value))
            return None
    return None


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


CUT_MARKER = "…[{cut} chars cut]…"


def clip_text(text: str, budget: int, *, keep_end: bool = False) -> str:
    """``text`` as valid UTF-8 of at most ``budget`` bytes; never raises.

    Lone surrogates become U+FFFD. A longer text keeps its start and ends with ``…[+N chars]``; with
    ``keep_end`` (stack traces) it keeps its first and last parts around ``…[N chars cut]…``.
    """
    try:
        text = _fix_surrogates(text if isinstance(text, str) else safe_text(text))
        if len(text) <= budget // 4 or byte_size(text) <= budget:
            return text
        room = max(0, budget - _TRUNCATION_RESERVE)
        if keep_end:
            head = _prefix_within(text, room // 2)
            tail = _suffix_within(text, room - byte_size(head))
            return head + CUT_MARKER.format(cut=len(text) - len(head) - len(tail)) + tail
        head = _prefix_within(text, room)
        return f"{head}…[+{len(text) - len(head)} chars]"
    except Exception:  # noqa: BLE001
        return "<unprintable>"


def _prefix_within(text: str, room: int) -> str:
    cut = text[:room]
    while cut and byte_size(cut) > room:
        cut = cut[: max(0, len(cut) - max(1, (byte_size(cut) - room) // 2))]
    return cut


def _suffix_within(text: str, room: int) -> str:
    cut = text[-room:] if room > 0 else ""
    while cut and byte_size(cut) > room:
        cut = cut[max(1, (byte_size(cut) - room) // 2) :]
    return cut
