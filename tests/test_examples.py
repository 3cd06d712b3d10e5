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
          FakeDeployClient.predict
          _final_answer
        """
    )
    root = captured_spans.find("quickstart-agent")
    assert root.inputs["model_input"] == [{"query": "What is in MLflow 5.0"}]
    assert root.inputs["params"]["model_name"] == "databricks-dbrx-instruct"
    assert "self" not in root.inputs
    assert root.outputs == answer
    predict = captured_spans.find("FakeDeployClient.predict")
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


@pytest.mark.parametrize("script", sorted(p.name for p in EXAMPLES.glob("*.py") if not p.name.startswith("fake")))
def test_example_runs_as_a_script(script: str) -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / script)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "OTEL_TRACES_EXPORTER": "console"},
        cwd=EXAMPLES,
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
