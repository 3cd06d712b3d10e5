"""Warnings are rate-limited and summarised: thousands of evicted traces or sloppy ``end_trace`` calls
write a line or two, not one line each (issue 12, item 21)."""

from __future__ import annotations

from pathlib import Path

from _run import run_program


def test_evicting_thousands_of_abandoned_traces_writes_a_summary(tmp_path: Path) -> None:
    program = """
    import agentel
    client = agentel.TraceClient()
    for i in range(5000):
        client.start_trace(f"run-{i}")              # never ended
    for i in range(300):                            # and sloppy: children left open at end_trace
        root = client.start_trace("sloppy")
        client.start_span("child", request_id=root.request_id)
        client.end_trace(root.request_id)
    print(agentel.stats()["spans_started"])
    """
    env = {"AGENTEL_MAX_OPEN_TRACES": "10", "OTEL_BSP_MAX_QUEUE_SIZE": "20000"}
    result = run_program(program, env=env, traces_file=tmp_path / "t.jsonl", timeout=120)
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    evictions = [line for line in lines if "AGENTEL_MAX_OPEN_TRACES" in line]
    assert 1 <= len(evictions) <= 2, "\n".join(lines[:20])
    assert "trace(s) ended" in evictions[0]
    sloppy = [line for line in lines if "still open" in line]
    assert len(sloppy) == 1, "\n".join(lines[:20])
    assert len(lines) <= 6, "\n".join(lines[:20])
    evicted = [span for span in result.spans if span["name"].startswith("run-")]
    assert len(evicted) == 5000  # all ended (status ERROR) and exported, only the warning is summarised
    assert all(span["status"]["code"] == 2 for span in evicted)


def test_the_summary_counts_what_was_not_logged() -> None:
    program = """
    import logging, agentel
    from agentel._internal_errors import RateLimitedWarning
    now = [0.0]
    limiter = RateLimitedWarning(interval_s=60, clock=lambda: now[0])
    for second in range(0, 180):
        now[0] = float(second)
        limiter.warn("cause", "agentel: something happened", count=10)
    """
    result = run_program(program, timeout=30)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 3, lines  # at 0 s, 60 s, 120 s
    assert "590 more like this" in lines[1] and "590 more like this" in lines[2]
