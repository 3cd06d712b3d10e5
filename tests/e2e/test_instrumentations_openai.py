"""The real ``openai`` SDK through opentelemetry-instrumentation-openai-v2 (and the httpx instrumentation),
inside agentel agent/tool spans, exported to a real Phoenix — in each provider setup: environment only,
``configure(set_global=True)``, and the application's own provider (see _openai_program.py).

For each setup and each of the two traces (sync: plain, CHAT_MODEL-wrapped and streamed calls; async:
plain and streamed calls): one trace and nothing else in the project, no orphans, no duplicate spans, the
exact tree (every ``chat`` span under the agentel span that made the call, an HTTP span under each
``chat`` whose id is the ``traceparent`` the server received), model and token usage on every ``chat``
span, the CHAT_MODEL step not repeating the usage, and the trace's total counting each call once.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from _agent import run_python
from _fake_openai import RESPONSE_MODEL
from _receivers import Phoenix
from _span_tree import assert_tree, check_one_trace, named, parent_of

_PROGRAM = Path(__file__).with_name("_openai_program.py")

SYNC_TREE = """
    support_agent
      lookup_order
        chat gpt-4o-mini
          POST
      ask
        chat gpt-4o-mini
          POST
      chat gpt-4o-mini
        POST
      app.step
"""
ASYNC_TREE = """
    async_agent
      chat gpt-4o-mini
        POST
      summarize
        chat gpt-4o-mini
          POST
"""
_USAGE_KEYS = (
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.output_tokens",
    "llm.token_count.prompt",
    "llm.token_count.completion",
    "llm.token_count.total",
)


def _environment(phoenix: Phoenix, project: str, setup: str) -> dict[str, str]:
    env = {
        "AGENTEL_E2E_SETUP": setup,
        "OTEL_EXPORTER_OTLP_ENDPOINT": phoenix.grpc_endpoint,
        "OTEL_RESOURCE_ATTRIBUTES": f"openinference.project.name={project}",
        "OTEL_SERVICE_NAME": "support-bot",
    }
    if setup == "env":
        env["AGENTEL_INSTRUMENT"] = "openai,httpx"
    return env


def _check_chat(span: dict[str, Any], tokens: dict[str, int]) -> None:
    attributes = span["attributes"]
    assert attributes["gen_ai.operation.name"] == "chat"
    assert attributes["gen_ai.request.model"] == "gpt-4o-mini"
    assert attributes["gen_ai.response.model"] == RESPONSE_MODEL
    assert attributes["gen_ai.usage.input_tokens"] == tokens["input"], attributes
    assert attributes["gen_ai.usage.output_tokens"] == tokens["output"], attributes
    assert span["span_kind"] == "LLM"


def _check_totals(root: dict[str, Any], tokens: dict[str, int]) -> None:
    attributes = root["attributes"]
    got = {
        "input": attributes.get("agentel.trace.usage.input_tokens"),
        "output": attributes.get("agentel.trace.usage.output_tokens"),
        "total": attributes.get("agentel.trace.usage.total_tokens"),
    }
    assert got == tokens, f"trace total on {root['name']}: {got}, each call counted once would be {tokens}"


def _check_http_children(spans: list[dict[str, Any]], traceparents: list[str]) -> None:
    sent = {header.split("-")[2] for header in traceparents}
    posts = named(spans, "POST")
    assert {p["context"]["span_id"] for p in posts} <= sent, "each HTTP span's id went out as traceparent"
    for post in posts:
        assert parent_of(spans, post)["name"] == "chat gpt-4o-mini"
        assert post["attributes"].get("http.request.method", post["attributes"].get("http.method")) == "POST"


@pytest.mark.parametrize("setup", ["env", "set_global", "app"])
def test_openai_sdk_spans_join_the_agent_trace(setup: str, phoenix: Phoenix, phoenix_project: str) -> None:
    out, err = run_python([str(_PROGRAM)], _environment(phoenix, phoenix_project, setup), timeout=120)
    assert "Traceback" not in err, err
    run = json.loads(out.strip().splitlines()[-1])
    assert run["stats"]["internal_errors"] == 0
    assert run["sync_trace"] != run["async_trace"]
    assert len(run["traceparents"]) == 5 and all(run["traceparents"]), "the httpx instrumentation propagated"

    sync = check_one_trace(phoenix.spans(phoenix_project, run["sync_trace"], expect=10, timeout=30), run["sync_trace"])
    assert_tree(sync, SYNC_TREE)
    calls = run["calls"]
    for chat in named(sync, "chat gpt-4o-mini"):
        caller = parent_of(sync, chat)["name"]
        _check_chat(chat, calls[{"lookup_order": "lookup_order", "ask": "ask", "support_agent": "stream"}[caller]])
    ask = named(sync, "ask")[0]
    assert ask["attributes"]["agentel.span.type"] == "CHAT_MODEL"
    repeated = [key for key in _USAGE_KEYS if key in ask["attributes"]]
    assert repeated == [], f"the CHAT_MODEL step repeats the chat span's usage: {repeated}"
    _check_totals(named(sync, "support_agent")[0], run["sync_tokens"])
    _check_http_children(sync, run["traceparents"])

    async_spans = check_one_trace(
        phoenix.spans(phoenix_project, run["async_trace"], expect=6, timeout=30), run["async_trace"]
    )
    assert_tree(async_spans, ASYNC_TREE)
    for chat in named(async_spans, "chat gpt-4o-mini"):
        caller = parent_of(async_spans, chat)["name"]
        _check_chat(chat, calls["async_stream" if caller == "summarize" else "async"])
    _check_totals(named(async_spans, "async_agent")[0], run["async_tokens"])
    _check_http_children(async_spans, run["traceparents"])

    everything = phoenix.project_spans(phoenix_project)
    assert {s["context"]["trace_id"] for s in everything} == {run["sync_trace"], run["async_trace"]}
    assert len(everything) == len(sync) + len(async_spans), "no span outside the two traces"
