"""Payloads (inputs, outputs, non-primitive attribute values) to JSON text within a byte budget.

``to_json`` never raises. Plain JSON-able values that fit take a fast path (one call of the C JSON
encoder); anything else is written by ``budget.BoundedEncoder``, which stops once the budget is spent
and converts to JSON-able data only what it writes: dataclasses, pydantic models, enums, datetimes,
bytes, objects with ``to_dict``/``model_dump``, numpy values (only when numpy is already imported),
then a guarded ``repr``. Cycles are detected. A payload over budget is cut so that the text is still
valid JSON: long strings end with ``…[+N chars]``, long lists with ``"…[+N items]"``, objects with a
``"…": "+N more entries"`` entry.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import json
import math
import sys
import types
from collections import deque
from collections.abc import Mapping
from typing import Any

from agentel._internal_errors import report_internal_error
from agentel._payload.budget import MAX_DEPTH, BoundedEncoder, dump_plain, fix_surrogates, smallest_json
from agentel._payload.budget import byte_size as byte_size  # re-exported: other wings import it from here
from agentel._payload.budget import json_size_hint as json_size_hint
from agentel._payload.truncate import clip_text as clip_text

_PRIMITIVES = (str, int, float, bool, type(None))


def _report_encoding_error(exc: Exception) -> None:
    try:
        report_internal_error("payload: encoding to JSON", exc)
    except RecursionError:  # reporting needs stack; at the recursion limit the count is all we keep
        pass


# The hand-written ``except Exception`` blocks below catch what user code raises (``__str__``,
# ``__repr__``, ``__len__``, properties, ``to_dict``): the value gets a placeholder, and nothing is
# reported, since it is not an error of agentel's (the guard counts and logs only agentel's own).


def safe_text(value: Any, fallback: str = "<unprintable>") -> str:
    """``str(value)`` that never raises and is always encodable as UTF-8 (for names and keys)."""
    try:
        text = value if isinstance(value, str) else str(value)
        if not isinstance(text, str):
            return fallback
        return fix_surrogates(text)
    except Exception:  # noqa: BLE001 - user code
        return fallback


def to_json(value: Any, budget: int) -> str:
    """Serialize ``value`` to JSON text of at most ``budget`` UTF-8 bytes; never raises.

    Plain data whose JSON fits is written in one call of the C encoder; anything else goes through
    ``BoundedEncoder``, which converts and writes only what fits (the cost follows the budget).
    """
    # the user code the converter calls is guarded there; what is left is agentel's (hand-written, not
    # the guard: this runs for every payload, where a try costs nothing and a with two method calls)
    try:
        hint = json_size_hint(value, budget)
        if 0 <= hint <= budget:
            try:
                text = fix_surrogates(dump_plain(value))
                if len(text) <= budget // 4 or byte_size(text) <= budget:
                    return text
            except (TypeError, ValueError, RecursionError):  # NaN, too deep for the C encoder
                pass
        converter = _Converter(max_items=max(16, budget // 2), max_chars=max(64, budget))
        encoder = BoundedEncoder(converter.convert, _key, converter.active)
        return encoder.encode(value, budget, over=hint > budget)
    except Exception as exc:  # noqa: BLE001 - agentel's own error: reported once, the call goes on
        _report_encoding_error(exc)
    fallback = json.dumps(f"<unserializable {_type_name(value)}>")  # agentel's own error, reported
    return fallback if len(fallback) <= budget else smallest_json(budget)


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
        except Exception:  # noqa: BLE001 - user code: one bad element must not lose the rest
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
                    except Exception:  # noqa: BLE001 - user code: fall through to repr
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
    except Exception:  # noqa: BLE001 - user code: a property that raises
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
    except Exception:  # noqa: BLE001 - user code
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
    except Exception:  # noqa: BLE001 - user code
        return "object"


def _safe_str(value: Any) -> str:
    try:
        return str(value)
    except Exception:  # noqa: BLE001 - user code
        return _safe_repr(value)


def _safe_repr(value: Any) -> str:
    try:
        text = repr(value)
        if not isinstance(text, str):
            raise TypeError
        return text
    except Exception:  # noqa: BLE001 - user code
        return f"<unrepresentable {_type_name(value)} object>"
