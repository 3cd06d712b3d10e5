"""TLS-terminating OTLP receivers with an auth header check, and a throwaway CA made with ``openssl``.

Used by ``test_tls_auth.py``. Everything stays on 127.0.0.1 and in the test's tmp_path:

* ``make_certs(directory)`` runs ``/usr/bin/openssl`` to make a self-signed CA, a server certificate it
  signs (SAN ``IP:127.0.0.1``, ``DNS:localhost``) and a second, unrelated CA (the "wrong CA").
* ``GrpcTlsReceiver``: a ``grpc.server`` with ``grpc.ssl_server_credentials`` implementing the OTLP
  ``TraceService/Export``; a call without the expected header value is aborted with UNAUTHENTICATED.
* ``HttpTlsReceiver``: a ``ThreadingHTTPServer`` whose connections are wrapped by an ``ssl.SSLContext``
  (the handshake runs on the connection's thread), serving ``POST /v1/traces``; 401 on a wrong header.

Both record every accepted span (name, trace id, how the call was secured), every refused call (the
header value it carried) and, for HTTP, every failed TLS handshake. Start and stop them by object::

    with GrpcTlsReceiver(certs, "authorization", "Bearer s3cret") as receiver:
        run_app(endpoint=receiver.endpoint)
        receiver.wait_for_spans(3)
"""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Optional

import grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

HOST = "127.0.0.1"
OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"


# --- certificates --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Certs:
    """PEM files: the CA, the server certificate it signed and its key, and an unrelated CA."""

    ca: Path
    server_cert: Path
    server_key: Path
    other_ca: Path


def _openssl(directory: Path, *args: str) -> None:
    done = subprocess.run(
        [OPENSSL, *args], cwd=directory, capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin"}
    )
    if done.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}")


def _make_ca(directory: Path, name: str, subject: str) -> None:
    _openssl(
        directory,
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        f"{name}.key",
        "-out",
        f"{name}.pem",
        "-days",
        "2",
        "-subj",
        subject,
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    )


def make_certs(directory: Path) -> Certs:
    """A CA, a server certificate for 127.0.0.1/localhost signed by it, and another CA, in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    _make_ca(directory, "ca", "/CN=agentel test CA")
    _make_ca(directory, "other-ca", "/CN=agentel unrelated CA")
    _openssl(
        directory,
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=localhost",
    )
    (directory / "server.ext").write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
        "basicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature,keyEncipherment\n"
        "extendedKeyUsage=serverAuth\n"
        "subjectKeyIdentifier=hash\n"
        "authorityKeyIdentifier=keyid,issuer\n"
    )
    _openssl(
        directory,
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "server.ext",
    )
    return Certs(
        ca=directory / "ca.pem",
        server_cert=directory / "server.pem",
        server_key=directory / "server.key",
        other_ca=directory / "other-ca.pem",
    )


# --- what a receiver saw --------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceivedSpan:
    name: str
    trace_id: str  # 32 hex
    span_id: str  # 16 hex
    parent_span_id: str  # 16 hex, "" for a root
    security: str  # gRPC: the call's transport_security_type ("ssl"); HTTP: the TLS version


class _Recorder:
    """Thread-safe record of accepted spans, refused calls and failed TLS handshakes."""

    def __init__(self, header: str, expected: str) -> None:
        self.header = header.lower()
        self.expected = expected
        self._lock = threading.Lock()
        self._spans: list[ReceivedSpan] = []
        self._refused: list[Optional[str]] = []
        self._handshake_failures: list[str] = []
        self.requests = 0

    def authorized(self, value: Optional[str]) -> bool:
        with self._lock:
            self.requests += 1
            if value == self.expected:
                return True
            self._refused.append(value)
            return False

    def record(self, request: trace_service_pb2.ExportTraceServiceRequest, security: str) -> None:
        spans = [
            ReceivedSpan(span.name, span.trace_id.hex(), span.span_id.hex(), span.parent_span_id.hex(), security)
            for resource_spans in request.resource_spans
            for scope_spans in resource_spans.scope_spans
            for span in scope_spans.spans
        ]
        with self._lock:
            self._spans.extend(spans)

    def handshake_failed(self, reason: str) -> None:
        with self._lock:
            self._handshake_failures.append(reason)

    @property
    def spans(self) -> list[ReceivedSpan]:
        with self._lock:
            return list(self._spans)

    @property
    def refused(self) -> list[Optional[str]]:
        """The header value (None: absent) of each refused call."""
        with self._lock:
            return list(self._refused)

    @property
    def handshake_failures(self) -> list[str]:
        with self._lock:
            return list(self._handshake_failures)

    def wait_for_spans(self, count: int, timeout: float = 10.0) -> list[ReceivedSpan]:
        """The spans received once there are at least ``count`` (or whatever arrived by the timeout)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            spans = self.spans
            if len(spans) >= count:
                return spans
            time.sleep(0.05)
        return self.spans


# --- gRPC ----------------------------------------------------------------------------------------


