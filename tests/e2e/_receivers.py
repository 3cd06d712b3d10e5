"""Start, wait for, query and stop the real OTLP receivers used by the e2e tests.

Each receiver (Arize Phoenix, an MLflow tracking server, the Rotel collector) runs from its own venv,
installed by ``scripts/backends/install`` under ``$AGENTEL_BACKENDS_DIR`` (default
``~/.cache/agentel/backends``), listens on free ports of 127.0.0.1, works in its own temp directory,
and is stopped by PID. Stdlib + ``requests`` only, so scripts (benchmarks) can import it too::

    sys.path.insert(0, "tests/e2e"); from _receivers import Rotel
    with Rotel() as sink:              # blackhole exporter
        export_to(sink.grpc_endpoint)

Run ``python tests/e2e/_receivers.py phoenix|mlflow|rotel`` to start one by hand (Ctrl-C stops it).
"""

from __future__ import annotations

import atexit
import errno
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import requests

if TYPE_CHECKING:
    from typing_extensions import Self

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPTS_DIR = REPO_ROOT / "scripts" / "backends"
HOST = "127.0.0.1"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# Variables of the test process that must not leak into a receiver (it could trace itself, etc.).
_SCRUBBED_ENV_PREFIXES = ("OTEL_", "PHOENIX_", "MLFLOW_", "ROTEL_", "AGENTEL_")


class ReceiverError(RuntimeError):
    """A receiver could not be started or queried."""


class NotInstalledError(ReceiverError):
    """The receiver's venv is missing: ``scripts/backends/install`` has not been run."""


# --- where things are installed (the single place that knows the cache layout) -------------------


def backends_dir() -> Path:
    """Root of the receiver installs: ``$AGENTEL_BACKENDS_DIR`` or ``~/.cache/agentel/backends``."""
    root = os.environ.get("AGENTEL_BACKENDS_DIR")
    return Path(root) if root else Path.home() / ".cache" / "agentel" / "backends"


def versions() -> dict[str, str]:
    """Pinned versions from ``scripts/backends/versions.env``: {"phoenix": ..., "mlflow": ..., ...}."""
    out: dict[str, str] = {}
    for line in (SCRIPTS_DIR / "versions.env").read_text().splitlines():
        key, sep, value = line.strip().partition("=")
        if sep and not key.startswith("#") and key.endswith("_VERSION"):
            out[key[: -len("_VERSION")].lower()] = value.strip()
    return out


def install_dir(name: str) -> Path:
    """``<backends_dir>/<name>-<version>`` for a receiver name (phoenix, mlflow, rotel)."""
    return backends_dir() / f"{name}-{versions()[name]}"


def venv_dir(name: str) -> Path:
    """The receiver's venv; raises NotInstalledError (with the command to run) if not installed."""
    base = install_dir(name)
    if not (base / "installed").is_file() or not (base / "venv" / "bin" / "python").exists():
        raise NotInstalledError(
            f"{name} is not installed in {base}/venv; run `scripts/backends/install {name}` "
            "first (outside any network namespace: it downloads from PyPI)"
        )
    return base / "venv"


# --- ports ---------------------------------------------------------------------------------------

_handed_out: set[int] = set()


def _bindable(family: socket.AddressFamily, host: str, port: int) -> bool:
    """True if (host, port) can be bound now; an unsupported address family counts as bindable."""
    try:
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.bind((host, port))
        return True
    except OSError as exc:
        return exc.errno != errno.EADDRINUSE and exc.errno != errno.EACCES


def free_port(all_interfaces: bool = False) -> int:
    """A port that is free on 127.0.0.1 (and on every interface if asked), not handed out before."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((HOST, 0))
            port = int(s.getsockname()[1])
        if port in _handed_out:
            continue
        if all_interfaces and not (
            _bindable(socket.AF_INET, "0.0.0.0", port) and _bindable(socket.AF_INET6, "::", port)
        ):
            continue
        _handed_out.add(port)
        return port
    raise ReceiverError("could not find a free TCP port on 127.0.0.1")


def port_open(port: int, host: str = HOST) -> bool:
    """True if something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _http(session: requests.Session, url: str, **kw: Any) -> requests.Response | None:
    """GET url; None when nothing answers yet."""
    try:
        return session.get(url, timeout=kw.pop("timeout", 2.0), **kw)
    except requests.RequestException:
        return None


