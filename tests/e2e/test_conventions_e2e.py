"""Agent semantic conventions, end to end: one agent trace with every span type, sent over OTLP to
Arize Phoenix (gRPC) and to the MLflow tracking server (HTTP) at once, read back from both.

For each ``AGENTEL_SEMCONV`` choice the tests assert what each backend shows per span type: Phoenix's
``span_kind``, MLflow's ``span_type``, inputs, outputs, model, token usage and chat messages, the
trace-level session/user and token totals, and that the GenAI attributes Jaeger reads
(``gen_ai.input.messages`` / ``gen_ai.output.messages`` / ``gen_ai.system_instructions``) arrive as
valid JSON in the message schema, within the byte budget.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

import pytest
from _receivers import MlflowServer, Phoenix
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpanExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpSpanExporter

import agentel
from agentel import SpanType

BUDGET = 4096
SESSION, USER = "conv-session-1", "user-9"
SYSTEM = "You answer questions about orders."
QUESTION = "Where is order 42?"
HISTORY = [
    {"role": "user", "content": QUESTION},
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "lookup_order", "arguments": '{"order_id": 42}'}}
        ],
    },
    {"role": "tool", "tool_call_id": "call_1", "content": '{"status": "shipped"}'},
]
OPENAI_COMPLETION = {
    "id": "chatcmpl-e2e",
    "object": "chat.completion",
    "model": "gpt-4o-2024-08-06",
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "Order 42 has shipped."}, "finish_reason": "stop"}
    ],
    "usage": {
        "prompt_tokens": 120,
        "completion_tokens": 9,
        "total_tokens": 129,
        "prompt_tokens_details": {"cached_tokens": 64},
    },
}
ANTHROPIC_MESSAGE = {
    "id": "msg_e2e",
    "type": "message",
    "role": "assistant",
    "model": "claude-sonnet-4-5",
    "content": [{"type": "text", "text": "Shipped on Monday."}],
    "stop_reason": "end_turn",
    "usage": {"input_tokens": 40, "output_tokens": 6},
}
DOCUMENTS = [
    {"id": "kb-1", "content": "Orders ship within 2 days.", "score": 0.92, "metadata": {"source": "faq"}},
    {"id": "kb-2", "content": "Refunds take a week.", "score": 0.41},
]
LONG_TEXT = "x" * (3 * BUDGET)
TOTAL_INPUT = 120 + 40 + 7
TOTAL_OUTPUT = 9 + 6


# --- the agent: one span of every type ------------------------------------------------------------


@agentel.trace(name="retrieve", span_type=SpanType.RETRIEVER)
def retrieve(query: str) -> list[dict[str, Any]]:
    agentel.set_retrieved_documents(DOCUMENTS, query=query, data_source_id="orders-kb")
    return DOCUMENTS


@agentel.trace(name="embed", span_type=SpanType.EMBEDDING)
def embed(texts: list[str]) -> list[list[float]]:
    vectors = [[0.25, 0.5, 0.75] for _ in texts]
    agentel.set_embeddings(texts, vectors, model="text-embedding-3-small", provider="openai")
    agentel.set_token_usage(input=7)
    return vectors


@agentel.trace(name="chat", span_type=SpanType.CHAT_MODEL)
def chat(messages: list[dict[str, Any]]) -> dict[str, Any]:
    agentel.set_llm(model="gpt-4o", provider="openai", temperature=0.0, max_tokens=200)
    agentel.set_messages(input=messages, system=SYSTEM)
    return OPENAI_COMPLETION  # model, usage, finish reason and answer are read from this


@agentel.trace(name="complete", span_type=SpanType.LLM)
def complete(prompt: str) -> dict[str, Any]:
    agentel.set_llm(model="claude-sonnet-4-5", provider="anthropic", max_tokens=64)
    agentel.set_messages(input=prompt)
    return ANTHROPIC_MESSAGE


@agentel.trace(name="lookup_order", span_type=SpanType.TOOL)
def lookup_order(order_id: int) -> dict[str, Any]:
    result = {"order_id": order_id, "status": "shipped"}
    agentel.set_tool(
        name="lookup_order", description="Finds an order", call_id="call_1", arguments={"order_id": order_id}
    )
    agentel.set_tool(result=result)
    return result


@agentel.trace(name="long_prompt", span_type=SpanType.CHAT_MODEL)
def long_prompt() -> str:
    agentel.set_messages(input=[{"role": "user", "content": LONG_TEXT}] * 60, output=LONG_TEXT, system=LONG_TEXT)
    return "ok"


PLAIN_STEPS = [  # start_span blocks with inputs and outputs and nothing else
    ("rerank", SpanType.RERANKER),
    ("chain", SpanType.CHAIN),
    ("parse", SpanType.PARSER),
    ("memory", SpanType.MEMORY),
    ("guard", SpanType.GUARDRAIL),
    ("judge", SpanType.EVALUATOR),
    ("workflow", SpanType.WORKFLOW),
    ("task", SpanType.TASK),
    ("unknown", SpanType.UNKNOWN),
    ("custom", "MY_STEP"),
]


def plain(name: str, span_type: str) -> None:
    with agentel.start_span(name, span_type=span_type) as span:
        span.set_inputs({"step": name})
        span.set_outputs(f"{name} done")


@agentel.trace(name="support_agent", span_type=SpanType.AGENT)
def support_agent(question: str) -> str:
    agentel.set_agent(name="support_agent", id="agent-1", description="Answers order questions")
    agentel.update_current_trace(session_id=SESSION, user_id=USER)
    retrieve(question)
    embed([question])
    lookup_order(42)
    answer = chat(HISTORY)["choices"][0]["message"]["content"]
    complete(question)
    long_prompt()
    for name, span_type in PLAIN_STEPS:
        plain(name, span_type)
    return str(answer)


SPAN_COUNT = 17


# --- running it against both backends, once per dialect choice ------------------------------------

DIALECT_CHOICES = ["genai,openinference", "genai", "openinference", "genai,openinference,mlflow"]


@dataclass
class Shown:
    """What the two backends show for one run of the agent."""

    dialects: frozenset[str]
    phoenix: dict[str, dict[str, Any]]  # span name -> Phoenix span (flat attributes, as received)
    mlflow: dict[str, dict[str, Any]]  # span name -> MLflow span (JSON-looking values parsed)
    mlflow_info: dict[str, Any]
    internal_errors: int  # agentel's own errors while the agent ran (must be none)

    def has(self, dialect: str) -> bool:
        return dialect in self.dialects


_RUNS: dict[str, Shown] = {}


@pytest.fixture(params=DIALECT_CHOICES)
def shown(
    request: pytest.FixtureRequest,
    fresh_runtime: None,
    monkeypatch: pytest.MonkeyPatch,
    phoenix: Phoenix,
    mlflow_server: MlflowServer,
    phoenix_project: str,
) -> Shown:
    """Run the agent once per dialect choice (later tests reuse the run) and read it back."""
    choice: str = request.param
    if choice in _RUNS:
        return _RUNS[choice]
    for name in [k for k in os.environ if k.startswith(("OTEL_", "AGENTEL_"))]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", f"openinference.project.name={phoenix_project}")
    agentel.configure(
        exporters=[
            GrpcSpanExporter(endpoint=phoenix.grpc_endpoint, insecure=True),
            HttpSpanExporter(endpoint=mlflow_server.otlp_http_traces_url, headers=mlflow_server.headers),
        ],
        console=False,
        semconv=choice,
        max_payload_bytes=BUDGET,
    )
    errors_before = agentel.stats()["internal_errors"]
    support_agent(QUESTION)
    internal_errors = agentel.stats()["internal_errors"] - errors_before
    trace_id = agentel.get_last_trace_id()
    assert trace_id is not None
    assert agentel.force_flush(60_000)
    phoenix_spans = phoenix.spans(phoenix_project, trace_id, expect=SPAN_COUNT)
    mlflow_trace = mlflow_server.get_trace(trace_id, expect_spans=SPAN_COUNT)
    _RUNS[choice] = Shown(
        dialects=frozenset(choice.split(",")),
        phoenix={s["name"]: s for s in phoenix_spans},
        mlflow={s["name"]: s for s in mlflow_trace["spans"]},
        mlflow_info=mlflow_trace["info"],
        internal_errors=internal_errors,
    )
    return _RUNS[choice]


def parsed(value: Any) -> Any:
    """A JSON string's value (Phoenix returns attributes as sent; MLflow has parsed them already)."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


