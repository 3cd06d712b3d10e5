"""MLflow's own span attributes (``mlflow``; ``mlflow.tracing.constant.SpanAttributeKey``, MLflow 3.x):
JSON-encoded values, read by an MLflow tracking server's OTLP endpoint (see ``names``)."""

from __future__ import annotations

import json
from typing import Any, Mapping

from agentel._conventions import dialects as protocol
from agentel._conventions import names as sc
from agentel._conventions.span_types import Convention

USAGE = protocol.UsageTable("mlflow")  # token usage: written and read back with this table
_PAYLOAD_KEYS = {"input": sc.MLFLOW_SPAN_INPUTS, "output": sc.MLFLOW_SPAN_OUTPUTS}


class MLflow:
    """Writes MLflow's own keys."""

    name = "mlflow"
    usage_keys: tuple[str, ...] = (sc.MLFLOW_CHAT_USAGE,)

    def start(self, row: Convention) -> protocol.Attributes:
        return {sc.MLFLOW_SPAN_TYPE: json.dumps(row.mlflow_type)}

    def function(self, name: str) -> protocol.Attributes:
        return {sc.MLFLOW_SPAN_FUNCTION_NAME: json.dumps(name)}

    def session(self, session_id: str) -> protocol.Attributes:
        return {}

    def payload_keys(self, which: str) -> tuple[str, ...]:
        return (_PAYLOAD_KEYS[which],)

    def llm(self, call: protocol.Llm, span: Any, budget: int) -> protocol.Attributes:
        out: protocol.Attributes = {}
        shown_model = call.response_model or call.model
        if shown_model is not None:
            out[sc.MLFLOW_LLM_MODEL] = json.dumps(shown_model)
        if call.oi_provider is not None:
            out[sc.MLFLOW_LLM_PROVIDER] = json.dumps(call.oi_provider)
        return out

    def usage(self, usage: Mapping[str, int]) -> protocol.Attributes:
        mlflow_usage = USAGE.written(usage)
        return {sc.MLFLOW_CHAT_USAGE: json.dumps(mlflow_usage)} if mlflow_usage else {}

    def read_usage(self, attributes: Mapping[str, Any]) -> dict[str, int]:
        raw = attributes.get(sc.MLFLOW_CHAT_USAGE)
        if not isinstance(raw, str):
            return {}
        try:
            recorded = json.loads(raw)
        except ValueError:
            return {}
        return USAGE.read(recorded) if isinstance(recorded, dict) else {}

    def messages(self, messages: protocol.Messages, span: Any) -> tuple[protocol.Attributes, int]:
        return {}, 0  # MLflow shows the span's inputs and outputs

    def tool(self, tool: protocol.Tool, budget: int) -> protocol.Attributes:
        return {}

    def documents(self, documents: protocol.Documents, span: Any) -> tuple[protocol.Attributes, int]:
        return {}, 0

    def embeddings(self, embeddings: protocol.Embeddings, span: Any, budget: int) -> protocol.Attributes:
        return {sc.MLFLOW_LLM_MODEL: json.dumps(embeddings.model)} if embeddings.model is not None else {}

    def agent(self, agent: protocol.Agent) -> protocol.Attributes:
        return {}

    def cost(self, input_cost: float, output_cost: float) -> dict[str, float]:
        return {}  # MLflow has no cost attribute


MLFLOW = MLflow()
