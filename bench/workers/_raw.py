"""The raw OpenTelemetry baselines, hand-written the way a careful user would write them.

Every worker builds these on its *own* SDK TracerProvider (BatchSpanProcessor + DropExporter, not
installed globally) and times them interleaved with its library, so each ratio is within one process.
The workloads (arguments, payloads, the nested agent) are defined here once and shared by every
library's worker.

Each baseline of cases 1-4 also takes an optional ``shape``: per span name, the span kind and the
attributes a library wrote beyond the ones the baseline writes itself (read from the spans the library
really exported, see ``shape_of``). With it, the same code is "raw OTel writing that library's
attribute set": the extra attributes passed at start, the payloads dumped as before.
"""

from __future__ import annotations

import json
import re
from typing import Any, AsyncIterator, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

# span name -> (span kind, attributes to write at start, or None)
Shape = Dict[str, Tuple[Any, Optional[Dict[str, Any]]]]


def _args(shape: Optional[Shape], name: str) -> Tuple[Any, Optional[Dict[str, Any]]]:
    """The ``kind`` and start ``attributes`` of span ``name``: the SDK defaults without a shape."""
    from opentelemetry.trace import SpanKind

    if shape is None:
        return SpanKind.INTERNAL, None
    return shape[name]


def shape_of(library_spans: Sequence[Any], baseline_spans: Sequence[Any]) -> Tuple[Shape, Dict[str, Any]]:
    """What a library's exported spans carry beyond the raw baseline's spans of the same names.

    Returns the shape (span kind + the extra attributes with the values the library wrote) and a
    description: every attribute key the library wrote, per span name, and the keys only the
    baseline writes (then the "agentel's attributes" baseline writes a superset; shown, not hidden).
    """
    base: Dict[str, set] = {}
    for span in baseline_spans:
        base.setdefault(span.name, set()).update(span.attributes or {})
    shape: Shape = {}
    described: Dict[str, Any] = {}
    for span in library_spans:
        if span.name in shape:
            continue
        if span.name not in base:
            raise RuntimeError(f"no raw baseline span named {span.name!r} to compare with")
        attributes = dict(span.attributes or {})
        extra = {k: v for k, v in attributes.items() if k not in base[span.name]}
        shape[span.name] = (span.kind, extra or None)
        described[span.name] = {
            "kind": span.kind.name,
            "library_keys": sorted(attributes),
            "extra_keys": sorted(extra),
            "baseline_only_keys": sorted(base[span.name] - set(attributes)),
        }
    return shape, described

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


def case1(tracer: Any, shape: Optional[Shape] = None) -> Callable[[], Any]:
    """``start_as_current_span`` + two ``json.dumps`` attributes (inputs, outputs)."""
    dumps = json.dumps
    kind, attributes = _args(shape, "lookup")

    def raw_lookup(city: str, k: int) -> Dict[str, Any]:
        with tracer.start_as_current_span("lookup", kind=kind, attributes=attributes) as span:
            span.set_attribute("input.value", dumps({"city": city, "k": k}))
            result = lookup(city, k)
            span.set_attribute("output.value", dumps(result))
            return result

    return lambda: raw_lookup(*ARGS)


def case2_context_manager(tracer: Any, shape: Optional[Shape] = None) -> Callable[[], Any]:
    dumps = json.dumps
    kind, attributes = _args(shape, "step")

    def step() -> None:
        with tracer.start_as_current_span("step", kind=kind, attributes=attributes) as span:
            span.set_attribute("input.value", dumps({"messages": MESSAGES}))
            span.set_attribute("output.value", dumps({"answer": "sunny"}))

    return step


def case2_client(tracer: Any, shape: Optional[Shape] = None) -> Callable[[], Any]:
    """A trace of two spans started and ended explicitly (no current-context changes)."""
    from opentelemetry import trace

    dumps = json.dumps
    kind_t, extra_t = _args(shape, "t")
    kind_c, extra_c = _args(shape, "c")
    extra_t, extra_c = extra_t or {}, extra_c or {}

    def one_trace() -> None:
        root = tracer.start_span("t", kind=kind_t, attributes={**extra_t, "input.value": dumps({"q": "hi"})})
        child = tracer.start_span(
            "c", context=trace.set_span_in_context(root), kind=kind_c,
            attributes={**extra_c, "input.value": dumps(TOOL_ARGS)},
        )
        child.set_attribute("output.value", dumps({"ok": True}))
        child.end()
        root.set_attribute("output.value", dumps({"answer": "done"}))
        root.end()

    return one_trace


def case3(tracer: Any, shape: Optional[Shape] = None) -> Callable[[], Any]:
    """agent -> 3 x (LLM with token usage, tool) -> answer: 8 spans per trace."""
    dumps = json.dumps
    start = tracer.start_as_current_span
    k_agent, a_agent = _args(shape, "agent")
    k_llm, a_llm = _args(shape, "llm")
    k_tool, a_tool = _args(shape, "tool")
    k_answer, a_answer = _args(shape, "answer")

    def agent(question: str) -> str:
        with start("agent", kind=k_agent, attributes=a_agent) as span:
            span.set_attribute("input.value", dumps({"question": question}))
            for _ in range(3):
                with start("llm", kind=k_llm, attributes=a_llm) as llm:
                    llm.set_attribute("input.value", dumps({"messages": MESSAGES}))
                    llm.set_attribute("output.value", dumps({"content": "call weather"}))
                    llm.set_attribute("gen_ai.usage.input_tokens", 10)
                    llm.set_attribute("gen_ai.usage.output_tokens", 5)
                with start("tool", kind=k_tool, attributes=a_tool) as tool:
                    tool.set_attribute("input.value", dumps(TOOL_ARGS))
                    tool.set_attribute("output.value", dumps({"temp": 21}))
            with start("answer", kind=k_answer, attributes=a_answer) as answer:
                answer.set_attribute("input.value", dumps({"notes": ["21C"] * 3}))
                answer.set_attribute("output.value", dumps("It is sunny."))
            span.set_attribute("output.value", dumps("It is sunny."))
            return "It is sunny."

    return lambda: agent("weather in paris?")


