"""LangChain traced by OpenInference and agentel spans nest both ways (``_foreign_context.py``).

OpenInference keeps a runnable's span out of the OTel context; agentel's parent resolution asks
``openinference.instrumentation.langchain.get_current_span()`` too. Real LangChain, the real
OpenInference instrumentor, the real ``ChatOpenAI`` against the OpenAI-compatible server of tests/e2e.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableLambda
from langchain_openai import ChatOpenAI
from openinference.instrumentation.langchain import LangChainInstrumentor

import agentel
from agentel import SpanType
from agentel.testing import SpanCapture

sys.path.insert(0, str(Path(__file__).parent / "e2e"))
from _fake_openai import ANSWER, FakeOpenAI  # noqa: E402


@pytest.fixture
def langchain_instrumented() -> Iterator[None]:
    was_on = LangChainInstrumentor().is_instrumented_by_opentelemetry
    assert agentel.instrument("langchain") == ["langchain"]
    yield
    if not was_on:
        LangChainInstrumentor().uninstrument()


@pytest.fixture
def llm() -> Iterator[ChatOpenAI]:
    with FakeOpenAI() as server:
        yield ChatOpenAI(model="gpt-4o-mini", base_url=server.base_url, api_key="sk-test", max_retries=0)


@agentel.trace(name="lookup_order", span_type=SpanType.TOOL)
def lookup_order(text: str) -> dict[str, Any]:
    with agentel.start_span("db_query", span_type=SpanType.RETRIEVER):
        pass
    return {"answer": text, "order": 42}


def _chain(llm: ChatOpenAI) -> Any:
    prompt = ChatPromptTemplate.from_messages([("user", "{question}")])
    return prompt | llm | StrOutputParser() | RunnableLambda(lookup_order, name="tool_step")


def _one_trace(spans: SpanCapture) -> None:
    assert len(spans.traces()) == 1, spans.tree()
    ids = {s.span_id for s in spans}
    assert len(ids) == len(spans.spans), "no duplicate spans"
    assert [s.name for s in spans if s.parent_id is not None and s.parent_id not in ids] == [], "no orphans"


def test_agentel_spans_inside_a_runnable_nest_under_the_runnables_span(
    langchain_instrumented: None, llm: ChatOpenAI, captured_spans: SpanCapture
) -> None:
    @agentel.trace(name="support_agent", span_type=SpanType.AGENT)
    def agent(question: str) -> Any:
        return _chain(llm).invoke({"question": question})

    assert agent("Where is my order 42?") == {"answer": ANSWER, "order": 42}
    _one_trace(captured_spans)
    captured_spans.assert_tree("""
        support_agent
          RunnableSequence
            ChatPromptTemplate
            ChatOpenAI
            StrOutputParser
            tool_step
              lookup_order
                db_query
    """)
    chat = captured_spans.find("ChatOpenAI")
    assert chat.attributes["llm.token_count.total"] > 0


def test_a_langchain_root_holds_agentel_spans_and_their_children(
    langchain_instrumented: None, llm: ChatOpenAI, captured_spans: SpanCapture
) -> None:
    assert _chain(llm).invoke({"question": "Where is my order 42?"})["order"] == 42
    _one_trace(captured_spans)
    captured_spans.assert_tree("""
        RunnableSequence
          ChatPromptTemplate
          ChatOpenAI
          StrOutputParser
          tool_step
            lookup_order
              db_query
    """)
    assert captured_spans.find("lookup_order").span_type == SpanType.TOOL


def test_generators_clients_and_trace_attributes_inside_a_runnable(
    langchain_instrumented: None, captured_spans: SpanCapture
) -> None:
    @agentel.trace(name="stream_words", span_type=SpanType.LLM)
    def stream_words(text: str) -> Iterator[str]:
        yield from text.split()

    client = agentel.TraceClient()

    def step(text: str) -> list[str]:
        agentel.update_current_trace(session_id="chat-7")
        root = client.start_trace("planner", span_type=SpanType.CHAIN)
        client.end_trace(root.request_id)
        current = agentel.get_current_span()
        assert current is not None and current.name == "step"
        return list(stream_words(text))

    assert RunnableLambda(step, name="step").invoke("a b c") == ["a", "b", "c"]
    _one_trace(captured_spans)
    captured_spans.assert_tree("""
        step
          planner
          stream_words
    """)
    assert captured_spans.find("step").attributes["session.id"] == "chat-7"
    assert captured_spans.find("stream_words").attributes["session.id"] == "chat-7"


def test_an_agentel_span_started_inside_the_runnable_stays_the_parent(
    langchain_instrumented: None, captured_spans: SpanCapture
) -> None:
    def step(text: str) -> str:
        with agentel.start_span("outer"):
            with agentel.start_span("inner"):
                return text

    RunnableLambda(step, name="step").invoke("x")
    captured_spans.assert_tree("""
        step
          outer
            inner
    """)


def test_without_the_instrumentor_nothing_changes(captured_spans: SpanCapture) -> None:
    assert not LangChainInstrumentor().is_instrumented_by_opentelemetry

    @agentel.trace(name="root")
    def root() -> Any:
        return RunnableLambda(lookup_order).invoke("x")

    root()
    captured_spans.assert_tree("""
        root
          lookup_order
            db_query
    """)
