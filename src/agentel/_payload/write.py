"""One write pipeline from a value to an attribute value: sanitize (UTF-8 encodable text, JSON text for
what is not a primitive) → redact → budget. The tracing wing's setters and the convention helpers set
what these return. Nothing here reads the configuration: the caller passes its byte budget and its
redactor (``None`` when redaction is off)."""

from __future__ import annotations

import json
from typing import Any, Optional

from agentel._payload.budget import byte_size
from agentel._payload.redact import Redactor
from agentel._payload.serialize import safe_text, to_json
from agentel._payload.truncate import clip_text

_PRIMITIVE_TYPES = (str, bool, int, float)


def json_value(value: Any, budget: int, redactor: Optional[Redactor]) -> str:
    """``value`` as JSON text of at most ``budget`` bytes, secrets redacted (and still within budget)."""
    text = to_json(value, budget)
    if redactor is None or not redactor.enabled:
        return text
    redacted = redactor.json_text(text)
    return text if redacted is text else _refit(redacted, text, budget)


def attribute_value(key: str, value: Any, budget: int, redactor: Optional[Redactor]) -> Any:
    """A value given as an attribute under ``key``: primitives and lists of one primitive type stay
    native (texts cut to the budget), anything else becomes JSON text; secrets redacted, by key or by
    what the strings look like."""
    shown = _native(value, budget)
    if shown is None:
        shown = json_value(value, budget, redactor)
    return shown if redactor is None else redactor.attribute(key, shown)


def built_value(key: str, value: Any, budget: int, redactor: Optional[Redactor]) -> Any:
    """A value a convention builder made (a primitive, a list of texts, or JSON text already within
    the budget) made exportable: UTF-8 encodable, redacted, still within the budget."""
    if isinstance(value, str):
        value = safe_text(value)
    elif isinstance(value, list) and value and isinstance(value[0], str):
        value = [safe_text(item) for item in value]
    if redactor is None or not redactor.enabled:
        return value
    redacted = redactor.attribute(key, value)
    if isinstance(redacted, str) and redacted[:1] in "[{":
        return _refit(redacted, value, budget)
    return redacted


def _native(value: Any, budget: int) -> Any:
    """``value`` as a native OTel attribute value, or None when it must become JSON text."""
    if isinstance(value, str):
        return clip_text(value, budget)
    if isinstance(value, _PRIMITIVE_TYPES):
        return value
    if type(value) in (list, tuple) and len(value) > 0:
        first = type(value[0])
        if first in _PRIMITIVE_TYPES and all(type(v) is first for v in value):
            if first is not str:
                return list(value)
            if sum(len(v) for v in value) <= budget // 4:
                return [safe_text(v) for v in value]
    return None


def _refit(redacted: str, original: Any, budget: int) -> str:
    """Redacted JSON text cut again when ``[REDACTED]`` made it longer than the secret it replaced."""
    if redacted is original or byte_size(redacted) <= budget:
        return redacted
    try:
        return to_json(json.loads(redacted), budget)
    except ValueError:
        return clip_text(redacted, budget)
