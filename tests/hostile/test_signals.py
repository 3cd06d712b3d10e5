"""Signals: SIGTERM (docker stop, Kubernetes), SIGHUP (the terminal closed), SIGINT (Ctrl-C) end the
process as promptly as without agentel, and the spans open at that moment arrive, ended and marked
(issue 12, item 1). Nothing is done on the interrupted thread: it may be inside an SDK span method,
holding that span's lock, or inside a long C call."""

from __future__ import annotations

import signal
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

import pytest
from _program import Outcome, Program

# The main thread hammers one span's methods (each holds that span's lock) inside an open trace.
BUSY_SPAN = """
    import sys, agentel
    @agentel.trace
    def done():
        return "finished before the signal"
    done()
    with agentel.start_span("request") as request:
        with agentel.start_span("busy-step") as span:
            otel_span, many = span.otel_span, {f"key{n}": n for n in range(100)}
            print("ready", flush=True)
            while True:                   # nearly all the time inside the SDK span's lock
                otel_span.set_attributes(many)
                span.set_attribute("i", 1)
"""

# The main thread is inside one long C call that releases the GIL and never checks for signals.
LONG_C_CALL = """
    import hashlib, sys, time
    if sys.argv[1] == "agentel":
        import agentel
        span = agentel.start_span("c-call")
        span.__enter__()
    t0 = time.perf_counter()
    hashlib.pbkdf2_hmac("sha256", b"pw", b"salt", 200_000)
    per_iteration = (time.perf_counter() - t0) / 200_000
    report(c_call_seconds=per_iteration * 20_000_000)
    print("ready", flush=True)
    hashlib.pbkdf2_hmac("sha256", b"pw", b"salt", 20_000_000)
    print("the C call returned before the signal ended the process", flush=True)
"""


def _signal_after_ready(
    source: str,
    signum: int,
    *,
    args: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
    again_after: float | None = None,
    timeout: float = 30.0,
) -> tuple[Outcome, float]:
    """Start the program, signal it once it printed ``ready``; (outcome, seconds from signal to exit)."""
    program = Program(source, args=args, env=env)
    program.wait_for_line("ready")
    time.sleep(0.2)
    sent = program.send_signal(signum)
    if again_after is not None:
        time.sleep(again_after)
        program.send_signal(signum)
    outcome = program.finish(timeout)
    return outcome, time.monotonic() - sent


def _in_parallel(*calls: Callable[[], Any]) -> list[Any]:
    with ThreadPoolExecutor(len(calls)) as pool:
        return [future.result() for future in [pool.submit(call) for call in calls]]


def _by_name(outcome: Outcome) -> dict[str, Any]:
    return {span.name: span for span in outcome.spans()}


def test_sigterm_while_the_main_thread_is_inside_a_span_method_exits_at_once_and_exports() -> None:
    runs = _in_parallel(*[lambda: _signal_after_ready(BUSY_SPAN, signal.SIGTERM)] * 3)
    for outcome, seconds in runs:
        assert outcome.returncode == -signal.SIGTERM, outcome.explain()  # killed by SIGTERM, as without agentel
        assert seconds < 5.0, outcome.explain()
        spans = _by_name(outcome)
        assert set(spans) == {"done", "request", "busy-step"}, outcome.explain()
        assert "agentel.ended_by" not in spans["done"].attributes
        for name in ("request", "busy-step"):
            assert spans[name].attributes["agentel.ended_by"] == "interrupted: SIGTERM"
            assert spans[name].status_code == 2
        assert spans["busy-step"].parent_id == spans["request"].span_id
        assert "Traceback" not in outcome.stderr, outcome.explain()
    print(f"\n  SIGTERM to a busy span: exit after {[round(s, 2) for _, s in runs]} s")


def test_sigterm_during_a_long_c_call_is_not_deferred_until_it_returns() -> None:
    (with_agentel, with_s), (plain, plain_s) = _in_parallel(
        lambda: _signal_after_ready(LONG_C_CALL, signal.SIGTERM, args=("agentel",)),
        lambda: _signal_after_ready(LONG_C_CALL, signal.SIGTERM, args=("plain",)),
    )
    assert plain.returncode == -signal.SIGTERM, plain.explain()
    assert with_agentel.returncode == -signal.SIGTERM, with_agentel.explain()
    c_call = with_agentel.result["c_call_seconds"]
    assert c_call > 2.0, with_agentel.result  # the call would have lasted that long
    assert "returned before the signal" not in with_agentel.stdout
    assert with_s < 1.5, (with_s, plain_s, c_call)
    (span,) = with_agentel.spans()
    assert span.name == "c-call" and span.attributes["agentel.ended_by"] == "interrupted: SIGTERM"
    print(f"\n  SIGTERM during a {c_call:.1f} s C call: exit after {with_s:.2f} s (without agentel {plain_s:.2f} s)")


def test_sighup_ends_the_process_like_its_default_action_and_exports() -> None:
    outcome, seconds = _signal_after_ready(BUSY_SPAN, signal.SIGHUP)
    assert outcome.returncode == -signal.SIGHUP, outcome.explain()
    assert seconds < 5.0
    spans = _by_name(outcome)
    assert spans["busy-step"].attributes["agentel.ended_by"] == "interrupted: SIGHUP"


APP_HANDLERS = """
    import signal, sys, time, agentel
    mode = sys.argv[1]
    @agentel.trace
    def step():
        return 1
    step()                       # agentel is set up (and installs its handler) here
    if mode == "exits":
        def on_term(signum, frame):
            sys.exit(7)
        signal.signal(signal.SIGTERM, on_term)
    elif mode == "chains":       # a well-behaved library: log, then call the previous handler
        previous = signal.getsignal(signal.SIGTERM)
        def on_term(signum, frame):
            print("app handler ran", flush=True)
            previous(signum, frame)
        signal.signal(signal.SIGTERM, on_term)
    with agentel.start_span("serving"):
        print("ready", flush=True)
        while True:
            time.sleep(0.05)
"""


