"""Every example runs, and produces the span tree it promises."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

from agentel.testing import SpanCapture

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture
def examples_on_path() -> Iterator[None]:
    sys.path.insert(0, str(EXAMPLES))
    try:
        yield
    finally:
        sys.path.remove(str(EXAMPLES))


def test_quickstart_agent_span_tree(examples_on_path: None, captured_spans: SpanCapture) -> None:
    quickstart = importlib.import_module("quickstart_agent")
    answer = quickstart.main()
    assert "MLflow 5.0" in answer
    captured_spans.assert_tree(
        """
        quickstart-agent
          predict
          _final_answer
        """
    )
    root = captured_spans.find("quickstart-agent")
    assert root.inputs["model_input"] == [{"query": "What is in MLflow 5.0"}]
    assert root.inputs["params"]["model_name"] == "databricks-dbrx-instruct"
    assert "self" not in root.inputs
    assert root.outputs == answer
    predict = captured_spans.find("predict")
    assert predict.inputs["endpoint"] == "databricks-dbrx-instruct"
    assert predict.inputs["inputs"]["messages"][1] == {"role": "user", "content": "What is in MLflow 5.0"}
    final = captured_spans.find("_final_answer")
    assert final.inputs == {"query": "What is in MLflow 5.0"}
    assert final.outputs == {"generated_text": answer}
    usage = predict.outputs["usage"]
    assert final.attributes["model_name"] == "databricks-dbrx-instruct"
    assert final.attributes["prompt_tokens"] == usage["prompt_tokens"]
    assert final.attributes["completion_tokens"] == usage["completion_tokens"]
    assert final.attributes["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


SCRIPTS = sorted(
    str(p.relative_to(EXAMPLES))
    for p in EXAMPLES.rglob("*.py")
    if not p.name.startswith(("fake", "offline")) and "__pycache__" not in p.parts
)


@pytest.mark.parametrize("script", SCRIPTS)
def test_example_runs_as_a_script(script: str) -> None:
    path = EXAMPLES / script
    result = subprocess.run(
        [sys.executable, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "OTEL_TRACES_EXPORTER": "console"},
        cwd=path.parent,
    )
    assert result.returncode == 0, result.stderr
    assert "trace id:" in result.stdout
    assert "trace " in result.stderr  # the printed tree


def test_demo_command_prints_a_tree_with_every_span_type() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "agentel", "demo"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    trace_id = result.stdout.split("trace id: ")[1].split()[0]
    assert f"trace {trace_id}" in result.stderr
    for fragment in ("[AGENT]", "[RETRIEVER]", "[CHAT_MODEL]", "[TOOL]", "[PARSER]", "ConnectionError", "tokens in="):
        assert fragment in result.stderr
    assert "OTEL_EXPORTER_OTLP_ENDPOINT" in result.stderr
    # the cost next to the tokens, on the model call and for the whole trace (the demo's own price table)
    model_line = next(line for line in result.stderr.splitlines() if "model=fake-chat-1 tokens in=" in line)
    trace_line = next(line for line in result.stderr.splitlines() if "model call(s)" in line)
    assert "cost=$" in model_line and "cost=$" in trace_line


MLFLOW_COMPAT = EXAMPLES / "mlflow_compat"


@pytest.fixture
def compat_on_path() -> Iterator[None]:
    sys.path.insert(0, str(MLFLOW_COMPAT))
    try:
        yield
    finally:
        sys.path.remove(str(MLFLOW_COMPAT))
        for name in ("fluent_quickstart", "client_api", "offline_stand_ins"):
            sys.modules.pop(name, None)


def test_mlflow_page_fluent_block_runs_with_only_imports_changed(
    compat_on_path: None, captured_spans: SpanCapture
) -> None:
    module = importlib.import_module("fluent_quickstart")
    captured_spans.assert_tree(
        """
        quickstart-agent [UNKNOWN]
          predict [UNKNOWN]
          _final_answer [UNKNOWN]
        """
    )
    root = captured_spans.find("quickstart-agent")
    final = captured_spans.find("_final_answer")
    predict = captured_spans.find("predict")
    assert root.outputs == module.prediction
    assert root.inputs["system_prompt"] == module.SYSTEM_PROMPT
    assert root.inputs["params"]["temperature"] == 0.1
    assert predict.inputs["inputs"]["max_tokens"] == 1000
    assert final.outputs == {"generated_text": module.prediction}
    usage = predict.outputs["usage"]
    assert [final.attributes[k] for k in ("prompt_tokens", "completion_tokens", "total_tokens")] == [
        usage["prompt_tokens"],
        usage["completion_tokens"],
        usage["total_tokens"],
    ]
    assert final.attributes["model_name"] == "databricks-dbrx-instruct"


def test_mlflow_page_client_block_runs_as_written(compat_on_path: None, captured_spans: SpanCapture) -> None:
    module = importlib.import_module("client_api")
    captured_spans.assert_tree(
        """
        simple-rag-agent
          search
        """
    )
    root = captured_spans.find("simple-rag-agent")
    search = captured_spans.find("search")
    assert root.trace_id == module.request_id
    assert search.parent_id == root.span_id
    assert root.inputs == {"query": "Demo", "model_name": "DBRX", "temperature": 0, "max_tokens": 200}
    assert root.outputs == {"output": ["Test Result"]}
    assert search.inputs == {"query_text": "demo", "num_results": 3}
    assert search.outputs == ["Test Result"]
    assert root.status_code == search.status_code == "OK"
