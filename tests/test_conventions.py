"""Agent semantic conventions: the span-type table, the helpers in every dialect, the byte budget,
content capture, shape-aware capture of model responses, and the root token roll-up."""

from __future__ import annotations

import asyncio
import importlib
import json
import sys
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Iterator
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry import trace as otel_trace
from opentelemetry.trace import SpanKind

import agentel
import agentel.testing
from agentel._conventions import setters as _setters
from agentel._conventions.builders import start_attributes
from agentel._conventions.span_types import CONVENTIONS, convention_for
from agentel._export.console import render_tree
from agentel._export.processor import MAX_TRACKED_TRACES, AgentelSpanProcessor
from agentel._runtime.provider import RUNTIME
from agentel.testing import CapturedSpan, SpanCapture

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def use(**changes: Any) -> None:
    """Change settings for the rest of the test (the capture fixture restores them)."""
    agentel.testing.reset(provider=False, settings=False, **changes)


@pytest.fixture
def all_dialects(captured_spans: SpanCapture) -> Iterator[SpanCapture]:
    use(semconv={"genai", "openinference", "mlflow"})
    yield captured_spans


def one_span(span_type: str = agentel.SpanType.CHAT_MODEL, **calls: Any) -> None:
    with agentel.start_span("s", span_type=span_type) as span:
        for method, kwargs in calls.items():
            getattr(span, method)(**kwargs)


def loads(span: CapturedSpan, key: str) -> Any:
    return json.loads(span.attributes[key])


# --- the GenAI message JSON schema (gen-ai-input-messages.json / -output-messages.json /
# -system-instructions.json, semantic conventions v1.44): required fields per part type
_PART_REQUIRED = {
    "text": ("content",),
    "tool_call": ("name",),
    "tool_call_response": ("response",),
    "reasoning": ("content",),
    "blob": ("modality", "content"),
    "uri": ("modality", "uri"),
    "file": ("modality", "file_id"),
}


def assert_parts(parts: Any) -> None:
    assert isinstance(parts, list)
    for part in parts:
        assert isinstance(part, dict) and isinstance(part.get("type"), str), part
        for field in _PART_REQUIRED.get(part["type"], ()):
            assert field in part, (field, part)
        if part["type"] in ("text", "reasoning"):
            assert isinstance(part["content"], str)
        if part["type"] == "tool_call":
            assert isinstance(part["name"], str)


def assert_messages(messages: Any, output: bool = False) -> None:
    assert isinstance(messages, list)
    for message in messages:
        assert isinstance(message, dict)
        assert isinstance(message["role"], str)
        assert_parts(message["parts"])
        if output:
            assert isinstance(message["finish_reason"], str)


# --------------------------------------------------------------------------------------------------
# the table

EXPECTED = {
    # span type: (SpanKind, gen_ai.operation.name, openinference.span.kind, MLflow span type)
    "AGENT": (SpanKind.INTERNAL, "invoke_agent", "AGENT", "AGENT"),
    "LLM": (SpanKind.CLIENT, "text_completion", "LLM", "LLM"),
    "CHAT_MODEL": (SpanKind.CLIENT, "chat", "LLM", "CHAT_MODEL"),
    "TOOL": (SpanKind.INTERNAL, "execute_tool", "TOOL", "TOOL"),
    "RETRIEVER": (SpanKind.CLIENT, "retrieval", "RETRIEVER", "RETRIEVER"),
    "EMBEDDING": (SpanKind.CLIENT, "embeddings", "EMBEDDING", "EMBEDDING"),
    "RERANKER": (SpanKind.CLIENT, None, "RERANKER", "RERANKER"),
    "CHAIN": (SpanKind.INTERNAL, None, "CHAIN", "CHAIN"),
    "PARSER": (SpanKind.INTERNAL, None, "CHAIN", "PARSER"),
    "MEMORY": (SpanKind.INTERNAL, None, "CHAIN", "MEMORY"),
    "GUARDRAIL": (SpanKind.INTERNAL, None, "GUARDRAIL", "GUARDRAIL"),
    "EVALUATOR": (SpanKind.INTERNAL, None, "EVALUATOR", "EVALUATOR"),
    "WORKFLOW": (SpanKind.INTERNAL, "invoke_workflow", "CHAIN", "WORKFLOW"),
    "TASK": (SpanKind.INTERNAL, None, "CHAIN", "TASK"),
    "UNKNOWN": (SpanKind.INTERNAL, None, "UNKNOWN", "UNKNOWN"),
    "my-custom-step": (SpanKind.INTERNAL, None, "UNKNOWN", "my-custom-step"),
}


def test_table_covers_every_span_type() -> None:
    names = {n for n in vars(agentel.SpanType) if n.isupper()}
    assert set(CONVENTIONS) == names == set(EXPECTED) - {"my-custom-step"}
    assert {t for t, row in CONVENTIONS.items() if row.model_call} == {"LLM", "CHAT_MODEL"}


@pytest.mark.parametrize("span_type", sorted(EXPECTED))
def test_each_span_type_carries_its_conventions_from_the_start(all_dialects: SpanCapture, span_type: str) -> None:
    kind, operation, oi_kind, mlflow_type = EXPECTED[span_type]
    with agentel.start_span("s", span_type=span_type):
        pass

    @agentel.trace(name="d", span_type=span_type)
    def decorated() -> None:
        return None

    decorated()
    for span in (all_dialects.find("s"), all_dialects.find("d")):
        assert span.kind == kind.name
        assert span.attributes.get("gen_ai.operation.name") == operation
        assert span.attributes["openinference.span.kind"] == oi_kind
        assert json.loads(span.attributes["mlflow.spanType"]) == mlflow_type
        assert span.span_type == span_type


