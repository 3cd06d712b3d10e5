"""Lifecycle: nothing lost at exit. Fresh interpreters configured by the environment, sending to Phoenix.

Every way a process ends — returning from main, ``sys.exit(3)``, an uncaught exception, SIGTERM with no
handler of the application's (agentel's own ends the spans, flushes, then lets SIGTERM kill the process),
SIGTERM with the application's handler (installed before or after agentel's) that calls ``sys.exit`` —
must deliver every ended span; spans still open (a client trace never ended, a worker thread stuck
mid-step) arrive ended, with status ERROR and ``agentel.ended_by`` saying why. And an unreachable
collector does not delay the exit beyond ``AGENTEL_EXIT_TIMEOUT_MILLIS``.
"""

from __future__ import annotations

import json
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from typing import Any

import pytest
from _faults import Link, clean_env, script_command
from _receivers import Phoenix

AT_EXIT = "interrupted: process exiting"
BY_SIGTERM = "interrupted: SIGTERM"

# mode -> (exit code, how the open spans are marked, how main-agent ends: None = by the app's unwinding)
MODES: dict[str, tuple[int, str, str | None]] = {
    "normal": (0, AT_EXIT, None),
    "sys-exit": (3, AT_EXIT, None),
    "uncaught": (1, AT_EXIT, None),
    "sigterm": (-signal.SIGTERM, BY_SIGTERM, BY_SIGTERM),
    "sigterm-app-handler-first": (7, AT_EXIT, None),
    "sigterm-app-handler-later": (7, AT_EXIT, None),
}


def _run_lifecycle(mode: str, env: dict[str, str]) -> tuple[dict[str, str], int, str]:
    proc = subprocess.Popen(
        script_command("lifecycle", mode),
        env=clean_env(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        ids = json.loads(proc.stdout.readline())
        if mode.startswith("sigterm"):
            assert proc.stdout.readline().strip() == "ready"
            proc.send_signal(signal.SIGTERM)
        try:
            _out, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGUSR1)  # faulthandler: every thread's stack, to say where it hangs
            time.sleep(1.0)
            proc.kill()
            _out, err = proc.communicate()
            raise AssertionError(f"{mode}: still running 60 s after it was to end; its threads:\n{err[-6000:]}")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return ids, proc.returncode, err


def _by_name(spans: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {span["name"]: span for span in spans}


@pytest.mark.parametrize("mode", list(MODES))
def test_spans_arrive_whatever_the_exit(mode: str, phoenix: Phoenix, phoenix_project: str) -> None:
    code, open_marker, main_marker = MODES[mode]
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": phoenix.grpc_endpoint,
        "OTEL_RESOURCE_ATTRIBUTES": f"openinference.project.name={phoenix_project}",
    }
    ids, returncode, stderr = _run_lifecycle(mode, env)
    assert returncode == code, stderr[-3000:]
    if mode == "uncaught":
        assert "RuntimeError: boom: uncaught" in stderr
    else:
        assert "Traceback" not in stderr, stderr[-3000:]

    # the trace that had ended before the exit: all of it, untouched
    finished = _by_name(phoenix.spans(phoenix_project, ids["finished"], expect=3, timeout=20))
    assert set(finished) == {"finished_agent", "finished-step", "tool"}
    for span in finished.values():
        assert "agentel.ended_by" not in span["attributes"], span
        assert span["status_code"] != "ERROR", span

    # spans open at the exit: ended, ERROR, marked with why
    opened = _by_name(phoenix.spans(phoenix_project, ids["client"], expect=2, timeout=20))
    opened.update(_by_name(phoenix.spans(phoenix_project, ids["worker"], expect=2, timeout=20)))
    assert set(opened) == {"client-agent", "client-step", "worker-agent", "worker-step"}
    for name, span in opened.items():
        assert span["attributes"].get("agentel.ended_by") == open_marker, (name, span["attributes"])
        assert span["status_code"] == "ERROR", span
        assert open_marker in (span["status_message"] or ""), span
        assert span["end_time"], span
    assert opened["worker-step"]["parent_id"] == opened["worker-agent"]["context"]["span_id"]
    assert opened["client-step"]["parent_id"] == opened["client-agent"]["context"]["span_id"]

    # the span around the exit: ended by the application's unwinding, or by agentel on SIGTERM
    main = phoenix.spans(phoenix_project, ids["main"], expect=1, timeout=20)[0]
    assert main["name"] == "main-agent" and main["end_time"]
    assert main["attributes"].get("agentel.ended_by") == main_marker, main["attributes"]
    if mode in ("uncaught", "sigterm"):
        assert main["status_code"] == "ERROR", main
    if mode == "normal":
        assert main["status_code"] != "ERROR", main


# --- exit is not delayed by an unreachable collector ----------------------------------------------------


@pytest.fixture
def link() -> Iterator[Link]:
    endpoint = Link()
    yield endpoint
    endpoint.close()


def _exit_seconds(link: Link, protocol: str, exit_timeout_ms: int | None) -> tuple[float, str]:
    """Seconds from the program's ``done`` (its work finished) to ``exit hooks done`` (agentel's exit
    work over): the exit alone — not the 3,000 spans before it, nor the interpreter's teardown after
    it, CPU work that a loaded machine slows by more than the margin."""
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": link.endpoint(protocol),
        "OTEL_EXPORTER_OTLP_PROTOCOL": protocol,
        # the OTLP export timeout stays at its default (10 s): without agentel's bound, exit would wait
    }
    if exit_timeout_ms is not None:
        env["AGENTEL_EXIT_TIMEOUT_MILLIS"] = str(exit_timeout_ms)
    with tempfile.TemporaryFile(mode="w+") as stderr:
        process = subprocess.Popen(
            script_command("exit-timing", "3000"), env=clean_env(env), stdout=subprocess.PIPE, stderr=stderr, text=True
        )
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            done_at = time.monotonic()
            hooks_line = process.stdout.readline()
            seconds = time.monotonic() - done_at
            rest = process.stdout.read()
            process.wait(timeout=120)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        stderr.seek(0)
        errors = stderr.read()
    assert process.returncode == 0, errors[-3000:]
    assert (line.strip(), hooks_line.strip(), rest.strip()) == ("done", "exit hooks done", ""), errors[-3000:]
    assert "Traceback" not in errors, errors[-3000:]
    return seconds, errors


@pytest.mark.parametrize(
    "protocol,fault,exit_timeout_ms",
    [
        ("grpc", "down", 1000),
        ("grpc", "stall", 1000),
        ("http/protobuf", "down", 1000),
        ("http/protobuf", "stall", 1000),
        ("grpc", "stall", None),  # the default: 5000 ms
    ],
)
def test_exit_is_not_delayed_beyond_the_exit_timeout(
    protocol: str, fault: str, exit_timeout_ms: int | None, link: Link
) -> None:
    """Wall time of a process that made 3,000 spans and left one open, collector unreachable, vs the
    same process with a healthy collector: its exit takes at most the exit timeout (+0.5 s of margin) more."""
    link.blackhole()
    healthy, _ = _exit_seconds(link, protocol, exit_timeout_ms)
    getattr(link, fault)()
    faulty, stderr = _exit_seconds(link, protocol, exit_timeout_ms)
    budget = (exit_timeout_ms or 5000) / 1000
    print(f"\n  exit: {faulty:.2f} s with the collector {fault}, {healthy:.2f} s healthy (budget {budget} s)")
    assert faulty - healthy < budget + 0.5, (faulty, healthy, stderr[-2000:])
