"""Attribute names of the dialects agentel speaks, and the static attributes of a span type.

Names from ``opentelemetry-semantic-conventions`` where it has them; the rest defined here once.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as _gen_ai

from ._span_types import convention_for

# agentel's own keys
AGENTEL_SPAN_TYPE = "agentel.span.type"
AGENTEL_TRUNCATED_INPUT_BYTES = "agentel.input.original_bytes"
AGENTEL_TRUNCATED_OUTPUT_BYTES = "agentel.output.original_bytes"
AGENTEL_TIME_TO_FIRST_ITEM_MS = "agentel.time_to_first_item_ms"
AGENTEL_ENDED_BY = "agentel.ended_by"

# OpenTelemetry GenAI semantic conventions (v1.38, development status)
GEN_AI_OPERATION_NAME: str = _gen_ai.GEN_AI_OPERATION_NAME
GEN_AI_CONVERSATION_ID: str = _gen_ai.GEN_AI_CONVERSATION_ID

# OpenInference semantic conventions (Arize, openinference-semantic-conventions 0.1.x)
OPENINFERENCE_SPAN_KIND = "openinference.span.kind"
INPUT_VALUE = "input.value"
INPUT_MIME_TYPE = "input.mime_type"
OUTPUT_VALUE = "output.value"
OUTPUT_MIME_TYPE = "output.mime_type"
SESSION_ID = "session.id"
USER_ID = "user.id"
METADATA = "metadata"
TAG_TAGS = "tag.tags"
JSON_MIME = "application/json"

# MLflow's own span attribute keys (MLflow 2.13+ / 3.x); values are JSON-encoded
MLFLOW_SPAN_TYPE = "mlflow.spanType"
MLFLOW_SPAN_INPUTS = "mlflow.spanInputs"
MLFLOW_SPAN_OUTPUTS = "mlflow.spanOutputs"


@functools.lru_cache(maxsize=256)
def _start_attributes(span_type: str, dialects: frozenset[str]) -> tuple[tuple[str, Any], ...]:
    row = convention_for(span_type)
    attributes: dict[str, Any] = {AGENTEL_SPAN_TYPE: span_type}
    if "openinference" in dialects:
        attributes[OPENINFERENCE_SPAN_KIND] = row.openinference_kind
    if "genai" in dialects and row.gen_ai_operation:
        attributes[GEN_AI_OPERATION_NAME] = row.gen_ai_operation
    if "mlflow" in dialects:
        attributes[MLFLOW_SPAN_TYPE] = json.dumps(row.mlflow_type)
    return tuple(attributes.items())


def start_attributes(span_type: str, dialects: frozenset[str]) -> dict[str, Any]:
    """The attributes every span of ``span_type`` carries from its start (a fresh dict)."""
    return dict(_start_attributes(span_type, dialects))
