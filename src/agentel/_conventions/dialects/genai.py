"""The OpenTelemetry GenAI dialect (``genai``): ``gen_ai.*`` attributes, messages as JSON text in the
GenAI message schema (semantic conventions v1.44.0, see ``names``)."""

from __future__ import annotations

from typing import Any

from agentel._conventions import dialects as protocol
from agentel._conventions import names as sc
from agentel._conventions import readers as read
from agentel._conventions.span_types import Convention
from agentel._payload.serialize import to_json

USAGE = protocol.UsageTable("genai")  # token usage: written and read back with this table


def _given(*pairs: tuple[str, Any]) -> protocol.Attributes:
    return {key: value for key, value in pairs if value is not None}


class GenAI(protocol.UsageAttributes):
    """Writes the OpenTelemetry GenAI keys."""

    usage_table = USAGE
    name = "genai"
    usage_keys: tuple[str, ...] = (sc.GEN_AI_USAGE_INPUT_TOKENS, sc.GEN_AI_USAGE_OUTPUT_TOKENS)

    def start(self, row: Convention) -> protocol.Attributes:
        return {sc.GEN_AI_OPERATION_NAME: row.gen_ai_operation} if row.gen_ai_operation else {}

    def function(self, name: str) -> protocol.Attributes:
        return {}

    def session(self, session_id: str) -> protocol.Attributes:
        return {sc.GEN_AI_CONVERSATION_ID: session_id}

    def payload_keys(self, which: str) -> tuple[str, ...]:
        return ()  # inputs and outputs have no GenAI key of their own (input.value is always written)

    def llm(self, call: protocol.Llm, span: Any, budget: int) -> protocol.Attributes:
        out = _given(
            (sc.GEN_AI_REQUEST_MODEL, call.model),
            (sc.GEN_AI_PROVIDER_NAME, call.genai_provider),
            (sc.GEN_AI_REQUEST_TEMPERATURE, call.temperature),
            (sc.GEN_AI_REQUEST_MAX_TOKENS, call.max_tokens),
            (sc.GEN_AI_REQUEST_TOP_P, call.top_p),
            (sc.GEN_AI_RESPONSE_MODEL, call.response_model),
            (sc.GEN_AI_RESPONSE_ID, call.response_id),
        )
        if call.stop:
            out[sc.GEN_AI_REQUEST_STOP_SEQUENCES] = list(call.stop)
        if call.finish_reasons:
            out[sc.GEN_AI_RESPONSE_FINISH_REASONS] = list(call.finish_reasons)
        return out

    def messages(self, messages: protocol.Messages, span: Any) -> tuple[protocol.Attributes, int]:
        out: protocol.Attributes = {}
        if messages.system is not None:
            out[sc.GEN_AI_SYSTEM_INSTRUCTIONS] = messages.system.text
        if messages.input is not None:
            out[sc.GEN_AI_INPUT_MESSAGES] = messages.input.text
        if messages.output is not None:
            out[sc.GEN_AI_OUTPUT_MESSAGES] = messages.output.text
        return out, 0

    def tool(self, tool: protocol.Tool, budget: int) -> protocol.Attributes:
        out = _given(
            (sc.GEN_AI_TOOL_NAME, tool.name),
            (sc.GEN_AI_TOOL_DESCRIPTION, tool.description),
            (sc.GEN_AI_TOOL_CALL_ID, tool.call_id),
        )
        if tool.arguments is not None:
            out[sc.GEN_AI_TOOL_CALL_ARGUMENTS] = to_json(read.json_value(tool.arguments, budget), budget)
        if tool.result is not None:
            out[sc.GEN_AI_TOOL_CALL_RESULT] = to_json(read.json_value(tool.result, budget), budget)
        return out

    def documents(self, documents: protocol.Documents, span: Any) -> tuple[protocol.Attributes, int]:
        out: protocol.Attributes = {sc.GEN_AI_RETRIEVAL_DOCUMENTS: documents.documents.text}
        if documents.query is not None:
            out[sc.GEN_AI_RETRIEVAL_QUERY_TEXT] = documents.query
        if documents.data_source_id is not None:
            out[sc.GEN_AI_DATA_SOURCE_ID] = documents.data_source_id
        return out, 0

    def embeddings(self, embeddings: protocol.Embeddings, span: Any, budget: int) -> protocol.Attributes:
        return _given(
            (sc.GEN_AI_REQUEST_MODEL, embeddings.model),
            (sc.GEN_AI_PROVIDER_NAME, embeddings.genai_provider),
            (sc.GEN_AI_EMBEDDINGS_DIMENSION_COUNT, embeddings.dimension),
        )

    def agent(self, agent: protocol.Agent) -> protocol.Attributes:
        return _given(
            (sc.GEN_AI_AGENT_NAME, agent.name),
            (sc.GEN_AI_AGENT_ID, agent.agent_id),
            (sc.GEN_AI_AGENT_DESCRIPTION, agent.description),
        )

    def cost(self, input_cost: float, output_cost: float) -> dict[str, float]:
        return {}  # GenAI has no cost attribute


GENAI = GenAI()
