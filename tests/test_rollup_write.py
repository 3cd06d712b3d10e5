"""The trace total written on an open root (``rollup._write``), checked against its rule spelled out
plainly here, on random totals, roots with and without their own usage, and costs."""

from __future__ import annotations

import random
from typing import Any, Optional

from opentelemetry.sdk.trace import TracerProvider

from agentel._conventions import names as sc
from agentel._conventions.cost import AGENTEL_COST_TOTAL, trace_cost_attributes
from agentel._conventions.usage import FIELDS, read_usage
from agentel._export import rollup

_KEYS = {
    "input": sc.AGENTEL_TRACE_INPUT_TOKENS,
    "output": sc.AGENTEL_TRACE_OUTPUT_TOKENS,
    "total": sc.AGENTEL_TRACE_TOTAL_TOKENS,
    "cache_read": sc.AGENTEL_TRACE_CACHE_READ_TOKENS,
    "reasoning": sc.AGENTEL_TRACE_REASONING_TOKENS,
}
_REQUIRED = ("input", "output", "total")


def by_the_rule(root_attributes: dict[str, Any], totals: list[int], costs: Optional[list[float]]) -> dict[str, Any]:
    """What the root carries afterwards: each summed field (plus the root's own count, unless another
    instrumentation's child recorded it) when it is non-zero or the root has it; input, output and
    total always; the number of spans counted; the cost when there is one."""
    own = None if root_attributes.get(sc.AGENTEL_USAGE_RECORDED_BY) else read_usage(root_attributes)
    expected = dict(root_attributes)
    for name, key in _KEYS.items():
        value = totals[FIELDS.index(name)] + (own or {}).get(name, 0)
        if value or name in (own or {}) or name in _REQUIRED:
            expected[key] = value
    expected[sc.AGENTEL_TRACE_USAGE_SPANS] = totals[-1] + (1 if own else 0)
    if costs or AGENTEL_COST_TOTAL in root_attributes:
        expected.update(trace_cost_attributes(root_attributes, costs))
    return expected


def test_the_written_total_follows_the_rule_on_random_roots() -> None:
    tracer = TracerProvider().get_tracer("rollup")
    rng = random.Random(16)
    own_keys = [sc.GEN_AI_USAGE_INPUT_TOKENS, sc.GEN_AI_USAGE_OUTPUT_TOKENS, "llm.token_count.total"]
    checked = {"own": 0, "plain": 0, "cost": 0}
    for _ in range(3000):
        start: dict[str, Any] = {"agentel.span.type": "AGENT"}
        for key in own_keys:
            if rng.random() < 0.25:
                start[key] = rng.choice([0, 4, 9])
        if rng.random() < 0.1:
            start[sc.AGENTEL_USAGE_RECORDED_BY] = "00f0"
        if rng.random() < 0.2:
            start[AGENTEL_COST_TOTAL] = 0.5
        if rng.random() < 0.3:  # written before: unchanged keys stay, changed ones are rewritten
            start[sc.AGENTEL_TRACE_INPUT_TOKENS] = rng.choice([0, 3])
        root = tracer.start_span("root", attributes=start)
        totals = [rng.choice([0, 0, 1, 7]) for _ in FIELDS] + [rng.randint(1, 4)]
        costs = [rng.random(), float(rng.randint(1, 3))] if rng.random() < 0.3 else None
        expected = by_the_rule(dict(root.attributes or {}), totals, costs)
        rollup._write(root, totals, costs)
        assert dict(root.attributes or {}) == expected, (start, totals, costs)
        own = read_usage(start) if not start.get(sc.AGENTEL_USAGE_RECORDED_BY) else None
        checked["own" if own else "plain"] += 1
        checked["cost"] += costs is not None
        root.end()
    assert min(checked.values()) > 300, checked


def test_an_ended_root_is_not_written() -> None:
    root = TracerProvider().get_tracer("rollup").start_span("root")
    root.end()
    rollup._write(root, [5] * len(FIELDS) + [1], None)
    assert dict(root.attributes or {}) == {}
