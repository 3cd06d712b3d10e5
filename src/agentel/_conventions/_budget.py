"""The byte budget of the convention helpers: cut a JSON-able list so that its JSON fits (schema-shaped),
cut a text, keep flattened keys within the span's attribute-count limit, and make a value exportable
(UTF-8 encodable, redacted, still within budget) before it is set."""

from __future__ import annotations

import json
from typing import Any, Optional

from agentel._conventions import readers as read
from agentel._conventions.policy import Policy
from agentel._otel_internals import attribute_count_limit
from agentel._payload.serialize import byte_size, safe_text, to_json

_MIN_CAP = 16  # characters a cut string keeps at least
_ATTRIBUTE_RESERVE = 16  # attribute slots left free for later keys (status, outputs, ...)
_DEFAULT_ATTRIBUTE_LIMIT = 128  # the SDK default (OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT)
_PROTECTED = frozenset({"type", "role", "id", "name", "finish_reason", "modality", "mime_type"})


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
    text = read.dumps(items)
    if byte_size(text) <= budget:
        return items, text, 0
    sizes = [byte_size(read.dumps(_cap(item, _MIN_CAP))) + 2 for item in items]  # + the ", " separator
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
    best_text = read.dumps(best)
    while kept and byte_size(best_text) > budget:  # never expected; keeps the bound unconditional
        kept = kept[1:] if keep == "last" else kept[:-1]
        best = _cap(kept, _MIN_CAP)
        best_text = read.dumps(best)
    dropped = len(items) - len(kept)
    low, high = _MIN_CAP + 1, _longest(kept)
    while low <= high:
        middle = (low + high) // 2
        candidate = _cap(kept, middle)
        candidate_text = read.dumps(candidate)
        if byte_size(candidate_text) <= budget:
            best, best_text, low = candidate, candidate_text, middle + 1
        else:
            high = middle - 1
    return best, best_text, dropped


def bounded_text(text: str, budget: int) -> str:
    """``text`` cut (with a ``…[+N chars]`` marker) to at most ``budget`` UTF-8 bytes."""
    if byte_size(text) <= budget:
        return text
    keep = max(0, budget - 32)
    cut = text[:keep]
    while cut and byte_size(cut) > keep:
        cut = cut[: len(cut) - max(1, (byte_size(cut) - keep) // 2)]
    return f"{cut}…[+{len(text) - len(cut)} chars]"


def attribute_room(span: Any) -> int:
    """How many more attributes ``span`` takes before the SDK starts evicting its oldest ones."""
    limit = attribute_count_limit(span, _DEFAULT_ATTRIBUTE_LIMIT)
    if limit is None:
        return 1 << 30
    attributes = getattr(span, "attributes", None) or {}
    return max(0, int(limit) - len(attributes) - _ATTRIBUTE_RESERVE)


def flatten_within(prefix: str, items: list[Any], flatten: Any, room: int, keep: str) -> tuple[dict[str, Any], int]:
    """Indexed OpenInference keys for ``items``, leaving out whole items beyond ``room`` keys."""
    per_item = [flatten(f"{prefix}.{i}", item) for i, item in enumerate(items)]
    order = range(len(items) - 1, -1, -1) if keep == "last" else range(len(items))
    chosen: list[int] = []
    used = 0
    for index in order:
        if used + len(per_item[index]) > room:
            break
        chosen.append(index)
        used += len(per_item[index])
    chosen.sort()
    if len(chosen) == len(items):
        flat: dict[str, Any] = {}
        for keys in per_item:
            flat.update(keys)
        return flat, 0
    flat = {}
    for new_index, old_index in enumerate(chosen):
        flat.update(flatten(f"{prefix}.{new_index}", items[old_index]))
    return flat, len(items) - len(chosen)


def clean(key: str, value: Any, policy: Policy) -> Any:
    """An attribute value made exportable (UTF-8 encodable) and redacted; JSON stays within budget."""
    if isinstance(value, str):
        value = safe_text(value)
    elif isinstance(value, list) and value and isinstance(value[0], str):
        value = [safe_text(item) for item in value]
    redactor = policy.redactor
    if redactor is None:
        return value
    redacted = redactor.attribute(key, value)
    if redacted is not value and isinstance(redacted, str) and redacted[:1] in "[{":
        budget = policy.max_payload_bytes
        if byte_size(redacted) > budget:  # "[REDACTED]" is longer than the secret it replaced
            try:
                return to_json(json.loads(redacted), budget)
            except ValueError:
                return bounded_text(redacted, budget)
    return redacted


def apply(span: Any, attributes: dict[str, Any], policy: Policy) -> None:
    """Set ``attributes`` on ``span`` (if it records), each value made exportable by ``clean``."""
    if attributes and span.is_recording():
        span.set_attributes({key: clean(key, value, policy) for key, value in attributes.items()})
