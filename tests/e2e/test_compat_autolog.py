"""``mlflow.openai.autolog()`` / ``mlflow.langchain.autolog()`` on agentel.compat.mlflow turn on the real
instrumentations (agentel.instrument): a real openai / LangChain call to an OpenAI-compatible server on
127.0.0.1 becomes a child span of the traced agent, read back with ``mlflow.get_last_active_trace()``.

Each scenario runs in a fresh interpreter: instrumenting patches the SDKs for the whole process.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent

_PROGRAM = """
import json, logging, sys
sys.path.insert(0, {here!r})
from _fake_openai import FakeOpenAI
import agentel
agentel.configure(console=False)
import agentel.compat.mlflow as mlflow

logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
{autolog}
with FakeOpenAI() as server:
{call}
    @mlflow.trace(span_type="AGENT")
    def agent(question):
        return ask(question)

    answer = agent("where is my order")
trace = mlflow.get_last_active_trace()
print(json.dumps({{"answer": answer, "state": trace.info.state, "spans": [
    {{"name": s.name, "parent": s.parent_id, "id": s.span_id, "type": s.span_type,
      "input_tokens": s.attributes.get("gen_ai.usage.input_tokens")}} for s in trace.data.spans]}}))
"""

_OPENAI = """
    import openai
    client = openai.OpenAI(base_url=server.base_url, api_key="sk-test")

    def ask(question):
        reply = client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": question}]
        )
        return reply.choices[0].message.content
"""

_LANGCHAIN = """
    from langchain_openai import ChatOpenAI
    llm = ChatOpenAI(model="gpt-4o-mini", base_url=server.base_url, api_key="sk-test")

    def ask(question):
        return llm.invoke(question).content
"""


def _run(autolog: str, call: str) -> tuple[dict[str, Any], str]:
    program = _PROGRAM.format(here=str(HERE), autolog=autolog, call=call)
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1]), result.stderr


def test_openai_autolog_traces_the_real_openai_sdk_under_the_agent_span() -> None:
    pytest.importorskip("opentelemetry.instrumentation.openai_v2")
    out, _ = _run("mlflow.openai.autolog()", _OPENAI)
    assert out["answer"] == "Your order 42 has shipped."
    assert out["state"] == "OK"
    root, chat = out["spans"]
    assert (root["name"], root["parent"], root["type"]) == ("agent", None, "AGENT")
    assert chat["name"] == "chat gpt-4o-mini" and chat["parent"] == root["id"]
    assert chat["input_tokens"] == 4  # the server's count: the words of the prompt


def test_without_autolog_the_openai_call_is_not_traced() -> None:
    out, _ = _run("", _OPENAI)
    assert [span["name"] for span in out["spans"]] == ["agent"]


def test_langchain_autolog_traces_a_real_chat_model_under_the_agent_span() -> None:
    pytest.importorskip("openinference.instrumentation.langchain")
    out, _ = _run("mlflow.langchain.autolog()", _LANGCHAIN)
    assert out["answer"] == "Your order 42 has shipped."
    root, model = out["spans"][0], out["spans"][1]
    assert root["name"] == "agent" and model["name"] == "ChatOpenAI" and model["parent"] == root["id"]


def test_mlflow_autolog_turns_on_the_installed_genai_instrumentations_not_http_clients() -> None:
    pytest.importorskip("opentelemetry.instrumentation.openai_v2")
    out, _ = _run("mlflow.autolog()", _OPENAI)
    assert [span["name"] for span in out["spans"]] == ["agent", "chat gpt-4o-mini"]  # no httpx "POST" span


def test_autolog_of_a_flavor_without_counterpart_warns_once_and_traces_what_it_can() -> None:
    out, stderr = _run("mlflow.dspy.autolog()\nmlflow.dspy.autolog()", _OPENAI)
    assert stderr.count("mlflow.dspy.autolog() has no counterpart on agentel") == 1
    assert [span["name"] for span in out["spans"]] == ["agent"]