# span name: (Phoenix span_kind with OpenInference on, MLflow span_type with mlflow on, with OpenInference
# only (no mlflow keys), and with GenAI only (what both backends derive from gen_ai.operation.name))
KINDS = {
    "support_agent": ("AGENT", "AGENT", "AGENT", ("AGENT", "AGENT")),
    "retrieve": ("RETRIEVER", "RETRIEVER", "RETRIEVER", ("RETRIEVER", None)),
    "embed": ("EMBEDDING", "EMBEDDING", "EMBEDDING", ("EMBEDDING", "EMBEDDING")),
    "chat": ("LLM", "CHAT_MODEL", "LLM", ("LLM", "CHAT_MODEL")),
    "complete": ("LLM", "LLM", "LLM", ("LLM", "LLM")),
    "lookup_order": ("TOOL", "TOOL", "TOOL", ("TOOL", "TOOL")),
    "long_prompt": ("LLM", "CHAT_MODEL", "LLM", ("LLM", "CHAT_MODEL")),
    "rerank": ("RERANKER", "RERANKER", "RERANKER", ("UNKNOWN", None)),
    "chain": ("CHAIN", "CHAIN", "CHAIN", ("UNKNOWN", None)),
    "parse": ("CHAIN", "PARSER", "CHAIN", ("UNKNOWN", None)),
    "memory": ("CHAIN", "MEMORY", "CHAIN", ("UNKNOWN", None)),
    "guard": ("GUARDRAIL", "GUARDRAIL", "GUARDRAIL", ("UNKNOWN", None)),
    "judge": ("EVALUATOR", "EVALUATOR", "EVALUATOR", ("UNKNOWN", None)),
    "workflow": ("CHAIN", "WORKFLOW", "CHAIN", ("UNKNOWN", None)),
    "task": ("CHAIN", "TASK", "CHAIN", ("UNKNOWN", None)),
    "unknown": ("UNKNOWN", "UNKNOWN", "UNKNOWN", ("UNKNOWN", None)),
    "custom": ("UNKNOWN", "MY_STEP", "UNKNOWN", ("UNKNOWN", None)),
}


