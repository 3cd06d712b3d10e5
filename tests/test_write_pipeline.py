"""The one write pipeline (_payload.write) and truncation toolbox (_payload.truncate): from a value to an
attribute value, sanitized, redacted and within the byte budget."""

from __future__ import annotations

import json

from agentel._payload.redact import REDACTED, Redactor
from agentel._payload.truncate import clip_text, fit_list
from agentel._payload.write import attribute_value, built_value, json_value

ON = Redactor(True)


def test_json_value_is_redacted_json_within_the_budget() -> None:
    text = json_value({"api_key": "sk-proj-abcdefghijklmnopqrstuvwx1234", "q": "hi"}, 8192, ON)
    assert json.loads(text) == {"api_key": REDACTED, "q": "hi"}
    assert json_value({"q": "hi"}, 8192, None) == '{"q": "hi"}'


def test_a_redaction_that_makes_the_text_longer_is_cut_again_to_the_budget() -> None:
    value = [{"token": "x"} for _ in range(40)]  # each "x" becomes "[REDACTED]"
    budget = len(json.dumps(value, ensure_ascii=False)) + 5
    text = json_value(value, budget, ON)
    assert len(text.encode()) <= budget
    assert REDACTED in text and "…" in text


def test_attribute_values_stay_native_or_become_json_text() -> None:
    assert attribute_value("k", 3, 100, ON) == 3
    assert attribute_value("k", [1, 2], 100, ON) == [1, 2]
    assert attribute_value("k", ("a", "b"), 100, ON) == ["a", "b"]
    assert attribute_value("k", {"a": 1}, 100, ON) == '{"a": 1}'
    assert attribute_value("password", "hunter2", 100, ON) == REDACTED
    assert attribute_value("password", "hunter2", 100, None) == "hunter2"
    long = attribute_value("k", "x" * 1000, 100, ON)
    assert len(long.encode()) <= 100 and long.endswith("chars]")
    assert attribute_value("k", "a\ud800b", 100, None) == "a\ufffdb"


def test_built_values_are_made_exportable_and_redacted() -> None:
    assert built_value("k", "a\ud800b", 100, None) == "a\ufffdb"
    assert built_value("k", ["a\ud800"], 100, None) == ["a\ufffd"]
    assert built_value("gen_ai.input.messages", '[{"content": "Bearer abcdef123456"}]', 100, ON) == (
        '[{"content": "Bearer [REDACTED]"}]'
    )


def test_clip_text_keeps_the_start_or_both_ends() -> None:
    assert clip_text("short", 100) == "short"
    cut = clip_text("a" * 500 + "b" * 500, 200)
    assert cut.startswith("aaa") and cut.endswith("chars]") and len(cut.encode()) <= 200
    both = clip_text("a" * 500 + "b" * 500, 200, keep_end=True)
    assert both.startswith("aaa") and both.endswith("bbb") and "chars cut]" in both


def test_fit_list_keeps_the_newest_messages_or_the_first_documents() -> None:
    items = [{"role": "user", "content": f"message {i} " + "x" * 200} for i in range(50)]
    kept, text, dropped = fit_list(items, 2000, keep="last")
    assert len(text.encode()) <= 2000 and json.loads(text) == kept
    assert dropped > 0 and kept[-1]["content"].startswith("message 49")
    kept, _, _ = fit_list(items, 2000, keep="first")
    assert kept[0]["content"].startswith("message 0")
