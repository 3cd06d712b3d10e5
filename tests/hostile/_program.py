"""Programs that are signalled, talked to while they run, or run several at once (``_run.py`` runs one
short program to the end; this adds what the signal, fork, pickling and recursion tests need).

Every hostile test is a program an unlucky user could write. It runs in its own interpreter (the
project's venv Python), with an environment scrubbed of ``OTEL_*``/``AGENTEL_*`` and spans written to
an OTLP/JSON lines file, so the test asserts only what can be seen from outside: exit code, wall time,
stdout/stderr, what arrived in the file (or at a receiver), and figures the program prints itself.

    from _program import run, run_all
    out = run('''
        import agentel
        @agentel.trace
        def f(x): return x
        f(1)
        report(rss_kb=rss_kb())
    ''')
    assert out.returncode == 0 and out.result["rss_kb"] < 200_000
    assert [s.name for s in out.spans()] == ["f"]

The program gets a few stdlib helpers prepended (``report(**figures)`` prints one ``RESULT {json}``
line on stdout, ``rss_kb()``, ``peak_rss_kb()``); they define names only, so ``multiprocessing``'s spawn
start method (which re-imports the main module) works. ``run_all`` runs several programs at once.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

PYTHON = sys.executable
_SCRUBBED_PREFIXES = ("OTEL_", "AGENTEL_")
RESULT_PREFIX = "RESULT "

PRELUDE = '''\
import json as _agentel_test_json, sys as _agentel_test_sys
def report(**figures):
    """One RESULT line on stdout with the program's own figures (read by the test)."""
    _agentel_test_sys.stdout.write("RESULT " + _agentel_test_json.dumps(figures, default=str) + "\\n")
    _agentel_test_sys.stdout.flush()
def rss_kb():
    """Resident set size now, in kB (VmRSS)."""
    with open("/proc/self/status") as _status:
        for _line in _status:
            if _line.startswith("VmRSS:"):
                return int(_line.split()[1])
    return -1
def peak_rss_kb():
    """Peak resident set size so far, in kB (VmHWM)."""
    with open("/proc/self/status") as _status:
        for _line in _status:
            if _line.startswith("VmHWM:"):
                return int(_line.split()[1])
    return -1