def test_each_span_type_shows_its_kind_in_phoenix_and_its_type_in_mlflow(shown: Shown) -> None:
    assert shown.internal_errors == 0
    assert set(shown.phoenix) == set(shown.mlflow) == set(KINDS)
    for name, (phoenix_kind, mlflow_type, mlflow_from_oi, (genai_phoenix, genai_mlflow)) in KINDS.items():
        if shown.has("openinference"):
            want = (phoenix_kind, mlflow_type if shown.has("mlflow") else mlflow_from_oi)
        else:
            want = (genai_phoenix, genai_mlflow)
        got = (shown.phoenix[name]["span_kind"], shown.mlflow[name]["span_type"])
        assert got == want, f"{name}: Phoenix span_kind / MLflow span_type {got}, expected {want}"


def test_inputs_and_outputs_in_both_backends(shown: Shown) -> None:
    for name, _ in PLAIN_STEPS:
        phoenix_attributes = shown.phoenix[name]["attributes"]
        for inputs, outputs, where in (
            (parsed(phoenix_attributes["input.value"]), parsed(phoenix_attributes["output.value"]), "Phoenix"),
            (shown.mlflow[name]["inputs"], shown.mlflow[name]["outputs"], "MLflow"),
        ):
            assert (inputs, outputs) == ({"step": name}, f"{name} done"), f"{where} {name}"
    for name, inputs, outputs in (
        ("support_agent", {"question": QUESTION}, "Order 42 has shipped."),
        ("lookup_order", {"order_id": 42}, {"order_id": 42, "status": "shipped"}),
        ("chat", {"messages": HISTORY}, OPENAI_COMPLETION),
        ("complete", {"prompt": QUESTION}, ANTHROPIC_MESSAGE),
        ("retrieve", {"query": QUESTION}, DOCUMENTS),
    ):
        attributes = shown.phoenix[name]["attributes"]
        assert parsed(attributes["input.value"]) == inputs, name
        assert parsed(attributes["output.value"]) == outputs, name
        assert shown.mlflow[name]["inputs"] == inputs, name
        assert shown.mlflow[name]["outputs"] == outputs, name
    # a span with no arguments: MLflow falls back to the GenAI input messages when input.value is empty
    long_inputs = shown.mlflow["long_prompt"]["inputs"]
    if shown.has("mlflow"):
        assert long_inputs == {}  # mlflow.spanInputs is what the function got
    elif shown.has("genai"):
        assert [m["role"] for m in long_inputs] == ["user"] * len(long_inputs) and long_inputs
    else:
        assert long_inputs is None


