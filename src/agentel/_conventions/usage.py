"""Token usage, written and read in one place: a call's counts merged over those a span already carries
and written in every enabled dialect, and the counts a span carries read back from whichever dialect
wrote them (another instrumentation's too), for the trace total, the metrics and the cost.

A usage record is ``{"input": 12, "output": 3, "total": 15, "cache_read": ..., "cache_write": ...,
"reasoning": ...}`` (GenAI semantics: input includes cached input, reasoning is part of output).
"""

from __future__ import annotations

from typing import Any, Mapping, Optional

from agentel._conventions import names as sc
from agentel._conventions import readers as read
from agentel._conventions.dialects import USAGE_KEYS
from agentel._conventions.dialects.genai import GENAI
from agentel._conventions.dialects.mlflow import MLFLOW
from agentel._conventions.dialects.openinference import OPENINFERENCE
from agentel._conventions.dialects.registry import written
from agentel._conventions.policy import Policy
from agentel._otel_internals import attribute_dict

FIELDS = tuple(USAGE_KEYS)  # a usage record's fields, in order
# one of these on a span says it carries token usage (in some dialect)
PRESENCE_KEYS = frozenset(GENAI.usage_keys + OPENINFERENCE.usage_keys + MLFLOW.usage_keys)
# every key read_usage reads: a span with none of them has no usage to read
_READ_KEYS = frozenset(
    [key for _, key in GENAI.usage_table.pairs + OPENINFERENCE.usage_table.pairs] + [sc.MLFLOW_CHAT_USAGE]
)


def span_attributes(span: Any) -> Optional[Mapping[str, Any]]:
    """A span's attributes for reading (an SDK span's plain dict: an absent key costs a dict miss, not
    the ``KeyError`` a ``BoundedAttributes`` raises and catches); ``None`` for a span without any."""
    try:
        return attribute_dict(span)
    except AttributeError:  # not an SDK span, and no public ``attributes`` either
        return None


def has_usage(attributes: Any) -> bool:
    """Cheap test: does a span's attribute mapping carry token usage in any dialect?"""
    return not attributes.keys().isdisjoint(PRESENCE_KEYS)


def read_usage(attributes: Any) -> Optional[dict[str, int]]:
    """Token usage recorded on a span, in whichever dialect (GenAI first), as ``{"input": 12, ...}``.

    Each count comes from the GenAI key, else the OpenInference key; MLflow's ``mlflow.chat.tokenUsage``
    is read only when neither has any. ``total`` is input + output when no dialect has it.
    Example: ``read_usage({"llm.token_count.prompt": 12})`` is ``{"input": 12, "total": 12}``.
    """
    if not attributes:
        return None
    present = _READ_KEYS.intersection(attributes)  # one C pass: the usage keys this span has
    if not present:
        return None
    get = attributes.get
    found: dict[str, int] = {}
    for name, genai_key, openinference_key in _FIELD_KEYS:  # one pass, in FIELDS order
        if genai_key in present:
            value = get(genai_key)
            count = value if type(value) is int and value >= 0 else read.recorded_count(value)
            if count is not None:
                found[name] = count
                continue
        if openinference_key in present:
            value = get(openinference_key)
            count = value if type(value) is int and value >= 0 else read.recorded_count(value)
            if count is not None:
                found[name] = count
    read_in_order = bool(found)
    if not found:
        found = MLFLOW.read_usage(attributes)
    if found and "total" not in found and ("input" in found or "output" in found):
        found["total"] = found.get("input", 0) + found.get("output", 0)
        if read_in_order and found.keys() <= _INPUT_OUTPUT_TOTAL:
            return found  # already in FIELDS order: "total" comes after "input" and "output"
    return {name: found[name] for name in FIELDS if name in found} or None


_INPUT_OUTPUT_TOTAL = frozenset(("input", "output", "total"))


# (field, GenAI key, OpenInference key) for every usage field, in FIELDS order: read_usage's table
_FIELD_KEYS = tuple(
    (name, dict(GENAI.usage_table.pairs).get(name), dict(OPENINFERENCE.usage_table.pairs).get(name)) for name in FIELDS
)


# set_token_usage's keywords (but ``total``) and the usage field each one sets
_KEYWORD_FIELDS = {
    "input": "input",
    "output": "output",
    "cached_input": "cache_read",
    "reasoning": "reasoning",
    "cache_creation": "cache_write",
}


def usage_attributes(span: Any, policy: Policy, *, total: Any = None, **counts: Any) -> dict[str, Any]:
    """The attributes ``set_token_usage`` sets (its keywords: ``_KEYWORD_FIELDS`` and ``total``): new
    counts merged over those already on ``span``.

    None when another instrumentation's child span already recorded this model call's usage
    (``agentel.usage.recorded_by``): the call is counted once, there.
    """
    unknown = counts.keys() - _KEYWORD_FIELDS.keys()
    if unknown:
        raise TypeError(f"set_token_usage() got an unexpected keyword argument {min(unknown)!r}")
    attributes = span_attributes(span)
    if attributes and attributes.get(sc.AGENTEL_USAGE_RECORDED_BY) is not None:
        return {}
    usage = dict(read_usage(attributes) or {}) if attributes and has_usage(attributes) else {}
    explicit_total = read.count(total)
    changed = False
    for keyword, value in counts.items():
        number = read.count(value)
        if number is not None:
            key = _KEYWORD_FIELDS[keyword]
            usage[key] = number
            changed = changed or key in ("input", "output")
    if explicit_total is not None:
        usage["total"] = explicit_total
    elif changed:  # derived only when this call changed input or output
        usage["total"] = usage.get("input", 0) + usage.get("output", 0)
    return written(policy.dialects, lambda dialect: dialect.usage(usage))
