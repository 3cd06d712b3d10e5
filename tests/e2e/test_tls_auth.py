"""TLS and auth to the collector: ``OTEL_EXPORTER_OTLP_CERTIFICATE`` and headers over gRPC and HTTP.

The test makes its own CA and server certificate (SAN 127.0.0.1/localhost) with ``openssl`` and runs
two TLS-terminating OTLP receivers on 127.0.0.1 (``_tls.py``): gRPC (``grpc.ssl_server_credentials``,
UNAUTHENTICATED on a wrong header) and HTTP/protobuf (``ssl.SSLContext``, 401 on a wrong header).
Each case runs a fresh interpreter configured only by environment variables, as a user would: a small
traced agent, ``agentel.force_flush()``, then ``agentel.stats()`` printed as JSON.

* right CA + header: the spans arrive over TLS with the trace id the app saw; nothing dropped;
* wrong header: refused by the receiver, the app exits 0 without a traceback, the drops are counted,
  the export error is logged with a hint, and the header value never appears in the app's output;
* no CA (untrusted self-signed certificate): the export fails before any request (the header is never
  sent to an unverified server), counted, logged with a hint at the certificate, app unaffected;
* signal-specific ``OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE`` / ``_TRACES_HEADERS`` win over generic
  ones pointing at a wrong CA / carrying a wrong header;
* ``agentel doctor``: headers masked, the TLS connection check (OK with the CA; FAILED without it;
  credentials refused on a wrong header for OTLP/HTTP), exit status 0 only when spans can get out;
* a malformed ``OTEL_EXPORTER_OTLP_HEADERS`` is warned about without echoing the secret it carries.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Union
from urllib.parse import quote

import pytest
from _tls import Certs, GrpcTlsReceiver, HttpTlsReceiver, make_certs, tls_handshake_ok

Receiver = Union[GrpcTlsReceiver, HttpTlsReceiver]
PROTOCOLS = ("grpc", "http/protobuf")
SPAN_NAMES = {"tls_agent", "tls_llm", "lookup_order"}
HEADERS_HINT = "check OTEL_EXPORTER_OTLP_HEADERS"
CERTIFICATE_HINT = "check OTEL_EXPORTER_OTLP_CERTIFICATE"

# The app a user would write: one agent trace (decorator, start_span, a traced tool), flush, stats.
APP = """
import json
import agentel
from agentel import SpanType

@agentel.trace(span_type=SpanType.TOOL)
def lookup_order(order_id):
    return {"order_id": order_id, "status": "shipped"}

@agentel.trace(name="tls_agent", span_type=SpanType.AGENT)
def agent(question):
    with agentel.start_span("tls_llm", span_type=SpanType.CHAT_MODEL, inputs={"prompt": question}) as span:
        span.set_outputs("let me look that up")
    return lookup_order(42)

answer = agent("Where is my order 42?")
flushed = agentel.force_flush(8000)
print(json.dumps({"answer": answer, "trace_id": agentel.get_last_trace_id(), "flushed": flushed,
                  "stats": agentel.stats()}))
