"""Payload serialization: every kind of value becomes valid JSON within the byte budget."""

from __future__ import annotations

import dataclasses
import datetime
import enum
import json
import math
from typing import Any

import pytest

from agentel._payload.serialize import to_json


class Color(enum.Enum):
    RED = "red"


@dataclasses.dataclass
class Point:
    x: int
    y: float


class WithModelDump:
    def model_dump(self) -> dict[str, Any]:
        return {"kind": "pydantic-like"}


class WithToDict:
    def to_dict(self) -> dict[str, Any]:
        return {"kind": "to_dict"}


def roundtrip(value: Any, budget: int = 8192) -> Any:
    text = to_json(value, budget)
    assert len(text.encode("utf-8")) <= budget
    return json.loads(text)


def test_plain_values_fast_path() -> None:
    assert roundtrip({"a": [1, 2.5, None, True, "é"]}) == {"a": [1, 2.5, None, True, "é"]}


def test_rich_types() -> None:
    value = {
        "set": {3},
        "tuple": (1, 2),
        "dc": Point(1, 2.0),
        "enum": Color.RED,
        "when": datetime.datetime(2024, 1, 2, 3, 4, 5),
        "day": datetime.date(2024, 1, 2),
        "bytes": b"\x00\x01",
        "dump": WithModelDump(),
        "todict": WithToDict(),
        (1, 2): "tuple key",
        "nan": math.nan,
        "inf": -math.inf,
        "error": ValueError("bad"),
    }
    out = roundtrip(value)
    assert out["set"] == [3]
    assert out["tuple"] == [1, 2]
    assert out["dc"] == {"x": 1, "y": 2.0}
    assert out["enum"] == "red"
    assert out["when"] == "2024-01-02T03:04:05"
    assert out["day"] == "2024-01-02"
    assert out["bytes"].startswith("<2 bytes")
    assert out["dump"] == {"kind": "pydantic-like"}
    assert out["todict"] == {"kind": "to_dict"}
    assert out["(1, 2)"] == "tuple key"
    assert out["nan"] == "NaN" and out["inf"] == "-Infinity"
    assert out["error"] == "ValueError: bad"


def test_pydantic_models_if_installed() -> None:
    pydantic = pytest.importorskip("pydantic")

    class Item(pydantic.BaseModel):  # type: ignore[misc,name-defined]
        name: str
        when: datetime.date

    assert roundtrip({"item": Item(name="a", when=datetime.date(2024, 5, 6))}) == {
        "item": {"name": "a", "when": "2024-05-06"}
    }


def test_numpy_values_when_numpy_is_imported() -> None:
    numpy = pytest.importorskip("numpy")
    assert roundtrip({"arr": numpy.arange(3), "scalar": numpy.float32(1.5)}) == {
        "arr": [0, 1, 2],
        "scalar": 1.5,
    }


def test_cycles_are_detected() -> None:
    a: dict[str, Any] = {"name": "a"}
    a["self"] = a
    assert roundtrip(a) == {"name": "a", "self": "<cycle: dict>"}


def test_raising_repr_and_str_get_placeholders() -> None:
    class Hostile:
        def __repr__(self) -> str:
            raise RuntimeError

        def __str__(self) -> str:
            raise RuntimeError

    class HostileKey:
        def __hash__(self) -> int:
            return 1

        def __str__(self) -> str:
            raise RuntimeError

        def __repr__(self) -> str:
            return "HostileKey()"

    assert roundtrip([Hostile()]) == ["<unrepresentable Hostile object>"]
    assert roundtrip({HostileKey(): 1}) == {"HostileKey()": 1}


def test_lone_surrogates_become_replacement_characters() -> None:
    out = roundtrip({"s": "a\ud800b"})
    assert out == {"s": "a\ufffdb"}


@pytest.mark.parametrize("budget", [64, 200, 1000, 8192])
def test_over_budget_is_cut_to_valid_json_that_says_how_much(budget: int) -> None:
    value = {"text": "x" * 50_000, "items": list(range(5000)), "nested": {"deep": ["é" * 3000]}}
    out = roundtrip(value, budget)
    assert isinstance(out, dict)
    flat = json.dumps(out, ensure_ascii=False)
    assert "more" in flat or "chars]" in flat or "items]" in flat or out.get("truncated") is True


def test_long_string_keeps_prefix_and_counts_cut_chars() -> None:
    out = roundtrip("a" * 10_000, 200)
    assert out.startswith("aaaa")
    cut = int(out.rsplit("+", 1)[1].split(" ")[0])
    assert cut + len(out.split("…")[0]) == 10_000


def test_deep_nesting_is_bounded() -> None:
    value: Any = []
    for _ in range(10_000):
        value = [value]
    out = roundtrip(value)
    assert "max depth" in json.dumps(out)
