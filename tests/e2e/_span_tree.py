"""Checks on traces read back from Phoenix that mix agentel's spans with other instrumentations'.

Span names repeat there (three ``chat gpt-4o-mini`` spans, an HTTP ``POST`` under each), so trees are
compared as indented text, children in start order, rather than by name.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any


def _start(span: Mapping[str, Any]) -> datetime:
    return datetime.fromisoformat(str(span["start_time"]).replace("Z", "+00:00"))


def check_one_trace(spans: Iterable[Mapping[str, Any]], trace_id: str) -> list[Mapping[str, Any]]:
    """One trace with that id, every span id once, every parent present (no orphans), one root."""
    spans = list(spans)
    assert {s["context"]["trace_id"] for s in spans} == {trace_id}, "spans spread over traces"
    ids = [s["context"]["span_id"] for s in spans]
    assert len(ids) == len(set(ids)), f"duplicate span ids: {sorted(ids)}"
    orphans = [s["name"] for s in spans if s["parent_id"] is not None and s["parent_id"] not in set(ids)]
    assert orphans == [], f"spans whose parent is not in the trace: {orphans}"
    roots = [s["name"] for s in spans if s["parent_id"] is None]
    assert len(roots) == 1, f"expected one root, got {roots}"
    return spans


def tree(spans: Iterable[Mapping[str, Any]]) -> str:
    """The trace as indented names, children in start order."""
    spans = list(spans)
    children: dict[Any, list[Mapping[str, Any]]] = {}
    for span in spans:
        children.setdefault(span["parent_id"], []).append(span)
    lines: list[str] = []

    def walk(parent: Any, depth: int) -> None:
        for span in sorted(children.get(parent, []), key=_start):
            lines.append("  " * depth + str(span["name"]))
            walk(span["context"]["span_id"], depth + 1)

    walk(None, 0)
    return "\n".join(lines)


def assert_tree(spans: Iterable[Mapping[str, Any]], expected: str) -> None:
    """The trace's tree is exactly ``expected`` (indented names)."""
    want = "\n".join(line.rstrip() for line in textwrap.dedent(expected).strip("\n").splitlines() if line.strip())
    got = tree(spans)
    assert got == want, f"span tree differs\n--- expected\n{want}\n--- got\n{got}"


def parent_of(spans: Iterable[Mapping[str, Any]], span: Mapping[str, Any]) -> Mapping[str, Any]:
    """The parent span of ``span`` among ``spans``."""
    by_id = {s["context"]["span_id"]: s for s in spans}
    return by_id[span["parent_id"]]


def named(spans: Iterable[Mapping[str, Any]], name: str) -> list[Mapping[str, Any]]:
    """The spans with this name, in start order."""
    return sorted((s for s in spans if s["name"] == name), key=_start)
