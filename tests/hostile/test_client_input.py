"""Client timestamps are validated at the call: float seconds and datetimes are converted (documented),
anything else is a typed error; no timestamp can poison a batch or crash the exit hook (issue 12 item 13)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _run import run_program


def test_float_seconds_and_datetimes_are_converted_and_nothing_is_lost(tmp_path: Path) -> None:
    program = """
    import datetime, json, time, agentel
    client = agentel.TraceClient()
    @agentel.trace
    def unrelated(i):
        return i
    for i in range(20):
        unrelated(i)
    t0 = time.time()
    a = client.start_trace("float-seconds", start_time_ns=t0)
    b = client.start_span("datetime", request_id=a.request_id, start_time_ns=datetime.datetime.now(datetime.timezone.utc))
    client.end_span(a.request_id, b.span_id, end_time_ns=datetime.datetime.now())
    client.end_trace(a.request_id, end_time_ns=time.time())
    # left open with a datetime start: ended by the exit hook
    c = client.start_trace("open-at-exit", start_time_ns=datetime.datetime.now(datetime.timezone.utc))
    print(json.dumps({"t0_ns": int(t0 * 1e9)}))
    """
    result = run_program(program, traces_file=tmp_path / "t.jsonl", timeout=60)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert result.span_names().count("unrelated") == 20
    root = result.span("float-seconds")
    t0_ns = result.last_json_line()["t0_ns"]
    assert abs(int(root["startTimeUnixNano"]) - t0_ns) < 1_000_000  # seconds became nanoseconds
    assert int(root["endTimeUnixNano"]) >= int(root["startTimeUnixNano"])
    child = result.span("datetime")
    assert abs(int(child["startTimeUnixNano"]) - t0_ns) < 5_000_000_000
    assert result.span("open-at-exit")["status"]["code"] == 2  # ended at exit, ERROR, exported


BAD_TIMES = ['"2024-01-01"', "-1", "2**64", "float('nan')", "float('inf')", "True", "object()", "1e30"]


@pytest.mark.parametrize("value", BAD_TIMES)
@pytest.mark.parametrize("where", ["start_trace", "start_span", "end_span", "end_trace", "LiveSpan.end"])
def test_a_bad_timestamp_is_a_typed_error_and_the_trace_goes_on(value: str, where: str, tmp_path: Path) -> None:
    program = f"""
    import json, agentel
    client = agentel.TraceClient()
    bad = {value}
    errors = []
    def attempt(fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except agentel.InvalidTimestampError as exc:
            errors.append(str(exc))
    root = (attempt(client.start_trace, "run", start_time_ns=bad) if "{where}" == "start_trace" else None) \\
        or client.start_trace("run")
    child = (attempt(client.start_span, "step", request_id=root.request_id, start_time_ns=bad)
             if "{where}" == "start_span" else None) or client.start_span("step", request_id=root.request_id)
    if "{where}" == "end_span":
        attempt(client.end_span, root.request_id, child.span_id, end_time_ns=bad)
    if "{where}" == "LiveSpan.end":
        attempt(child.end, end_time_ns=bad)
    if child.is_recording():
        client.end_span(root.request_id, child.span_id)
    if "{where}" == "end_trace":
        attempt(client.end_trace, root.request_id, end_time_ns=bad)
    client.end_trace(root.request_id)
    print(json.dumps({{"errors": errors, "open": agentel.stats()["spans_open"]}}))
    """
    result = run_program(program, traces_file=tmp_path / "t.jsonl", timeout=60)
    assert result.returncode == 0, result.stderr
    found = result.last_json_line()
    assert len(found["errors"]) == 1, found
    assert "time" in found["errors"][0]
    assert found["open"] == 0
    assert result.span_names() == ["run", "step"], result.stderr
    for span in result.spans:
        assert 0 < int(span["startTimeUnixNano"]) <= int(span["endTimeUnixNano"])
    assert json.dumps(result.spans)  # the file is valid OTLP/JSON