@pytest.mark.parametrize(
    "dialects, present, absent",
    [
        ({"genai"}, {"gen_ai.operation.name"}, {"openinference.span.kind", "mlflow.spanType"}),
        ({"openinference"}, {"openinference.span.kind"}, {"gen_ai.operation.name", "mlflow.spanType"}),
        ({"mlflow"}, {"mlflow.spanType"}, {"gen_ai.operation.name", "openinference.span.kind"}),
    ],
)
def test_start_attributes_follow_the_selected_dialects(dialects: set[str], present: set[str], absent: set[str]) -> None:
    attributes = start_attributes("TOOL", frozenset(dialects))
    assert present <= set(attributes) and not (absent & set(attributes))
    assert attributes["agentel.span.type"] == "TOOL"
    assert convention_for("x").mlflow_type == "x"


# --------------------------------------------------------------------------------------------------
# set_llm / set_token_usage


def test_set_llm_in_every_dialect(all_dialects: SpanCapture) -> None:
    with agentel.start_span("s", span_type="CHAT_MODEL") as span:
        span.set_llm(model="gpt-4o", provider="OpenAI", temperature=0.2, max_tokens=256, stop=["\n", "END"])
        span.set_llm(top_p=0.9, response_model="gpt-4o-2024-08-06", finish_reasons="stop", response_id="r1")
    a = all_dialects.find("s").attributes
    assert a["gen_ai.request.model"] == "gpt-4o"
    assert a["gen_ai.provider.name"] == "openai"
    assert a["gen_ai.request.temperature"] == 0.2
    assert a["gen_ai.request.max_tokens"] == 256
    assert a["gen_ai.request.top_p"] == 0.9
    assert tuple(a["gen_ai.request.stop_sequences"]) == ("\n", "END")
    assert a["gen_ai.response.model"] == "gpt-4o-2024-08-06"
    assert tuple(a["gen_ai.response.finish_reasons"]) == ("stop",)
    assert a["gen_ai.response.id"] == "r1"
    assert a["llm.model_name"] == "gpt-4o-2024-08-06"  # the model that answered
    assert a["llm.provider"] == "openai"
    assert json.loads(a["llm.invocation_parameters"]) == {
        "temperature": 0.2,
        "max_tokens": 256,
        "stop": ["\n", "END"],
        "top_p": 0.9,
    }
    assert a["llm.finish_reason"] == "stop"
    assert json.loads(a["mlflow.llm.model"]) == "gpt-4o-2024-08-06"
    assert json.loads(a["mlflow.llm.provider"]) == "openai"


@pytest.mark.parametrize(
    "given_name, genai, openinference",
    [
        ("gcp.vertex_ai", "gcp.vertex_ai", "google"),
        ("google", "gcp.gen_ai", "google"),
        ("aws.bedrock", "aws.bedrock", "aws"),
        ("mistralai", "mistral_ai", "mistralai"),
        ("anthropic", "anthropic", "anthropic"),
        ("my-gateway", "my-gateway", "my-gateway"),
    ],
)
def test_provider_names_are_translated_between_registries(
    captured_spans: SpanCapture, given_name: str, genai: str, openinference: str
) -> None:
    one_span(set_llm={"provider": given_name})
    a = captured_spans.find("s").attributes
    assert (a["gen_ai.provider.name"], a["llm.provider"]) == (genai, openinference)


def test_token_usage_derives_and_merges_totals(all_dialects: SpanCapture) -> None:
    with agentel.start_span("s", span_type="LLM") as span:
        span.set_token_usage(input=100, cached_input=60)
        span.set_token_usage(output=20, reasoning=8)
    a = all_dialects.find("s").attributes
    assert (a["gen_ai.usage.input_tokens"], a["gen_ai.usage.output_tokens"]) == (100, 20)
    assert a["gen_ai.usage.cache_read.input_tokens"] == 60
    assert a["gen_ai.usage.reasoning.output_tokens"] == 8
    assert (a["llm.token_count.prompt"], a["llm.token_count.completion"], a["llm.token_count.total"]) == (100, 20, 120)
    assert a["llm.token_count.prompt_details.cache_read"] == 60
    assert a["llm.token_count.completion_details.reasoning"] == 8
    assert json.loads(a["mlflow.chat.tokenUsage"]) == {
        "input_tokens": 100,
        "output_tokens": 20,
        "total_tokens": 120,
        "cache_read_input_tokens": 60,
    }


def test_explicit_total_wins_and_bad_counts_are_ignored(captured_spans: SpanCapture) -> None:
    errors = agentel.stats()["internal_errors"]
    with agentel.start_span("s", span_type="LLM") as span:
        span.set_token_usage(input=10, output=5, total=99)
        span.set_token_usage(input=-3, output=True, total="many")  # type: ignore[arg-type]
    a = captured_spans.find("s").attributes
    assert (a["gen_ai.usage.input_tokens"], a["gen_ai.usage.output_tokens"], a["llm.token_count.total"]) == (10, 5, 99)
    assert agentel.stats()["internal_errors"] == errors


# --------------------------------------------------------------------------------------------------
# set_messages

OPENAI_CONVERSATION = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "Weather in Paris?", "name": "ann"},
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}
        ],
    },
    {"role": "tool", "tool_call_id": "call_1", "content": "rainy, 57F"},
    {"role": "user", "content": [{"type": "text", "text": "and "}, {"type": "text", "text": "tomorrow?"}]},
]