def test_model_and_token_usage(shown: Shown) -> None:
    for name, model, provider, usage in (
        (
            "chat",
            "gpt-4o-2024-08-06",
            "openai",
            {"input_tokens": 120, "output_tokens": 9, "total_tokens": 129, "cache_read_input_tokens": 64},
        ),
        ("complete", "claude-sonnet-4-5", "anthropic", {"input_tokens": 40, "output_tokens": 6, "total_tokens": 46}),
    ):
        phoenix_attributes = shown.phoenix[name]["attributes"]
        assert phoenix_attributes["llm.token_count.prompt"] == usage["input_tokens"], name
        assert phoenix_attributes["llm.token_count.completion"] == usage["output_tokens"], name
        assert phoenix_attributes["llm.token_count.total"] == usage["total_tokens"], name
        assert phoenix_attributes["llm.model_name"] in (model, "gpt-4o"), name  # GenAI only: the request model
        mlflow_attributes = shown.mlflow[name]["attributes"]
        assert parsed(mlflow_attributes["mlflow.chat.tokenUsage"]) == usage, name
        assert parsed(mlflow_attributes["mlflow.llm.model"]) == model, name
        assert parsed(mlflow_attributes["mlflow.llm.provider"]) == provider, name
        if shown.has("genai"):
            assert phoenix_attributes["gen_ai.response.model"] == model
            assert phoenix_attributes["gen_ai.usage.input_tokens"] == usage["input_tokens"]
    embed = shown.phoenix["embed"]["attributes"]
    assert embed["embedding.model_name"] == "text-embedding-3-small"
    assert embed["llm.token_count.prompt"] == 7
    # the trace total: MLflow sums the spans itself; agentel's roll-up on the root agrees with it
    trace_usage = json.loads(shown.mlflow_info["trace_metadata"]["mlflow.trace.tokenUsage"])
    assert (trace_usage["input_tokens"], trace_usage["output_tokens"]) == (TOTAL_INPUT, TOTAL_OUTPUT)
    # (GenAI has no total-tokens key, so MLflow derives a span's total only when it has input and output)
    assert trace_usage["total_tokens"] == TOTAL_INPUT + TOTAL_OUTPUT - (7 if not shown.has("openinference") else 0)
    root = shown.phoenix["support_agent"]["attributes"]
    assert root["agentel.trace.usage.input_tokens"] == TOTAL_INPUT
    assert root["agentel.trace.usage.output_tokens"] == TOTAL_OUTPUT
    assert root["agentel.trace.usage.total_tokens"] == TOTAL_INPUT + TOTAL_OUTPUT
    assert root["agentel.trace.usage.cache_read.input_tokens"] == 64
    assert root["agentel.trace.usage.spans"] == 3
    # the roll-up uses agentel's own keys, so neither backend counts the trace twice
    assert not [k for k in root if k.startswith(("llm.token_count", "gen_ai.usage"))]
    assert "mlflow.chat.tokenUsage" not in shown.mlflow["support_agent"]["attributes"]


def test_chat_messages_in_phoenix_and_mlflow(shown: Shown) -> None:
    chat = shown.phoenix["chat"]["attributes"]
    prefix = "llm.input_messages"
    assert [chat[f"{prefix}.{i}.message.role"] for i in range(4)] == ["system", "user", "assistant", "tool"]
    assert chat[f"{prefix}.0.message.content"] == SYSTEM
    assert chat[f"{prefix}.1.message.content"] == QUESTION
    assert chat[f"{prefix}.2.message.tool_calls.0.tool_call.function.name"] == "lookup_order"
    assert parsed(chat[f"{prefix}.2.message.tool_calls.0.tool_call.function.arguments"]) == {"order_id": 42}
    assert chat[f"{prefix}.3.message.tool_call_id"] == "call_1"
    assert chat["llm.output_messages.0.message.role"] == "assistant"
    assert chat["llm.output_messages.0.message.content"] == "Order 42 has shipped."
    complete = shown.phoenix["complete"]["attributes"]
    assert complete["llm.input_messages.0.message.content"] == QUESTION
    assert complete["llm.output_messages.0.message.content"] == "Shipped on Monday."
    # MLflow shows the call's inputs (the messages) and the raw completion as outputs
    assert shown.mlflow["chat"]["inputs"]["messages"] == HISTORY
    assert shown.mlflow["chat"]["outputs"]["choices"][0]["message"]["content"] == "Order 42 has shipped."


_PART_REQUIRED = {"text": ("content",), "tool_call": ("name",), "tool_call_response": ("response",)}


def _check_messages(text: Any, output: bool = False) -> list[dict[str, Any]]:
    assert isinstance(text, str), "GenAI message attributes are sent as JSON strings"
    messages = json.loads(text)
    assert isinstance(messages, list)
    for message in messages:
        assert isinstance(message["role"], str) and isinstance(message["parts"], list)
        for part in message["parts"]:
            for field in _PART_REQUIRED.get(part["type"], ()):
                assert field in part
        if output:
            assert isinstance(message["finish_reason"], str)
    return messages


