"""The public surface: every public name is documented in its docstring and in the README."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import agentel
import agentel.compat.mlflow
import agentel.testing

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_every_public_name_has_a_docstring() -> None:
    missing = []
    for module in (agentel, agentel.compat.mlflow, agentel.testing):
        for name in module.__all__:
            obj = getattr(module, name)
            if name.startswith("__") or isinstance(obj, (str, type(agentel))):
                continue
            if not (inspect.getdoc(obj) or "").strip():
                missing.append(f"{module.__name__}.{name}")
    assert missing == []


def test_every_public_name_is_in_the_readme() -> None:
    undocumented = [
        name for name in agentel.__all__ if not name.startswith("__") and not re.search(rf"\b{name}\b", README)
    ]
    assert undocumented == []


SHORTCUTS = (
    "set_llm",
    "set_token_usage",
    "set_messages",
    "set_tool",
    "set_retrieved_documents",
    "set_embeddings",
    "set_agent",
)


def test_each_convention_shortcut_has_the_signature_and_docstring_of_its_live_span_method() -> None:
    for name in SHORTCUTS:
        shortcut, method = getattr(agentel, name), getattr(agentel.LiveSpan, name)
        parameters = list(inspect.signature(method).parameters.values())
        assert parameters[0].name == "self"
        assert inspect.signature(shortcut) == inspect.signature(method).replace(parameters=parameters[1:]), name
        assert inspect.getdoc(shortcut).startswith(inspect.getdoc(method)), name  # type: ignore[union-attr]
        assert f"agentel.{name}(...)" in inspect.getdoc(shortcut) and "current span" in inspect.getdoc(shortcut)  # type: ignore[operator]
        assert shortcut.__name__ == name


def test_a_convention_shortcut_writes_what_the_live_span_method_writes_on_the_current_span(
    captured_spans: agentel.testing.SpanCapture,
) -> None:
    with agentel.start_span("by method") as span:
        span.set_llm(model="gpt-4o", provider="openai", temperature=0.5)
        span.set_agent(name="bot", id="a-1")
        span.set_embeddings(["x"], [[0.5, 0.25]], model="m")
    with agentel.start_span("by shortcut"):
        agentel.set_llm(model="gpt-4o", provider="openai", temperature=0.5)
        agentel.set_agent(name="bot", id="a-1")
        agentel.set_embeddings(["x"], [[0.5, 0.25]], model="m")
    by_method = captured_spans.find("by method").attributes
    by_shortcut = captured_spans.find("by shortcut").attributes
    assert "gen_ai.request.model" in by_method and "gen_ai.agent.id" in by_method
    assert by_shortcut == by_method