def test_openai_messages_become_the_genai_schema_and_openinference_keys(captured_spans: SpanCapture) -> None:
    one_span(
        set_messages={
            "input": OPENAI_CONVERSATION,
            "output": {"role": "assistant", "content": "Sunny."},
            "system": "Answer in French.",
        }
    )
    span = captured_spans.find("s")
    messages = loads(span, "gen_ai.input.messages")
    assert_messages(messages)
    assert messages == [
        {"role": "system", "parts": [{"type": "text", "content": "You are terse."}]},
        {"role": "user", "parts": [{"type": "text", "content": "Weather in Paris?"}], "name": "ann"},
        {
            "role": "assistant",
            "parts": [{"type": "tool_call", "id": "call_1", "name": "get_weather", "arguments": {"city": "Paris"}}],
        },
        {"role": "tool", "parts": [{"type": "tool_call_response", "id": "call_1", "response": "rainy, 57F"}]},
        {"role": "user", "parts": [{"type": "text", "content": "and "}, {"type": "text", "content": "tomorrow?"}]},
    ]
    assert loads(span, "gen_ai.output.messages") == [
        {"role": "assistant", "parts": [{"type": "text", "content": "Sunny."}], "finish_reason": "stop"}
    ]
    assert loads(span, "gen_ai.system_instructions") == [{"type": "text", "content": "Answer in French."}]
    a = span.attributes
    # OpenInference: the system instructions first, then the conversation
    assert a["llm.input_messages.0.message.role"] == "system"
    assert a["llm.input_messages.0.message.content"] == "Answer in French."
    assert a["llm.input_messages.2.message.name"] == "ann"
    assert a["llm.input_messages.3.message.tool_calls.0.tool_call.id"] == "call_1"
    assert a["llm.input_messages.3.message.tool_calls.0.tool_call.function.name"] == "get_weather"
    assert json.loads(a["llm.input_messages.3.message.tool_calls.0.tool_call.function.arguments"]) == {"city": "Paris"}
    assert a["llm.input_messages.4.message.role"] == "tool"
    assert a["llm.input_messages.4.message.tool_call_id"] == "call_1"
    assert a["llm.input_messages.4.message.content"] == "rainy, 57F"
    assert a["llm.input_messages.5.message.contents.1.message_content.type"] == "text"
    assert a["llm.input_messages.5.message.contents.1.message_content.text"] == "tomorrow?"
    assert "llm.input_messages.6.message.role" not in a
    assert a["llm.output_messages.0.message.content"] == "Sunny."


def test_anthropic_content_blocks(captured_spans: SpanCapture) -> None:
    one_span(
        set_messages={
            "input": [
                {
                    "role": "user",
                    "content": [
                        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBO"}},
                        {"type": "text", "text": "What is this?"},
                    ],
                },
                {
                    "role": "assistant",
                    "content": [
                        {"type": "thinking", "thinking": "hmm"},
                        {"type": "tool_use", "id": "tu_1", "name": "lookup", "input": {"q": "png"}},
                    ],
                },
                {
                    "role": "user",
                    "content": [
                        {"type": "tool_result", "tool_use_id": "tu_1", "content": [{"type": "text", "text": "a cat"}]}
                    ],
                },
            ]
        }
    )
    span = captured_spans.find("s")
    messages = loads(span, "gen_ai.input.messages")
    assert_messages(messages)
    assert messages[0]["parts"][0] == {"type": "blob", "modality": "image", "mime_type": "image/png", "content": "iVBO"}
    assert messages[1]["parts"] == [
        {"type": "reasoning", "content": "hmm"},
        {"type": "tool_call", "id": "tu_1", "name": "lookup", "arguments": {"q": "png"}},
    ]
    assert messages[2]["parts"] == [{"type": "tool_call_response", "id": "tu_1", "response": "a cat"}]
    a = span.attributes
    assert a["llm.input_messages.0.message.contents.0.message_content.type"] == "image"
    assert a["llm.input_messages.0.message.contents.0.message_content.image.image.url"] == "data:image/png;base64,iVBO"
    assert a["llm.input_messages.1.message.tool_calls.0.tool_call.function.name"] == "lookup"
    assert a["llm.input_messages.2.message.tool_call_id"] == "tu_1"


def test_sdk_objects_strings_and_genai_messages_are_accepted(captured_spans: SpanCapture) -> None:
    tool_call = SimpleNamespace(id="c9", function=SimpleNamespace(name="f", arguments="not json"))
    message_object = SimpleNamespace(role="assistant", content=None, tool_calls=[tool_call])
    one_span(
        set_messages={
            "input": ["hello", {"role": "user", "parts": [{"type": "text", "content": "already GenAI"}]}],
            "output": [
                {"message": message_object, "finish_reason": "tool_calls"},
                {"index": 1, "message": {"role": "assistant", "content": "x"}, "finish_reason": "length"},
            ],
        }
    )
    span = captured_spans.find("s")
    assert loads(span, "gen_ai.input.messages") == [
        {"role": "user", "parts": [{"type": "text", "content": "hello"}]},
        {"role": "user", "parts": [{"type": "text", "content": "already GenAI"}]},
    ]
    output = loads(span, "gen_ai.output.messages")
    assert_messages(output, output=True)
    assert output[0] == {
        "role": "assistant",
        "parts": [{"type": "tool_call", "id": "c9", "name": "f", "arguments": "not json"}],
        "finish_reason": "tool_call",
    }
    assert output[1]["finish_reason"] == "length"


