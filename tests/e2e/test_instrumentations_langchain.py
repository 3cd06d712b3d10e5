"""LangChain with OpenInference and agentel, both nesting directions, exported to a real Phoenix (see
_langchain_program.py): LangChain's spans under an agentel AGENT, agentel's TOOL/RETRIEVER spans under the
LangChain step that ran them — in a trace rooted by agentel and in one rooted by LangChain. The real
``ChatOpenAI`` (plain and streaming with usage) talks to an OpenAI-compatible server on 127.0.0.1.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

from _agent import run_python
from _receivers import Phoenix
from _span_tree import assert_tree, check_one_trace, named

_PROGRAM = Path(__file__).with_name("_langchain_program.py")

CHAIN = """
    RunnableSequence
      ChatPromptTemplate
      ChatOpenAI
      StrOutputParser
      tool_step
        lookup_order
          orders_db
"""


def _check(spans: list[dict[str, Any]], tokens: dict[str, int], root: str) -> None:
    kinds = {s["name"]: s["span_kind"] for s in spans}
    assert kinds["RunnableSequence"] == "CHAIN" and kinds["ChatOpenAI"] == "LLM", kinds
    assert kinds["lookup_order"] == "TOOL" and kinds["orders_db"] == "RETRIEVER", kinds
    chat = named(spans, "ChatOpenAI")[0]["attributes"]
    assert chat["llm.token_count.prompt"] == tokens["input"], chat
    assert chat["llm.token_count.completion"] == tokens["output"], chat
    assert chat["llm.model_name"].startswith("gpt-4o-mini"), chat
    assert named(spans, "lookup_order")[0]["attributes"]["agentel.span.type"] == "TOOL"
    total = named(spans, root)[0]["attributes"]
    got = {key: total.get(f"agentel.trace.usage.{key}_tokens") for key in ("input", "output", "total")}
    assert got == tokens, f"trace total on {root}: {got} != {tokens}"


def test_langchain_and_agentel_nest_both_ways(phoenix: Phoenix, phoenix_project: str) -> None:
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": phoenix.grpc_endpoint,
        "OTEL_RESOURCE_ATTRIBUTES": f"openinference.project.name={phoenix_project}",
        "AGENTEL_INSTRUMENT": "langchain",
    }
    out, err = run_python([str(_PROGRAM)], env, timeout=120)
    assert "Traceback" not in err, err
    run = json.loads(out.strip().splitlines()[-1])
    assert run["stats"]["internal_errors"] == 0

    agent_root = check_one_trace(phoenix.spans(phoenix_project, run["agent_root"], expect=8), run["agent_root"])
    nested = "\n".join("  " + line for line in textwrap.dedent(CHAIN).strip("\n").splitlines())
    assert_tree(agent_root, "support_agent\n" + nested)
    _check(agent_root, run["agent_tokens"], "support_agent")

    chain_root = check_one_trace(phoenix.spans(phoenix_project, run["chain_root"], expect=7), run["chain_root"])
    assert_tree(chain_root, CHAIN)
    _check(chain_root, run["chain_tokens"], "RunnableSequence")

    everything = phoenix.project_spans(phoenix_project)
    assert {s["context"]["trace_id"] for s in everything} == {run["agent_root"], run["chain_root"]}
    assert len(everything) == len(agent_root) + len(chain_root), "no span outside the two traces"
