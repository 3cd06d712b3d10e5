"""The cases every peer library runs (1: decorated sync call, 3: nested agent trace, 5: 100 KB input),
written once against a small adapter each peer module provides:

* ``decorate(func, kind)`` - the library's decorator for kind "chain", "llm", "tool" or "agent";
* ``set_usage()``          - record 10 input / 5 output tokens on the current LLM span, the
  library's own way where it has one.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List

from _harness import Scale, interleave, raw_provider, row

from . import _raw

Decorate = Callable[[Callable[..., Any], str], Callable[..., Any]]


def run_case(
    case: str, lib: str, decorate: Decorate, set_usage: Callable[[], None], scale: Scale
) -> List[Dict[str, Any]]:
    tracer = raw_provider().get_tracer("raw")
    if case == "1":
        traced = decorate(_raw.lookup, "chain")
        res = interleave({"raw": _raw.case1(tracer), "lib": lambda: traced(*_raw.ARGS)},
                         rounds=scale.rounds, n=scale.calls(2000), warmup=scale.warmup)
        return [row("1", "decorated sync call", lib, res)]
    if case == "3":
        agent = _nested_agent(decorate, set_usage)
        res = interleave({"raw": _raw.case3(tracer), "lib": lambda: agent("weather in paris?")},
                         rounds=scale.rounds, n=scale.calls(150, 5), warmup=scale.warmup // 4)
        return [row("3", "nested agent trace (8 spans)", lib, res, unit="trace")]
    if case == "5":
        payload = _raw.big_payload()

        def summarize_doc(doc: Dict[str, Any]) -> int:
            return len(doc["documents"])

        traced = decorate(summarize_doc, "chain")
        res = interleave({"raw": _raw.case5(tracer, payload), "lib": lambda: traced(payload)},
                         rounds=scale.rounds, n=scale.calls(50, 3), warmup=scale.warmup // 20)
        return [row("5", "100 KB input, library default", lib, res,
                    baseline_label="raw OTel, full dumps")]
    raise ValueError(f"case {case} is not run for peers")


def _nested_agent(decorate: Decorate, set_usage: Callable[[], None]) -> Callable[[str], str]:
    def llm(messages: Any) -> Dict[str, str]:
        set_usage()
        return {"content": "call weather"}

    def tool(city: str) -> Dict[str, int]:
        return {"temp": 21}

    def answer(notes: List[str]) -> str:
        return "It is sunny."

    llm_t, tool_t, answer_t = decorate(llm, "llm"), decorate(tool, "tool"), decorate(answer, "chain")

    def agent(question: str) -> str:
        notes = []
        for _ in range(3):
            llm_t(_raw.MESSAGES)
            notes.append(f"{tool_t(**_raw.TOOL_ARGS)['temp']}C")
        return answer_t(notes)

    return decorate(agent, "agent")


def otel_usage() -> None:
    """Token usage as GenAI attributes on the current OTel span (for peers without an API)."""
    from opentelemetry import trace

    span = trace.get_current_span()
    span.set_attribute("gen_ai.usage.input_tokens", 10)
    span.set_attribute("gen_ai.usage.output_tokens", 5)


def dist_version(name: str) -> str:
    from importlib.metadata import version

    return version(name)