@pytest.mark.parametrize("budget, count", [(64, 40), (300, 40), (2048, 40), (4096, 60), (4096, 39)])
def test_messages_fit_the_budget_in_every_dialect_keeping_the_latest(
    captured_spans: SpanCapture, budget: int, count: int
) -> None:
    use(max_payload_bytes=budget)
    history = [
        {"role": "user" if i % 2 else "assistant", "content": f"message {i} " + "é" * 5000} for i in range(count)
    ]
    one_span(set_messages={"input": history, "output": "ok " * 3000, "system": "s" * 10000})
    a = captured_spans.find("s").attributes
    for key in ("gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.system_instructions"):
        assert len(a[key].encode()) <= budget, key
        json.loads(a[key])
    messages = loads(captured_spans.find("s"), "gen_ai.input.messages")
    assert_messages(messages)
    if messages:
        assert messages[-1]["parts"][0]["content"].startswith(f"message {count - 1}")
        assert "chars]" in messages[-1]["parts"][0]["content"]
    assert a["agentel.messages_dropped"] >= 1
    genai_input = len(a["gen_ai.system_instructions"].encode()) + len(a["gen_ai.input.messages"].encode())
    assert genai_input <= budget  # the system instructions and the history share one budget
    oi_content = sum(len(str(v).encode()) for k, v in a.items() if k.startswith("llm.input_messages."))
    assert oi_content <= budget


def test_flattened_messages_never_evict_the_span_type(captured_spans: SpanCapture) -> None:
    use(max_payload_bytes=100_000)
    history = [{"role": "user", "content": str(i)} for i in range(300)]
    one_span(set_messages={"input": history, "output": history[:50]})
    a = captured_spans.find("s").attributes
    assert a["agentel.span.type"] == "CHAT_MODEL" and a["openinference.span.kind"] == "LLM"
    assert len(a) <= 128
    assert len(loads(captured_spans.find("s"), "gen_ai.input.messages")) == 300  # the JSON copy is complete
    roles = [k for k in a if k.startswith("llm.input_messages.") and k.endswith(".message.role")]
    assert 0 < len(roles) < 300
    last = max(int(k.split(".")[2]) for k in roles)
    assert a[f"llm.input_messages.{last}.message.content"] == "299"  # the newest kept, renumbered from 0


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    content=st.recursive(
        st.text() | st.integers() | st.none() | st.floats(allow_nan=True),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
        max_leaves=20,
    ),
    role=st.text(max_size=10),
    budget=st.integers(min_value=64, max_value=4096),
)
def test_any_message_content_is_bounded_valid_json_and_never_raises(
    captured_spans: SpanCapture, content: Any, role: str, budget: int
) -> None:
    use(max_payload_bytes=budget)
    errors = agentel.stats()["internal_errors"]
    captured_spans.clear()
    one_span(set_messages={"input": [{"role": role, "content": content}, content], "output": content})
    span = captured_spans.find("s")
    for key in (
        ("gen_ai.input.messages", "gen_ai.output.messages") if content is not None else ("gen_ai.input.messages",)
    ):
        text = span.attributes[key]
        assert len(text.encode("utf-8")) <= budget
        assert_messages(json.loads(text), output=key.endswith("output.messages"))
    assert agentel.stats()["internal_errors"] == errors


# --------------------------------------------------------------------------------------------------
# tools, documents, embeddings, agents


def test_set_tool(captured_spans: SpanCapture) -> None:
    with agentel.start_span("s", span_type="TOOL") as span:
        span.set_tool(
            name="get_weather",
            description="Weather for a city",
            call_id="call_1",
            arguments='{"city": "Paris"}',
            result={"temp": 14},
            parameters={"type": "object", "properties": {"city": {"type": "string"}}},
        )
    a = captured_spans.find("s").attributes
    assert (a["gen_ai.tool.name"], a["gen_ai.tool.description"], a["gen_ai.tool.call.id"]) == (
        "get_weather",
        "Weather for a city",
        "call_1",
    )
    assert json.loads(a["gen_ai.tool.call.arguments"]) == {"city": "Paris"}
    assert json.loads(a["gen_ai.tool.call.result"]) == {"temp": 14}
    assert (a["tool.name"], a["tool.description"], a["tool.id"]) == ("get_weather", "Weather for a city", "call_1")
    assert json.loads(a["tool.parameters"])["type"] == "object"


class LangChainLikeDocument:
    def __init__(self, page_content: str, metadata: dict[str, Any]) -> None:
        self.page_content = page_content
        self.metadata = metadata


def test_set_retrieved_documents(captured_spans: SpanCapture) -> None:
    with agentel.start_span("s", span_type="RETRIEVER") as span:
        span.set_retrieved_documents(
            [
                {"id": "d1", "content": "alpha", "score": 0.9, "metadata": {"src": "wiki"}},
                LangChainLikeDocument("beta", {"id": "d2", "page": 3}),
                "gamma",
            ],
            query="greek letters",
            data_source_id="kb-1",
        )
    span_ = captured_spans.find("s")
    docs = loads(span_, "gen_ai.retrieval.documents")
    assert docs == [
        {"id": "d1", "score": 0.9, "content": "alpha", "metadata": {"src": "wiki"}},
        {"id": "d2", "content": "beta", "metadata": {"id": "d2", "page": 3}},
        {"content": "gamma"},
    ]
    a = span_.attributes
    assert a["gen_ai.retrieval.query.text"] == "greek letters"
    assert a["gen_ai.data_source.id"] == "kb-1"
    assert (a["retrieval.documents.0.document.id"], a["retrieval.documents.0.document.score"]) == ("d1", 0.9)
    assert a["retrieval.documents.1.document.content"] == "beta"
    assert json.loads(a["retrieval.documents.1.document.metadata"]) == {"id": "d2", "page": 3}
    assert a["retrieval.documents.2.document.content"] == "gamma"


