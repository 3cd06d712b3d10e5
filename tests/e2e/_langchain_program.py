"""LangChain (the real ``ChatOpenAI`` against the OpenAI-compatible server of _fake_openai.py) traced by
OpenInference, with agentel spans on both sides of it, run in a fresh interpreter configured only by the
environment (``OTEL_EXPORTER_OTLP_ENDPOINT``, ``AGENTEL_INSTRUMENT=langchain``) by
tests/e2e/test_instrumentations_langchain.py. Two traces:

- ``agent_root``: an agentel AGENT calls ``chain.invoke``; the chain's last step is an agentel TOOL that
  opens an agentel RETRIEVER span — LangChain under agentel, and agentel under LangChain;
- ``chain_root``: the chain (its ``ChatOpenAI`` streaming, with usage) invoked with no agentel span
  around it; the agentel TOOL inside its last step.

Prints one JSON line: the two trace ids, the token counts the server reported, ``agentel.stats()``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _fake_openai import FakeOpenAI, completion_tokens, prompt_tokens  # noqa: E402
from langchain_core.output_parsers import StrOutputParser  # noqa: E402
from langchain_core.prompts import ChatPromptTemplate  # noqa: E402
from langchain_core.runnables import RunnableLambda  # noqa: E402
from langchain_openai import ChatOpenAI  # noqa: E402

import agentel  # noqa: E402  (AGENTEL_INSTRUMENT=langchain enables OpenInference here)
from agentel import SpanType  # noqa: E402

QUESTIONS = ["Where is my order 42?", "Is order 43 late?"]


@agentel.trace(name="lookup_order", span_type=SpanType.TOOL)
def lookup_order(answer: str) -> dict[str, Any]:
    with agentel.start_span("orders_db", span_type=SpanType.RETRIEVER) as span:
        span.set_outputs([{"id": 42, "status": "shipped"}])
    return {"answer": answer, "order": 42}


def chain(llm: ChatOpenAI) -> Any:
    prompt = ChatPromptTemplate.from_messages([("user", "{question}")])
    return prompt | llm | StrOutputParser() | RunnableLambda(lookup_order, name="tool_step")


def main() -> dict[str, Any]:
    with FakeOpenAI() as server:
        llm = ChatOpenAI(model="gpt-4o-mini", base_url=server.base_url, api_key="sk-e2e-not-a-real-key", max_retries=0)
        streaming = ChatOpenAI(
            model="gpt-4o-mini",
            base_url=server.base_url,
            api_key="sk-e2e-not-a-real-key",
            max_retries=0,
            streaming=True,
            stream_usage=True,
        )

        @agentel.trace(name="support_agent", span_type=SpanType.AGENT)
        def support_agent(question: str) -> Any:
            return chain(llm).invoke({"question": question})

        support_agent(QUESTIONS[0])
        agent_root = agentel.get_last_trace_id()
        chain(streaming).invoke({"question": QUESTIONS[1]})
        chain_root = agentel.get_last_trace_id()
        assert [bool(r["body"].get("stream")) for r in server.requests] == [False, True]

    def tokens(question: str) -> dict[str, int]:
        prompt = prompt_tokens([{"role": "user", "content": question}])
        return {"input": prompt, "output": completion_tokens(), "total": prompt + completion_tokens()}

    return {
        "agent_root": agent_root,
        "chain_root": chain_root,
        "agent_tokens": tokens(QUESTIONS[0]),
        "chain_tokens": tokens(QUESTIONS[1]),
    }


if __name__ == "__main__":
    result = main()
    assert agentel.force_flush(20_000)
    result["stats"] = {k: v for k, v in agentel.stats().items() if isinstance(v, (int, str, type(None)))}
    print(json.dumps(result))
