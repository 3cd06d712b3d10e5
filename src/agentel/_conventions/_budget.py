"""The limits of the convention helpers: keep flattened keys within the span's attribute-count limit, and
set values made exportable (UTF-8 encodable, redacted, still within budget) by the payload wing's write
pipeline (``_payload.write``); cutting texts and lists is ``_payload.truncate``'s."""

from __future__ import annotations

from typing import Any

from agentel._conventions.policy import Policy
from agentel._otel_internals import attribute_count_limit, set_plain_attributes
from agentel._payload.redact import is_sensitive_key
from agentel._payload.write import built_value

_ATTRIBUTE_RESERVE = 16  # attribute slots left free for later keys (status, outputs, ...)
_DEFAULT_ATTRIBUTE_LIMIT = 128  # the SDK default (OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT)


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
    return built_value(key, value, policy.max_payload_bytes, policy.redactor)


def apply(span: Any, attributes: dict[str, Any], policy: Policy) -> None:
    """Set ``attributes`` on ``span`` (if it records), each value made exportable by ``clean`` (a number
    needs no cleaning: it is redacted only under a sensitive key, as ``clean`` would)."""
    if attributes and span.is_recording():
        redactor = policy.redactor
        by_key = redactor is not None and redactor.enabled
        cleaned: dict[str, Any] = {}
        for key, value in attributes.items():
            kind = type(value)
            if (kind is int or kind is float) and not (by_key and is_sensitive_key(key)):
                cleaned[key] = value  # token counts, temperatures, costs: the common case
            else:
                cleaned[key] = clean(key, value, policy)
        set_plain_attributes(span, cleaned)
