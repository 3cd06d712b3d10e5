"""Fault injection for the reliability tests: a collector that is down, stalls, restarts; the workloads
run in fresh interpreters configured only by the environment.

In the test process:

- ``StallServer``: accepts TCP connections, reads what is sent and never answers (a hung collector).
- ``Link``: one fixed pair of ports (gRPC, HTTP) that the application is configured with, and what
  serves it now: nothing (``down()``: connection refused), a ``StallServer`` (``stall()``), a Rotel
  collector that discards (``blackhole()``, the healthy endpoint of the timing baselines, so Phoenix is
  not flooded with benchmark spans) or a Rotel that forwards to Phoenix (``forward()``). Switching
  stops the current server and starts the next on the same ports: a collector going down or restarting.
- ``Driver``: an application process (this file run as ``python _faults.py driver``) that obeys JSON
  commands on stdin (time N traced calls, make N spans and watch RSS, make traces, flush, stats) and
  answers one JSON line each on stdout; its stderr is kept in a file to count warning lines.
- ``RecordingProxy``: an OTLP/HTTP receiver that counts every span id it receives and forwards the
  request to Phoenix (to prove a span is exported exactly once).

Run as a script, this file is also the workload of the lifecycle tests (``python _faults.py lifecycle
MODE``) and of the fork tests (``python _faults.py fork [children-flush]``).
"""

from __future__ import annotations

import gc
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

_HERE = Path(__file__).resolve().parent
HOST = "127.0.0.1"
_SCRUBBED = ("OTEL_", "AGENTEL_")

# --- helpers shared by both sides ----------------------------------------------------------------


def rss_kb() -> int:
    """This process's resident set size (VmRSS), in kB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


def percentile(sorted_values: list[int], fraction: float) -> int:
    """The value at ``fraction`` (0..1) of an ascending list (nearest rank)."""
    index = min(len(sorted_values) - 1, max(0, int(round(fraction * len(sorted_values))) - 1))
    return sorted_values[index]


def clean_env(extra: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without OTEL_*/AGENTEL_* variables, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_SCRUBBED)}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def script_command(*args: str) -> list[str]:
    """The command that runs this file's workload ``args`` in a fresh interpreter."""
    return [sys.executable, str(Path(__file__).resolve()), *args]


# --- the test side: servers -----------------------------------------------------------------------