def test_documents_keep_the_best_ranked_within_the_budget(captured_spans: SpanCapture) -> None:
    use(max_payload_bytes=512)
    one_span(
        "RETRIEVER",
        set_retrieved_documents={
            "documents": [{"id": f"d{i}", "content": "x" * 400, "score": 1 - i / 100} for i in range(50)]
        },
    )
    span = captured_spans.find("s")
    assert len(span.attributes["gen_ai.retrieval.documents"].encode()) <= 512
    docs = loads(span, "gen_ai.retrieval.documents")
    assert docs[0]["id"] == "d0" and 0 < len(docs) < 50
    assert span.attributes["agentel.documents_dropped"] == 50 - len(docs)


def test_set_embeddings_and_vector_budget(captured_spans: SpanCapture) -> None:
    use(max_payload_bytes=1024)
    with agentel.start_span("s", span_type="EMBEDDING") as span:
        span.set_embeddings(["a", "b", "c"], [[0.5] * 64, [0.25] * 64, [1.0] * 64], model="emb-1", provider="openai")
    a = captured_spans.find("s").attributes
    assert a["gen_ai.request.model"] == a["embedding.model_name"] == "emb-1"
    assert a["gen_ai.embeddings.dimension.count"] == 64
    assert [a[f"embedding.embeddings.{i}.embedding.text"] for i in range(3)] == ["a", "b", "c"]
    assert list(a["embedding.embeddings.0.embedding.vector"]) == [0.5] * 64
    assert list(a["embedding.embeddings.1.embedding.vector"]) == [0.25] * 64
    assert "embedding.embeddings.2.embedding.vector" not in a  # 3 x 64 x 8 bytes is over 1024


def test_numpy_vectors_and_many_choices(captured_spans: SpanCapture) -> None:
    numpy = pytest.importorskip("numpy")
    with agentel.start_span("e", span_type="EMBEDDING") as span:
        span.set_embeddings(["a", "b"], numpy.array([[0.5, 1.5], [2.0, 3.0]]))
    a = captured_spans.find("e").attributes
    assert list(a["embedding.embeddings.1.embedding.vector"]) == [2.0, 3.0]
    assert a["gen_ai.embeddings.dimension.count"] == 2
    choices = [
        {"message": {"role": "assistant", "content": f"choice {i}"}, "finish_reason": "stop"} for i in range(200)
    ]
    one_span(set_messages={"output": choices})
    a = captured_spans.find("s").attributes
    assert a["llm.output_messages.0.message.content"] == "choice 0"  # the first choices are kept


def test_set_agent(captured_spans: SpanCapture) -> None:
    one_span("AGENT", set_agent={"name": "bot", "id": "a-1", "description": "helps"})
    a = captured_spans.find("s").attributes
    assert (a["gen_ai.agent.name"], a["gen_ai.agent.id"], a["gen_ai.agent.description"]) == ("bot", "a-1", "helps")
    assert a["agent.name"] == "bot"


def test_genai_only_and_openinference_only(captured_spans: SpanCapture) -> None:
    use(semconv={"genai"})
    one_span(set_llm={"model": "m"}, set_token_usage={"input": 1, "output": 2}, set_messages={"input": "hi"})
    a = captured_spans.find("s").attributes
    assert a["gen_ai.request.model"] == "m" and a["gen_ai.usage.input_tokens"] == 1
    assert not [k for k in a if k.startswith(("llm.", "openinference.", "mlflow."))]
    captured_spans.clear()
    use(semconv={"openinference"})
    one_span(set_llm={"model": "m"}, set_token_usage={"input": 1, "output": 2}, set_messages={"input": "hi"})
    a = captured_spans.find("s").attributes
    assert a["llm.model_name"] == "m" and a["llm.token_count.total"] == 3
    assert not [k for k in a if k.startswith(("gen_ai.", "mlflow."))]


def test_capture_content_off_keeps_models_counts_ids_and_types(captured_spans: SpanCapture) -> None:
    use(capture_content=False)
    with agentel.start_span("llm", span_type="CHAT_MODEL") as span:
        span.set_llm(model="m")
        span.set_token_usage(input=3, output=4)
        span.set_messages(input="secret question", output="secret answer", system="secret prompt")
    with agentel.start_span("tool", span_type="TOOL") as span:
        span.set_tool(name="t", call_id="c", arguments={"pin": 1234}, result="secret")
    with agentel.start_span("ret", span_type="RETRIEVER") as span:
        span.set_retrieved_documents([{"id": "d", "score": 0.5, "content": "secret"}], query="secret")
    with agentel.start_span("emb", span_type="EMBEDDING") as span:
        span.set_embeddings(["secret"], [[1.0]], model="e")
    dump = json.dumps([s.attributes for s in captured_spans.spans], default=list)
    assert "secret" not in dump and "1234" not in dump
    assert captured_spans.find("llm").attributes["gen_ai.usage.output_tokens"] == 4
    assert captured_spans.find("tool").attributes["gen_ai.tool.name"] == "t"
    assert loads(captured_spans.find("ret"), "gen_ai.retrieval.documents") == [{"id": "d", "score": 0.5}]
    assert captured_spans.find("emb").attributes["embedding.model_name"] == "e"


