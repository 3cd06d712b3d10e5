"""The budget-aware encoder: what fits is written exactly as json.dumps writes it; what does not is cut
to valid JSON within the budget that says what was cut, at a cost that follows the budget."""

from __future__ import annotations

import dataclasses
import datetime
import json
import math
import re
from collections import OrderedDict
from typing import Any

import pytest

from agentel._payload import budget, serialize
from agentel._payload.serialize import to_json, to_jsonable


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


@dataclasses.dataclass
class Point:
    x: int
    y: float


class Counted:
    """An object converted through ``to_dict``; counts how many were converted."""

    converted = 0

    def __init__(self, index: int) -> None:
        self.index = index

    def to_dict(self) -> dict[str, Any]:
        Counted.converted += 1
        return {"index": self.index, "text": "lorem ipsum " * 4}


def _cycle() -> dict[str, Any]:
    looped: dict[str, Any] = {"name": "a", "items": [1, 2]}
    looped["items"].append(looped)
    return looped


UNDER_BUDGET = [
    {"a": [1, 2.5, None, True, "é"], "b": {}},
    {"when": datetime.date(2024, 1, 2), "point": Point(1, 2.0), "plain": {"k": ["v"] * 10}},
    {"nan": math.nan, "inf": -math.inf, "nested": [{"x": math.inf}]},
    {1: "int key", "s": "x", None: [1], 2.5: {"deep": [[[]]]}},
    OrderedDict(b=1, a=[(1, 2), (3, 4)]),
    [{"s": "a\ud800b"}, "\ud83d tail", {"k\udc00": 1}],
    _cycle(),
    {"bytes": b"\x00\x01", "set": {3}, "error": ValueError("bad"), "objects": [Counted(1), Counted(2)]},
    ['\n\t"\\', "中文", "😀" * 10],
]


@pytest.mark.parametrize("value", UNDER_BUDGET, ids=range(len(UNDER_BUDGET)))
def test_a_value_that_fits_is_written_exactly_as_json_dumps_of_its_conversion(value: Any) -> None:
    expected = budget.fix_surrogates(dumps(to_jsonable(value, 1 << 20)))
    assert to_json(value, 1 << 20) == expected
    assert to_json(value, len(expected.encode("utf-8"))) == expected  # exactly at the budget too


def test_the_encoder_that_walks_writes_what_fits_as_the_fast_path_does() -> None:
    """The walk (taken when something in the value is not plain data) and the one-call fast path agree."""
    plain = {"query": "q", "documents": [{"id": i, "meta": {"score": i / 7, "tags": ["a", "b"]}} for i in range(30)]}
    with_object = {**plain, "when": datetime.date(2024, 1, 2)}
    assert to_json(plain, 1 << 20) == dumps(plain)
    assert to_json(with_object, 1 << 20) == dumps({**plain, "when": "2024-01-02"})


def markers(text: str) -> list[str]:
    return re.findall(r"…\[\+\d+ (?:chars|items)\]|\+\d+ more entries", text)


def check(value: Any, room: int) -> Any:
    text = to_json(value, room)
    assert len(text.encode("utf-8")) <= room
    return json.loads(text)


@pytest.mark.parametrize("room", [64, 200, 1000, 8192])
def test_a_long_list_keeps_its_first_items_and_counts_the_others(room: int) -> None:
    out = check(list(range(100_000)), room)
    kept, marker = out[:-1], out[-1]
    assert kept == list(range(len(kept)))
    assert marker == f"…[+{100_000 - len(kept)} items]"


@pytest.mark.parametrize("room", [64, 200, 1000, 8192])
def test_a_large_dict_keeps_its_first_entries_and_counts_the_others(room: int) -> None:
    value = {f"key{i}": i for i in range(20_000)}
    out = check(value, room)
    shown = [key for key in out if key != "…"]
    assert all(out[key] == value[key] for key in shown)
    assert out["…"] == f"+{20_000 - len(shown)} more entries"


def test_a_long_string_keeps_its_start_and_counts_the_cut_characters() -> None:
    for text in ("a" * 100_000, "é中😀" * 30_000, '\n"' * 40_000):
        out = check({"text": text}, 500)["text"]
        head, count = re.fullmatch(r"(.*)…\[\+(\d+) chars\]", out, re.S).groups()  # type: ignore[union-attr]
        assert text.startswith(head) and len(head) + int(count) == len(text)
        assert len(head) > 300 // 6


def test_a_message_history_keeps_the_first_messages_and_cuts_the_one_that_does_not_fit() -> None:
    history = [{"role": "user", "content": f"turn {i}: " + "the quick brown fox " * 100} for i in range(5000)]
    out = check({"messages": history}, 8192)["messages"]
    assert out[:-2] == history[: len(out) - 2]  # whole messages first
    assert out[-2]["role"] == "user" and out[-2]["content"].endswith("chars]")  # then one cut
    assert out[-1] == f"…[+{5000 - len(out) + 1} items]"


def test_counts_are_from_the_original_when_the_converter_cut_first() -> None:
    @dataclasses.dataclass
    class Holder:
        items: list[int]
        text: str

    out = check(Holder(list(range(50_000)), "x" * 50_000), 2000)
    assert out["items"][-1] == f"…[+{50_000 - len(out['items']) + 1} items]"
    if isinstance(out.get("text"), str):
        assert out["text"].endswith(f"…[+{50_000 - len(out['text'].split('…')[0])} chars]")


