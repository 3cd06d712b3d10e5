"""The byte budget: JSON text of a value within ``budget`` UTF-8 bytes, at a cost bounded by the budget.

``BoundedEncoder`` walks a value and writes its JSON while counting bytes; it stops once the budget is
spent, so a 10 MB message history costs about what a 100 KB one does. A plain sub-tree that fits (told
by ``json_size_hint``, a lower bound, then checked) is written in one call of the C JSON encoder. What
is cut is said in the text, which stays valid JSON: a long string ends with ``…[+N chars]``, a list
with the item ``"…[+N items]"``, an object with the entry ``"…": "+N more entries"``. A value that
fits is written exactly as ``json.dumps(value, ensure_ascii=False, allow_nan=False)`` writes it.
"""

from __future__ import annotations

import itertools
import json
import json.encoder
import math
from typing import Any, Callable, Optional

MAX_DEPTH = 32  # containers nested deeper are shown as "<max depth 32: list>"
MIN_ROOM = 48  # with at least this many bytes, any value can be cut to valid JSON saying what was cut
_SCALARS = (int, float, bool, type(None))
_PLAIN_SUBCLASSES = (dict, list, tuple, int, float)  # json.dumps writes these like their base type
_NO_ROOM_MARKER = '"…"'
_NO_FIT = ("", 1 << 62, True)  # what a value that does not fit whole gives while trying it whole
_SLACK = 32  # bytes a cut entry leaves, so that a short entry after it can still be shown


def byte_size(text: str) -> int:
    """UTF-8 size of ``text`` (fast for ASCII)."""
    return len(text) if text.isascii() else len(text.encode("utf-8", "replace"))