# --- process lifecycle ---------------------------------------------------------------------------

_running: set[Receiver] = set()


@atexit.register
def _stop_all() -> None:
    """Safety net: stop every receiver this process started and did not stop."""
    for receiver in list(_running):
        receiver.stop()


class Receiver:
    """Base class: one receiver process with its own temp dir and log, started and stopped by PID."""

    name = "receiver"
    ready_timeout = 30.0

    def __init__(self, ready_timeout: float | None = None, keep_dir: bool = False) -> None:
        if ready_timeout is not None:
            self.ready_timeout = ready_timeout
        self.keep_dir = keep_dir
        self.workdir = Path(tempfile.mkdtemp(prefix=f"agentel-{self.name}-"))
        self.log_path = self.workdir / f"{self.name}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.startup_seconds: float | None = None
        self.session = requests.Session()
        self.session.trust_env = False  # loopback only: never through a proxy

    # Subclasses define how to run the receiver and when it is ready.
    def command(self) -> list[str]:
        raise NotImplementedError

    def extra_env(self) -> dict[str, str]:
        return {}

    def is_ready(self) -> bool:
        raise NotImplementedError

    @property
    def pid(self) -> int:
        if self.proc is None:
            raise ReceiverError(f"{self.name} is not started")
        return self.proc.pid

    def exit_code(self) -> int | None:
        """The exit status if the process has exited, else None. Never reaps it: until stop()
        reaps it, its PID (= its process group id) cannot be reused by another process."""
        if self.proc is None:
            return None
        if self.proc.returncode is not None:
            return self.proc.returncode
        try:
            info = os.waitid(os.P_PID, self.proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return None
        return None if info is None else info.si_status

    def alive(self) -> bool:
        """True while the started process runs."""
        return self.proc is not None and self.proc.returncode is None and self.exit_code() is None

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of the receiver's log (stdout + stderr), without colour codes."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(_ANSI.sub("", text).splitlines()[-lines:])

    def start(self) -> Self:
        """Start the process and wait until it is ready; raise ReceiverError with the log tail."""
        try:
            cmd = self.command()
        except Exception:
            self.stop()  # removes the temp dir
            raise
        env = {k: v for k, v in os.environ.items() if not k.startswith(_SCRUBBED_ENV_PREFIXES)}
        env.update({"NO_COLOR": "1", "PYTHONUNBUFFERED": "1"}, **self.extra_env())
        t0 = time.monotonic()
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                cmd,
                cwd=self.workdir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        _running.add(self)
        deadline = t0 + self.ready_timeout
        while not (self.is_ready() and self.alive()):
            problem = None
            if not self.alive():
                problem = f"exited with code {self.exit_code()} before it was ready"
            elif time.monotonic() > deadline:
                problem = f"was not ready after {self.ready_timeout:.0f} s"
            if problem:
                self.keep_dir = True  # leave the log for a post-mortem
                self.stop()
                raise ReceiverError(self._failure(problem))
            time.sleep(0.1)
        self.startup_seconds = time.monotonic() - t0
        return self

    def _failure(self, what: str) -> str:
        return (
            f"{self.name} (pid {self.pid}) {what}\ncommand: {' '.join(self.command())}\n"
            f"--- last lines of {self.log_path} ---\n{self.log_tail()}"
        )

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM the receiver's PID, SIGKILL its process group (what it spawned) after `grace`
        seconds or once it has exited, then reap it. Idempotent."""
        _running.discard(self)
        proc = self.proc
        if proc is not None and proc.returncode is None:  # not reaped: pid and pgid still ours
            if self.exit_code() is None:
                os.kill(proc.pid, signal.SIGTERM)
                deadline = time.monotonic() + grace
                while self.exit_code() is None and time.monotonic() < deadline:
                    time.sleep(0.05)
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # leftovers of its own session only
            except ProcessLookupError:
                pass
            proc.wait()
        self.session.close()
        if not self.keep_dir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.alive() else "stopped"
        return f"<{type(self).__name__} {state} pid={self.proc.pid if self.proc else None}>"


class Phoenix(Receiver):
    """Arize Phoenix: OTLP gRPC + HTTP/protobuf receiver with a REST query API."""

    name = "phoenix"
    ready_timeout = 60.0

    def __init__(self, ready_timeout: float | None = None, keep_dir: bool = False) -> None:
        super().__init__(ready_timeout, keep_dir)
        self.http_port = free_port()
        # Phoenix's gRPC server binds every interface, whatever PHOENIX_HOST says.
        self.grpc_port = free_port(all_interfaces=True)
        self.http_url = f"http://{HOST}:{self.http_port}"
        self.grpc_endpoint = f"http://{HOST}:{self.grpc_port}"
        self.otlp_http_traces_url = f"{self.http_url}/v1/traces"

    def command(self) -> list[str]:
        return [str(venv_dir("phoenix") / "bin" / "phoenix"), "serve"]

    def extra_env(self) -> dict[str, str]:
        return {
            "PHOENIX_WORKING_DIR": str(self.workdir / "phoenix"),
            "PHOENIX_HOST": HOST,
            "PHOENIX_PORT": str(self.http_port),
            "PHOENIX_GRPC_PORT": str(self.grpc_port),
            "PHOENIX_TELEMETRY_ENABLED": "false",
            "PHOENIX_ALLOW_EXTERNAL_RESOURCES": "false",
            "PHOENIX_DISABLE_AGENT_ASSISTANT": "true",
            "PHOENIX_AGENTS_DISABLE_BASH": "true",
        }

    def is_ready(self) -> bool:
        r = _http(self.session, f"{self.http_url}/healthz")
        return r is not None and r.status_code == 200 and port_open(self.grpc_port)

    def spans(
        self, project: str, trace_id: str, expect: int | None = None, timeout: float = 10.0
    ) -> list[dict[str, Any]]:
        """Spans of one trace (32-hex id) in a project, polling until at least `expect` (default 1)
        are there; ingestion is asynchronous. Raises AssertionError on timeout."""
        want = 1 if expect is None else expect
        deadline = time.monotonic() + timeout
        while True:
            found, problem = self._spans_once(project, trace_id)
            if found is not None and len(found) >= want:
                return found
            if time.monotonic() > deadline:
                names = [s.get("name") for s in found or []]
                raise AssertionError(
                    f"Phoenix project {project!r} trace {trace_id}: expected at least {want} spans "
                    f"within {timeout} s, got {len(found or [])} {names} {problem}"
                )
            time.sleep(0.1)

    def project_spans(self, project: str) -> list[dict[str, Any]]:
        """Every span of a project, whatever its trace (e.g. to check that nothing else arrived)."""
        found, problem = self._spans_once(project, None)
        if found is None:
            raise AssertionError(f"Phoenix project {project!r}: {problem}")
        return found

    def _spans_once(self, project: str, trace_id: str | None) -> tuple[list[dict[str, Any]] | None, str]:
        """One full (paginated) query; (None, reason) when the project does not exist yet."""
        spans: list[dict[str, Any]] = []
        params: dict[str, Any] = {"limit": 1000} if trace_id is None else {"trace_id": trace_id, "limit": 1000}
        while True:
            r = _http(
                self.session,
                f"{self.http_url}/v1/projects/{quote(project, safe='')}/spans",
                params=params,
            )
            if r is None or r.status_code != 200:
                return (
                    None,
                    "(no answer)" if r is None else f"(HTTP {r.status_code}: {r.text[:200]})",
                )
            body = r.json()
            spans.extend(body.get("data", []))
            if not body.get("next_cursor"):
                return spans, ""
            params["cursor"] = body["next_cursor"]


class MlflowServer(Receiver):
    """MLflow tracking server (sqlite store): OTLP HTTP/protobuf receiver at /v1/traces."""

    name = "mlflow"
    ready_timeout = 30.0

    def __init__(
        self, ready_timeout: float | None = None, keep_dir: bool = False, experiment_id: str = "0"
    ) -> None:
        super().__init__(ready_timeout, keep_dir)
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.otlp_http_traces_url = f"{self.url}/v1/traces"
        self.headers = {"x-mlflow-experiment-id": experiment_id}

    def command(self) -> list[str]:
        return [
            str(venv_dir("mlflow") / "bin" / "mlflow"),
            "server",
            "--host",
            HOST,
            "--port",
            str(self.port),
            "--workers",
            "1",
            "--backend-store-uri",
            f"sqlite:///{self.workdir}/mlflow.db",
            "--artifacts-destination",
            str(self.workdir / "artifacts"),
        ]

    def extra_env(self) -> dict[str, str]:
        return {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false", "MLFLOW_DISABLE_TELEMETRY": "true"}

    def is_ready(self) -> bool:
        r = _http(self.session, f"{self.url}/health")
        return r is not None and r.status_code == 200 and r.text.strip() == "OK"

    def get_trace(
        self, trace_id_hex: str, expect_spans: int | None = None, timeout: float = 15.0
    ) -> dict[str, Any]:
        """The trace as MlflowClient sees it (via scripts/backends/mlflow_get_trace.py in the MLflow
        venv): {"info": {trace_id, state, ...}, "spans": [{name, span_id, parent_id, span_type,
        inputs, outputs, status: {status_code, description}, attributes, events}]}.
        Polls until the trace has at least `expect_spans` spans; AssertionError on timeout."""
        cmd = [
            str(venv_dir("mlflow") / "bin" / "python"),
            str(SCRIPTS_DIR / "mlflow_get_trace.py"),
            self.url,
            trace_id_hex,
            "--timeout",
            str(timeout),
        ]
        if expect_spans is not None:
            cmd += ["--expect-spans", str(expect_spans)]
        env = {k: v for k, v in os.environ.items() if not k.startswith(_SCRUBBED_ENV_PREFIXES)}
        env["MLFLOW_DISABLE_TELEMETRY"] = "true"
        done = subprocess.run(
            cmd, check=False, capture_output=True, text=True, env=env, timeout=timeout + 60
        )
        if done.returncode != 0:
            raise AssertionError(
                f"MLflow get_trace(tr-{trace_id_hex}) failed (exit {done.returncode}):\n"
                f"{done.stderr[-3000:]}\n--- last lines of the server log ---\n{self.log_tail(15)}"
            )
        result: dict[str, Any] = json.loads(done.stdout)
        return result


class Rotel(Receiver):
    """Rotel, a real OTLP collector: receives gRPC + HTTP, forwards with `exporter`
    ("otlp" to `endpoint` over `protocol` "grpc"/"http" with `headers`, or "blackhole")."""

    name = "rotel"
    ready_timeout = 10.0

    def __init__(
        self,
        exporter: str = "blackhole",
        endpoint: str | None = None,
        protocol: str = "grpc",
        headers: Mapping[str, str] | None = None,
        batch_timeout: str = "50ms",
        extra_args: Sequence[str] = (),
        ready_timeout: float | None = None,
        keep_dir: bool = False,
    ) -> None:
        if exporter == "otlp" and not endpoint:
            raise ValueError("Rotel(exporter='otlp') needs an endpoint")
        if protocol not in ("grpc", "http"):
            raise ValueError(f"protocol must be 'grpc' or 'http', not {protocol!r}")
        super().__init__(ready_timeout, keep_dir)
        self.exporter, self.endpoint, self.protocol = exporter, endpoint, protocol
        self.headers = dict(headers or {})
        self.batch_timeout, self.extra_args = batch_timeout, list(extra_args)
        self.grpc_port, self.http_port = free_port(), free_port()
        self.grpc_endpoint = f"http://{HOST}:{self.grpc_port}"
        self.http_endpoint = f"http://{HOST}:{self.http_port}"
        self.otlp_http_traces_url = f"{self.http_endpoint}/v1/traces"

    def command(self) -> list[str]:
        site = venv_dir("rotel") / "lib"
        agents = sorted(site.glob("python3*/site-packages/rotel/rotel-agent"))
        if not agents:
            raise NotInstalledError(
                f"no rotel-agent binary under {site}; rerun scripts/backends/install rotel"
            )
        cmd = [
            str(agents[0]),
            "start",
            "--otlp-grpc-endpoint",
            f"{HOST}:{self.grpc_port}",
            "--otlp-http-endpoint",
            f"{HOST}:{self.http_port}",
            "--pid-file",
            str(self.workdir / "rotel.pid"),
            "--log-file",
            str(self.workdir / "rotel-daemon.log"),
            "--exporter",
            self.exporter,
            "--traces-batch-timeout",
            self.batch_timeout,
        ]
        if self.exporter == "otlp":
            cmd += [
                "--otlp-exporter-endpoint",
                str(self.endpoint),
                "--otlp-exporter-protocol",
                self.protocol,
            ]
            if self.headers:
                hdrs = ",".join(f"{k}={v}" for k, v in self.headers.items())
                cmd += ["--otlp-exporter-custom-headers", hdrs]
        return cmd + self.extra_args

    def is_ready(self) -> bool:
        return port_open(self.grpc_port) and port_open(self.http_port)


class Prometheus(Receiver):
    """Prometheus (the Debian package): scrapes ``targets`` (``host:port`` of /metrics) every
    ``scrape_interval``; its HTTP API answers PromQL (``query``/``wait_for``). Own data dir per run."""

    name = "prometheus"
    ready_timeout = 30.0

    def __init__(
        self,
        targets: Sequence[str] = (),
        scrape_interval: str = "1s",
        ready_timeout: float | None = None,
        keep_dir: bool = False,
    ) -> None:
        super().__init__(ready_timeout, keep_dir)
        self.targets = list(targets)
        self.scrape_interval = scrape_interval
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"

    def command(self) -> list[str]:
        binary = shutil.which("prometheus")
        if binary is None:
            raise NotInstalledError("no prometheus binary on PATH; run `scripts/backends/install prometheus` (root)")
        config = self.workdir / "prometheus.yml"
        jobs = {"job_name": "agentel", "static_configs": [{"targets": self.targets}]}
        config.write_text(
            json.dumps({"global": {"scrape_interval": self.scrape_interval}, "scrape_configs": [jobs]}),
            encoding="utf-8",
        )  # JSON is YAML
        return [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={self.workdir / 'data'}",
            f"--web.listen-address={HOST}:{self.port}",
        ]

    def is_ready(self) -> bool:
        r = _http(self.session, f"{self.url}/-/ready")
        return r is not None and r.status_code == 200

    def query(self, promql: str) -> list[dict[str, Any]]:
        """The instant-query result of `promql` (``[{"metric": {...}, "value": [ts, "1.5"]}, ...]``)."""
        r = self.session.get(f"{self.url}/api/v1/query", params={"query": promql}, timeout=10)
        r.raise_for_status()
        body = r.json()
        assert body["status"] == "success", body
        return list(body["data"]["result"])

    def targets_health(self) -> list[dict[str, Any]]:
        """``/api/v1/targets``: each active target's ``health`` and ``lastError``."""
        r = self.session.get(f"{self.url}/api/v1/targets", timeout=10)
        r.raise_for_status()
        return list(r.json()["data"]["activeTargets"])

    def wait_for(self, promql: str, timeout: float = 30.0) -> list[dict[str, Any]]:
        """Poll `promql` until it returns a non-empty result (scrapes are periodic); AssertionError
        with the targets' health on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            result = self.query(promql)
            if result:
                return result
            if time.monotonic() > deadline:
                raise AssertionError(f"no result for {promql!r} after {timeout} s; targets: {self.targets_health()}")
            time.sleep(0.25)


RECEIVERS: dict[str, type[Receiver]] = {"phoenix": Phoenix, "mlflow": MlflowServer, "rotel": Rotel}


def main(argv: Sequence[str]) -> int:
    """Start one receiver by hand, print where it listens, and wait for Ctrl-C."""
    if len(argv) != 1 or argv[0] not in RECEIVERS:
        print(f"usage: {sys.argv[0]} {'|'.join(RECEIVERS)}", file=sys.stderr)
        return 2
    receiver = RECEIVERS[argv[0]](keep_dir=True).start()
    print(f"{receiver!r} ready in {receiver.startup_seconds:.1f} s; log {receiver.log_path}")
    print({k: v for k, v in vars(receiver).items() if k.endswith(("url", "endpoint", "headers"))})
    try:
        while receiver.alive():
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    receiver.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
