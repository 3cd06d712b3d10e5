"""From a value to an attribute: payloads as redacted JSON within the byte budget, attributes made
valid OpenTelemetry values (secrets redacted), trace tags. ``normalized_attributes`` never raises; the
others run inside their callers' guards."""

from __future__ import annotations

from typing import Any, Mapping, Optional

from agentel._conventions import names as sc
from agentel._conventions.builders import payload_attributes
from agentel._conventions.policy import Policy
from agentel._internal_errors import contained
from agentel._otel_internals import set_plain_attributes
from agentel._payload.serialize import safe_text
from agentel._payload.write import attribute_value, json_value
from agentel._runtime.state import current_state

_READING_ATTRIBUTES = contained("attributes")
_ATTRIBUTE_VALUE = contained("attribute value")


def set_payload(span: Any, which: str, value: Any, policy: Optional[Policy] = None) -> None:
    """Serialize ``value`` once (redacted, within budget) and set it as the inputs or outputs of ``span``."""
    if policy is None:
        policy = current_state().policy
    text = redacted_json(value, policy)
    set_plain_attributes(span, payload_attributes(policy.dialects, which, text))
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
    return json_value(value, policy.max_payload_bytes, policy.redactor)


def normalized_attributes(attributes: Optional[Mapping[str, Any]], policy: Optional[Policy] = None) -> dict[str, Any]:
    """``attributes`` with string keys, valid OTel values, and secrets redacted; never raises."""
    if not attributes:
        return {}
    if policy is None:
        policy = current_state().policy
    out: dict[str, Any] = {}
    items: list[tuple[Any, Any]] = []
    with _READING_ATTRIBUTES:  # a hostile mapping
        items = list(attributes.items())
    for key, value in items:
        name = safe_text(key, "<unprintable key>") or "<empty key>"
        out[name] = "<unserializable>"  # kept if the value fails: one bad value must not lose the others
        with _ATTRIBUTE_VALUE:
            out[name] = attribute_value(name, value, policy.max_payload_bytes, policy.redactor)
    return out


def tag_attributes(tags: Mapping[str, Any]) -> dict[str, Any]:
    """Trace tags as attributes: ``agentel.tag.<key>`` each and ``tag.tags`` (``key=value`` list), with
    the value of a sensitive key (``api_key``, ``db_password``, …) redacted in both."""
    policy = current_state().policy
    out: dict[str, Any] = {}
    listed: list[str] = []
    for key, value in tags.items():
        name = safe_text(key, "<unprintable key>")
        shown = attribute_value(name, value, policy.max_payload_bytes, policy.redactor)
        out[f"agentel.tag.{name}"] = shown
        listed.append(f"{name}={shown if isinstance(shown, str) else safe_text(shown)}")
    out[sc.TAG_TAGS] = listed
    return out