"""

# Fast exports (the timeout is in milliseconds per the OTel specification), a bounded exit.
FAST = {
    "OTEL_EXPORTER_OTLP_TIMEOUT": "2000",
    "OTEL_BSP_SCHEDULE_DELAY": "100",
    "AGENTEL_EXIT_TIMEOUT_MILLIS": "2000",
}
# Variables of this process that would change what the subprocess trusts or where it connects.
_SCRUBBED_PREFIXES = ("OTEL_", "AGENTEL_", "GRPC_", "SSL_CERT_")
_SCRUBBED = {"REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"}


# --- helpers ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Auth:
    """One auth header: its name, the value the receiver expects, and the secret part of that value."""

    name: str
    value: str
    secret: str

    def env(self) -> str:
        """The header as OTEL_EXPORTER_OTLP_HEADERS spells it (value URL-encoded per the spec)."""
        return f"{self.name}={quote(self.value, safe='')}"

    def with_secret(self, secret: str) -> Auth:
        """The same kind of header with another secret (a wrong credential)."""
        return Auth(self.name, self.value.replace(self.secret, secret), secret)


def new_auth(style: str) -> Auth:
    secret = "tok_" + secrets.token_hex(16)
    if style == "bearer":
        return Auth("authorization", f"Bearer {secret}", secret)
    return Auth("x-api-key", secret, secret)


def user_env(extra: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without tracing/TLS/proxy settings, plus ``extra``."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.upper().startswith(_SCRUBBED_PREFIXES) and key.upper() not in _SCRUBBED
    }
    env.update(PYTHONUNBUFFERED="1", PYTHONDONTWRITEBYTECODE="1", **FAST)
    env.update(extra)
    return env


def otlp_env(
    receiver: Receiver, *, ca: Optional[Path] = None, headers: Optional[str] = None, **more: str
) -> dict[str, str]:
    """What a user sets: endpoint, protocol, and optionally the CA file and headers."""
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint, "OTEL_EXPORTER_OTLP_PROTOCOL": receiver.protocol}
    if ca is not None:
        env["OTEL_EXPORTER_OTLP_CERTIFICATE"] = str(ca)
    if headers is not None:
        env["OTEL_EXPORTER_OTLP_HEADERS"] = headers
    env.update(more)
    return env


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def result(self) -> dict[str, Any]:
        """The JSON line the app printed last."""
        lines = [line for line in self.stdout.splitlines() if line.startswith("{")]
        assert lines, f"the app printed no result (exit {self.returncode}); stderr:\n{self.stderr}"
        return dict(json.loads(lines[-1]))

    def describe(self) -> str:
        return f"exit {self.returncode}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"


def run(args: list[str], env: Mapping[str, str]) -> Run:
    done = subprocess.run(
        [sys.executable, *args], env=user_env(env), capture_output=True, text=True, timeout=90, cwd="/"
    )
    return Run(done.returncode, done.stdout, done.stderr)


def run_app(env: Mapping[str, str]) -> Run:
    return run(["-c", APP], env)


def run_doctor(env: Mapping[str, str]) -> Run:
    return run(["-m", "agentel", "doctor"], env)


def assert_app_unaffected(app: Run) -> dict[str, Any]:
    """Exit 0, no traceback, the agent's answer printed; returns the printed result."""
    assert app.returncode == 0, app.describe()
    assert "Traceback" not in app.output, app.describe()
    result = app.result()
    assert result["answer"] == {"order_id": 42, "status": "shipped"}
    return result


def assert_secret_absent(run_: Run, *secret_values: str) -> None:
    for value in secret_values:
        for form in {value, quote(value, safe="")}:
            assert form not in run_.output, f"the secret {form!r} is printed:\n{run_.describe()}"


def assert_nothing_exported(result: dict[str, Any]) -> None:
    stats = result["stats"]
    assert stats["spans_exported"] == 0, stats
    assert stats["spans_dropped"] >= len(SPAN_NAMES), stats  # every span of the trace, counted
    assert stats["export_failures"] >= 1, stats
    assert stats["internal_errors"] == 0, stats


def assert_trace_arrived(receiver: Receiver, result: dict[str, Any]) -> None:
    """The app's trace, all of it and nothing else, at the receiver over TLS; nothing dropped."""
    stats = result["stats"]
    assert result["flushed"] is True, result
    assert stats["spans_exported"] >= len(SPAN_NAMES), stats
    assert stats["spans_dropped"] == 0, stats
    assert stats["export_failures"] == 0, stats
    spans = receiver.wait_for_spans(len(SPAN_NAMES))
    assert {span.name for span in spans} == SPAN_NAMES, spans
    assert len(spans) == len(SPAN_NAMES), spans
    trace_id = result["trace_id"]
    assert trace_id and {span.trace_id for span in spans} == {trace_id}, (trace_id, spans)
    by_name = {span.name: span for span in spans}
    root = by_name["tls_agent"]
    assert root.parent_span_id == ""
    assert by_name["tls_llm"].parent_span_id == root.span_id
    assert by_name["lookup_order"].parent_span_id == root.span_id
    security = {span.security for span in spans}
    assert security == {"ssl"} if receiver.protocol == "grpc" else all(s.startswith("TLSv1") for s in security), spans
    assert receiver.refused == []


