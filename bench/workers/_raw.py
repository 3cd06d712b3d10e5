"""The raw OpenTelemetry baselines, hand-written the way a careful user would write them.

Every worker builds these on its *own* SDK TracerProvider (BatchSpanProcessor + DropExporter, not
installed globally) and times them interleaved with its library, so each ratio is within one process.
The workloads (arguments, payloads, the nested agent) are defined here once and shared by every
library's worker.
"""

from __future__ import annotations

import json
from typing import Any, AsyncIterator, Callable, Dict, Iterator, List

# --- the workloads ----------------------------------------------------------------------------

ARGS = ("paris", 3)  # case 1: two small arguments ...


def lookup(city: str, k: int) -> Dict[str, Any]:
    """... and a small return value."""
    return {"city": city, "k": k}


MESSAGES = [{"role": "user", "content": "What is the weather in Paris?"}]
TOOL_ARGS = {"city": "paris"}
ITEMS = 100  # case 4: items per generator


def big_payload(target_bytes: int = 100_000) -> Dict[str, Any]:
    """Case 5: a nested dict whose JSON is ~100 KB (lists of records with nested metadata)."""
    docs: List[Dict[str, Any]] = []
    size = 0
    i = 0
    while size < target_bytes:
        doc = {
            "id": f"doc-{i}",
            "text": "lorem ipsum dolor sit amet " * 3,
            "meta": {"score": 0.5 + i / 10_000, "tags": ["a", "b", "c"], "source": {"page": i}},
        }
        docs.append(doc)
        size += len(json.dumps(doc)) + 2
        i += 1
    return {"query": "what is in the corpus?", "documents": docs}


# --- raw OTel implementations -------------------------------------------------------------------


def case1(tracer: Any) -> Callable[[], Any]:
    """``start_as_current_span`` + two ``json.dumps`` attributes (inputs, outputs)."""
    dumps = json.dumps

    def raw_lookup(city: str, k: int) -> Dict[str, Any]:
        with tracer.start_as_current_span("lookup") as span:
            span.set_attribute("input.value", dumps({"city": city, "k": k}))
            result = lookup(city, k)
            span.set_attribute("output.value", dumps(result))
            return result

    return lambda: raw_lookup(*ARGS)


def case2_context_manager(tracer: Any) -> Callable[[], Any]:
    dumps = json.dumps

    def step() -> None:
        with tracer.start_as_current_span("step") as span:
            span.set_attribute("input.value", dumps({"messages": MESSAGES}))
            span.set_attribute("output.value", dumps({"answer": "sunny"}))

    return step


def case2_client(tracer: Any) -> Callable[[], Any]:
    """A trace of two spans started and ended explicitly (no current-context changes)."""
    from opentelemetry import trace

    dumps = json.dumps

    def one_trace() -> None:
        root = tracer.start_span("t", attributes={"input.value": dumps({"q": "hi"})})
        child = tracer.start_span(
            "c", context=trace.set_span_in_context(root),
            attributes={"input.value": dumps(TOOL_ARGS)},
        )
        child.set_attribute("output.value", dumps({"ok": True}))
        child.end()
        root.set_attribute("output.value", dumps({"answer": "done"}))
        root.end()

    return one_trace


def case3(tracer: Any) -> Callable[[], Any]:
    """agent -> 3 x (LLM with token usage, tool) -> answer: 8 spans per trace."""
    dumps = json.dumps
    start = tracer.start_as_current_span

    def agent(question: str) -> str:
        with start("agent") as span:
            span.set_attribute("input.value", dumps({"question": question}))
            for _ in range(3):
                with start("llm") as llm:
                    llm.set_attribute("input.value", dumps({"messages": MESSAGES}))
                    llm.set_attribute("output.value", dumps({"content": "call weather"}))
                    llm.set_attribute("gen_ai.usage.input_tokens", 10)
                    llm.set_attribute("gen_ai.usage.output_tokens", 5)
                with start("tool") as tool:
                    tool.set_attribute("input.value", dumps(TOOL_ARGS))
                    tool.set_attribute("output.value", dumps({"temp": 21}))
            with start("answer") as answer:
                answer.set_attribute("input.value", dumps({"notes": ["21C"] * 3}))
                answer.set_attribute("output.value", dumps("It is sunny."))
            span.set_attribute("output.value", dumps("It is sunny."))
            return "It is sunny."

    return lambda: agent("weather in paris?")


def case4_generator(tracer: Any) -> Callable[[], Any]:
    """One span around a generator of 100 items; outputs = the items, as JSON, at the end."""
    dumps = json.dumps

    def gen(n: int) -> Iterator[int]:
        with tracer.start_as_current_span("gen") as span:
            span.set_attribute("input.value", dumps({"n": n}))
            items = []
            for i in range(n):
                items.append(i)
                yield i
            span.set_attribute("output.value", dumps(items))

    def consume() -> None:
        for _ in gen(ITEMS):
            pass

    return consume


def case4_async_generator(tracer: Any) -> Callable[[], Any]:
    dumps = json.dumps

    async def agen(n: int) -> AsyncIterator[int]:
        with tracer.start_as_current_span("agen") as span:
            span.set_attribute("input.value", dumps({"n": n}))
            items = []
            for i in range(n):
                items.append(i)
                yield i
            span.set_attribute("output.value", dumps(items))

    async def consume() -> None:
        async for _ in agen(ITEMS):
            pass

    return consume


def case5(tracer: Any, payload: Dict[str, Any]) -> Callable[[], Any]:
    """The full ~100 KB ``json.dumps`` as an attribute (a raw user has no byte budget)."""
    dumps = json.dumps

    def summarize(doc: Dict[str, Any]) -> int:
        with tracer.start_as_current_span("summarize") as span:
            span.set_attribute("input.value", dumps({"doc": doc}))
            result = len(doc["documents"])
            span.set_attribute("output.value", dumps(result))
            return result

    return lambda: summarize(payload)