class StallServer:
    """Accepts connections on (HOST, port), reads and discards what arrives, never answers."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.accepted = 0
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((HOST, port))
        self._listener.listen(64)
        self._conns: list[socket.socket] = []
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._serve, name=f"stall-{port}", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        import selectors

        sel = selectors.DefaultSelector()
        sel.register(self._listener, selectors.EVENT_READ)
        while not self._stopped.is_set():
            for key, _ in sel.select(timeout=0.05):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                if sock is self._listener:
                    try:
                        conn, _addr = self._listener.accept()
                    except OSError:
                        continue
                    conn.setblocking(False)
                    self._conns.append(conn)
                    self.accepted += 1
                    sel.register(conn, selectors.EVENT_READ)
                    continue
                try:
                    data = sock.recv(65536)
                except OSError:
                    data = b""
                if not data:  # the client gave up: forget the connection
                    sel.unregister(sock)
                    sock.close()
        sel.close()

    def stop(self) -> None:
        """Close the listener and every connection (the client sees a reset / EOF)."""
        self._stopped.set()
        self._thread.join(5)
        for conn in self._conns:
            try:
                conn.close()
            except OSError:
                pass
        self._listener.close()


class Link:
    """The collector endpoint the application is configured with: fixed ports, switchable state."""

    def __init__(self, phoenix_grpc_endpoint: str | None = None) -> None:
        sys.path.insert(0, str(_HERE))
        from _receivers import free_port

        self.phoenix_grpc_endpoint = phoenix_grpc_endpoint
        self.grpc_port, self.http_port = free_port(), free_port()
        self.state = "down"
        self.switches = 0
        self._server: Any = None

    def endpoint(self, protocol: str) -> str:
        """The OTEL_EXPORTER_OTLP_ENDPOINT for ``protocol`` ("grpc" or "http/protobuf")."""
        port = self.grpc_port if protocol == "grpc" else self.http_port
        return f"http://{HOST}:{port}"

    def _stop_current(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.stop()
        self.state = "down"

    def down(self) -> None:
        """Nothing listens: connections are refused."""
        self._stop_current()

    def stall(self) -> None:
        """Both ports accept connections and never answer."""
        self._stop_current()
        servers = [StallServer(self.grpc_port), StallServer(self.http_port)]

        class _Both:
            def stop(self) -> None:
                for server in servers:
                    server.stop()

        self._server = _Both()
        self.state = "stall"

    def _rotel(self, **kwargs: Any) -> Any:
        from _receivers import Rotel

        rotel = Rotel(**kwargs)
        rotel.grpc_port, rotel.http_port = self.grpc_port, self.http_port
        rotel.grpc_endpoint = f"http://{HOST}:{self.grpc_port}"
        rotel.http_endpoint = f"http://{HOST}:{self.http_port}"
        rotel.otlp_http_traces_url = f"{rotel.http_endpoint}/v1/traces"
        return rotel

    def blackhole(self) -> None:
        """A healthy collector (Rotel) that accepts everything and discards it."""
        self._stop_current()
        self._server = self._rotel().start()
        self.state = "blackhole"
        self.switches += 1

    def forward(self) -> None:
        """A healthy collector (Rotel) forwarding to Phoenix over gRPC."""
        if self.phoenix_grpc_endpoint is None:
            raise ValueError("Link(phoenix_grpc_endpoint=...) is needed to forward")
        self._stop_current()
        self._server = self._rotel(exporter="otlp", endpoint=self.phoenix_grpc_endpoint).start()
        self.state = "forward"
        self.switches += 1

    def close(self) -> None:
        self._stop_current()


class RecordingProxy:
    """OTLP/HTTP receiver on a free port: counts every span id received, forwards to ``upstream``."""

    def __init__(self, upstream_traces_url: str) -> None:
        import requests
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

        self.counts: Counter[str] = Counter()  # span id (hex) -> times received
        self.names: dict[str, str] = {}
        self.requests = 0
        lock = threading.Lock()
        session = requests.Session()
        session.trust_env = False
        proxy = self

        class _Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - stdlib name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                request = ExportTraceServiceRequest()
                request.ParseFromString(body)
                with lock:
                    proxy.requests += 1
                    for resource_spans in request.resource_spans:
                        for scope_spans in resource_spans.scope_spans:
                            for span in scope_spans.spans:
                                span_id = span.span_id.hex()
                                proxy.counts[span_id] += 1
                                proxy.names[span_id] = span.name
                answer = session.post(
                    upstream_traces_url,
                    data=body,
                    headers={"Content-Type": self.headers.get("Content-Type", "application/x-protobuf")},
                    timeout=10,
                )
                self.send_response(answer.status_code)
                self.send_header("Content-Type", answer.headers.get("Content-Type", "application/x-protobuf"))
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
                pass

        self._server = ThreadingHTTPServer((HOST, 0), _Handler)
        self.url = f"http://{HOST}:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


# --- the test side: the application process -------------------------------------------------------


class Driver:
    """An application process obeying JSON commands (see ``_driver_main``); one answer per command."""

    def __init__(self, env: Mapping[str, str], stderr_path: Path) -> None:
        self.stderr_path = stderr_path
        self._stderr = open(stderr_path, "wb")  # noqa: SIM115 - closed in close()
        self.proc = subprocess.Popen(
            script_command("driver"),
            env=clean_env(env),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
        )
        self._answers: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.returncode: int | None = None

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._answers.put(line)
        self._answers.put(None)

    def send(self, cmd: str, **args: Any) -> None:
        """Send a command without waiting for its answer (to act on the collector meanwhile)."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"cmd": cmd, **args}) + "\n")
        self.proc.stdin.flush()

    def answer(self, timeout: float = 120.0) -> dict[str, Any]:
        """The answer to the oldest command sent and not yet answered."""
        try:
            line = self._answers.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(
                f"the application did not answer within {timeout} s\n{self.stderr()[-3000:]}"
            ) from None
        if line is None:
            self.proc.wait(10)
            raise AssertionError(f"the application exited with {self.proc.returncode}:\n{self.stderr()[-3000:]}")
        result: dict[str, Any] = json.loads(line)
        return result

    def __call__(self, cmd: str, timeout: float = 120.0, **args: Any) -> dict[str, Any]:
        self.send(cmd, **args)
        return self.answer(timeout)

    def stderr(self) -> str:
        self._stderr.flush()
        return self.stderr_path.read_text(errors="replace")

    def exit(self, timeout: float = 30.0) -> int:
        """Ask the application to return from its main; its exit code."""
        self.send("exit")
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.returncode = self.proc.wait(timeout)
        return self.returncode

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self._stderr.close()


# --- the application side: the driver ---------------------------------------------------------------