def _consumer(gen: Callable[[int], Iterator[int]]) -> Callable[[], None]:
    """Case 4's unit of work: one generator of ``ITEMS`` items, consumed to the end."""
    def consume() -> None:
        for _ in gen(ITEMS):
            pass

    return consume


def case4_generator(tracer: Any, shape: Optional[Shape] = None) -> Callable[[], Any]:
    """One span around a generator of 100 items; outputs = the items, as JSON, at the end."""
    dumps = json.dumps
    kind, attributes = _args(shape, "gen")

    def gen(n: int) -> Iterator[int]:
        with tracer.start_as_current_span("gen", kind=kind, attributes=attributes) as span:
            span.set_attribute("input.value", dumps({"n": n}))
            items = []
            for i in range(n):
                items.append(i)
                yield i
            span.set_attribute("output.value", dumps(items))

    return _consumer(gen)


def case4_generator_switching(tracer: Any) -> Callable[[], Any]:
    """Case 4's generator with the span current only while the body runs: the OTel context set before
    and reset after each step, as a tracer must for the consumer not to run inside the span between
    items (what agentel does; the plain baseline keeps the span current across its ``yield``)."""
    from opentelemetry import context as otel_context
    from opentelemetry import trace

    dumps = json.dumps

    def gen(n: int) -> Iterator[int]:
        with tracer.start_as_current_span("gen") as span:
            span.set_attribute("input.value", dumps({"n": n}))
            current = trace.set_span_in_context(span)
            items = []
            for i in range(n):
                token = otel_context.attach(current)
                items.append(i)
                otel_context.detach(token)
                yield i
            span.set_attribute("output.value", dumps(items))

    return _consumer(gen)


def case4_async_generator(tracer: Any, shape: Optional[Shape] = None) -> Callable[[], Any]:
    dumps = json.dumps
    kind, attributes = _args(shape, "agen")

    async def agen(n: int) -> AsyncIterator[int]:
        with tracer.start_as_current_span("agen", kind=kind, attributes=attributes) as span:
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


# --- case 5b: a 10 MB message history ---------------------------------------------------------------


def long_history(target_bytes: int = 10_000_000) -> List[Dict[str, str]]:
    """Case 5b: a chat history whose JSON is ~10 MB (alternating user/assistant turns of ~2 KB)."""
    messages: List[Dict[str, str]] = []
    size = 0
    i = 0
    while size < target_bytes:
        role = "user" if i % 2 == 0 else "assistant"
        content = f"turn {i}: " + "the quick brown fox jumps over the lazy dog; " * 45
        messages.append({"role": role, "content": content})
        size += len(content) + len(role) + 30
        i += 1
    return messages


def case5b(tracer: Any, messages: List[Dict[str, str]]) -> Callable[[], Any]:
    """The full ``json.dumps`` of the whole history as the input attribute."""
    dumps = json.dumps

    def chat(history: List[Dict[str, str]]) -> Dict[str, str]:
        with tracer.start_as_current_span("chat") as span:
            span.set_attribute("input.value", dumps({"messages": history}))
            result = {"role": "assistant", "content": "ok"}
            span.set_attribute("output.value", dumps(result))
            return result

    return lambda: chat(messages)


_MARKER = re.compile(r"…\s*\[?\+\s*[\d,]+\s*\w+\]?")  # "…[+7046 chars]", "…[+2 items]", "+1 more entries"
_COUNT = re.compile(r"\+\s*[\d,]+\s*(more\s+)?\w+")


def truncation_report(text: Any, budget: int) -> Dict[str, Any]:
    """Whether a cut payload is valid JSON within ``budget`` UTF-8 bytes and says what was cut.

    "Says what was cut": a marker with a count somewhere in it - a string ending ``…[+N chars]``, a list
    item ``"…[+N items]"``, a ``"…"`` key whose value counts what is left out, or the whole-payload
    fallback ``{"truncated": true, "original_bytes": N, ...}``.
    """
    report: Dict[str, Any] = {"budget": budget}
    if not isinstance(text, str):
        report.update(valid_json=False, error=f"not a string: {type(text).__name__}")
        return report
    report["bytes"] = len(text.encode("utf-8", "replace"))
    report["within_budget"] = report["bytes"] <= budget
    try:
        data = json.loads(text)
    except ValueError as exc:
        report.update(valid_json=False, error=str(exc))
        return report
    report["valid_json"] = True
    markers: List[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("truncated") is True and isinstance(node.get("original_bytes"), int):
                markers.append(f"truncated, original_bytes={node['original_bytes']}")
            for key, value in node.items():
                if key == "…" and isinstance(value, str) and _COUNT.search(value):
                    markers.append(f'"…": {value!r}')
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, str):
            found = _MARKER.search(node)
            if found:
                markers.append(found.group(0))

    walk(data)
    report["markers"] = len(markers)
    report["marker_examples"] = markers[:3]
    report["says_what_was_cut"] = bool(markers)
    return report
