"""fork (gunicorn / multiprocessing workers): children export their own spans, the parent's queue is not
exported twice, nothing deadlocks.

The parent (``python _faults.py fork``, configured by the environment) waits a minute between batches
(``OTEL_BSP_SCHEDULE_DELAY=60000``), so at fork time its queue holds 10 ended spans, and a span is open.
With the ``fork`` start method it runs a ``Process`` (a span under the open one) and a ``Pool`` of 3
workers (6 traces of their own), then exits. Spans go through an OTLP/HTTP proxy that counts every span
id it receives and forwards to Phoenix: each span must be received exactly once and be in Phoenix.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator

import pytest
from _faults import RecordingProxy, clean_env, script_command
from _receivers import Phoenix


@pytest.fixture
def proxy(phoenix: Phoenix) -> Iterator[RecordingProxy]:
    recorder = RecordingProxy(phoenix.otlp_http_traces_url)
    yield recorder
    recorder.stop()


def _run_and_check(proxy: RecordingProxy, phoenix: Phoenix, project: str, *args: str) -> None:
    env = {
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_EXPORTER_OTLP_ENDPOINT": proxy.url,
        "OTEL_BSP_SCHEDULE_DELAY": "60000",
        "OTEL_RESOURCE_ATTRIBUTES": f"openinference.project.name={project}",
    }
    t0 = time.monotonic()
    # every wait inside has a timeout (joins, pool results): a deadlock fails here, it does not hang
    done = subprocess.run(
        script_command("fork", *args), env=clean_env(env), capture_output=True, text=True, timeout=120
    )
    seconds = time.monotonic() - t0
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    ids = json.loads(done.stdout.strip().splitlines()[-1])
    assert ids["process_exitcode"] == 0
    received = sum(proxy.counts.values())
    print(f"\n  fork run {args}: {seconds:.1f} s; {received} spans received in {proxy.requests} requests")

    expected = {
        ids["queued"]: ["parent-before-fork"] + [f"parent-step-{i}" for i in range(9)],
        ids["open"]: ["child-under-open-parent", "parent-open-at-fork"],
        ids["after"]: ["parent-after-fork"],
    }
    for i, trace_id in enumerate(ids["pool"]):
        expected[trace_id] = ["child-step-a", "child-step-b", f"child-work-{i}"]
    assert len(expected) == 3 + 6, ids  # every pool trace is a trace of its own

    # each span received exactly once: the parent's queue was not exported by a child as well
    duplicates = {proxy.names[span_id]: n for span_id, n in proxy.counts.items() if n != 1}
    assert not duplicates, f"spans exported more than once: {duplicates}"
    want = sorted(name for names in expected.values() for name in names)
    assert sorted(proxy.names.values()) == want, "spans received differ from the spans made"

    # and all of them are in Phoenix, once
    for trace_id, names in expected.items():
        spans = phoenix.spans(project, trace_id, expect=len(names), timeout=20)
        assert sorted(span["name"] for span in spans) == sorted(names), trace_id
        if trace_id == ids["open"]:
            by_name = {span["name"]: span for span in spans}
            child, parent = by_name["child-under-open-parent"], by_name["parent-open-at-fork"]
            assert child["parent_id"] == parent["context"]["span_id"] == ids["open_span_id"]
            assert ids["process_span"] == [ids["open"], ids["open_span_id"]]
            # ended once, by the parent: no child ended it at its own exit
            assert "agentel.ended_by" not in parent["attributes"], parent["attributes"]
            assert parent["status_code"] != "ERROR", parent


def test_forked_children_flushing_send_their_spans_and_never_the_parent_queue(
    proxy: RecordingProxy, phoenix: Phoenix, phoenix_project: str
) -> None:
    """Children call force_flush(): had a child inherited the parent's 10 queued spans, its flush would
    send them a second time."""
    _run_and_check(proxy, phoenix, phoenix_project, "children-flush")


def test_forked_workers_flush_their_spans_when_they_exit(
    proxy: RecordingProxy, phoenix: Phoenix, phoenix_project: str
) -> None:
    """The documented promise: multiprocessing workers (which leave through os._exit) flush on their
    way out, without the application calling force_flush."""
    _run_and_check(proxy, phoenix, phoenix_project)