def _driver_main() -> int:  # noqa: C901 - one small branch per command
    import agentel
    from agentel import SpanType

    @agentel.trace(name="search_tool", span_type=SpanType.TOOL)
    def search_tool(query: str, k: int = 3) -> list[str]:
        return [f"{query}-{j}" for j in range(k)]

    @agentel.trace(name="agent", span_type=SpanType.AGENT)
    def agent(question: str) -> str:
        docs = search_tool(question, k=2)
        with agentel.start_span("answer", span_type=SpanType.CHAT_MODEL) as span:
            span.set_outputs(f"{len(docs)} docs")
        return "done"

    exceptions: list[str] = []

    def call(i: int) -> None:
        try:
            search_tool(f"q{i}", k=2)
        except BaseException as exc:  # noqa: BLE001 - counted: the application must never see one
            exceptions.append(f"{type(exc).__name__}: {exc}")

    for line in sys.stdin:
        request = json.loads(line)
        cmd = request["cmd"]
        out: dict[str, Any]
        if cmd == "measure":  # per-call wall time of N traced calls
            n, pace = int(request["n"]), float(request.get("pace_s", 0.0))
            times = []
            started = time.perf_counter()
            for i in range(n):
                t0 = time.perf_counter_ns()
                call(i)
                times.append(time.perf_counter_ns() - t0)
                if pace:
                    time.sleep(pace)
            elapsed = time.perf_counter() - started
            times.sort()
            out = {
                "n": n,
                "seconds": elapsed,
                "median_us": percentile(times, 0.5) / 1000,
                "p99_us": percentile(times, 0.99) / 1000,
                "p999_us": percentile(times, 0.999) / 1000,
                "max_us": times[-1] / 1000,
            }
        elif cmd == "spans":  # N traced calls; RSS at the start, the middle and the end
            n = int(request["n"])
            call(0)
            gc.collect()  # RSS without the cyclic garbage awaiting collection (it varies by ~10 MB)
            before = rss_kb()
            middle = before
            for i in range(1, n):
                call(i)
                if i == n // 2:
                    gc.collect()
                    middle = rss_kb()
            gc.collect()
            out = {"n": n, "rss_before_kb": before, "rss_middle_kb": middle, "rss_after_kb": rss_kb()}
        elif cmd == "traces":  # N small agent traces (3 spans each); their trace ids
            ids = []
            for i in range(int(request["n"])):
                try:
                    agent(f"recovery question {i}")
                except BaseException as exc:  # noqa: BLE001
                    exceptions.append(f"{type(exc).__name__}: {exc}")
                ids.append(agentel.get_last_trace_id())
            out = {"trace_ids": ids}
        elif cmd == "flush":
            flush_started = time.perf_counter()
            ok = agentel.force_flush(int(request.get("timeout_ms", 30000)))
            out = {"ok": ok, "seconds": time.perf_counter() - flush_started}
        elif cmd == "stats":
            out = dict(agentel.stats())
            out["exceptions"] = exceptions[:5]
            out["exception_count"] = len(exceptions)
            out["current_span_is_none"] = agentel.get_current_span() is None
        elif cmd == "exit":
            return 0
        else:
            out = {"error": f"unknown command {cmd!r}"}
        print(json.dumps(out), flush=True)
    return 0


# --- the application side: lifecycle -------------------------------------------------------------------


def _lifecycle_main(mode: str) -> int:
    """Make one finished trace and three kinds of spans still open, then leave the way ``mode`` says.

    Prints one JSON line (the trace ids) and "ready" before leaving. Open at the end:
    - a client trace (``TraceClient.start_trace`` + ``start_span``) never ended;
    - a worker thread stuck mid-step inside two fluent spans (an agent interrupted mid-tool-call);
    - in the main thread, the span around the exit itself (``main-agent``).
    """
    import faulthandler

    faulthandler.register(signal.SIGUSR1, all_threads=True)  # the test asks for every stack if this hangs
    import agentel
    from agentel import SpanType

    def app_handler(signum: int, frame: Any) -> None:
        sys.exit(7)

    if mode == "sigterm-app-handler-first":  # the application installs its handler before any span
        signal.signal(signal.SIGTERM, app_handler)

    @agentel.trace(name="tool", span_type=SpanType.TOOL)
    def tool(x: int) -> int:
        return x * 2

    @agentel.trace(name="finished_agent", span_type=SpanType.AGENT)
    def finished_agent() -> int:
        with agentel.start_span("finished-step"):
            return tool(21)

    finished_agent()
    finished = agentel.get_last_trace_id()

    if mode == "sigterm-app-handler-later":  # ... or after agentel installed its own
        signal.signal(signal.SIGTERM, app_handler)

    client = agentel.TraceClient()
    root = client.start_trace("client-agent", span_type=SpanType.AGENT, new_trace=True)
    client.start_span("client-step", request_id=root.request_id, parent_id=root.span_id)

    worker_ids: dict[str, str] = {}
    entered = threading.Event()

    def worker() -> None:
        if mode.startswith("sigterm-app-handler"):
            # the application's own thread could take the SIGTERM, and its handler would wait for the main
            # thread's sleep to end (Python runs handlers there only): this application, like a careful
            # one, leaves signals to its main thread. agentel's threads never take one (_background_threads)
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
        with agentel.start_span("worker-agent", span_type=SpanType.AGENT) as span:
            worker_ids["trace_id"] = span.trace_id
            with agentel.start_span("worker-step", span_type=SpanType.TOOL):
                entered.set()
                threading.Event().wait()  # blocked forever: interrupted at exit

    threading.Thread(target=worker, daemon=True).start()
    entered.wait(10)

    with agentel.start_span("main-agent", span_type=SpanType.AGENT) as main_span:
        ids = {
            "finished": finished,
            "client": root.trace_id,
            "worker": worker_ids["trace_id"],
            "main": main_span.trace_id,
        }
        print(json.dumps(ids), flush=True)
        if mode == "sys-exit":
            sys.exit(3)
        if mode == "uncaught":
            raise RuntimeError("boom: uncaught")
        if mode.startswith("sigterm"):
            print("ready", flush=True)
            time.sleep(60)  # SIGTERM arrives here
            return 9  # not reached
        if mode == "normal":
            pass
    return 0


