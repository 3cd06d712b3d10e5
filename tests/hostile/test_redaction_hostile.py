"""Redaction covers every value agentel writes — trace tags, session and conversation ids, non-string
values under sensitive keys — and costs linear time (issue 12, items 23 and 25)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _run import attributes_of, run_program

SECRETS = ["hunter2", "4711", "sk-proj-abcdefghijklmnopqrstuvwx1234", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlMTIz"]


def test_tags_sessions_and_non_string_values_are_redacted(tmp_path: Path) -> None:
    program = """
    import agentel
    JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlMTIz"
    client = agentel.TraceClient()
    root = client.start_trace("run", tags={"openai_api_key": "sk-proj-abcdefghijklmnopqrstuvwx1234", "db_password": 4711})
    client.set_trace_tag(root.request_id, "auth", ("alice", "hunter2"))
    client.end_trace(root.request_id)

    @agentel.trace
    def login(user, auth, db_password, settings):
        agentel.update_current_trace(session_id="Bearer " + JWT, tags={"api_token": "hunter2"},
                                     metadata={"password": 4711, "credentials": ["alice", "hunter2"]})
        with agentel.start_span("inner", attributes={"db_password": 4711, "auth": ("alice", "hunter2")}) as span:
            span.add_event("retry", {"secret": 4711, "note": "password=hunter2"})
        return {"token": 4711, "ok": True}

    login("alice", ("alice", "hunter2"), 4711, {"nested": {"api_key": ["sk-proj-abcdefghijklmnopqrstuvwx1234"]}})
    """
    result = run_program(program, traces_file=tmp_path / "t.jsonl", timeout=60)
    assert result.returncode == 0, result.stderr
    assert sorted(result.span_names()) == ["inner", "login", "run"]
    exported = json.dumps(result.spans)
    for secret in SECRETS:
        assert secret not in exported, f"{secret!r} reached the exporter"
    run = attributes_of(result.span("run"))
    assert run["agentel.tag.openai_api_key"] == "[REDACTED]" and run["agentel.tag.db_password"] == "[REDACTED]"
    login = attributes_of(result.span("login"))
    assert json.loads(login["input.value"])["user"] == "alice"  # ordinary values stay
    assert json.loads(login["output.value"]) == {"token": "[REDACTED]", "ok": True}
    assert login["session.id"].startswith("Bearer ") and "[REDACTED]" in login["session.id"]


@pytest.mark.parametrize(
    "shape",
    [
        '"Bearer " + "a" * 200_000',
        '"-----BEGIN RSA PRIVATE KEY-----" * 7_000',
        '"password: " * 20_000',
        '"x://aaaa:" * 20_000',
        '("api_key=" + "x" * 50 + " Bearer ") * 3_000',
    ],
)
def test_redacting_a_huge_hostile_message_takes_linear_time(shape: str, tmp_path: Path) -> None:
    program = f"""
    import time, agentel
    message = {shape}
    @agentel.trace
    def inner(x):
        raise ValueError(message)
    @agentel.trace
    def outer(x):
        try:
            inner(x)
        except ValueError as exc:
            raise RuntimeError(message) from exc
    started = time.perf_counter()
    for _ in range(3):
        try:
            outer(message[:8192])  # also an 8 KB input of the same shape
        except RuntimeError:
            pass
    print(time.perf_counter() - started)
    """
    result = run_program(program, traces_file=tmp_path / "t.jsonl", timeout=120)
    assert result.returncode == 0, result.stderr
    seconds = float(result.stdout.split()[-1])
    # quadratic redaction took seconds per call at 20 KB (minutes at 100 KB); bounded work takes milliseconds
    assert seconds < 10, f"3 failing calls with a {shape} message took {seconds:.1f} s"
    assert result.span_names() == ["inner"] * 3 + ["outer"] * 3
    for span in result.spans:
        assert len(json.dumps(span)) < 64 * 1024  # message and stack trace within their budget