def test_secrets_are_redacted_in_every_dialect(all_dialects: SpanCapture) -> None:
    secret = "sk-proj-abcdefghijklmnopqrstuvwxyz123456"
    with agentel.start_span("s", span_type="CHAT_MODEL") as span:
        span.set_messages(input=[{"role": "user", "content": f"my key is {secret}"}], system=f"key={secret}")
        span.set_tool(name="t", arguments={"api_key": "hunter2-hunter2", "q": "x"}, result=f"Bearer {secret}")
        span.set_messages(output="lone \ud800 surrogate \udfff")
    a = all_dialects.find("s").attributes
    dump = json.dumps(a, default=list)
    assert secret not in dump and "hunter2" not in dump
    assert "[REDACTED]" in a["gen_ai.input.messages"] and "[REDACTED]" in a["llm.input_messages.1.message.content"]
    assert json.loads(a["gen_ai.tool.call.arguments"]) == {"api_key": "[REDACTED]", "q": "x"}
    a["llm.output_messages.0.message.content"].encode("utf-8")  # exportable
    json.loads(a["gen_ai.output.messages"])


def test_helpers_never_raise(captured_spans: SpanCapture) -> None:
    errors = agentel.stats()["internal_errors"]
    agentel.set_llm(model="outside any span")  # no current span: nothing happens
    agentel.set_messages(input=["x"])
    with agentel.start_span("s") as span:
        pass
    span.set_tool(name="after the end")  # ended span: nothing happens
    assert agentel.stats()["internal_errors"] == errors
    with mock.patch.object(_setters, "messages_attributes", side_effect=RuntimeError("boom")):
        with agentel.start_span("t") as span:
            span.set_messages(input="x")
            agentel.set_messages(input="y")
    assert agentel.stats()["internal_errors"] == errors + 2
    assert "gen_ai.tool.name" not in captured_spans.find("s").attributes


# --------------------------------------------------------------------------------------------------
# shape-aware capture of model responses

