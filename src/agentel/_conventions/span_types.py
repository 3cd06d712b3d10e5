"""Span types, statuses, and the table mapping each span type onto the conventions backends read.

The table is data: one row per ``SpanType`` with the OTel ``SpanKind`` the GenAI conventions prescribe
(CLIENT for calls to a model or data service, INTERNAL for in-process steps), the
``gen_ai.operation.name`` where one fits, the OpenInference span kind, and the MLflow span type.
Custom span types pass through (INTERNAL, no GenAI operation, OpenInference ``UNKNOWN``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Union

from opentelemetry.trace import SpanKind, Status, StatusCode

from agentel._errors import InvalidStatusError
from agentel._payload.serialize import clip_text

MAX_STATUS_DESCRIPTION_BYTES = 1024
"""A status description is valid UTF-8 of at most this many bytes (the exception event has the rest)."""


class SpanType:
    """Agent span types (plain strings; any custom string is allowed too).

    Example::

        @agentel.trace(span_type=agentel.SpanType.TOOL)
        def search(query: str) -> list[str]: ...
    """

    AGENT = "AGENT"
    LLM = "LLM"
    CHAT_MODEL = "CHAT_MODEL"
    TOOL = "TOOL"
    RETRIEVER = "RETRIEVER"
    EMBEDDING = "EMBEDDING"
    RERANKER = "RERANKER"
    CHAIN = "CHAIN"
    PARSER = "PARSER"
    MEMORY = "MEMORY"
    GUARDRAIL = "GUARDRAIL"
    EVALUATOR = "EVALUATOR"
    WORKFLOW = "WORKFLOW"
    TASK = "TASK"
    UNKNOWN = "UNKNOWN"


class SpanStatusCode:
    """Status codes, as strings (``UNSET``, ``OK``, ``ERROR``), matching MLflow's names."""

    UNSET = "UNSET"
    OK = "OK"
    ERROR = "ERROR"


_OTEL_CODES = {
    SpanStatusCode.UNSET: StatusCode.UNSET,
    SpanStatusCode.OK: StatusCode.OK,
    SpanStatusCode.ERROR: StatusCode.ERROR,
}


@dataclass(frozen=True)
class SpanStatus:
    """A span status: a code and, for errors, a description.

    Example: ``span.set_status(SpanStatus(SpanStatusCode.ERROR, "timeout"))``.
    """

    status_code: str = SpanStatusCode.UNSET
    description: str = ""

    def __post_init__(self) -> None:
        code = _code_name(self.status_code)
        if code is None:
            raise InvalidStatusError(f"unknown span status code {self.status_code!r}; use one of UNSET, OK, ERROR")
        object.__setattr__(self, "status_code", code)

    def to_otel_status(self) -> Status:
        """The equivalent OpenTelemetry ``Status`` (descriptions are kept only for ERROR)."""
        code = _OTEL_CODES[self.status_code]
        if code is not StatusCode.ERROR or not self.description:
            return Status(code, None)
        return Status(code, clip_text(self.description, MAX_STATUS_DESCRIPTION_BYTES))


StatusLike = Union[SpanStatus, str, StatusCode, Status, None]

_OTEL_STATUS_OF_NAME = {name: Status(code) for name, code in _OTEL_CODES.items()}  # Status is immutable


def _code_name(code: Any) -> Optional[str]:
    if isinstance(code, StatusCode):
        return code.name
    if isinstance(code, str):
        name = code.strip().upper()
        if name.startswith("STATUS_CODE_"):
            name = name[len("STATUS_CODE_") :]
        return name if name in _OTEL_CODES else None
    return None


def to_span_status(status: StatusLike) -> SpanStatus:
    """Coerce a ``SpanStatus``, a code name, an OTel ``StatusCode`` or ``Status``.

    Raises ``InvalidStatusError`` (a ``ValueError``) for anything else.
    """
    if isinstance(status, SpanStatus):
        return status
    if status is None:
        return SpanStatus(SpanStatusCode.UNSET)
    if isinstance(status, Status):
        return SpanStatus(status.status_code.name, status.description or "")
    return SpanStatus(status)  # type: ignore[arg-type]  # validated in __post_init__


