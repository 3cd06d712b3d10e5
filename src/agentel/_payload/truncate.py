"""One truncation toolbox: a text cut to a byte budget (``clip_text``), a list of JSON-able items cut
so that its JSON fits, keeping it schema-shaped (``fit_list``). Each cut says what it cut: a text ends
with ``…[+N chars]`` (or keeps its end around ``…[N chars cut]…``). The encoder of whole payloads, which
stops once its budget is spent, is ``budget.BoundedEncoder``."""

from __future__ import annotations

from typing import Any, Optional

from agentel._payload.budget import byte_size, dump_plain, fix_surrogates

_MARKER_RESERVE = 48  # bytes kept free in a cut text for its marker
_MIN_CAP = 16  # characters a cut string of a list item keeps at least
_PROTECTED = frozenset({"type", "role", "id", "name", "finish_reason", "modality", "mime_type"})


def _dumps(value: Any) -> str:
    """JSON text of JSON-able ``value``, UTF-8 encodable (a lone surrogate becomes ``?``)."""
    text = dump_plain(value)
    return text if text.isascii() else text.encode("utf-8", "replace").decode("utf-8")


CUT_MARKER = "…[{cut} chars cut]…"


def clip_text(text: str, budget: int, *, keep_end: bool = False) -> str:
    """``text`` as valid UTF-8 of at most ``budget`` bytes; never raises.

    Lone surrogates become U+FFFD. A longer text keeps its start and ends with ``…[+N chars]``; with
    ``keep_end`` (stack traces) it keeps its first and last parts around ``…[N chars cut]…``.
    """
    try:
        text = fix_surrogates(text if isinstance(text, str) else str(text))
        if len(text) <= budget // 4 or byte_size(text) <= budget:
            return text
        room = max(0, budget - _MARKER_RESERVE)
        if keep_end:
            head = _prefix_within(text, room // 2)
            tail = _suffix_within(text, room - byte_size(head))
            return head + CUT_MARKER.format(cut=len(text) - len(head) - len(tail)) + tail
        head = _prefix_within(text, room)
        return f"{head}…[+{len(text) - len(head)} chars]"
    except Exception:  # noqa: BLE001 - user code (str() of a non-text): a placeholder, nothing to report
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


def _cap(value: Any, cap: int, key: Optional[str] = None) -> Any:
    if isinstance(value, str):
        if len(value) <= cap or key in _PROTECTED:
            return value
        return f"{value[:cap]}…[+{len(value) - cap} chars]"
    if isinstance(value, dict):
        return {k: _cap(v, cap, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_cap(v, cap) for v in value]
    return value


def _longest(value: Any) -> int:
    if isinstance(value, str):
        return len(value)
    if isinstance(value, dict):
        return max((_longest(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return max((_longest(v) for v in value), default=0)
    return 0


def fit_list(items: list[Any], budget: int, keep: str = "last") -> tuple[list[Any], str, int]:
    """Cut ``items`` (JSON-able) so that their JSON is at most ``budget`` bytes.

    Long strings are shortened (each ends with ``…[+N chars]``); if that is not enough, whole items are
    left out: the oldest (``keep="last"``, for conversations) or the last (``keep="first"``, for ranked
    documents). Returns the kept items, their JSON text and how many items were left out.

    Example: ``fit_list([{"role": "user", "parts": [...]}], 8192)``.
    """
    items = _cap(items, budget)
    text = _dumps(items)
    if byte_size(text) <= budget:
        return items, text, 0
    sizes = [byte_size(_dumps(_cap(item, _MIN_CAP))) + 2 for item in items]  # + the ", " separator
    order = range(len(items) - 1, -1, -1) if keep == "last" else range(len(items))
    chosen: list[int] = []
    used = 2
    for index in order:
        if used + sizes[index] > budget:
            break
        chosen.append(index)
        used += sizes[index]
    kept = [items[i] for i in sorted(chosen)]
    best = _cap(kept, _MIN_CAP)
    best_text = _dumps(best)
    while kept and byte_size(best_text) > budget:  # never expected; keeps the bound unconditional
        kept = kept[1:] if keep == "last" else kept[:-1]
        best = _cap(kept, _MIN_CAP)
        best_text = _dumps(best)
    dropped = len(items) - len(kept)
    low, high = _MIN_CAP + 1, _longest(kept)
    while low <= high:
        middle = (low + high) // 2
        candidate = _cap(kept, middle)
        candidate_text = _dumps(candidate)
        if byte_size(candidate_text) <= budget:
            best, best_text, low = candidate, candidate_text, middle + 1
        else:
            high = middle - 1
    return best, best_text, dropped