def test_the_applications_own_sigterm_handler_keeps_working() -> None:
    (exits, _), (chains, chains_s) = _in_parallel(
        lambda: _signal_after_ready(APP_HANDLERS, signal.SIGTERM, args=("exits",)),
        lambda: _signal_after_ready(APP_HANDLERS, signal.SIGTERM, args=("chains",)),
    )
    # the app's handler decides: sys.exit(7) — spans still open are ended at exit and exported
    assert exits.returncode == 7, exits.explain()
    assert _by_name(exits)["serving"].end_ns > 0  # ended by the SystemExit unwinding through it
    # the app's handler chains to agentel's: both run, the process ends by SIGTERM, spans exported
    assert "app handler ran" in chains.stdout
    assert chains.returncode == -signal.SIGTERM, chains.explain()
    assert chains_s < 5.0
    assert _by_name(chains)["serving"].attributes["agentel.ended_by"] == "interrupted: SIGTERM"


CTRL_C = """
    import time, agentel
    @agentel.trace
    def agent():
        with agentel.start_span("llm"):
            print("ready", flush=True)
            time.sleep(30)
    agent()
"""


def test_ctrl_c_unwinds_as_without_agentel_and_the_spans_record_it() -> None:
    outcome, seconds = _signal_after_ready(CTRL_C, signal.SIGINT)
    assert outcome.returncode == -signal.SIGINT, outcome.explain()  # CPython's exit status for Ctrl-C
    assert "KeyboardInterrupt" in outcome.stderr
    assert seconds < 5.0
    spans = _by_name(outcome)
    for name in ("agent", "llm"):
        assert spans[name].status_code == 2
        assert spans[name].status_message.startswith("KeyboardInterrupt")
        assert "agentel.ended_by" not in spans[name].attributes  # ended by the unwinding, not at exit


@pytest.fixture
def stalled_collector() -> Iterator[str]:
    """A TCP server that accepts connections and never answers: an OTLP/HTTP endpoint that hangs."""
    server = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


def test_sigterm_with_a_stalled_collector_exits_within_the_exit_bound_and_a_second_sigterm_at_once(
    stalled_collector: str,
) -> None:
    env = {
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_EXPORTER_OTLP_ENDPOINT": stalled_collector,
        "AGENTEL_EXIT_TIMEOUT_MILLIS": "3000",
    }
    (bounded, bounded_s), (again, again_s) = _in_parallel(
        lambda: _signal_after_ready(BUSY_SPAN, signal.SIGTERM, env=env),
        lambda: _signal_after_ready(BUSY_SPAN, signal.SIGTERM, env=env, again_after=0.5),
    )
    assert bounded.returncode == -signal.SIGTERM, bounded.explain()
    assert 2.5 < bounded_s < 6.0, bounded_s  # waited for the stalled collector, but no longer than the bound
    assert again.returncode == -signal.SIGTERM, again.explain()
    assert again_s < 2.0, again_s  # the second signal does not wait for the flush
    # the traces file is written by its own export thread, not blocked by the stalled collector
    assert "busy-step" in _by_name(bounded)
    print(f"\n  SIGTERM, collector stalled, 3 s bound: exit after {bounded_s:.2f} s; second SIGTERM: {again_s:.2f} s")


ASYNCIO_APP = """
    import asyncio, agentel

    @agentel.trace
    async def handle():
        with agentel.start_span("waiting-on-llm"):
            print("ready", flush=True)
            await asyncio.sleep(30)

    asyncio.run(handle())
"""

THEIR_WAKEUP_FD = """
    import os, signal, time
    read_fd, write_fd = os.pipe()
    os.set_blocking(write_fd, False)
    signal.set_wakeup_fd(write_fd)              # the application's (as trio or an event loop does)
    signal.signal(signal.SIGUSR1, lambda *a: None)
    import agentel
    with agentel.start_span("first"):           # agentel sets up its signal handling here
        pass
    still_theirs = signal.set_wakeup_fd(write_fd) == write_fd
    os.kill(os.getpid(), signal.SIGUSR1)
    time.sleep(0.1)
    report(still_theirs=still_theirs, woke_them=os.read(read_fd, 16) == bytes([signal.SIGUSR1]))
    with agentel.start_span("serving"):
        print("ready", flush=True)
        time.sleep(30)
"""


def test_an_asyncio_app_and_an_app_owning_the_wakeup_fd_keep_working() -> None:
    (asyncio_app, asyncio_s), (theirs, theirs_s) = _in_parallel(
        lambda: _signal_after_ready(ASYNCIO_APP, signal.SIGTERM),
        lambda: _signal_after_ready(THEIR_WAKEUP_FD, signal.SIGTERM),
    )
    assert asyncio_app.returncode == -signal.SIGTERM, asyncio_app.explain()
    assert asyncio_s < 5.0
    spans = _by_name(asyncio_app)
    assert spans["waiting-on-llm"].attributes["agentel.ended_by"] == "interrupted: SIGTERM"
    assert spans["waiting-on-llm"].parent_id == spans["handle"].span_id
    # agentel never takes a wakeup fd someone else set; SIGTERM is then handled on the main thread
    assert theirs.result == {"still_theirs": True, "woke_them": True}, theirs.explain()
    assert theirs.returncode == -signal.SIGTERM, theirs.explain()
    assert theirs_s < 5.0
    assert _by_name(theirs)["serving"].attributes["agentel.ended_by"] == "interrupted: SIGTERM"