OPENAI_COMPLETION = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "model": "gpt-4o-2024-08-06",
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "Hi!"}, "finish_reason": "stop"},
    ],
    "usage": {
        "prompt_tokens": 30,
        "completion_tokens": 5,
        "total_tokens": 35,
        "prompt_tokens_details": {"cached_tokens": 10},
        "completion_tokens_details": {"reasoning_tokens": 2},
    },
}
ANTHROPIC_MESSAGE = {
    "id": "msg_1",
    "type": "message",
    "role": "assistant",
    "model": "claude-sonnet-4-5",
    "content": [
        {"type": "text", "text": "Let me check."},
        {"type": "tool_use", "id": "tu_1", "name": "f", "input": {}},
    ],
    "stop_reason": "tool_use",
    "usage": {"input_tokens": 12, "output_tokens": 7, "cache_read_input_tokens": 100, "cache_creation_input_tokens": 3},
}
RESPONSES_API = {
    "id": "resp_1",
    "object": "response",
    "model": "gpt-4.1",
    "status": "completed",
    "output": [
        {"type": "reasoning", "summary": [{"type": "summary_text", "text": "thinking"}]},
        {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Done."}]},
    ],
    "usage": {
        "input_tokens": 8,
        "output_tokens": 4,
        "total_tokens": 12,
        "output_tokens_details": {"reasoning_tokens": 1},
    },
}


def to_object(value: Any) -> Any:
    """An SDK-like object (attributes, not keys) with the same shape."""
    if isinstance(value, dict):  # tool_use.input stays a dict, as in the SDKs
        return SimpleNamespace(**{k: v if k == "input" else to_object(v) for k, v in value.items()})
    if isinstance(value, list):
        return [to_object(v) for v in value]
    return value


@pytest.mark.parametrize("as_object", [False, True], ids=["dict", "object"])
def test_openai_chat_completion_is_read_from_the_return_value(captured_spans: SpanCapture, as_object: bool) -> None:
    @agentel.trace(name="chat", span_type=agentel.SpanType.CHAT_MODEL)
    def chat() -> Any:
        return to_object(OPENAI_COMPLETION) if as_object else OPENAI_COMPLETION

    result = chat()
    assert (result is OPENAI_COMPLETION) is not as_object
    span = captured_spans.find("chat")
    a = span.attributes
    assert a["gen_ai.response.model"] == a["llm.model_name"] == "gpt-4o-2024-08-06"
    assert a["gen_ai.response.id"] == "chatcmpl-1"
    assert tuple(a["gen_ai.response.finish_reasons"]) == ("stop",)
    assert (a["gen_ai.usage.input_tokens"], a["gen_ai.usage.output_tokens"], a["llm.token_count.total"]) == (30, 5, 35)
    assert a["gen_ai.usage.cache_read.input_tokens"] == 10
    assert a["gen_ai.usage.reasoning.output_tokens"] == 2
    assert loads(span, "gen_ai.output.messages") == [
        {"role": "assistant", "parts": [{"type": "text", "content": "Hi!"}], "finish_reason": "stop"}
    ]
    assert a["llm.output_messages.0.message.content"] == "Hi!"


@pytest.mark.parametrize("as_object", [False, True], ids=["dict", "object"])
def test_anthropic_message_is_read_from_the_return_value(captured_spans: SpanCapture, as_object: bool) -> None:
    @agentel.trace(name="ask", span_type=agentel.SpanType.LLM)
    async def ask() -> Any:
        return to_object(ANTHROPIC_MESSAGE) if as_object else ANTHROPIC_MESSAGE

    asyncio.run(ask())
    span = captured_spans.find("ask")
    a = span.attributes
    assert a["gen_ai.response.model"] == "claude-sonnet-4-5"
    assert tuple(a["gen_ai.response.finish_reasons"]) == ("tool_use",)
    assert a["gen_ai.usage.input_tokens"] == 115  # Anthropic reports cache tokens apart; GenAI includes them
    assert a["gen_ai.usage.cache_read.input_tokens"] == 100
    assert a["gen_ai.usage.cache_creation.input_tokens"] == 3
    assert a["llm.token_count.total"] == 122
    output = loads(span, "gen_ai.output.messages")
    assert_messages(output, output=True)
    assert output[0]["finish_reason"] == "tool_call"
    assert output[0]["parts"][1] == {"type": "tool_call", "id": "tu_1", "name": "f", "arguments": {}}


def test_openai_responses_api_is_read_from_the_return_value(captured_spans: SpanCapture) -> None:
    @agentel.trace(name="respond", span_type=agentel.SpanType.CHAT_MODEL)
    def respond() -> Any:
        return RESPONSES_API

    respond()
    span = captured_spans.find("respond")
    assert span.attributes["gen_ai.usage.input_tokens"] == 8
    assert span.attributes["gen_ai.usage.reasoning.output_tokens"] == 1
    assert loads(span, "gen_ai.output.messages") == [
        {
            "role": "assistant",
            "parts": [{"type": "reasoning", "content": "thinking"}, {"type": "text", "content": "Done."}],
            "finish_reason": "stop",
        }
    ]


def test_only_model_spans_look_at_shapes_and_odd_values_are_harmless(captured_spans: SpanCapture) -> None:
    class Exploding:
        @property
        def choices(self) -> Any:
            raise RuntimeError("no")

    values: list[Any] = [mock.MagicMock(), Exploding(), "text", None, [OPENAI_COMPLETION], {"choices": "x"}]
    errors = agentel.stats()["internal_errors"]

    @agentel.trace(name="tool", span_type=agentel.SpanType.TOOL)
    def tool() -> Any:
        return OPENAI_COMPLETION

    @agentel.trace(name="model", span_type=agentel.SpanType.CHAT_MODEL)
    def model(i: int) -> Any:
        return values[i]

    tool()
    for index in range(len(values)):
        assert model(index) is values[index]
    assert "gen_ai.usage.input_tokens" not in captured_spans.find("tool").attributes
    assert all("gen_ai.usage.input_tokens" not in s.attributes for s in captured_spans.find_all("model"))
    assert agentel.stats()["internal_errors"] == errors


def test_model_and_counts_are_captured_even_without_content(captured_spans: SpanCapture) -> None:
    use(capture_content=False)

    @agentel.trace(name="chat", span_type=agentel.SpanType.CHAT_MODEL)
    def chat() -> Any:
        return OPENAI_COMPLETION

    chat()
    a = captured_spans.find("chat").attributes
    assert a["gen_ai.usage.input_tokens"] == 30 and a["gen_ai.response.model"] == "gpt-4o-2024-08-06"
    assert "gen_ai.output.messages" not in a and "output.value" not in a


# --------------------------------------------------------------------------------------------------
# the root token roll-up


@agentel.trace(span_type=agentel.SpanType.CHAT_MODEL)
def model_call() -> Any:
    return OPENAI_COMPLETION


def test_root_carries_the_sum_of_its_descendants(captured_spans: SpanCapture) -> None:
    tracer = otel_trace.get_tracer("another-instrumentation")

    @agentel.trace(name="agent", span_type=agentel.SpanType.AGENT)
    def agent() -> None:
        model_call()
        with agentel.start_span("step", span_type="CHAIN"):
            model_call()
            with tracer.start_as_current_span("openinference-llm") as raw:
                raw.set_attributes({"llm.token_count.prompt": 7, "llm.token_count.completion": 3})
        agentel.get_current_span().set_token_usage(input=1, output=1)  # type: ignore[union-attr]

    agent()
    a = captured_spans.find("agent").attributes
    assert a["agentel.trace.usage.input_tokens"] == 30 + 30 + 7 + 1
    assert a["agentel.trace.usage.output_tokens"] == 5 + 5 + 3 + 1
    assert a["agentel.trace.usage.total_tokens"] == 35 + 35 + 10 + 2
    assert a["agentel.trace.usage.cache_read.input_tokens"] == 20
    assert a["agentel.trace.usage.reasoning.output_tokens"] == 4
    assert a["agentel.trace.usage.spans"] == 4
    assert "agentel.trace.usage.input_tokens" not in captured_spans.find("step").attributes
    assert not RUNTIME.processor._usage  # dropped when the root ended


def test_roll_up_under_threads_and_late_children(captured_spans: SpanCapture) -> None:
    @agentel.trace(name="agent", span_type=agentel.SpanType.AGENT)
    def agent() -> Any:
        with agentel.ContextThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(lambda _: model_call(), range(40)))
        return agentel.start_span("late", span_type="CHAT_MODEL")

    late = agent()
    with late as span:  # starts and ends after the root: not counted, no error
        span.set_token_usage(input=1000)
    assert captured_spans.find("agent").attributes["agentel.trace.usage.input_tokens"] == 40 * 30
    assert not RUNTIME.processor._usage


