"""A known agent run for the metrics e2e tests, configured only by the environment.

Two chat calls to gpt-4o (1000 input + 500 output tokens each, 200 of the input cached in the second),
three `search` tool calls and one failing `lookup` tool, under one `support-bot` agent. Prints one JSON
line (trace id); with ``--wait`` it then keeps serving (e.g. its Prometheus endpoint) until a line
arrives on stdin.
"""

from __future__ import annotations

import json
import sys

import agentel


@agentel.trace(span_type=agentel.SpanType.TOOL)
def search(query: str) -> list[str]:
    return [f"doc about {query}"]


@agentel.trace(span_type=agentel.SpanType.TOOL)
def lookup(key: str) -> str:
    raise KeyError(key)


@agentel.trace(span_type=agentel.SpanType.CHAT_MODEL)
def chat(question: str, cached: int) -> dict[str, object]:
    agentel.set_llm(model="gpt-4o", provider="openai")
    return {
        "id": "chatcmpl-e2e",
        "object": "chat.completion",
        "model": "gpt-4o",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
        "usage": {
            "prompt_tokens": 1000,
            "completion_tokens": 500,
            "total_tokens": 1500,
            "prompt_tokens_details": {"cached_tokens": cached},
        },
    }


@agentel.trace(name="support-bot", span_type=agentel.SpanType.AGENT)
def support_bot(question: str) -> str:
    for topic in ("billing", "refunds", "shipping"):
        search(topic)
    chat(question, cached=0)
    try:
        lookup("order-42")
    except KeyError:
        pass
    chat(question, cached=200)
    return "done"


if __name__ == "__main__":
    support_bot("where is my order?")
    print(json.dumps({"trace_id": agentel.get_last_trace_id()}), flush=True)
    if "--wait" in sys.argv:
        sys.stdin.readline()