class _TraceService(trace_service_pb2_grpc.TraceServiceServicer):
    def __init__(self, recorder: _Recorder) -> None:
        self.recorder = recorder

    def Export(  # noqa: N802 - the generated gRPC method name
        self, request: trace_service_pb2.ExportTraceServiceRequest, context: grpc.ServicerContext
    ) -> trace_service_pb2.ExportTraceServiceResponse:
        metadata = {key.lower(): value for key, value in context.invocation_metadata()}
        value = metadata.get(self.recorder.header)
        if not self.recorder.authorized(value if isinstance(value, str) else None):
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "invalid or missing credentials")
        security = b",".join(context.auth_context().get("transport_security_type", [])).decode()
        self.recorder.record(request, security)
        return trace_service_pb2.ExportTraceServiceResponse()


class GrpcTlsReceiver(_Recorder):
    """OTLP/gRPC over TLS on 127.0.0.1 (a free port), requiring ``header: expected`` in the metadata."""

    protocol = "grpc"

    def __init__(self, certs: Certs, header: str, expected: str) -> None:
        super().__init__(header, expected)
        self.certs = certs
        self.port = 0
        self._server: Optional[grpc.Server] = None

    @property
    def endpoint(self) -> str:
        return f"https://{HOST}:{self.port}"

    def start(self) -> GrpcTlsReceiver:
        server = grpc.server(ThreadPoolExecutor(max_workers=4, thread_name_prefix="tls-grpc"))
        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(_TraceService(self), server)
        credentials = grpc.ssl_server_credentials(
            [(self.certs.server_key.read_bytes(), self.certs.server_cert.read_bytes())]
        )
        self.port = server.add_secure_port(f"{HOST}:0", credentials)
        if not self.port:
            raise RuntimeError("the gRPC TLS receiver could not bind a port on 127.0.0.1")
        server.start()
        self._server = server
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop(grace=None).wait(10)
            self._server = None

    def __enter__(self) -> GrpcTlsReceiver:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


# --- HTTP ----------------------------------------------------------------------------------------


class _TlsHttpServer(ThreadingHTTPServer):
    """Accepts plain TCP, then does the TLS handshake on the connection's own thread (a client that
    fails or stalls the handshake never blocks the accept loop)."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, receiver: HttpTlsReceiver, context: ssl.SSLContext) -> None:
        self.receiver = receiver
        self.ssl_context = context
        super().__init__((HOST, 0), _OtlpHandler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        request.settimeout(10)
        try:
            tls = self.ssl_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            self.receiver.handshake_failed(f"{type(exc).__name__}: {exc}")
            return
        try:
            self.RequestHandlerClass(tls, client_address, self)
        finally:
            try:
                tls.close()
            except OSError:
                pass


class _OtlpHandler(BaseHTTPRequestHandler):
    server: _TlsHttpServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass

    def _reply(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        receiver = self.server.receiver
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.rstrip("/") != "/v1/traces":
            self._reply(404, b"not found", "text/plain")
            return
        if not receiver.authorized(self.headers.get(receiver.header)):
            self._reply(401, b"invalid or missing credentials", "text/plain")
            return
        request = trace_service_pb2.ExportTraceServiceRequest()
        try:
            request.ParseFromString(body)
        except Exception:  # noqa: BLE001 - a malformed body is the client's problem: 400
            self._reply(400, b"malformed ExportTraceServiceRequest", "text/plain")
            return
        connection: Any = self.connection
        receiver.record(request, str(connection.version()))
        self._reply(200, trace_service_pb2.ExportTraceServiceResponse().SerializeToString(), "application/x-protobuf")


class HttpTlsReceiver(_Recorder):
    """OTLP/HTTP (protobuf) over TLS on 127.0.0.1 (a free port), requiring ``header: expected``."""

    protocol = "http/protobuf"

    def __init__(self, certs: Certs, header: str, expected: str) -> None:
        super().__init__(header, expected)
        self.certs = certs
        self.port = 0
        self._server: Optional[_TlsHttpServer] = None
        self._thread: Optional[threading.Thread] = None

    @property
    def endpoint(self) -> str:
        return f"https://{HOST}:{self.port}"

    def start(self) -> HttpTlsReceiver:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(self.certs.server_cert), str(self.certs.server_key))
        server = _TlsHttpServer(self, context)
        self.port = int(server.server_address[1])
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="tls-http", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None

    def __enter__(self) -> HttpTlsReceiver:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def tls_handshake_ok(port: int, ca: Path) -> bool:
    """True if a client trusting only ``ca`` completes a TLS handshake with 127.0.0.1:port (self-check)."""
    context = ssl.create_default_context(cafile=str(ca))
    context.set_alpn_protocols(["h2", "http/1.1"])  # gRPC servers may insist on ALPN h2
    try:
        with socket.create_connection((HOST, port), timeout=5) as raw:
            with context.wrap_socket(raw, server_hostname=HOST):
                return True
    except (ssl.SSLError, OSError):
        return False
