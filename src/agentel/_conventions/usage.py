"""Token usage read back from a span's attributes, in whichever dialect wrote it (agentel's or another
instrumentation's): for the trace total, the metrics and the cost.

A usage record is ``{"input": 12, "output": 3, "total": 15, "cache_read": ..., "cache_write": ...,
"reasoning": ...}`` (GenAI semantics: input includes cached input, reasoning is part of output).
"""

from __future__ import annotations

import json
from typing import Any, Optional

from agentel._conventions import names as sc

# (field, GenAI key, OpenInference key); GenAI has no total (it is input + output)
_USAGE_SOURCES = (
    ("input", sc.GEN_AI_USAGE_INPUT_TOKENS, sc.LLM_TOKEN_COUNT_PROMPT),
    ("output", sc.GEN_AI_USAGE_OUTPUT_TOKENS, sc.LLM_TOKEN_COUNT_COMPLETION),
    ("total", None, sc.LLM_TOKEN_COUNT_TOTAL),
    ("cache_read", sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, sc.LLM_TOKEN_COUNT_CACHE_READ),
    ("cache_write", sc.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS, sc.LLM_TOKEN_COUNT_CACHE_WRITE),
    ("reasoning", sc.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS, sc.LLM_TOKEN_COUNT_REASONING),
)
FIELDS = tuple(source[0] for source in _USAGE_SOURCES)
_MLFLOW_USAGE_FIELDS = {
    "input_tokens": "input",
    "output_tokens": "output",
    "total_tokens": "total",
    "cache_read_input_tokens": "cache_read",
    "cache_creation_input_tokens": "cache_write",
}


def _token_count(value: Any) -> Optional[int]:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


# one of these on a span says it carries token usage (in some dialect)
PRESENCE_KEYS = frozenset(
    {
        sc.GEN_AI_USAGE_INPUT_TOKENS,
        sc.GEN_AI_USAGE_OUTPUT_TOKENS,
        sc.LLM_TOKEN_COUNT_PROMPT,
        sc.LLM_TOKEN_COUNT_COMPLETION,
        sc.LLM_TOKEN_COUNT_TOTAL,
        sc.MLFLOW_CHAT_USAGE,
    }
)


def has_usage(attributes: Any) -> bool:
    """Cheap test: does a span's attribute mapping carry token usage in any dialect?"""
    return not attributes.keys().isdisjoint(PRESENCE_KEYS)


def read_usage(attributes: Any) -> Optional[dict[str, int]]:
    """Token usage recorded on a span, in whichever dialect (GenAI first), as ``{"input": 12, ...}``.

    Example: ``read_usage({"llm.token_count.prompt": 12})`` is ``{"input": 12, "total": 12}``.
    """
    if not attributes:
        return None
    found: dict[str, int] = {}
    for name, genai_key, oi_key in _USAGE_SOURCES:
        value = _token_count(attributes.get(genai_key)) if genai_key else None
        if value is None:
            value = _token_count(attributes.get(oi_key))
        if value is not None:
            found[name] = value
    if not found and isinstance(attributes.get(sc.MLFLOW_CHAT_USAGE), str):
        try:
            mlflow_usage = json.loads(attributes[sc.MLFLOW_CHAT_USAGE])
        except ValueError:
            mlflow_usage = None
        if isinstance(mlflow_usage, dict):
            for key, name in _MLFLOW_USAGE_FIELDS.items():
                value = _token_count(mlflow_usage.get(key))
                if value is not None:
                    found[name] = value
    if found and "total" not in found and ("input" in found or "output" in found):
        found["total"] = found.get("input", 0) + found.get("output", 0)
    return found or None