def to_otel_status(status: StatusLike) -> Status:
    """``to_span_status(status).to_otel_status()``; a plain code name (``"OK"``) costs a lookup."""
    if type(status) is str:
        known = _OTEL_STATUS_OF_NAME.get(status)
        if known is not None:
            return known
    return to_span_status(status).to_otel_status()


@dataclass(frozen=True)
class Convention:
    """How one span type is expressed in each dialect.

    ``model_call`` marks the types whose return values are inspected for an OpenAI- or Anthropic-style
    model response (model, token usage, finish reasons, output messages).
    """

    kind: SpanKind
    gen_ai_operation: Optional[str]
    openinference_kind: str
    mlflow_type: str
    model_call: bool = False


# SpanKind and gen_ai.operation.name: OpenTelemetry GenAI semantic conventions v1.44.0 (development
# status; github.com/open-telemetry/semantic-conventions-genai): CLIENT for calls to a model or data
# service (inference, embeddings, retrieval), INTERNAL for in-process steps (execute_tool, invoke_agent of
# a local agent, invoke_workflow). Types without a GenAI operation carry none (no custom value is made up).
# openinference.span.kind: OpenInference semantic conventions 0.1.x (Arize; LLM, CHAIN, TOOL, RETRIEVER,
# EMBEDDING, AGENT, RERANKER, GUARDRAIL, EVALUATOR, UNKNOWN).
# MLflow span type: mlflow.entities.SpanType (MLflow 3.x), sent as mlflow.spanType in the mlflow dialect.
CONVENTIONS: dict[str, Convention] = {
    SpanType.AGENT: Convention(SpanKind.INTERNAL, "invoke_agent", "AGENT", "AGENT"),
    SpanType.LLM: Convention(SpanKind.CLIENT, "text_completion", "LLM", "LLM", model_call=True),
    SpanType.CHAT_MODEL: Convention(SpanKind.CLIENT, "chat", "LLM", "CHAT_MODEL", model_call=True),
    SpanType.TOOL: Convention(SpanKind.INTERNAL, "execute_tool", "TOOL", "TOOL"),
    SpanType.RETRIEVER: Convention(SpanKind.CLIENT, "retrieval", "RETRIEVER", "RETRIEVER"),
    SpanType.EMBEDDING: Convention(SpanKind.CLIENT, "embeddings", "EMBEDDING", "EMBEDDING"),
    SpanType.RERANKER: Convention(SpanKind.CLIENT, None, "RERANKER", "RERANKER"),
    SpanType.CHAIN: Convention(SpanKind.INTERNAL, None, "CHAIN", "CHAIN"),
    SpanType.PARSER: Convention(SpanKind.INTERNAL, None, "CHAIN", "PARSER"),
    SpanType.MEMORY: Convention(SpanKind.INTERNAL, None, "CHAIN", "MEMORY"),
    SpanType.GUARDRAIL: Convention(SpanKind.INTERNAL, None, "GUARDRAIL", "GUARDRAIL"),
    SpanType.EVALUATOR: Convention(SpanKind.INTERNAL, None, "EVALUATOR", "EVALUATOR"),
    SpanType.WORKFLOW: Convention(SpanKind.INTERNAL, "invoke_workflow", "CHAIN", "WORKFLOW"),
    SpanType.TASK: Convention(SpanKind.INTERNAL, None, "CHAIN", "TASK"),
    SpanType.UNKNOWN: Convention(SpanKind.INTERNAL, None, "UNKNOWN", "UNKNOWN"),
}


def convention_for(span_type: str) -> Convention:
    """The row for ``span_type``; a custom type passes through as an INTERNAL, UNKNOWN-kind span."""
    row = CONVENTIONS.get(span_type)
    if row is None:
        row = Convention(SpanKind.INTERNAL, None, "UNKNOWN", span_type)
    return row
