"""The OpenInference dialect (``openinference``, Arize; what Phoenix reads): flat ``llm.*``, ``tool.*``,
``retrieval.*``, ``embedding.*`` keys, lists as indexed keys (``llm.input_messages.0.message.role``),
projected from the same cut GenAI-schema records the GenAI dialect writes (see ``names``)."""

from __future__ import annotations

import json
from typing import Any

from agentel._conventions import dialects as protocol
from agentel._conventions import names as sc
from agentel._conventions import readers as read
from agentel._conventions._budget import attribute_room, flatten_within
from agentel._conventions.span_types import Convention
from agentel._payload.serialize import to_json
from agentel._payload.truncate import fit_list

USAGE = protocol.UsageTable("openinference")  # token usage: written and read back with this table


def _oi_message(prefix: str, message: dict[str, Any]) -> dict[str, Any]:
    """One message as OpenInference keys (the same projection Phoenix makes from the GenAI schema)."""
    flat: dict[str, Any] = {f"{prefix}.{sc.MESSAGE_ROLE}": str(message.get("role", ""))}
    if message.get("name"):
        flat[f"{prefix}.{sc.MESSAGE_NAME}"] = str(message["name"])
    parts: list[dict[str, Any]] = message.get("parts", [])
    for part in parts:
        if part.get("type") == "tool_call_response":
            if part.get("id"):
                flat[f"{prefix}.{sc.MESSAGE_TOOL_CALL_ID}"] = str(part["id"])
            flat[f"{prefix}.{sc.MESSAGE_CONTENT}"] = read.as_json_text(part.get("response", ""))
            return flat
    contents = [p for p in parts if p.get("type") in ("text", "reasoning", "uri", "blob")]
    texts = [p for p in contents if p.get("type") == "text"]
    if contents and (len(texts) != len(contents) or len(texts) > 1):
        for index, part in enumerate(contents):
            base = f"{prefix}.{sc.MESSAGE_CONTENTS}.{index}"
            kind = part.get("type")
            if kind in ("text", "reasoning"):
                flat[f"{base}.{sc.MESSAGE_CONTENT_TYPE}"] = kind
                flat[f"{base}.{sc.MESSAGE_CONTENT_TEXT}"] = str(part.get("content", ""))
            else:
                flat[f"{base}.{sc.MESSAGE_CONTENT_TYPE}"] = "image"
                url = part.get("uri")
                if kind == "blob":
                    url = f"data:{part.get('mime_type') or 'application/octet-stream'};base64,{part.get('content', '')}"
                if url:
                    flat[f"{base}.{sc.MESSAGE_CONTENT_IMAGE_URL}"] = str(url)
    elif texts:
        flat[f"{prefix}.{sc.MESSAGE_CONTENT}"] = str(texts[0].get("content", ""))
    calls = [p for p in parts if p.get("type") == "tool_call"]
    for index, call in enumerate(calls):
        base = f"{prefix}.{sc.MESSAGE_TOOL_CALLS}.{index}"
        if call.get("id"):
            flat[f"{base}.{sc.TOOL_CALL_ID}"] = str(call["id"])
        flat[f"{base}.{sc.TOOL_CALL_FUNCTION_NAME}"] = str(call.get("name", ""))
        if call.get("arguments") is not None:
            flat[f"{base}.{sc.TOOL_CALL_FUNCTION_ARGUMENTS}"] = read.as_json_text(call["arguments"])
    return flat