def test_roll_up_memory_is_bounded() -> None:
    processor = AgentelSpanProcessor()
    provider = agentel_provider(processor)
    tracer = provider.get_tracer("t")
    roots = [tracer.start_span(f"root{i}") for i in range(MAX_TRACKED_TRACES + 5)]
    for root in roots:
        child = tracer.start_span("llm", context=otel_trace.set_span_in_context(root))
        child.set_attribute("gen_ai.usage.input_tokens", 1)
        child.end()
    assert len(processor._usage) == MAX_TRACKED_TRACES
    for root in roots:
        root.end()
    assert not processor._usage and not processor._roots
    provider.shutdown()


def agentel_provider(processor: AgentelSpanProcessor) -> Any:
    from opentelemetry.sdk.trace import TracerProvider

    provider = TracerProvider()
    provider.add_span_processor(processor)
    return provider


def test_console_tree_shows_model_tokens_and_the_trace_total(captured_spans: SpanCapture) -> None:
    @agentel.trace(name="agent", span_type=agentel.SpanType.AGENT)
    def agent() -> None:
        model_call()

    agent()
    spans = [s.otel for s in captured_spans.spans]
    text = render_tree(spans[0].context.trace_id, spans)
    assert "model=gpt-4o-2024-08-06 tokens in=30 out=5" in text
    assert "trace tokens in=30 out=5 total=35 over 1 model call(s)" in text


def test_session_and_user_land_on_later_spans_and_the_root(captured_spans: SpanCapture) -> None:
    @agentel.trace(name="agent", span_type=agentel.SpanType.AGENT)
    def agent() -> None:
        agentel.update_current_trace(session_id="chat-42", user_id="u-7")
        model_call()

    agent()
    for name in ("agent", "model_call"):
        a = captured_spans.find(name).attributes
        assert (a["session.id"], a["gen_ai.conversation.id"], a["user.id"]) == ("chat-42", "chat-42", "u-7")


def test_demo_and_quickstart_show_model_and_usage(captured_spans: SpanCapture) -> None:
    from agentel._cli import demo as _demo

    _demo.main()
    chat = captured_spans.find("chat fake-chat-1").attributes
    assert chat["gen_ai.request.model"] == "fake-chat-1" and chat["gen_ai.usage.input_tokens"] > 0
    assert captured_spans.find("demo-agent").attributes["agentel.trace.usage.total_tokens"] > 0
    assert captured_spans.find("retrieve").attributes["retrieval.documents.0.document.id"] == "doc-1"
    assert captured_spans.find("calculator").attributes["gen_ai.tool.name"] == "calculator"
    captured_spans.clear()
    sys.path.insert(0, str(EXAMPLES))
    try:
        importlib.import_module("quickstart_agent").main()
    finally:
        sys.path.remove(str(EXAMPLES))
    predict = captured_spans.find("predict").attributes
    assert predict["gen_ai.response.model"] == "databricks-dbrx-instruct"
    assert predict["gen_ai.usage.output_tokens"] > 0
    assert captured_spans.find("quickstart-agent").attributes["agentel.trace.usage.total_tokens"] > 0


def test_concurrent_helpers_on_one_span(captured_spans: SpanCapture) -> None:
    with agentel.start_span("s", span_type="CHAT_MODEL") as span:
        threads = [threading.Thread(target=span.set_token_usage, kwargs={"input": i}) for i in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert captured_spans.find("s").attributes["gen_ai.usage.input_tokens"] in range(20)


def test_set_outputs_on_a_chat_model_span_captures_the_response_shape(captured_spans: Any) -> None:
    completion = {
        "model": "gpt-4o-mini",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 7, "completion_tokens": 2, "total_tokens": 9},
    }
    with agentel.start_span("chat", span_type=agentel.SpanType.CHAT_MODEL) as span:
        span.set_outputs(completion)
    attributes = captured_spans.find("chat").attributes
    assert attributes["gen_ai.usage.input_tokens"] == 7
    assert attributes["gen_ai.usage.output_tokens"] == 2
    assert attributes["gen_ai.response.model"] == "gpt-4o-mini"


def test_streamed_llm_chunks_record_model_and_token_usage(captured_spans: Any) -> None:
    @agentel.trace(name="openai-stream", span_type=agentel.SpanType.CHAT_MODEL)
    def openai_stream() -> Any:
        yield {"model": "gpt-4o-mini", "choices": [{"delta": {"content": "Hel"}}], "usage": None}
        yield {"model": "gpt-4o-mini", "choices": [{"delta": {"content": "lo"}}], "usage": None}
        yield {"model": "gpt-4o-mini", "choices": [], "usage": {"prompt_tokens": 11, "completion_tokens": 2}}

    @agentel.trace(name="anthropic-stream", span_type=agentel.SpanType.LLM)
    async def anthropic_stream() -> Any:
        yield {"type": "message_start", "message": {"model": "claude-x", "usage": {"input_tokens": 5}}}
        yield {"type": "content_block_delta", "delta": {"text": "hi"}}
        yield {"type": "message_delta", "usage": {"output_tokens": 3}}

    assert len(list(openai_stream())) == 3

    async def consume() -> None:
        async for _ in anthropic_stream():
            pass

    import asyncio

    asyncio.run(consume())
    openai_span = captured_spans.find("openai-stream").attributes
    assert openai_span["gen_ai.usage.input_tokens"] == 11 and openai_span["gen_ai.usage.output_tokens"] == 2
    assert openai_span["gen_ai.response.model"] == "gpt-4o-mini"
    anthropic_span = captured_spans.find("anthropic-stream").attributes
    assert anthropic_span["gen_ai.usage.input_tokens"] == 5 and anthropic_span["gen_ai.usage.output_tokens"] == 3
    assert anthropic_span["gen_ai.response.model"] == "claude-x"