'''
_PRELUDE_LINES = PRELUDE.count("\n")


def clean_env(extra: Optional[Mapping[str, str]] = None) -> dict[str, str]:
    """The test process's environment without ``OTEL_*``/``AGENTEL_*``, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_SCRUBBED_PREFIXES)}
    env.pop("PYTHONSTARTUP", None)
    env["PYTHONFAULTHANDLER"] = "1"  # a hung program's stacks, when the test gives up on it
    env.update(extra or {})
    return env


# --- what arrived in an OTLP/JSON lines file -----------------------------------------------------------


def _any_value(value: Mapping[str, Any]) -> Any:
    if "stringValue" in value:
        return value["stringValue"]
    if "boolValue" in value:
        return value["boolValue"]
    if "intValue" in value:
        return int(value["intValue"])
    if "doubleValue" in value:
        return float(value["doubleValue"])
    if "arrayValue" in value:
        return [_any_value(v) for v in value["arrayValue"].get("values", [])]
    if "kvlistValue" in value:
        return {kv["key"]: _any_value(kv.get("value", {})) for kv in value["kvlistValue"].get("values", [])}
    if "bytesValue" in value:
        return base64.b64decode(value["bytesValue"])
    return None


def _attributes(items: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    return {kv["key"]: _any_value(kv.get("value", {})) for kv in items}


@dataclass
class Span:
    """One exported span, as read back from OTLP/JSON."""

    name: str
    trace_id: str
    span_id: str
    parent_id: str
    attributes: dict[str, Any]
    status_code: int  # 0 unset, 1 ok, 2 error
    status_message: str
    events: list[dict[str, Any]]
    start_ns: int
    end_ns: int
    resource: dict[str, Any] = field(default_factory=dict)


def read_spans(path: Path) -> list[Span]:
    """Every span in an ``AGENTEL_TRACES_FILE`` (one ``ExportTraceServiceRequest`` per line)."""
    spans: list[Span] = []
    if not path.exists():
        return spans
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        for resource_spans in json.loads(line).get("resourceSpans", []):
            resource = _attributes(resource_spans.get("resource", {}).get("attributes", []))
            for scope_spans in resource_spans.get("scopeSpans", []):
                for raw in scope_spans.get("spans", []):
                    status = raw.get("status", {})
                    spans.append(
                        Span(
                            name=raw.get("name", ""),
                            trace_id=raw.get("traceId", ""),
                            span_id=raw.get("spanId", ""),
                            parent_id=raw.get("parentSpanId", ""),
                            attributes=_attributes(raw.get("attributes", [])),
                            status_code=int(status.get("code", 0)),
                            status_message=status.get("message", ""),
                            events=[
                                {"name": e.get("name", ""), "attributes": _attributes(e.get("attributes", []))}
                                for e in raw.get("events", [])
                            ],
                            start_ns=int(raw.get("startTimeUnixNano", 0)),
                            end_ns=int(raw.get("endTimeUnixNano", 0)),
                            resource=resource,
                        )
                    )
    return spans


# --- running programs ---------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What a finished program did, seen from outside."""

    returncode: Optional[int]  # None when it had to be killed at the timeout
    stdout: str
    stderr: str
    seconds: float
    workdir: Path
    traces_file: Path

    @property
    def timed_out(self) -> bool:
        return self.returncode is None

    @property
    def result(self) -> dict[str, Any]:
        """The figures of the program's last ``report(...)`` call ({} if none)."""
        for line in reversed(self.stdout.splitlines()):
            if line.startswith(RESULT_PREFIX):
                return json.loads(line[len(RESULT_PREFIX) :])  # type: ignore[no-any-return]
        return {}

    def spans(self) -> list[Span]:
        """Spans that arrived in the program's traces file."""
        return read_spans(self.traces_file)

    def names(self) -> list[str]:
        """Names of the spans that arrived, sorted."""
        return sorted(span.name for span in self.spans())

    def explain(self) -> str:
        """A compact description for assertion messages."""
        return (
            f"exit={self.returncode} after {self.seconds:.2f}s\n--- stdout\n{self.stdout[-2000:]}"
            f"\n--- stderr\n{self.stderr[-(4000 if self.returncode is not None else 20000):]}"
        )  # a hung program's stderr holds every process's stacks: keep them all


class Program:
    """A started program (for tests that signal it or talk to it while it runs)."""

    def __init__(
        self,
        source: str,
        *,
        env: Optional[Mapping[str, str]] = None,
        args: Sequence[str] = (),
        traces: bool = True,
        stdin: Optional[int] = subprocess.DEVNULL,
        stdout: Optional[int] = subprocess.PIPE,
        stderr: Optional[int] = subprocess.PIPE,
        workdir: Optional[Path] = None,
        raw: bool = False,
        drain: bool = True,
    ) -> None:
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix="agentel-hostile-"))
        self.traces_file = self.workdir / "traces.jsonl"
        self.script = self.workdir / "program.py"
        body = textwrap.dedent(source)
        self.script.write_text(body if raw else PRELUDE + body, encoding="utf-8")
        extra = {"AGENTEL_TRACES_FILE": str(self.traces_file)} if traces else {}
        extra.update(env or {})
        self._out: list[str] = []
        self._err: list[str] = []
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [PYTHON, str(self.script), *args],
            env=clean_env(extra),
            cwd=str(self.workdir),
            stdin=stdin,
            stdout=stdout,
            stderr=stderr,
            text=True,
            encoding="utf-8",
            errors="backslashreplace",
            start_new_session=True,  # signals from the test terminal never reach it; kill its group
        )
        self._line_seen = threading.Condition()  # before the readers start: they notify it
        self._readers = []
        for stream, sink in ((self.proc.stdout, self._out), (self.proc.stderr, self._err)):
            if stream is not None and (drain or stream is self.proc.stdout):  # drain=False: stderr unread
                reader = threading.Thread(target=self._drain, args=(stream, sink), daemon=True)
                reader.start()
                self._readers.append(reader)

    def _drain(self, stream: Any, sink: list[str]) -> None:
        for line in iter(stream.readline, ""):
            with self._line_seen:
                sink.append(line)
                self._line_seen.notify_all()
        stream.close()

    def wait_for_line(self, text: str, timeout: float = 20.0) -> float:
        """Block until stdout has a line equal to ``text``; returns the seconds since start."""
        deadline = time.monotonic() + timeout
        with self._line_seen:
            while not any(line.rstrip("\n") == text for line in self._out):
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self._readers_alive()):
                    raise AssertionError(
                        f"program never printed {text!r}\n--- stdout\n{''.join(self._out)[-2000:]}"
                        f"\n--- stderr\n{''.join(self._err)[-4000:]}"
                    )
                self._line_seen.wait(min(left, 0.1))
        return time.monotonic() - self.started

    def _readers_alive(self) -> bool:
        return any(reader.is_alive() for reader in self._readers)

    def send_signal(self, signum: int = signal.SIGTERM) -> float:
        """Send a signal to the program; returns the monotonic time it was sent."""
        self.proc.send_signal(signum)
        return time.monotonic()

    def finish(self, timeout: float = 30.0) -> Outcome:
        """Wait for the exit (killing the program's process group at ``timeout``); the outcome."""
        try:
            self.proc.wait(timeout=timeout)
            returncode: Optional[int] = self.proc.returncode
        except subprocess.TimeoutExpired:
            returncode = None
            dump_stacks_then_kill_group(self.proc)
        for reader in self._readers:
            reader.join(timeout=5)
        seconds = time.monotonic() - self.started
        return Outcome(returncode, "".join(self._out), "".join(self._err), seconds, self.workdir, self.traces_file)


def dump_stacks_then_kill_group(proc: subprocess.Popen[str]) -> None:
    """A hung program: have every process of its group print each thread's stack to stderr (SIGABRT
    reaches ``faulthandler``, enabled by ``PYTHONFAULTHANDLER``), so the failure says where it hung."""
    try:
        os.killpg(proc.pid, signal.SIGABRT)
        proc.wait(timeout=3)
    except (ProcessLookupError, PermissionError, subprocess.TimeoutExpired):
        pass
    time.sleep(0.5)  # forked children print after the program itself
    kill_group(proc)


def kill_group(proc: subprocess.Popen[str]) -> None:
    """SIGKILL the process group a ``Program`` started (it is its own session), then reap it."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


def run(source: str, *, timeout: float = 30.0, **options: Any) -> Outcome:
    """Run ``source`` (dedented; helpers prepended) to the end, or kill it at ``timeout``."""
    return Program(source, **options).finish(timeout)


def run_all(programs: Sequence[Mapping[str, Any]], workers: int = 4) -> list[Outcome]:
    """Run several programs concurrently; each mapping holds ``run``'s arguments (``source`` too)."""

    def one(spec: Mapping[str, Any]) -> Outcome:
        spec = dict(spec)
        return run(spec.pop("source"), **spec)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, programs))