def _exit_timing_main(n: int) -> int:
    """Make ``n`` traces, leave one span open, return: the exit flush meets an unreachable collector.
    ``done`` is printed when the work is finished, ``exit hooks done`` by an exit hook registered before
    agentel's, so it runs after them (atexit is last in, first out)."""
    import atexit

    atexit.register(lambda: print("exit hooks done", flush=True))
    import agentel

    @agentel.trace
    def step(i: int) -> int:
        return i

    for i in range(n):
        step(i)
    agentel.TraceClient().start_trace("left-open", new_trace=True)
    print("done", flush=True)
    return 0


# --- the application side: fork ----------------------------------------------------------------------


_FORK_CHILDREN_FLUSH = False  # set by _fork_main: children call agentel.force_flush() themselves


def _fork_child_work(i: int) -> str:
    """In a forked pool worker: a trace of its own (3 spans); its trace id."""
    from opentelemetry.context import Context

    import agentel

    with agentel.attach(Context()):  # a fresh trace, not under the parent's open span
        with agentel.start_span(f"child-work-{i}", span_type=agentel.SpanType.AGENT) as root:
            with agentel.start_span("child-step-a"):
                pass
            with agentel.start_span("child-step-b"):
                pass
    if _FORK_CHILDREN_FLUSH:
        agentel.force_flush(60_000)
    return root.trace_id


def _fork_process_target(result: Any) -> None:
    """In a forked Process: a span under the parent's span that was open at fork time."""
    import agentel

    with agentel.start_span("child-under-open-parent") as span:
        result.put((span.trace_id, span.parent_id))
    if _FORK_CHILDREN_FLUSH:
        agentel.force_flush(60_000)


def _fork_main(children_flush: bool) -> int:
    """Parent: 10 ended spans still queued (the batch processor waits a minute) and one open span at
    fork time; children: a Process under the open span and a Pool of 3 workers making 6 traces. With
    ``children_flush`` the children flush explicitly (which would also send the parent's queue, had
    the child inherited it); without, they rely on agentel's flush when a worker exits."""
    import multiprocessing

    import agentel

    global _FORK_CHILDREN_FLUSH
    _FORK_CHILDREN_FLUSH = children_flush

    ctx = multiprocessing.get_context("fork")
    with agentel.start_span("parent-before-fork", span_type=agentel.SpanType.AGENT) as before:
        for i in range(9):
            with agentel.start_span(f"parent-step-{i}"):
                pass
    ids: dict[str, Any] = {"queued": before.trace_id, "queued_spans": 10}
    with agentel.start_span("parent-open-at-fork", span_type=agentel.SpanType.AGENT) as open_span:
        ids["open"] = open_span.trace_id
        ids["open_span_id"] = open_span.span_id
        result = ctx.Queue()
        process = ctx.Process(target=_fork_process_target, args=(result,))
        process.start()
        ids["process_span"] = result.get(timeout=60)
        process.join(60)
        ids["process_exitcode"] = process.exitcode
        with ctx.Pool(3) as pool:
            ids["pool"] = pool.map_async(_fork_child_work, range(6)).get(timeout=60)
            pool.close()
            pool.join()
    with agentel.start_span("parent-after-fork") as after:
        pass
    ids["after"] = after.trace_id
    print(json.dumps(ids), flush=True)
    return 0


if __name__ == "__main__":
    what = sys.argv[1]
    if what == "driver":
        sys.exit(_driver_main())
    if what == "lifecycle":
        sys.exit(_lifecycle_main(sys.argv[2]))
    if what == "exit-timing":
        sys.exit(_exit_timing_main(int(sys.argv[2])))
    if what == "fork":
        sys.exit(_fork_main(children_flush=sys.argv[2:] == ["children-flush"]))
    raise SystemExit(f"unknown workload {what!r}")
