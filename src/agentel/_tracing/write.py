"""From a value to an attribute: payloads as redacted JSON within the byte budget, attributes made
valid OpenTelemetry values (secrets redacted), trace tags. ``normalized_attributes`` never raises; the
others run inside their callers' guards."""

from __future__ import annotations

import json
from typing import Any, Mapping, Optional

from agentel._conventions import names as sc
from agentel._conventions.builders import payload_attributes
from agentel._conventions.policy import Policy
from agentel._internal_errors import contained
from agentel._payload.serialize import byte_size, clip_text, safe_text, to_json
from agentel._runtime.state import DISABLED_REDACTOR, current_state

_PRIMITIVE_TYPES = (str, bool, int, float)
_READING_ATTRIBUTES = contained("attributes")
_ATTRIBUTE_VALUE = contained("attribute value")


def set_payload(span: Any, which: str, value: Any, policy: Optional[Policy] = None) -> None:
    """Serialize ``value`` once (redacted, within budget) and set it as the inputs or outputs of ``span``."""
    if policy is None:
        policy = current_state().policy
    text = redacted_json(value, policy)
    span.set_attributes(payload_attributes(policy.dialects, which, text))
    if which == "output":
        try:
            span._agentel_outputs_set = True  # read by the decorator: the body's outputs win
        except AttributeError:  # a span class with __slots__: fall back to reading its attributes
            pass


def outputs_were_set(span: Any) -> bool:
    """Whether outputs were already recorded on ``span`` (by ``set_outputs`` in the traced body)."""
    if getattr(span, "_agentel_outputs_set", False):
        return True
    if hasattr(span, "__dict__"):
        return False
    attributes: Mapping[str, Any] = getattr(span, "attributes", None) or {}
    return sc.OUTPUT_VALUE in attributes


def redacted_json(value: Any, policy: Policy) -> str:
    """``to_json`` of ``value`` with secrets redacted, still within the policy's byte budget."""
    budget = policy.max_payload_bytes
    text = to_json(value, budget)
    if policy.redactor is None:
        return text
    redacted = policy.redactor.json_text(text)
    if redacted is not text and byte_size(redacted) > budget:
        return to_json(json.loads(redacted), budget)
    return redacted


def attribute_value(value: Any, policy: Policy) -> Any:
    """Primitive values (and lists of one primitive type) stay native; others become JSON text."""
    if isinstance(value, str):
        return clip_text(value, policy.max_payload_bytes)
    if isinstance(value, _PRIMITIVE_TYPES):
        return value
    if type(value) in (list, tuple) and len(value) > 0:
        first = type(value[0])
        if first in _PRIMITIVE_TYPES and all(type(v) is first for v in value):
            if first is not str:
                return list(value)
            if sum(len(v) for v in value) <= policy.max_payload_bytes // 4:
                return [safe_text(v) for v in value]
    return redacted_json(value, policy)


def normalized_attributes(attributes: Optional[Mapping[str, Any]], policy: Optional[Policy] = None) -> dict[str, Any]:
    """``attributes`` with string keys, valid OTel values, and secrets redacted; never raises."""
    if not attributes:
        return {}
    if policy is None:
        policy = current_state().policy
    redactor = policy.redactor or DISABLED_REDACTOR
    out: dict[str, Any] = {}
    items: list[tuple[Any, Any]] = []
    with _READING_ATTRIBUTES:  # a hostile mapping
        items = list(attributes.items())
    for key, value in items:
        name = safe_text(key, "<unprintable key>") or "<empty key>"
        out[name] = "<unserializable>"  # kept if the value fails: one bad value must not lose the others
        with _ATTRIBUTE_VALUE:
            out[name] = redactor.attribute(name, attribute_value(value, policy))
    return out


def tag_attributes(tags: Mapping[str, Any]) -> dict[str, Any]:
    """Trace tags as attributes: ``agentel.tag.<key>`` each and ``tag.tags`` (``key=value`` list), with
    the value of a sensitive key (``api_key``, ``db_password``, …) redacted in both."""
    policy = current_state().policy
    redactor = policy.redactor or DISABLED_REDACTOR
    out: dict[str, Any] = {}
    listed: list[str] = []
    for key, value in tags.items():
        name = safe_text(key, "<unprintable key>")
        shown = redactor.attribute(name, attribute_value(value, policy))
        out[f"agentel.tag.{name}"] = shown
        listed.append(f"{name}={shown if isinstance(shown, str) else safe_text(shown)}")
    out[sc.TAG_TAGS] = listed
    return out