def fix_surrogates(text: str) -> str:
    """Lone surrogates cannot be encoded as UTF-8 by exporters: replace them with U+FFFD."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def _make_plain_dump() -> Callable[[Any], str]:
    """``json.dumps(value, ensure_ascii=False, allow_nan=False)`` without its per-call set-up: the C
    encoder made once (no cycle check: callers pass only sub-trees ``json_size_hint`` walked to the end,
    which a cycle never lets it do). Falls back to ``json.dumps`` where the C encoder is missing."""
    make = getattr(json.encoder, "c_make_encoder", None)
    slow: Callable[[Any], str] = json.JSONEncoder(ensure_ascii=False, allow_nan=False).encode
    if make is None:
        return slow
    try:
        encoder = make(None, None, json.encoder.encode_basestring, None, ": ", ", ", False, False, False)
        probe: Any = {"a": [1, 2.5, "é\n", None, True], "b": {}}
        if "".join(encoder(probe, 0)) != json.dumps(probe, ensure_ascii=False, allow_nan=False):
            return slow
    except Exception:  # noqa: BLE001 - at import, an interpreter whose C encoder differs: not an error
        return slow
    return lambda value: "".join(encoder(value, 0))


dump_plain = _make_plain_dump()
encode_string = json.encoder.encode_basestring


def json_size_hint(value: Any, limit: int, levels: Optional[int] = None) -> int:
    """A lower bound of the UTF-8 size of the JSON of plain data ``value`` (counting stops past
    ``limit``: then ``limit + 1``); -1 when ``value`` is not plain JSON data (an object, a non-string
    key, or, with ``levels``, containers nested deeper than that).

    The walk costs at most about ``limit`` steps: each element is at least one byte of JSON.
    """
    kind = type(value)
    if levels is None or levels > 0:
        flat: Optional[int] = None
        if kind is dict and len(value) <= _FLAT_ENTRIES:
            flat = _flat_dict_size(value)  # the common payload: a few named arguments of plain values
        elif (kind is list or kind is tuple) and 3 * len(value) <= limit:
            flat = _flat_list_size(value)  # a generator's items: numbers or texts, counted in C
        if flat is not None:
            return flat if flat <= limit else limit + 1
    left = limit
    deepest = (1 << 62) if levels is None else levels
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, level = stack.pop()
        kind = type(item)
        if kind is str:
            left -= len(item) + 2
            subs: Any = ()
        elif kind is dict or (kind is not list and kind is not tuple and isinstance(item, dict)):
            left -= (6 * len(item) or 2) - (2 if level else 0)  # {} or "k": v, per entry; 2 counted at the push
            if left < 0 or level >= deepest:
                return limit + 1 if left < 0 else -1
            for key in item:  # at most limit / 6 of them: each entry was counted above
                if type(key) is not str:
                    return -1
                left -= len(key)
            subs = item.values()
        elif kind is list or kind is tuple or isinstance(item, (list, tuple)):
            left -= (2 * len(item) or 2) - (2 if level else 0)  # [] or an item and ", " each
            if left < 0 or level >= deepest:
                return limit + 1 if left < 0 else -1
            subs = item
        elif kind in _SCALARS or isinstance(item, _PLAIN_SUBCLASSES):
            left -= 1
            subs = ()
        else:
            return -1
        for sub in subs:
            sub_kind = type(sub)
            if sub_kind is str:
                left -= len(sub) + 2
            elif sub_kind in _SCALARS:
                left -= 1
            else:
                stack.append((sub, level + 1))
                left -= 2  # at least "{}" or "[]" (or a number: then too little, still a lower bound)
            if left < 0:
                return limit + 1
        if left < 0:
            return limit + 1
    return limit - left


_FLAT_ENTRIES = 32


def _flat_dict_size(value: dict[Any, Any]) -> Optional[int]:
    """``json_size_hint``'s bound for a dict of texts and plain scalars (None for anything else), counted
    the same way in one loop: 6 bytes an entry (quotes, ``": "``, ``", "``), the keys, each text and
    its quotes, one byte a scalar."""
    size = 6 * len(value) or 2
    for key, item in value.items():
        if type(key) is not str:
            return None
        kind = type(item)
        if kind is str:
            size += len(key) + len(item) + 2
        elif kind in _SCALARS:
            size += len(key) + 1
        else:
            return None
    return size


def _flat_list_size(value: Any) -> Optional[int]:
    """``json_size_hint``'s bound for a list of plain scalars or of texts (None for anything else),
    counted as the general walk counts it: 2 bytes an item (``[]`` for none), one a scalar, each text
    and its quotes. The item types are gathered by C code (``set(map(type, ...))``), not a loop."""
    if not value:
        return 2
    types = set(map(type, value))
    if types <= _SCALAR_TYPES:
        return 3 * len(value)
    if types == _TEXT_ONLY:
        return 4 * len(value) + sum(map(len, value))
    return None


_SCALAR_TYPES = frozenset(_SCALARS)
_TEXT_ONLY = frozenset({str})


def smallest_json(budget: int) -> str:
    """Valid JSON saying "cut" in at most ``budget`` bytes, for budgets too small for a preview."""
    for candidate in (_NO_ROOM_MARKER, "null", "0"):
        if byte_size(candidate) <= budget:
            return candidate
    return "0"


def _already_cut(text: str, unit: str, opening: str = "…[+") -> tuple[str, int]:
    """(``text`` without a trailing cut marker such as ``…[+12 chars]``, the count it gave), or
    (``text``, 0): a value the converter cut is counted from its original length when cut again."""
    if not text.endswith(unit):
        return text, 0
    start = text.rfind(opening, max(0, len(text) - len(unit) - 40))
    digits = text[start + len(opening) : len(text) - len(unit)] if start >= 0 else ""
    if not digits.isdigit() or not digits.isascii():
        return text, 0
    return text[:start], int(digits)


def _items_marker(count: int) -> str:
    return f'"…[+{count} items]"'


def _entries_marker(count: int) -> str:
    return f'"…": "+{count} more entries"'


class BoundedEncoder:
    """JSON text of one value within a byte budget (see the module docstring); one per payload.

    ``convert(value, depth)`` turns what is not plain JSON data (objects, NaN, subclasses, cycles,
    containers too deep) into plain data, at most a budget's worth; ``convert_key`` a non-string key
    into its JSON spelling; ``active`` holds the ids of the containers on the current path (shared with
    the converter, so that a cycle through an object is seen).
    """

    __slots__ = ("convert", "convert_key", "active", "strict")

    def __init__(self, convert: Callable[[Any, int], Any], convert_key: Callable[[Any], str], active: set[int]) -> None:
        self.convert = convert
        self.convert_key = convert_key
        self.active = active
        self.strict = False  # while True, a value either fits whole or comes back as _NO_FIT

    def encode(self, value: Any, budget: int, *, over: bool = False) -> str:
        """The JSON text; ``smallest_json`` when even a cut value does not fit (budgets under ``MIN_ROOM``).
        ``over``: the caller saw that ``json_size_hint(value, budget)`` exceeds the budget."""
        text, size, _ = self.emit(value, budget, 0, over if over else None)
        return text if size <= budget else smallest_json(budget)

    def emit(self, value: Any, room: int, depth: int, over: Optional[bool] = None) -> tuple[str, int, bool]:
        """(JSON text, its UTF-8 size, whether something was cut). The size is at most ``room`` when
        ``room >= MIN_ROOM``; below that it may be larger (the caller then leaves the value out).
        ``over``: None, or what the caller knows: the value does not fit whole, and (True) its size
        hint exceeds ``room``."""
        kind = type(value)
        if kind is str:
            return self._string(value, room)
        if kind is dict or kind is list or kind is tuple:
            if not value:
                return ("{}" if kind is dict else "[]"), 2, False
            if depth >= MAX_DEPTH or id(value) in self.active:
                return self._converted(value, room, depth)  # "<max depth 32: dict>", "<cycle: list>"
            if over is None:
                hint = json_size_hint(value, room, MAX_DEPTH - depth)
                whole = _dumped(value) if 0 <= hint <= room else None
                if whole is not None and whole[1] <= room:
                    return whole[0], whole[1], False
                if hint < 0 or (hint <= room and whole is None):
                    # not plain data (an object, NaN): it may still fit whole, and is then written exactly
                    exact = self._exactly(value, room, depth)
                    if exact[1] <= room or self.strict:
                        return exact
                over = hint > room
            return _NO_FIT if self.strict else self._cut(value, room, depth, over)
        if kind is int or kind is bool or value is None or (kind is float and math.isfinite(value)):
            return self._scalar(value, room)
        return self._converted(value, room, depth)

    def _exactly(self, value: Any, room: int, depth: int) -> tuple[str, int, bool]:
        """A container written whole (each entry converted and written as it would be alone), or
        ``_NO_FIT`` as soon as it does not fit: no room is kept for markers, nothing is cut."""
        if self.strict:
            return self._cut(value, room, depth, False)
        self.strict = True
        try:
            return self._cut(value, room, depth, False)
        finally:
            self.strict = False

    def _converted(self, value: Any, room: int, depth: int) -> tuple[str, int, bool]:
        data = self.convert(value, depth)
        kind = type(data)
        if kind is dict or kind is list or kind is str:
            return self.emit(data, room, depth)
        try:  # a scalar, possibly of a subclass the converter keeps (json.dumps writes its base value)
            text = dump_plain(data)
        except (TypeError, ValueError):
            text = '"<unserializable>"'
        return self._fitted(text, room)

    def _scalar(self, value: Any, room: int) -> tuple[str, int, bool]:
        if value is None:
            text = "null"
        elif value is True or value is False:
            text = "true" if value else "false"
        else:
            try:
                text = float.__repr__(value) if type(value) is float else int.__repr__(value)
            except ValueError:  # an int of more digits than sys.get_int_max_str_digits() allows
                text = '"<unserializable int>"'
        return self._fitted(text, room)

    def _fitted(self, text: str, room: int) -> tuple[str, int, bool]:
        size = byte_size(text)
        if size <= room:
            return text, size, False
        return _NO_FIT if self.strict else (_NO_ROOM_MARKER, 5, True)

    def _string(self, value: str, room: int) -> tuple[str, int, bool]:
        if len(value) + 2 <= room:  # every character is at least one byte: only then can it fit
            text = encode_string(fix_surrogates(value))
            size = byte_size(text)
            if size <= room:
                return text, size, False
        if self.strict:
            return _NO_FIT
        value, hidden = _already_cut(value, " chars]")
        total = len(value) + hidden
        keep = max(0, room - 2 - byte_size(f"…[+{total} chars]"))  # what the quotes and marker leave
        raw = value[:keep]
        text = encode_string(fix_surrogates(raw))
        while raw and byte_size(text) - 2 > keep:  # multi-byte characters or escapes: shorten
            raw = raw[: len(raw) - max(1, (byte_size(text) - 2 - keep) // 4)]
            text = encode_string(fix_surrogates(raw))
        text = f'{text[:-1]}…[+{total - len(raw)} chars]"'
        return text, byte_size(text), True

    def _cut(self, value: Any, room: int, depth: int, over: bool) -> tuple[str, int, bool]:
        """A dict or list that does not fit whole: its entries in order while they fit, then one marker
        (``"…": "+N more entries"`` / ``"…[+N items]"``); the entry that does not fit whole is cut
        itself when there is room for a part of it. Runs of plain entries that fit by their size hints
        are written by one call of the C encoder. ``over``: the value's size hint exceeds ``room`` (so
        its last entry cannot fit whole after the others)."""
        is_map = type(value) is dict
        marker_of = _entries_marker if is_map else _items_marker
        # at most room // 3 + 1 entries can be shown (each is at least "x, "): never list more
        entries: Any = list(itertools.islice(value.items(), room // 3 + 1)) if is_map else value
        shown, hidden = _shown_and_hidden(value, is_map)
        # ", " + the marker, kept free before the last entry (none while trying to write it whole)
        reserve = 0 if self.strict else 2 + byte_size(marker_of(shown + hidden))
        parts: list[str] = []
        names: Optional[set[str]] = None  # the keys written, once one needed converting (two may collide)
        used, index, cut = 2, 0, False  # cut: an entry was cut; after it only whole ones are shown
        self.active.add(id(value))
        try:
            while index < shown:
                over_item: Optional[bool] = None  # what is known of the entry at index: see emit
                if names is None:
                    stop, hint = self._plain_run(
                        entries,
                        is_map,
                        index,
                        shown,
                        room - used,
                        bool(parts),
                        hidden,
                        reserve,
                        depth,
                        over and not cut,
                    )
                    over_item = None if hint < 0 else True
                    if stop > index:
                        chunk = dict(entries[index:stop]) if is_map else entries[index:stop]
                        rest = shown - stop + hidden
                        text, size, taken, unknown = self._longest_prefix(
                            chunk, room - used - (2 if parts else 0) - (reserve if rest else 0)
                        )
                        if taken:
                            parts.append(text)
                            used += (2 if len(parts) > 1 else 0) + size
                        if taken < stop - index:  # the entry after the prefix does not fit whole, or holds NaN
                            over_item = None if unknown else False
                        index += taken
                    if index >= shown:
                        break
                # the entry at index on its own: not plain data, a key to convert, or it does not fit whole
                key, item = entries[index] if is_map else (None, entries[index])
                key_text = ""
                if is_map:
                    name = key if type(key) is str else self.convert_key(key)
                    if names is None and type(key) is not str:
                        names = {k for k, _ in entries[:index]}
                    if names is not None:
                        if name in names:  # the converter keeps the last value of such keys
                            self.active.discard(id(value))
                            return self._converted(value, room, depth)
                        names.add(name)
                    key_text = encode_string(fix_surrogates(name)) + ": "
                head = (2 if parts else 0) + byte_size(key_text)
                rest = shown - index - 1 + hidden
                avail = room - used - head - (reserve if rest else 0)
                if over_item is not None and rest and not self.strict:
                    avail -= _SLACK  # a part of this entry, and room for a short one after it
                if avail > 0 and not (cut and over_item is not None):
                    text, size, item_cut = self.emit(item, avail, depth + 1, over_item)
                    if size <= avail and not (cut and item_cut):
                        parts.append(key_text + text)
                        used += head + size
                        index += 1
                        cut = cut or item_cut
                        continue
                if self.strict:
                    return _NO_FIT
                parts.append(marker_of(rest + 1))
                cut = True
                break
            if index >= shown and hidden:
                parts.append(marker_of(hidden))
                cut = True
        finally:
            self.active.discard(id(value))
        opening, closing = ("{", "}") if is_map else ("[", "]")
        text = opening + ", ".join(parts) + closing
        size = byte_size(text) if cut else used
        if self.strict and size > room:  # the converter's own marker did not fit
            return _NO_FIT
        return text, size, cut

    def _plain_run(
        self,
        entries: Any,
        is_map: bool,
        index: int,
        shown: int,
        room: int,
        after: bool,
        hidden: int,
        reserve: int,
        depth: int,
        over: bool,
    ) -> tuple[int, int]:
        """(end of the run of plain entries from ``index`` that fit in ``room`` by their size hints,
        the size hint of the entry there: -1 unknown, else it exceeds what was left for it)."""
        stop, used = index, 0
        while stop < shown:
            key, item = entries[stop] if is_map else (None, entries[stop])
            if is_map and type(key) is not str:
                return stop, -1
            head = (2 if after or stop > index else 0) + (0 if key is None else len(key) + 4)
            rest = shown - stop - 1 + hidden
            limit = room - used - head - (reserve if rest else 0)
            if over and not rest:  # the whole exceeds room by its hint, so the last entry cannot fit
                return stop, limit + 1
            hint = json_size_hint(item, limit, MAX_DEPTH - depth - 1)
            if hint < 0 or hint > limit:
                return stop, hint
            used += head + hint
            stop += 1
        return stop, -1

    def _longest_prefix(self, chunk: Any, room: int) -> tuple[str, int, int, bool]:
        """The JSON of the longest prefix of ``chunk`` (a dict or list of plain data) that fits in
        ``room``, without its brackets: (text, size, entries taken, whether the next one holds NaN).
        One call of the C encoder when all of it fits, else one per entry (each small: the run was
        chosen by size hints)."""
        whole = _dumped(chunk)
        if whole is not None and whole[1] <= room + 2:
            return whole[0][1:-1], whole[1] - 2, len(chunk), False
        pieces: list[str] = []
        used = -2  # no ", " before the first
        unknown = False
        for entry in chunk.items() if isinstance(chunk, dict) else chunk:
            found = _dumped(entry[1] if isinstance(chunk, dict) else entry)
            if found is None:
                unknown = True
                break
            text, size = found
            if isinstance(chunk, dict):
                key = encode_string(fix_surrogates(entry[0]))
                text, size = f"{key}: {text}", size + byte_size(key) + 2
            if used + 2 + size > room:
                break
            pieces.append(text)
            used += 2 + size
        return ", ".join(pieces), max(0, used), len(pieces), unknown


def _dumped(value: Any) -> Optional[tuple[str, int]]:
    """Plain data written by the C encoder, with its UTF-8 size; None for NaN (or data changed under
    us by another thread)."""
    try:
        text = fix_surrogates(dump_plain(value))
    except (TypeError, ValueError, RecursionError):
        return None
    return text, byte_size(text)


def _shown_and_hidden(value: Any, is_map: bool) -> tuple[int, int]:
    """(entries to show, entries the converter already left out): a value the converter cut ends with
    its marker (``"…[+N items]"`` / ``"…": "+N more entries"``); cut again, it counts from the original."""
    count = len(value)
    if is_map:
        tail = value["…"] if next(reversed(value)) == "…" else None
        if type(tail) is str and tail.endswith(" more entries"):
            _, hidden = _already_cut(tail, " more entries", "+")
            return (count - 1, hidden) if hidden else (count, 0)
        return count, 0
    last = value[-1]
    if type(last) is str and last.endswith(" items]"):
        _, hidden = _already_cut(last, " items]")
        return (count - 1, hidden) if hidden else (count, 0)
    return count, 0
