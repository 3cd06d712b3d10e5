"""agentel's threads never take a signal sent to the process: it is left to the application's threads.

Python runs a signal handler on the main thread only; when another thread takes a process-directed
signal, the main thread, asleep in ``time.sleep`` or a lock wait, is not woken and the application's
SIGTERM handler runs late (a CI run saw a 60 s sleep run to its end). Each check runs a fresh
interpreter configured by the environment and reads every thread's blocked-signal mask from
``/proc/self/task/*/status``: agentel's threads, the SDK's batch threads and gRPC's block SIGTERM, SIGINT
and SIGHUP; the main thread and the application's threads block nothing, as before.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/task")

_PROBE = r"""
import json, os, signal, threading, time
import agentel

WATCHED = {int(signal.SIGTERM), int(signal.SIGINT), int(signal.SIGHUP)}

def blocked_by_thread():
    blocked = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/status") as status:
                line = next(l for l in status if l.startswith("SigBlk:"))
        except (FileNotFoundError, StopIteration):
            continue
        mask = int(line.split()[1], 16)
        blocked[int(tid)] = sorted(s for s in WATCHED if mask & (1 << (s - 1)))
    return blocked

def report(where, application):
    blocked = blocked_by_thread()
    print(json.dumps({
        "where": where,
        "application": {str(t): blocked.get(t) for t in application},
        "others": {str(t): b for t, b in blocked.items() if t not in application},
    }), flush=True)

application = {threading.get_native_id()}
parked = threading.Event()

def application_thread():
    application.add(threading.get_native_id())
    with agentel.start_span("in-an-application-thread"):
        pass
    agentel.force_flush(2000)  # an export from the application's thread: what it starts holds them too
    parked.wait()

with agentel.start_span("root"):
    pass
agentel.force_flush(2000)
worker = threading.Thread(target=application_thread, daemon=True)
worker.start()
time.sleep(0.3)
report("parent", application)

if os.environ.get("PROBE_FORK"):
    pid = os.fork()
    if pid == 0:
        with agentel.start_span("in-the-child"):
            pass
        agentel.force_flush(2000)
        time.sleep(0.2)
        report("child", {threading.get_native_id()})
        os._exit(0)
    os.waitpid(pid, 0)

if os.environ.get("PROBE_KILL"):
    # the main thread blocks SIGTERM for a moment, and the application has no other thread: a signal
    # sent meanwhile must wait for the main thread, not be taken by one of agentel's threads
    parked.set()
    worker.join(10)
    deadline = time.monotonic() + 10  # join returns before the OS thread is gone; until then it can take one
    others = application - {threading.get_native_id()}
    while time.monotonic() < deadline and any(os.path.exists(f"/proc/self/task/{t}") for t in others):
        time.sleep(0.01)
    handled = []
    signal.signal(signal.SIGTERM, lambda signum, frame: handled.append(threading.current_thread().name))
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(0.3)
    pending = signal.SIGTERM in signal.sigpending()
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
    time.sleep(0.05)
    print(json.dumps({"where": "kill", "pending": pending, "handled": handled}), flush=True)
"""


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _probe(extra_env: dict[str, str]) -> dict[str, dict]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "AGENTEL_"))}
    env.update(extra_env)
    result = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=90, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    reports = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    return {report["where"]: report for report in reports}


def _grpc() -> dict[str, str]:
    return {"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{_closed_port()}"}


def _http_and_metrics() -> dict[str, str]:
    return {
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{_closed_port()}",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_METRICS_EXPORTER": "otlp",
        "OTEL_METRIC_EXPORT_INTERVAL": "100",
    }


def _console() -> dict[str, str]:
    return {"AGENTEL_CONSOLE": "true"}


CONFIGURATIONS = {"otlp-grpc": _grpc, "otlp-http-and-metrics": _http_and_metrics, "console": _console}


def _assert_left_to_the_application(report: dict, least_others: int) -> None:
    assert all(blocked == [] for blocked in report["application"].values()), report  # untouched
    unblocked = {tid: blocked for tid, blocked in report["others"].items() if len(blocked) != 3}
    assert unblocked == {}, report
    assert len(report["others"]) >= least_others, report  # the threads to check were there


@pytest.mark.parametrize("configuration", list(CONFIGURATIONS))
def test_no_thread_of_agentels_can_take_a_signal_sent_to_the_process(configuration: str) -> None:
    reports = _probe(CONFIGURATIONS[configuration]())
    # otlp-grpc: the batch thread, the signal watcher and gRPC's timer, pollers and lifeguard
    _assert_left_to_the_application(reports["parent"], least_others=5 if configuration == "otlp-grpc" else 2)


def test_a_forked_childs_threads_hold_them_too() -> None:
    """In the child the SDK re-creates the batch thread and gRPC its timer thread, from at-fork hooks."""
    reports = _probe({**_grpc(), "PROBE_FORK": "1"})
    _assert_left_to_the_application(reports["parent"], least_others=5)
    _assert_left_to_the_application(reports["child"], least_others=3)


@pytest.mark.parametrize("configuration", ["otlp-grpc", "console"])
def test_a_signal_sent_while_the_main_thread_blocks_it_waits_for_the_main_thread(configuration: str) -> None:
    kill = _probe({**CONFIGURATIONS[configuration](), "PROBE_KILL": "1"})["kill"]
    assert kill == {"where": "kill", "pending": True, "handled": ["MainThread"]}
