"""``agentel demo``: a small offline agent (fake LLM, fake tools) that shows what a trace looks like."""

from __future__ import annotations

import time
from typing import Any, Iterator

from agentel._conventions.span_types import SpanType
from agentel._runtime.lifecycle import configure
from agentel._tracing.fluent import start_span
from agentel._tracing.fluent import trace_function as trace
from agentel._tracing.genai_fluent import set_agent, set_llm, set_messages, set_retrieved_documents, set_tool

_DOCUMENTS = [
    {"id": "doc-1", "content": "agentel turns each agent step into an OpenTelemetry span."},
    {"id": "doc-2", "content": "Spans go to any OTLP collector, or are printed as a tree."},
    {"id": "doc-3", "content": "Weather is not something agentel knows about."},
]


class FakeChatModel:
    """A deterministic stand-in for a chat model: no network, fixed answers."""

    model = "fake-chat-1"

    def complete(self, messages: list[dict[str, str]]) -> dict[str, Any]:
        """Answer with an OpenAI-style chat completion dict."""
        question = messages[-1]["content"]
        answer = f"Based on the documents: agentel traces agents. (You asked: {question!r})"
        prompt_tokens = sum(len(m["content"].split()) for m in messages)
        completion_tokens = len(answer.split())
        return {
            "id": "chatcmpl-demo",
            "model": self.model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": answer}, "finish_reason": "stop"}],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }


MODEL = FakeChatModel()


@trace(span_type=SpanType.RETRIEVER)
def retrieve(query: str, k: int = 2) -> list[dict[str, str]]:
    """Rank the demo documents by words shared with the query."""
    words = set(query.lower().split())

    def score(document: dict[str, str]) -> float:
        return len(words & set(document["content"].lower().split())) / max(1, len(words))

    ranked = sorted(_DOCUMENTS, key=lambda d: -score(d))[:k]
    set_retrieved_documents([{**d, "score": score(d)} for d in ranked], query=query, data_source_id="demo-docs")
    return ranked


@trace(span_type=SpanType.CHAT_MODEL, name="chat fake-chat-1")
def call_model(messages: list[dict[str, str]]) -> dict[str, Any]:
    """The LLM step: the request is described with set_llm/set_messages; the model, token usage and
    answer are read from the returned OpenAI-style completion without any code."""
    set_llm(model=MODEL.model, provider="fake", temperature=0.0, max_tokens=256)
    set_messages(input=messages)
    time.sleep(0.002)
    return MODEL.complete(messages)


@trace(span_type=SpanType.TOOL)
def calculator(expression: str) -> float:
    """A tool that adds numbers written as 'a + b'."""
    left, right = expression.split("+")
    result = float(left) + float(right)
    set_tool(name="calculator", description="Adds two numbers", arguments={"expression": expression}, result=result)
    return result


@trace(span_type=SpanType.TOOL)
def weather(city: str) -> str:
    """A tool whose backend is down: its span shows the error."""
    set_tool(name="weather", description="Current weather for a city", arguments={"city": city})
    raise ConnectionError(f"weather service unreachable for {city}")


@trace(span_type=SpanType.PARSER, output_reducer=lambda chunks: "".join(chunks))
def stream_answer(text: str) -> Iterator[str]:
    """Stream the answer word by word, as a chat UI would receive it."""
    for word in text.split(" "):
        yield word + " "


@trace(name="demo-agent", span_type=SpanType.AGENT)
def run_agent(question: str) -> str:
    """Retrieve, ask the model, use two tools (one fails), stream the answer."""
    set_agent(name="demo-agent", description="Answers questions about agentel from three documents")
    documents = retrieve(question)
    context = "\n".join(d["content"] for d in documents)
    messages = [
        {"role": "system", "content": f"Answer from these documents:\n{context}"},
        {"role": "user", "content": question},
    ]
    completion = call_model(messages)
    total = calculator("40 + 2")
    try:
        weather("Seoul")
    except ConnectionError:
        pass  # the agent carries on without the weather
    with start_span("compose", span_type=SpanType.CHAIN) as span:
        span.set_inputs({"total": total})
        answer = completion["choices"][0]["message"]["content"]
        span.set_outputs(answer)
    return "".join(stream_answer(answer)).strip()


# A made-up price for the made-up model (USD per million tokens), so the trace shows what it cost;
# real models are priced from the genai-prices data (the agentel[prices] extra).
DEMO_PRICES = {"fake/fake-chat-1": {"input": 2.5, "output": 10.0}}


def main() -> str:
    """Run the demo agent once and return its answer."""
    configure(prices=DEMO_PRICES)
    return run_agent("What does agentel do?")
