"""One validation of every setting: wrong types fail at ``configure()`` with a typed error, combinations the
SDK rejects are corrected, timeouts are clamped, relative paths are resolved once (issue 12, items 6, 7,
8, 19)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from _run import run_program


def test_a_queue_smaller_than_the_default_batch_still_traces_through_the_client(tmp_path: Path) -> None:
    program = """
    import agentel
    client = agentel.TraceClient()
    for i in range(20):
        root = client.start_trace(f"run-{i}")
        child = client.start_span("step", request_id=root.request_id)
        client.end_span(root.request_id, child.span_id)
        client.end_trace(root.request_id)
    assert agentel.force_flush(5000)
    """
    result = run_program(program, env={"OTEL_BSP_MAX_QUEUE_SIZE": "100"}, traces_file=tmp_path / "t.jsonl")
    assert result.returncode == 0, result.stderr
    assert len(result.spans) == 40
    warning = [line for line in result.stderr.splitlines() if "OTEL_BSP_MAX_QUEUE_SIZE=100" in line]
    assert len(warning) == 1 and "batch size of 100" in warning[0], result.stderr


@pytest.mark.parametrize("timeout", ["float('inf')", "10**30", "1e300", "0", "-5", "2.5"])
def test_force_flush_takes_any_non_negative_timeout_and_returns(timeout: str, tmp_path: Path) -> None:
    program = f"""
    import agentel, json
    @agentel.trace
    def f():
        return 1
    f()
    try:
        print(json.dumps({{"flushed": agentel.force_flush(timeout_millis={timeout})}}))
    except agentel.ConfigurationError as exc:
        print(json.dumps({{"error": str(exc)}}))
    """
    result = run_program(program, traces_file=tmp_path / "t.jsonl", timeout=30)
    assert result.returncode == 0, result.stderr
    outcome = result.last_json_line()
    if timeout == "-5":
        assert "timeout_millis" in outcome["error"]
    elif timeout in ("0", "2.5"):  # too short to be sure: a bool, never an exception
        assert isinstance(outcome["flushed"], bool)
    else:  # clamped to agentel's documented maximum, so the flush really waits
        assert outcome == {"flushed": True}
    assert result.span_names() == ["f"]


@pytest.mark.parametrize("exit_timeout", ["1" + "0" * 30, "inf", "1e300"])
def test_a_huge_exit_timeout_still_exports_everything_at_exit(exit_timeout: str, tmp_path: Path) -> None:
    program = """
    import agentel
    @agentel.trace
    def f(i):
        return i
    for i in range(10):
        f(i)
    """
    result = run_program(program, env={"AGENTEL_EXIT_TIMEOUT_MILLIS": exit_timeout}, traces_file=tmp_path / "t.jsonl")
    assert result.returncode == 0, result.stderr
    assert len(result.spans) == 10, result.stderr
    assert "Traceback" not in result.stderr


BAD_ARGUMENTS = {
    "max_generator_items": ['"5"', "-1", "True", "2.5"],
    "enabled": ['"false"', "0", "None or 1"],
    "traces_file": ["77", "True", '""', "b'/tmp/x'"],
    "max_payload_bytes": ["True", "10", "2**40", '"8k"'],
    "trace_ttl_seconds": ["float('nan')", "-1", '"600"'],
    "max_open_traces": ["0", "1.5"],
    "exit_timeout_millis": ["-1", '"5000"', "float('nan')"],
    "semconv": ["5", '"klingon"', '[""]'],
    "console": ['"auto"', "1"],
    "capture_content": ['"no"'],
    "redact": ['"yes"'],
    "redact_patterns": ['["("]', "[5]", "5"],
    "service_name": ["42", '""'],
    "set_global": ['"true"'],
    "exporters": ["[object()]", '"otlp"', "[agentel.TraceClient]"],
    "span_processors": ["[object()]", "[Processor]", "5"],
}


@pytest.mark.parametrize(
    "name,value", [(name, value) for name, values in sorted(BAD_ARGUMENTS.items()) for value in values]
)
def test_configure_rejects_a_wrong_type_at_the_call_and_tracing_goes_on(name: str, value: str, tmp_path: Path) -> None:
    program = f"""
    import json, os, agentel
    class Processor:
        def on_start(self, span, parent_context=None): pass
        def on_end(self, span): pass
    fd = os.open({str(tmp_path / "app.log")!r}, os.O_WRONLY | os.O_CREAT)
    os.dup2(fd, 77)  # the application's own file descriptor 77
    try:
        agentel.configure({name}={value})
        outcome = "accepted"
    except agentel.ConfigurationError as exc:
        outcome = "ConfigurationError: " + str(exc)
    @agentel.trace
    def gen():
        yield from range(3)
    assert list(gen()) == [0, 1, 2]
    os.write(77, b"app data")
    agentel.force_flush(2000)
    print(json.dumps({{"outcome": outcome, "stats": agentel.stats()}}))
    """
    result = run_program(program, traces_file=tmp_path / "t.jsonl", timeout=30)
    assert result.returncode == 0, result.stderr
    found = result.last_json_line()
    assert found["outcome"].startswith("ConfigurationError: "), found
    assert name in found["outcome"]
    assert found["stats"]["internal_errors"] == 0
    assert result.span_names() == ["gen"], result.stderr  # the earlier settings still apply
    assert (tmp_path / "app.log").read_bytes() == b"app data"  # fd 77 was never written to or closed


def test_a_relative_traces_file_stays_where_it_was_configured(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    program = """
    import os, agentel
    @agentel.trace
    def step(i):
        return i
    step(0)
    for where in ("a", "../b", ".."):
        os.chdir(where)
        step(1)
        agentel.force_flush(2000)
    agentel.configure(traces_file="spans-configured.jsonl")  # resolved against the cwd of this call
    step(2)
    """
    env = {"AGENTEL_TRACES_FILE": "spans.jsonl", "OTEL_TRACES_EXPORTER": "none"}
    result = run_program(program, env=env, cwd=tmp_path, timeout=30)
    assert result.returncode == 0, result.stderr
    from _run import read_spans

    assert len(read_spans(tmp_path / "spans.jsonl")) == 4
    assert len(read_spans(tmp_path / "spans-configured.jsonl")) == 1
    leftovers = [p for p in tmp_path.rglob("*.jsonl") if p.parent != tmp_path]
    assert leftovers == [], leftovers
    assert os.listdir(tmp_path / "a") == [] and os.listdir(tmp_path / "b") == []