def _oi_document(prefix: str, doc: dict[str, Any]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    if "id" in doc:
        flat[f"{prefix}.{sc.DOCUMENT_ID}"] = doc["id"]
    if "score" in doc:
        flat[f"{prefix}.{sc.DOCUMENT_SCORE}"] = doc["score"]
    if "content" in doc:
        flat[f"{prefix}.{sc.DOCUMENT_CONTENT}"] = doc["content"]
    if "metadata" in doc:
        flat[f"{prefix}.{sc.DOCUMENT_METADATA}"] = read.as_json_text(doc["metadata"])
    return flat


def _oi_embedding(prefix: str, item: dict[str, Any]) -> dict[str, Any]:
    keys = {f"{prefix}.{sc.EMBEDDING_TEXT}": item["text"]} if "text" in item else {}
    if "vector" in item:
        keys[f"{prefix}.{sc.EMBEDDING_VECTOR}"] = item["vector"]
    return keys


def _invocation_parameters(call: protocol.Llm, span: Any, budget: int) -> Any:
    """The call's sampling parameters as JSON, merged over those already on ``span``; ``None`` if none."""
    parameters = {
        key: value
        for key, value in (
            ("temperature", call.temperature),
            ("max_tokens", call.max_tokens),
            ("top_p", call.top_p),
            ("stop", list(call.stop) or None),
        )
        if value is not None
    }
    if not parameters:
        return None
    attributes = getattr(span, "attributes", None)
    previous = attributes.get(sc.LLM_INVOCATION_PARAMETERS) if attributes else None
    if isinstance(previous, str):
        try:
            merged = json.loads(previous)
            if isinstance(merged, dict):
                parameters = {**merged, **parameters}
        except ValueError:
            pass
    return to_json(parameters, budget)


class OpenInference(protocol.UsageAttributes):
    """Writes the OpenInference keys."""

    usage_table = USAGE
    name = "openinference"
    usage_keys: tuple[str, ...] = (sc.LLM_TOKEN_COUNT_PROMPT, sc.LLM_TOKEN_COUNT_COMPLETION, sc.LLM_TOKEN_COUNT_TOTAL)

    def start(self, row: Convention) -> protocol.Attributes:
        return {sc.OPENINFERENCE_SPAN_KIND: row.openinference_kind}

    def function(self, name: str) -> protocol.Attributes:
        return {}

    def session(self, session_id: str) -> protocol.Attributes:
        return {}  # session.id is written in every configuration

    def payload_keys(self, which: str) -> tuple[str, ...]:
        return ()  # input.value / output.value are written in every configuration

    def llm(self, call: protocol.Llm, span: Any, budget: int) -> protocol.Attributes:
        out: protocol.Attributes = {}
        shown_model = call.response_model or call.model
        if shown_model is not None:
            out[sc.LLM_MODEL_NAME] = shown_model
        if call.oi_provider is not None:
            out[sc.LLM_PROVIDER] = call.oi_provider
        parameters = _invocation_parameters(call, span, budget)
        if parameters is not None:
            out[sc.LLM_INVOCATION_PARAMETERS] = parameters
        reasons = call.finish_reasons
        if reasons:
            out[sc.LLM_FINISH_REASON] = reasons[0] if len(reasons) == 1 else list(reasons)
        return out

    def messages(self, messages: protocol.Messages, span: Any) -> tuple[protocol.Attributes, int]:
        """Indexed message keys; the system instructions are the first input message, as in Phoenix."""
        room = attribute_room(span)
        system = messages.system
        items = [{"role": "system", "parts": system.items}] if system is not None and system.items else []
        if messages.input is not None:
            items += messages.input.items
        out, dropped = flatten_within(sc.LLM_INPUT_MESSAGES, items, _oi_message, room, "last")
        if messages.output is not None:
            flat, left_out = flatten_within(
                sc.LLM_OUTPUT_MESSAGES, messages.output.items, _oi_message, room - len(out), "first"
            )
            out.update(flat)
            dropped += left_out
        return out, dropped

    def tool(self, tool: protocol.Tool, budget: int) -> protocol.Attributes:
        out = {
            key: value
            for key, value in (
                (sc.TOOL_NAME, tool.name),
                (sc.TOOL_DESCRIPTION, tool.description),
                (sc.TOOL_ID, tool.call_id),
            )
            if value is not None
        }
        if tool.parameters is not None:
            out[sc.TOOL_PARAMETERS] = to_json(read.json_value(tool.parameters, budget), budget)
        return out

    def documents(self, documents: protocol.Documents, span: Any) -> tuple[protocol.Attributes, int]:
        kept = documents.documents.items
        return flatten_within(sc.RETRIEVAL_DOCUMENTS, kept, _oi_document, attribute_room(span), "first")

    def embeddings(self, embeddings: protocol.Embeddings, span: Any, budget: int) -> protocol.Attributes:
        out: protocol.Attributes = {}
        if embeddings.model is not None:
            out[sc.EMBEDDING_MODEL_NAME] = embeddings.model
        texts, vectors = embeddings.texts, embeddings.vectors
        if texts or vectors:
            kept_texts, _, _ = fit_list(list(texts), budget, keep="first")
            room_bytes = budget
            items: list[dict[str, Any]] = []
            for index in range(max(len(texts), len(vectors))):
                item: dict[str, Any] = {}
                if index < len(kept_texts):
                    item["text"] = kept_texts[index]
                if index < len(vectors) and vectors[index] and len(vectors[index]) * 8 <= room_bytes:
                    item["vector"] = vectors[index]
                    room_bytes -= len(vectors[index]) * 8
                if item:
                    items.append(item)
            flat, _ = flatten_within(sc.EMBEDDING_EMBEDDINGS, items, _oi_embedding, attribute_room(span), "first")
            out.update(flat)
        return out

    def agent(self, agent: protocol.Agent) -> protocol.Attributes:
        return {sc.AGENT_NAME: agent.name} if agent.name is not None else {}

    def cost(self, input_cost: float, output_cost: float) -> dict[str, float]:
        total = input_cost + output_cost
        return {sc.LLM_COST_PROMPT: input_cost, sc.LLM_COST_COMPLETION: output_cost, sc.LLM_COST_TOTAL: total}


OPENINFERENCE = OpenInference()