# --- fixtures --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    """A fresh CA, a server certificate for 127.0.0.1/localhost and an unrelated CA (openssl CLI)."""
    return make_certs(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def receiver_factory(certs: Certs) -> Iterator[Callable[[str, Auth], Receiver]]:
    """``receiver_factory(protocol, auth)`` starts a TLS receiver expecting ``auth``; stopped after the test."""
    started: list[Receiver] = []

    def start(protocol: str, auth: Auth) -> Receiver:
        kind = GrpcTlsReceiver if protocol == "grpc" else HttpTlsReceiver
        receiver = kind(certs, auth.name, auth.value)
        started.append(receiver)
        receiver.start()
        assert tls_handshake_ok(receiver.port, certs.ca), "the receiver's TLS setup is broken"
        assert not tls_handshake_ok(receiver.port, certs.other_ca), "the wrong CA is trusted"
        return receiver

    yield start
    for receiver in started:
        receiver.stop()


# --- the app ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("style", ["bearer", "api-key"])
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_spans_arrive_over_tls_with_ca_and_auth_header(
    protocol: str, style: str, certs: Certs, receiver_factory: Callable[[str, Auth], Receiver]
) -> None:
    auth = new_auth(style)
    receiver = receiver_factory(protocol, auth)

    app = run_app(otlp_env(receiver, ca=certs.ca, headers=auth.env()))

    result = assert_app_unaffected(app)
    assert_trace_arrived(receiver, result)
    assert_secret_absent(app, auth.secret)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_wrong_header_is_refused_counted_and_never_printed(
    protocol: str, certs: Certs, receiver_factory: Callable[[str, Auth], Receiver]
) -> None:
    auth = new_auth("bearer")
    wrong = auth.with_secret("tok_" + secrets.token_hex(16))
    receiver = receiver_factory(protocol, auth)

    app = run_app(otlp_env(receiver, ca=certs.ca, headers=wrong.env()))

    result = assert_app_unaffected(app)
    assert_nothing_exported(result)
    assert receiver.spans == []
    assert receiver.refused and set(receiver.refused) == {wrong.value}, receiver.refused  # sent over TLS, refused
    assert HEADERS_HINT in app.stderr, app.describe()  # the failure is logged, with what to do
    assert_secret_absent(app, wrong.secret, auth.secret)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_untrusted_self_signed_certificate_fails_counted_and_sends_no_header(
    protocol: str, receiver_factory: Callable[[str, Auth], Receiver]
) -> None:
    auth = new_auth("api-key")
    receiver = receiver_factory(protocol, auth)

    app = run_app(otlp_env(receiver, headers=auth.env()))  # no OTEL_EXPORTER_OTLP_CERTIFICATE

    result = assert_app_unaffected(app)
    assert_nothing_exported(result)
    assert receiver.spans == []
    assert receiver.requests == 0, "a request (with the API key) reached a server whose certificate is untrusted"
    if protocol == "http/protobuf":
        assert receiver.handshake_failures, "the client never attempted a TLS handshake"
    assert CERTIFICATE_HINT in app.stderr, app.describe()  # logged, with what to do
    assert_secret_absent(app, auth.secret)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_signal_specific_certificate_and_headers_win(
    protocol: str, certs: Certs, receiver_factory: Callable[[str, Auth], Receiver]
) -> None:
    auth = new_auth("bearer")
    wrong = auth.with_secret("tok_" + secrets.token_hex(16))
    receiver = receiver_factory(protocol, auth)
    env = otlp_env(
        receiver,
        ca=certs.other_ca,  # generic: a CA that did not sign the server's certificate
        headers=wrong.env(),  # generic: a wrong credential
        OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE=str(certs.ca),
        OTEL_EXPORTER_OTLP_TRACES_HEADERS=auth.env(),
    )

    app = run_app(env)

    result = assert_app_unaffected(app)
    assert_trace_arrived(receiver, result)
    assert_secret_absent(app, auth.secret, wrong.secret)


def test_malformed_headers_variable_is_reported_without_its_secret(
    certs: Certs, receiver_factory: Callable[[str, Auth], Receiver]
) -> None:
    """A common typo (``:`` instead of ``=``) makes the variable invalid: agentel warns once naming it,
    falls back to no headers — and must not print the credential it carries into the logs."""
    auth = new_auth("bearer")
    receiver = receiver_factory("grpc", auth)

    app = run_app(otlp_env(receiver, ca=certs.ca, headers=f"authorization:Bearer {auth.secret}"))

    result = assert_app_unaffected(app)
    assert "OTEL_EXPORTER_OTLP_HEADERS" in app.stderr, app.describe()  # the warning names the variable
    assert_nothing_exported(result)  # sent without headers: refused
    assert receiver.refused == [None] * len(receiver.refused) and receiver.refused
    assert_secret_absent(app, auth.secret)


# --- agentel doctor --------------------------------------------------------------------------------


def _line(report: Run, label: str) -> str:
    lines = [line for line in report.stdout.splitlines() if line.startswith(label)]
    assert len(lines) == 1, f"no single {label!r} line:\n{report.describe()}"
    return lines[0]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_doctor_masks_headers_and_passes_the_tls_check(
    protocol: str, certs: Certs, receiver_factory: Callable[[str, Auth], Receiver]
) -> None:
    auth = new_auth("bearer")
    receiver = receiver_factory(protocol, auth)

    report = run_doctor(otlp_env(receiver, ca=certs.ca, headers=auth.env()))

    assert_secret_absent(report, auth.secret)
    assert _line(report, "OTLP headers:") == f"OTLP headers:      authorization=****({len(auth.value)} chars)"
    assert str(certs.ca) in _line(report, "OTLP timeout:")
    assert _line(report, "connection check:").startswith("connection check:  OK"), report.describe()
    assert report.returncode == 0, report.describe()
    assert "Traceback" not in report.output
    assert receiver.refused == []


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_doctor_reports_an_untrusted_certificate(
    protocol: str, receiver_factory: Callable[[str, Auth], Receiver]
) -> None:
    """Without the CA every export fails (previous tests): doctor must say so, not report OK."""
    auth = new_auth("api-key")
    receiver = receiver_factory(protocol, auth)

    report = run_doctor(otlp_env(receiver, headers=auth.env()))

    assert_secret_absent(report, auth.secret)
    assert _line(report, "OTLP headers:") == f"OTLP headers:      x-api-key=****({len(auth.value)} chars)"
    assert _line(report, "connection check:").startswith("connection check:  FAILED"), report.describe()
    assert report.returncode == 1, report.describe()
    assert "Traceback" not in report.output
    assert receiver.requests == 0


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_doctor_wrong_header_is_masked_and_refused_over_http(
    protocol: str, certs: Certs, receiver_factory: Callable[[str, Auth], Receiver]
) -> None:
    """Masked for both protocols; OTLP/HTTP's check posts an empty export request, which checks the
    credentials (README): refused → exit 1. (The gRPC check is documented as a connection check only.)"""
    auth = new_auth("api-key")
    wrong = auth.with_secret("tok_" + secrets.token_hex(16))
    receiver = receiver_factory(protocol, auth)

    report = run_doctor(otlp_env(receiver, ca=certs.ca, headers=wrong.env()))

    assert_secret_absent(report, wrong.secret, auth.secret)
    assert _line(report, "OTLP headers:") == f"OTLP headers:      x-api-key=****({len(wrong.value)} chars)"
    assert "Traceback" not in report.output
    if protocol == "http/protobuf":
        assert "refused the credentials" in _line(report, "connection check:"), report.describe()
        assert report.returncode == 1, report.describe()
        assert receiver.refused == [wrong.value]