def test_genai_message_attributes_are_valid_json_within_the_budget(shown: Shown) -> None:
    chat = shown.phoenix["chat"]["attributes"]
    long_prompt = shown.phoenix["long_prompt"]["attributes"]
    if not shown.has("genai"):
        assert not [k for k in chat if k.startswith("gen_ai.")]
        return
    messages = _check_messages(chat["gen_ai.input.messages"])
    assert [m["role"] for m in messages] == ["user", "assistant", "tool"]
    assert messages[1]["parts"][0] == {
        "type": "tool_call",
        "id": "call_1",
        "name": "lookup_order",
        "arguments": {"order_id": 42},
    }
    assert messages[2]["parts"][0]["type"] == "tool_call_response"
    assert _check_messages(chat["gen_ai.output.messages"], output=True)[0]["finish_reason"] == "stop"
    assert json.loads(chat["gen_ai.system_instructions"]) == [{"type": "text", "content": SYSTEM}]
    assert chat["gen_ai.operation.name"] == "chat" and chat["gen_ai.request.model"] == "gpt-4o"
    assert list(chat["gen_ai.response.finish_reasons"]) == ["stop"]
    # content far over the budget: every JSON attribute still parses, keeps the schema, and fits
    history = _check_messages(long_prompt["gen_ai.input.messages"])
    _check_messages(long_prompt["gen_ai.output.messages"], output=True)
    system_and_history = long_prompt["gen_ai.system_instructions"] + long_prompt["gen_ai.input.messages"]
    assert len(system_and_history.encode()) <= BUDGET
    assert len(long_prompt["gen_ai.output.messages"].encode()) <= BUDGET
    assert history and "chars]" in history[-1]["parts"][0]["content"]
    assert long_prompt["agentel.messages_dropped"] >= 1
    if not shown.has("openinference"):
        # Phoenix rebuilt its message view from the GenAI JSON alone: proof that the schema is valid
        assert chat["llm.input_messages.3.message.tool_call_id"] == "call_1"
        assert long_prompt["llm.input_messages.0.message.role"] == "system"


def test_tools_documents_embeddings_and_agent(shown: Shown) -> None:
    tool = shown.phoenix["lookup_order"]["attributes"]
    assert (tool["tool.name"], tool["tool.description"], tool["tool.id"]) == (
        "lookup_order",
        "Finds an order",
        "call_1",
    )
    documents = shown.phoenix["retrieve"]["attributes"]
    assert [documents[f"retrieval.documents.{i}.document.id"] for i in range(2)] == ["kb-1", "kb-2"]
    assert documents["retrieval.documents.0.document.score"] == 0.92
    assert documents["retrieval.documents.1.document.content"] == "Refunds take a week."
    agent = shown.phoenix["support_agent"]["attributes"]
    if shown.has("openinference"):
        assert agent["agent.name"] == "support_agent"
        embed = shown.phoenix["embed"]["attributes"]
        assert embed["embedding.embeddings.0.embedding.text"] == QUESTION
        assert list(embed["embedding.embeddings.0.embedding.vector"]) == [0.25, 0.5, 0.75]
    if shown.has("genai"):
        assert parsed(tool["gen_ai.tool.call.arguments"]) == {"order_id": 42}
        assert parsed(tool["gen_ai.tool.call.result"]) == {"order_id": 42, "status": "shipped"}
        assert parsed(documents["gen_ai.retrieval.documents"])[0] == DOCUMENTS[0]
        assert documents["gen_ai.retrieval.query.text"] == QUESTION
        assert documents["gen_ai.data_source.id"] == "orders-kb"
        assert (agent["gen_ai.agent.name"], agent["gen_ai.agent.id"]) == ("support_agent", "agent-1")
        assert shown.phoenix["embed"]["attributes"]["gen_ai.embeddings.dimension.count"] == 3


def test_session_and_user_reach_every_span_and_the_trace(shown: Shown) -> None:
    for name, span in shown.phoenix.items():
        assert span["attributes"]["session.id"] == SESSION, name
        if shown.has("genai"):
            assert span["attributes"]["gen_ai.conversation.id"] == SESSION, name
    metadata = shown.mlflow_info["trace_metadata"]
    assert (metadata["mlflow.trace.session"], metadata["mlflow.trace.user"]) == (SESSION, USER)
    assert shown.mlflow_info["state"] == "OK"
