"""The dialect protocol: each dialect writes token usage and reads it back with one table; reading
prefers GenAI, then OpenInference, then MLflow's JSON; the builders take a Policy, never the runtime."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import pytest

from agentel._conventions import names as sc
from agentel._conventions.builders import llm_attributes, start_attributes, tool_attributes
from agentel._conventions.dialects.registry import ALL, NAMES, enabled
from agentel._conventions.policy import Policy
from agentel._conventions.usage import FIELDS, has_usage, read_usage, usage_attributes

CONVENTIONS = Path(__file__).resolve().parents[1] / "src" / "agentel" / "_conventions"
FULL = {"input": 120, "output": 30, "total": 150, "cache_read": 100, "cache_write": 7, "reasoning": 12}


@pytest.mark.parametrize("dialect", ALL, ids=NAMES)
def test_each_dialect_reads_back_what_it_wrote(dialect: object) -> None:
    written = dialect.usage(FULL)  # type: ignore[attr-defined]
    assert written and has_usage(written)
    read_back = dialect.read_usage(written)  # type: ignore[attr-defined]
    assert read_back and all(FULL[name] == value for name, value in read_back.items())
    assert read_usage(written) == {name: FULL[name] for name in FIELDS if name in read_back} | {"total": 150}


def test_genai_wins_over_openinference_field_by_field_and_mlflow_is_the_last_resort() -> None:
    attributes = {sc.GEN_AI_USAGE_INPUT_TOKENS: 5, sc.LLM_TOKEN_COUNT_PROMPT: 9, sc.LLM_TOKEN_COUNT_COMPLETION: 2}
    assert read_usage(attributes) == {"input": 5, "output": 2, "total": 7}
    mlflow_only = {sc.MLFLOW_CHAT_USAGE: json.dumps({"input_tokens": 3, "output_tokens": 4})}
    assert read_usage(mlflow_only) == {"input": 3, "output": 4, "total": 7}
    both = {**mlflow_only, sc.LLM_TOKEN_COUNT_TOTAL: 1}
    assert read_usage(both) == {"total": 1}
    assert read_usage({sc.GEN_AI_USAGE_INPUT_TOKENS: True, sc.MLFLOW_CHAT_USAGE: "not json"}) is None
    assert not has_usage({sc.GEN_AI_REQUEST_MODEL: "m"})


def test_the_policy_chooses_the_dialects_written() -> None:
    genai_only = Policy(dialects=frozenset({"genai"}))
    assert [d.name for d in enabled(genai_only.dialects)] == ["genai"]
    usage = usage_attributes(None, genai_only, input=3, output=4)
    assert usage == {sc.GEN_AI_USAGE_INPUT_TOKENS: 3, sc.GEN_AI_USAGE_OUTPUT_TOKENS: 4}
    everything = Policy(dialects=frozenset(NAMES))
    llm = llm_attributes(None, everything, model="gpt-4o", provider="google", temperature=0.5)
    assert llm[sc.GEN_AI_PROVIDER_NAME] == "gcp.gen_ai" and llm[sc.LLM_PROVIDER] == "google"
    assert json.loads(llm[sc.MLFLOW_LLM_PROVIDER]) == "google"
    assert json.loads(llm[sc.LLM_INVOCATION_PARAMETERS]) == {"temperature": 0.5}
    assert set(start_attributes("TOOL", everything.dialects)) == {
        sc.AGENTEL_SPAN_TYPE,
        sc.GEN_AI_OPERATION_NAME,
        sc.OPENINFERENCE_SPAN_KIND,
        sc.MLFLOW_SPAN_TYPE,
    }


def test_content_capture_off_keeps_names_and_drops_arguments() -> None:
    off = Policy(capture_content=False, dialects=frozenset({"genai", "openinference"}))
    tool = tool_attributes(off, name="search", arguments={"q": "x"}, result=["doc"], parameters={"type": "object"})
    assert tool[sc.GEN_AI_TOOL_NAME] == "search" and tool[sc.TOOL_NAME] == "search"
    assert sc.GEN_AI_TOOL_CALL_ARGUMENTS not in tool and sc.GEN_AI_TOOL_CALL_RESULT not in tool
    assert sc.TOOL_PARAMETERS in tool  # a schema, not content


def test_conventions_import_no_runtime_export_or_tracing() -> None:
    allowed = ("agentel._conventions", "agentel._payload", "agentel._errors", "agentel._internal_errors")
    allowed += ("agentel._forksafe", "agentel._otel_internals", "agentel.version")
    for path in CONVENTIONS.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("agentel"):
                assert node.module.startswith(allowed), f"{path.name} imports {node.module}"
            if isinstance(node, ast.Import):
                for alias in node.names:
                    assert not alias.name.startswith("agentel") or alias.name.startswith(allowed), path.name


def test_payload_function_session_and_cost_keys_follow_the_dialects() -> None:
    from agentel._conventions.builders import function_attributes, payload_attributes, session_attributes
    from agentel._conventions.cost import AGENTEL_COST_TOTAL, cost_attributes

    every, plain = frozenset(NAMES), frozenset({"genai", "openinference"})
    assert payload_attributes(plain, "input", "[1]") == {sc.INPUT_VALUE: "[1]", sc.INPUT_MIME_TYPE: sc.JSON_MIME}
    assert payload_attributes(every, "output", "{}")[sc.MLFLOW_SPAN_OUTPUTS] == "{}"
    assert function_attributes(plain, "ask") == {}
    assert function_attributes(every, "ask") == {sc.MLFLOW_SPAN_FUNCTION_NAME: '"ask"'}
    assert session_attributes(frozenset({"openinference"}), "s-1") == {sc.SESSION_ID: "s-1"}
    assert session_attributes(plain, "s-1") == {sc.SESSION_ID: "s-1", sc.GEN_AI_CONVERSATION_ID: "s-1"}
    assert cost_attributes((0.25, 0.5), frozenset({"genai"})) == {AGENTEL_COST_TOTAL: 0.75}
    assert cost_attributes((0.25, 0.5), plain)[sc.LLM_COST_TOTAL] == 0.75


def test_read_usage_reads_genai_then_openinference_then_mlflow_as_the_dialect_readers_do() -> None:
    import random

    from agentel._conventions.dialects.genai import GENAI
    from agentel._conventions.dialects.mlflow import MLFLOW
    from agentel._conventions.dialects.openinference import OPENINFERENCE

    def by_the_dialects(attributes: dict[str, Any]) -> Any:  # the rule, spelled with each dialect's reader
        found = GENAI.read_usage(attributes)
        for name, value in OPENINFERENCE.read_usage(attributes).items():
            found.setdefault(name, value)
        if not found:
            found = MLFLOW.read_usage(attributes)
        if found and "total" not in found and ("input" in found or "output" in found):
            found["total"] = found.get("input", 0) + found.get("output", 0)
        return {name: found[name] for name in FIELDS if name in found} or None

    class Count(int):
        pass

    keys = [key for _, key in GENAI.usage_table.pairs + OPENINFERENCE.usage_table.pairs] + ["input.value"]
    values = [0, 5, -1, True, "7", 3.0, None, Count(4), 10**15]
    usage_json = [json.dumps({"input_tokens": 3, "output_tokens": 2}), json.dumps({"total_tokens": 9}), "{}", "x"]
    rng = random.Random(5)
    seen = 0
    for _ in range(5000):
        attributes: dict[str, Any] = {rng.choice(keys): rng.choice(values) for _ in range(rng.randint(0, 8))}
        if rng.random() < 0.3:
            attributes[sc.MLFLOW_CHAT_USAGE] = rng.choice(usage_json)
        expected = by_the_dialects(attributes) if attributes else None
        got = read_usage(attributes)
        assert got == expected and list(got or ()) == list(expected or ()), attributes
        seen += got is not None
    assert seen > 1000
