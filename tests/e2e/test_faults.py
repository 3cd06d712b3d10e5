"""Faults at the collector: down from the start, going down mid-run, slow (accepts and never answers),
restarting — for an application configured only by the environment (a fresh interpreter per test).

For each fault: the application never sees an exception; a traced call does not block (median per-call
time within 2 x the median measured in the same process with a healthy collector, p99 within 2 x too
unless it stays under 20 ms — on a loaded 2-core machine the export thread's reconnects move the p99 by
milliseconds — and no call near the 2 s export timeout, which is what a call waiting on the network would
take); memory stays bounded;
spans made after the collector is back arrive in Phoenix; every span is accounted for
(``spans_started == spans_exported + spans_dropped`` once flushed); export errors are logged once per
cause, not once per batch. The collector is a Rotel on fixed ports that the test stops and restarts (a
blackhole Rotel is the healthy baseline, a Rotel forwarding to Phoenix the recovery); ``_faults.py``.

The OTLP export timeout is 2 s (``OTEL_EXPORTER_OTLP_TIMEOUT=2000``) to keep the run short; it only
changes how long one doomed batch keeps the export thread busy, not what the application thread does.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from _faults import Driver, Link
from _receivers import Phoenix

CALLS = 20_000  # timed traced calls per phase
SPANS_FOR_MEMORY = 200_000
# A span held in memory costs ~7 kB here (2,048 queued spans ≈ 14 MB of RSS): keeping even 5 % of
# 200,000 spans would add ~70 MB, all of them ~1.4 GB. What is allowed: the queue filling up (~14 MB)
# plus allocator noise.
RSS_GROWTH_LIMIT_MB = 50
RSS_SECOND_HALF_LIMIT_MB = 10  # once the queue is full, no steady growth
P99_RATIO_LIMIT = 2.0
P99_NOISE_FLOOR_US = 20_000  # a p99 under 20 ms is scheduling noise, not a call waiting on the network
SLOWEST_CALL_LIMIT_US = 1_000_000  # half the export timeout: a call that blocked on the export would reach it
RECOVERY_TRACES = 20
PROTOCOLS = ["grpc", "http/protobuf"]


@pytest.fixture
def link(phoenix: Phoenix) -> Iterator[Link]:
    """The collector endpoint of the application (fixed ports); starts down."""
    endpoint = Link(phoenix.grpc_endpoint)
    yield endpoint
    endpoint.close()


@pytest.fixture
def start_app(tmp_path: Path) -> Iterator[Callable[..., Driver]]:
    """``start_app(link, protocol, project, **env)``: the application process, configured by env only."""
    started: list[Driver] = []

    def start(link: Link, protocol: str, project: str, **env: str) -> Driver:
        variables = {
            "OTEL_EXPORTER_OTLP_ENDPOINT": link.endpoint(protocol),
            "OTEL_EXPORTER_OTLP_PROTOCOL": protocol,
            "OTEL_EXPORTER_OTLP_TIMEOUT": "2000",
            "OTEL_RESOURCE_ATTRIBUTES": f"openinference.project.name={project}",
            "AGENTEL_EXIT_TIMEOUT_MILLIS": "3000",
            **env,
        }
        app = Driver(variables, tmp_path / f"app-{len(started)}.stderr")
        started.append(app)
        return app

    yield start
    for app in started:
        app.close()


# --- the checks shared by every fault -------------------------------------------------------------


def _healthy(app: Driver, link: Link) -> None:
    """A healthy (discarding) collector, and the queue drained into it, before a baseline."""
    link.blackhole()
    assert app("flush", timeout_ms=30_000)["ok"]


def _ratios(faulty: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    return {
        "p99_ratio": round(faulty["p99_us"] / base["p99_us"], 2),
        "median_ratio": round(faulty["median_us"] / base["median_us"], 2),
        "fault": faulty,
        "healthy": base,
    }


def _slower(figures: dict[str, Any]) -> bool:
    fault = figures["fault"]
    return bool(
        figures["median_ratio"] >= P99_RATIO_LIMIT
        or (figures["p99_ratio"] >= P99_RATIO_LIMIT and fault["p99_us"] >= P99_NOISE_FLOOR_US)
        or fault["max_us"] >= SLOWEST_CALL_LIMIT_US
    )


def _compare_call_times(
    app: Driver, link: Link, fault: Callable[[], None], baseline_first: bool, hold_s: float = 0.0
) -> dict[str, Any]:
    """Per-call time of a traced function during ``fault`` vs with a healthy collector, in the same
    process: p99 (and median) within 2 x. One retry (fresh measurements of both) when over the limit —
    2-core machines are noisy. ``hold_s``: how long the fault lasts after its measurement (so that a
    batch stuck in the export thread meets the export timeout while the fault is still there)."""
    attempts = []
    for _ in range(2):
        if baseline_first:
            _healthy(app, link)
            base = app("measure", n=CALLS)
            fault()
            faulty = app("measure", n=CALLS)
            time.sleep(hold_s)
        else:
            fault()
            faulty = app("measure", n=CALLS)
            time.sleep(hold_s)
            _healthy(app, link)
            base = app("measure", n=CALLS)
        attempts.append(_ratios(faulty, base))
        if not _slower(attempts[-1]):
            break
    print(f"\n  call times: {attempts}")
    assert not _slower(attempts[-1]), f"traced calls slowed down by the fault: {attempts}"
    return attempts[-1]


def _check_recovery(app: Driver, link: Link, phoenix: Phoenix, project: str) -> list[str]:
    """After the collector is back (forwarding to Phoenix), new traces arrive whole."""
    _healthy(app, link)  # drain what the fault left in the queue into the blackhole, not into Phoenix
    link.forward()
    trace_ids: list[str] = app("traces", n=RECOVERY_TRACES)["trace_ids"]
    assert app("flush", timeout_ms=30_000)["ok"]
    for trace_id in trace_ids:
        spans = phoenix.spans(project, trace_id, expect=3, timeout=30)
        assert sorted(s["name"] for s in spans) == ["agent", "answer", "search_tool"]
    return trace_ids


def _check_accounting(app: Driver, expect_drops: bool = True) -> dict[str, Any]:
    """No exception reached the application, nothing is open, every span is exported or dropped."""
    stats = app("stats")
    assert stats["exception_count"] == 0, stats["exceptions"]
    assert stats["internal_errors"] == 0
    assert stats["current_span_is_none"]
    assert stats["spans_open"] == 0
    assert stats["spans_ended"] == stats["spans_started"]
    started, exported, dropped = stats["spans_started"], stats["spans_exported"], stats["spans_dropped"]
    if expect_drops:
        assert dropped > 0 and stats["export_failures"] > 0, stats
    uncounted = started - exported - dropped
    print(f"  stats: {stats}; uncounted = {uncounted}")
    # No span may vanish uncounted (uncounted > 0). A queue-full drop can be counted for a span that
    # the queue kept after all when the export thread took a batch at that instant (uncounted < 0):
    # see test_concurrency.py::test_queue_full_drop_count_is_exact_when_the_worker_takes_a_batch.
    assert uncounted <= 0, f"{uncounted} spans neither exported nor counted as dropped: {stats}"
    assert -uncounted <= max(5, started // 1000), f"drops over-counted by {-uncounted}: {stats}"
    return stats


def _check_exit(app: Driver) -> str:
    assert app.exit() == 0
    stderr = app.stderr()
    assert "Traceback" not in stderr, stderr[-3000:]
    return stderr


def _lines(stderr: str, needle: str) -> list[str]:
    return [line for line in stderr.splitlines() if needle in line]


# --- the faults ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_endpoint_down_from_the_start(
    protocol: str, link: Link, start_app: Callable[..., Driver], phoenix: Phoenix, phoenix_project: str
) -> None:
    app = start_app(link, protocol, phoenix_project)  # nothing listens: connection refused
    _compare_call_times(app, link, link.down, baseline_first=False)
    # memory, with the collector down for the whole of 200,000 spans
    link.down()
    memory = app("spans", n=SPANS_FOR_MEMORY)
    growth_mb = (memory["rss_after_kb"] - memory["rss_before_kb"]) / 1024
    second_half_mb = (memory["rss_after_kb"] - memory["rss_middle_kb"]) / 1024
    print(f"  RSS over {SPANS_FOR_MEMORY} spans, collector down: +{growth_mb:.1f} MB ({memory})")
    assert growth_mb < RSS_GROWTH_LIMIT_MB, memory
    assert second_half_mb < RSS_SECOND_HALF_LIMIT_MB, memory
    _check_recovery(app, link, phoenix, phoenix_project)
    stats = _check_accounting(app)
    stderr = _check_exit(app)
    # logged once per cause, not once per failed batch
    refused = _lines(stderr, "Connection refused")
    print(f"  'Connection refused' lines: {len(refused)} for {stats['export_failures']} failed exports")
    assert stats["export_failures"] >= 5
    assert 1 <= len(refused) <= 2, refused  # see test_connection_refused_is_logged_once for exactly one
    assert len(_lines(stderr, "Queue full")) == 1
    assert all("agentel" in line for line in refused), refused  # with agentel's hint


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_endpoint_going_down_mid_run(
    protocol: str, link: Link, start_app: Callable[..., Driver], phoenix: Phoenix, phoenix_project: str
) -> None:
    link.blackhole()
    app = start_app(link, protocol, phoenix_project)
    # down long enough for the batch in flight to fail (2 s export timeout), not just to be retried
    _compare_call_times(app, link, link.down, baseline_first=True, hold_s=2.5)
    _check_recovery(app, link, phoenix, phoenix_project)
    _check_accounting(app)
    stderr = _check_exit(app)
    assert len(_lines(stderr, "Connection refused")) <= 2


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_slow_endpoint_that_accepts_and_never_answers(
    protocol: str, link: Link, start_app: Callable[..., Driver], phoenix: Phoenix, phoenix_project: str
) -> None:
    link.stall()
    app = start_app(link, protocol, phoenix_project)
    # the stall lasts past the 2 s export timeout: the stuck batch fails (DEADLINE_EXCEEDED / read timeout)
    _compare_call_times(app, link, link.stall, baseline_first=False, hold_s=2.5)
    _check_recovery(app, link, phoenix, phoenix_project)
    stats = _check_accounting(app)
    stderr = _check_exit(app)
    lines = [line for line in stderr.splitlines() if line.strip()]
    print(f"  stderr: {len(lines)} lines for {stats['export_failures']} failed exports: {lines}")
    # gRPC names the cause; the HTTP exporter's last word on a read timeout is "due to timeout"
    timeouts = _lines(stderr, "DEADLINE_EXCEEDED" if protocol == "grpc" else "due to timeout")
    assert 1 <= len(timeouts) <= 2, lines
    assert len(lines) <= 6, lines


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_endpoint_restarting(
    protocol: str, link: Link, start_app: Callable[..., Driver], phoenix: Phoenix, phoenix_project: str
) -> None:
    """Three collector restarts while the application makes spans at a steady pace."""
    link.blackhole()
    app = start_app(link, protocol, phoenix_project)
    paced = {"n": 4000, "pace_s": 0.0005}
    attempts = []
    for _ in range(2):
        assert app("flush", timeout_ms=30_000)["ok"]
        base = app("measure", **paced)
        app.send("measure", **paced)  # answered when done; meanwhile the collector restarts
        time.sleep(0.2)
        for _restart in range(3):
            link.down()
            time.sleep(0.4)
            link.blackhole()
            time.sleep(0.2)
        attempts.append(_ratios(app.answer(), base))
        if not _slower(attempts[-1]):
            break
    print(f"\n  call times: {attempts}")
    assert not _slower(attempts[-1]), attempts
    _check_recovery(app, link, phoenix, phoenix_project)
    _check_accounting(app, expect_drops=False)
    _check_exit(app)


def test_connection_refused_is_logged_once(link: Link, start_app: Callable[..., Driver], phoenix_project: str) -> None:
    """One cause, one line: however many batches fail, "Connection refused" is printed once."""
    app = start_app(link, "grpc", phoenix_project)
    app("measure", n=5000)
    for _ in range(3):  # three more batches fail, one flush each
        app("measure", n=600)
        app("flush", timeout_ms=30_000)
    stats = app("stats")
    stderr = _check_exit(app)
    refused = _lines(stderr, "Connection refused")
    print(f"\n  {len(refused)} lines for {stats['export_failures']} failed exports: {refused}")
    assert stats["export_failures"] >= 4
    assert len(refused) == 1, refused


def test_doctor_shows_the_export_counters(tmp_path: Path) -> None:
    """`agentel doctor` prints the counters of agentel.stats(), with an unreachable endpoint too."""
    import subprocess
    import sys

    from _faults import clean_env
    from _receivers import free_port

    done = subprocess.run(
        [sys.executable, "-m", "agentel", "doctor"],
        env=clean_env({"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{free_port()}"}),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr  # unreachable: a PROBLEM verdict
    line = next(line for line in done.stdout.splitlines() if line.startswith("stats:"))
    for counter in (
        "spans_started",
        "spans_ended",
        "spans_exported",
        "spans_dropped",
        "export_failures",
        "internal_errors",
    ):
        assert re.search(rf"\b{counter}=\d+", line), (counter, line)


def test_force_flush_returns_within_its_timeout_when_the_collector_stalls(
    link: Link, start_app: Callable[..., Driver], phoenix_project: str
) -> None:
    """A request handler that flushes (serverless style) must not hang on a hung collector."""
    link.stall()
    app = start_app(link, "grpc", phoenix_project)
    app("measure", n=1500)  # three batches queued, none can be sent
    flushed = app("flush", timeout_ms=1000)
    print(f"\n  force_flush(1000) on a stalled collector: {flushed}")
    assert flushed["seconds"] < 1.5, flushed
    assert flushed["ok"] is False, flushed