def test_cost_follows_the_budget_not_the_payload() -> None:
    """Only what can be shown is converted: 100,000 objects, a few hundred bytes of budget."""
    Counted.converted = 0
    out = check({"objects": [Counted(i) for i in range(100_000)]}, 1000)
    assert Counted.converted <= 20
    assert out["objects"][-1].startswith("…[+")


@pytest.mark.parametrize("room", list(range(1, 120, 7)))
def test_any_budget_gives_valid_json_within_it(room: int) -> None:
    values = [{"text": "x" * 500}, list(range(300)), {"a": {"b": {"c": "d" * 300}}}, "é" * 300, 10**40]
    for value in values:
        check(value, room)


def test_deep_and_cyclic_values_over_budget_stay_bounded() -> None:
    deep: Any = "leaf" * 1000
    for _ in range(5000):
        deep = [deep, "x" * 10]
    out = to_json(deep, 2000)
    assert "max depth" in out and len(out.encode()) <= 2000
    looped = _cycle()
    looped["big"] = "y" * 10_000
    assert "<cycle: dict>" in to_json(looped, 500)


def test_json_size_hint_is_a_lower_bound() -> None:
    values = [{"a": [1, 2.5, None, True, "é"]}, [[]], {}, [], "x", {"k": {"l": [1, 2, 3]}}, OrderedDict(a=1)]
    for value in values:
        assert 0 <= budget.json_size_hint(value, 1000) <= len(dumps(value).encode())
    assert budget.json_size_hint({"a": datetime.date(2024, 1, 1)}, 1000) == -1
    assert budget.json_size_hint({1: 2}, 1000) == -1
    assert budget.json_size_hint(list(range(10_000)), 100) == 101
    assert budget.json_size_hint([[[1]]], 100, levels=2) == -1


def test_without_the_c_encoder_the_pure_python_one_writes_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    values = [
        {"a": [1, 2.5, "é\n", None, True], "b": {"c": "😀"}},
        {"doc": [{"i": i, "t": "x" * 30} for i in range(500)]},
    ]
    fast = [to_json(value, 2000) for value in values]
    monkeypatch.setattr(budget.json.encoder, "c_make_encoder", None)
    slow = budget._make_plain_dump()
    assert slow is not budget.dump_plain and slow(values[0]) == dumps(values[0])
    monkeypatch.setattr(budget, "dump_plain", slow)
    monkeypatch.setattr(serialize, "dump_plain", slow)
    assert [to_json(value, 2000) for value in values] == fast


def test_an_error_of_the_encoder_itself_is_reported_and_gives_a_placeholder(monkeypatch: pytest.MonkeyPatch) -> None:
    from agentel._internal_errors import STATS

    def broken(value: Any, limit: int, levels: Any = None) -> int:
        raise RuntimeError("bug in the encoder")

    monkeypatch.setattr(serialize, "json_size_hint", broken)
    before = STATS.snapshot()["internal_errors"]
    assert to_json({"a": 1}, 100) == '"<unserializable dict>"'
    assert STATS.snapshot()["internal_errors"] == before + 1


def test_user_code_that_raises_gives_a_placeholder_and_is_not_counted_as_agentels_error() -> None:
    from agentel._internal_errors import STATS

    class Hostile:
        def __repr__(self) -> str:
            raise RuntimeError

    before = STATS.snapshot()["internal_errors"]
    assert json.loads(to_json({"h": Hostile()}, 100)) == {"h": "<unrepresentable Hostile object>"}
    assert STATS.snapshot()["internal_errors"] == before


def test_the_flat_dict_shortcut_of_json_size_hint_counts_as_the_general_walk(monkeypatch: Any) -> None:
    import random

    rng = random.Random(7)
    cases = []
    for index in range(3000):
        value: dict[Any, Any] = {}
        for j in range(rng.randint(0, 40)):
            key = rng.choice(["", "a", "city", "x" * rng.randint(0, 30)]) + str(j)
            value[key] = rng.choice(
                [None, True, 3, 2.5, "", "paris", "é" * rng.randint(0, 50), "y" * rng.randint(0, 3000)]
            )
        if index % 20 == 0:
            value[index] = 1  # a key json.dumps would convert: not plain
        if index % 20 == 1:
            value["nested"] = {"a": [1]}
        cases.append((value, rng.choice([10, 100, 8192]), rng.choice([None, 0, 1, 3])))
    fast = [budget.json_size_hint(*case) for case in cases]
    monkeypatch.setattr(budget, "_FLAT_ENTRIES", -1)  # every dict takes the general walk
    assert fast == [budget.json_size_hint(*case) for case in cases]
    assert {-1, 11, 101} <= set(fast), "the cases cover the not-plain and the over-limit answers"


def test_the_flat_list_shortcut_of_json_size_hint_counts_as_the_general_walk(monkeypatch: Any) -> None:
    import random

    rng = random.Random(11)
    pools: list[list[Any]] = [[0, 1, -5, 10**12], [0.5, True, None, 3], ["", "ab", "é" * 20], [1, "x"], [1, [2]]]
    cases = []
    for index in range(3000):
        items = [rng.choice(pools[index % len(pools)]) for _ in range(rng.randint(0, 300))]
        cases.append(
            (tuple(items) if index % 3 == 0 else items, rng.choice([10, 100, 1000, 8192]), rng.choice([None, 0, 1]))
        )
    fast = [budget.json_size_hint(*case) for case in cases]
    monkeypatch.setattr(budget, "_flat_list_size", lambda value: None)  # every list takes the general walk
    assert fast == [budget.json_size_hint(*case) for case in cases]
    assert {-1, 11, 101, 1001} <= set(fast), "the cases cover the not-plain and the over-limit answers"
