"""``agentel doctor`` and ``agentel send-test``: the effective configuration, and whether spans get out.

The configuration is read the way the SDK and the OTLP exporters read it (signal-specific variables
win, OTel defaults otherwise); header values are masked. The reachability check opens a TCP connection
to the endpoint and, for OTLP/HTTP, posts an empty export request (which also checks the headers).
"""

from __future__ import annotations

import os
import socket
import sys
import time
from dataclasses import dataclass
from typing import Any, Optional, TextIO
from urllib.parse import unquote, urlparse

from agentel._conventions.cost import Prices
from agentel._export import otel_sdk
from agentel._runtime.exporters import exporter_names as _exporter_names
from agentel._runtime.provider import RUNTIME
from agentel._runtime.settings import differences
from agentel.version import __version__

_DEFAULT_ENDPOINT = {"grpc": "http://localhost:4317", "http/protobuf": "http://localhost:4318"}


@dataclass(frozen=True)
class OtlpTarget:
    """Where the OTLP exporter sends spans, as configured by the environment."""

    protocol: str
    endpoint: str
    source: str
    headers: dict[str, str]
    timeout_ms: float
    compression: str
    insecure: Optional[str]
    certificate: Optional[str]
    client_key: Optional[str] = None
    client_certificate: Optional[str] = None


def _first(*names: str) -> tuple[Optional[str], Optional[str]]:
    for name in names:
        value = os.environ.get(name, "").strip()
        if value:
            return value, name
    return None, None


def otlp_target() -> OtlpTarget:
    """The OTLP destination from ``OTEL_EXPORTER_OTLP_*`` (traces-specific first)."""
    protocol, _ = _first("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL")
    protocol = protocol or "grpc"
    endpoint, source = _first("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    if endpoint is None:
        endpoint, source = _first("OTEL_EXPORTER_OTLP_ENDPOINT")
        if endpoint is not None and protocol == "http/protobuf":
            endpoint = endpoint.rstrip("/") + "/v1/traces"
    if endpoint is None:
        endpoint, source = _DEFAULT_ENDPOINT.get(protocol, _DEFAULT_ENDPOINT["grpc"]), "default"
        if protocol == "http/protobuf":
            endpoint += "/v1/traces"
    raw_headers, _ = _first("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "OTEL_EXPORTER_OTLP_HEADERS")
    headers = {}
    for pair in (raw_headers or "").split(","):
        key, sep, value = pair.partition("=")
        if sep and key.strip():
            headers[unquote(key).strip().lower()] = unquote(value).strip()
    timeout, _ = _first("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT")
    compression, _ = _first("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "OTEL_EXPORTER_OTLP_COMPRESSION")
    insecure, _ = _first("OTEL_EXPORTER_OTLP_TRACES_INSECURE", "OTEL_EXPORTER_OTLP_INSECURE")
    certificate, _ = _first("OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", "OTEL_EXPORTER_OTLP_CERTIFICATE")
    client_key, _ = _first("OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY", "OTEL_EXPORTER_OTLP_CLIENT_KEY")
    client_certificate, _ = _first(
        "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE", "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE"
    )
    return OtlpTarget(
        protocol=protocol,
        endpoint=endpoint,
        source=source or "default",
        headers=headers,
        timeout_ms=float(timeout) if timeout else 10000.0,
        compression=compression or "none",
        insecure=insecure,
        certificate=certificate,
        client_key=client_key,
        client_certificate=client_certificate,
    )


def mask(value: str) -> str:
    """A header value with everything but its length hidden."""
    return f"****({len(value)} chars)" if value else ""


def check_reachable(target: OtlpTarget, timeout_s: float = 3.0) -> tuple[bool, str]:
    """Whether the collector accepts an (empty) export request, with the configured TLS and headers."""
    url = target.endpoint if "://" in target.endpoint else f"http://{target.endpoint}"
    parsed = urlparse(url)
    host = parsed.hostname or "localhost"
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    started = time.perf_counter()
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            pass
    except OSError as exc:
        return False, f"cannot connect to {host}:{port}: {exc.strerror or exc}"
    connect_ms = (time.perf_counter() - started) * 1000
    if target.protocol == "http/protobuf":
        return _check_http(url, target, timeout_s)
    return _check_grpc(target, host, port, parsed.scheme, timeout_s, connect_ms)


def _read(path: Optional[str]) -> Optional[bytes]:
    if not path:
        return None
    with open(path, "rb") as handle:
        return handle.read()


def _check_http(url: str, target: OtlpTarget, timeout_s: float) -> tuple[bool, str]:
    import ssl  # here, not at the top: `import agentel` imports this module (agentel.doctor), and
    import urllib.error  # urllib.request with http.client and ssl costs ~12 ms that only a check needs
    import urllib.request

    context = None
    if url.startswith("https://"):
        context = ssl.create_default_context(cafile=target.certificate or None)
        if target.client_certificate and target.client_key:
            context.load_cert_chain(target.client_certificate, target.client_key)
    request = urllib.request.Request(
        url, data=b"", method="POST", headers={"Content-Type": "application/x-protobuf", **target.headers}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_s, context=context) as response:  # noqa: S310
            return True, f"OTLP/HTTP endpoint answered {response.status} to an empty export request"
    except urllib.error.HTTPError as exc:
        if exc.code in (401, 403):
            return False, f"the endpoint refused the credentials (HTTP {exc.code}): check OTEL_EXPORTER_OTLP_HEADERS"
        if exc.code == 404:
            return False, f"HTTP 404 at {url}: is this the OTLP/HTTP traces path (…/v1/traces)?"
        return True, f"endpoint reachable (HTTP {exc.code} to an empty export request)"
    except OSError as exc:
        reason = getattr(exc, "reason", exc)
        if "CERTIFICATE_VERIFY_FAILED" in str(reason):
            return (
                False,
                f"TLS: the collector's certificate is not trusted ({reason}): check OTEL_EXPORTER_OTLP_CERTIFICATE",
            )
        return False, f"HTTP request to {url} failed: {reason}"


def _check_grpc(
    target: OtlpTarget, host: str, port: int, scheme: str, timeout_s: float, connect_ms: float
) -> tuple[bool, str]:
    import grpc
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2_grpc import TraceServiceStub

    insecure = scheme == "http" or (scheme not in ("http", "https") and (target.insecure or "").lower() == "true")
    address = f"{host}:{port}"
    if insecure:
        channel = grpc.insecure_channel(address)
    else:
        credentials = grpc.ssl_channel_credentials(
            root_certificates=_read(target.certificate),
            private_key=_read(target.client_key),
            certificate_chain=_read(target.client_certificate),
        )
        channel = grpc.secure_channel(address, credentials)
    try:
        TraceServiceStub(channel).Export(  # type: ignore[no-untyped-call]
            ExportTraceServiceRequest(), metadata=list(target.headers.items()), timeout=timeout_s
        )
        return True, (
            f"OTLP/gRPC export accepted by {address}{'' if insecure else ' over TLS'} (TCP connect {connect_ms:.1f} ms)"
        )
    except grpc.RpcError as exc:
        code = exc.code() if hasattr(exc, "code") else None
        details = exc.details() if hasattr(exc, "details") else str(exc)
        name = getattr(code, "name", str(code))
        if name in ("UNAUTHENTICATED", "PERMISSION_DENIED"):
            return False, f"the collector refused the credentials ({name}): check OTEL_EXPORTER_OTLP_HEADERS"
        if name == "UNAVAILABLE":
            hint = (
                "check OTEL_EXPORTER_OTLP_CERTIFICATE"
                if "SSL" in str(details) or "CERTIFICATE" in str(details) or "handshake" in str(details).lower()
                else "is it an OTLP/gRPC endpoint, with the right scheme (http vs https)?"
            )
            return False, f"gRPC export failed ({name}: {details}): {hint}"
        return True, f"endpoint reachable; an empty export answered {name}"
    finally:
        channel.close()


_NOT_COUNTS = ("destination", "enabled", "metrics_destination")


def _metrics_summary(settings: Any) -> str:
    """GenAI metrics: on/off, the exporters agentel would use, and where cost data comes from."""
    from agentel._export.metrics import METRICS, metrics_exporter_names

    if not settings.metrics:
        return "off (AGENTEL_METRICS=false)"
    names = ", ".join(metrics_exporter_names()) or "no exporter (OTEL_METRICS_EXPORTER unset): nothing recorded"
    prices = Prices(settings.prices)  # what the state in effect was built from
    if not prices.available:
        cost = "no price data (install agentel[prices] or give prices)"
    else:
        sources = [f"your prices for {len(prices.user)} model(s)"] if prices.user else []
        sources += ["genai-prices data"] if prices.library_installed else []
        cost = " + ".join(sources)
    return f"{names} · destination: {METRICS.destination} · cost from {cost}"


class DoctorReport:
    """What ``agentel doctor`` prints: ``str(report)`` is the text, ``report.ok`` the verdict.

    Example (log it at start-up)::

        report = agentel.doctor()
        logging.getLogger("app").info("%s", report)
        assert report.ok
    """

    def __init__(self, lines: list[str], ok: bool) -> None:
        self.lines = lines
        self.ok = ok

    def __str__(self) -> str:
        return "\n".join(self.lines) + "\n"

    def __repr__(self) -> str:
        return f"<agentel.DoctorReport ok={self.ok}: {len(self.lines)} lines>"

    def __bool__(self) -> bool:
        return self.ok


def _provider_lines(counts: dict[str, Any]) -> list[str]:
    from agentel._runtime.provider import LATE_PROVIDER_HINT, NOT_GLOBAL_HINT

    lines = [f"provider:          {counts['provider']}"]
    lines.append(f"service.name:      {counts['service_name']}")
    processors = counts["processors"]
    lines.append(f"processors:        {', '.join(processors) if processors else 'none'}")
    own = RUNTIME.active_provider() is not None and RUNTIME.active_provider() is RUNTIME._own_provider
    if own and not RUNTIME.own_provider_is_global():
        lines.append(f"note:              {NOT_GLOBAL_HINT}")
    if RUNTIME.refused_provider:
        lines.append(f"note:              {LATE_PROVIDER_HINT}")
    return lines


def build_report() -> DoctorReport:
    """The effective configuration, the provider in use, and whether the collector can be reached."""
    from opentelemetry.version import __version__ as otel_version

    from agentel._runtime.lifecycle import stats

    settings = RUNTIME.settings
    lines: list[str] = []
    out = lines.append
    out(f"agentel {__version__} · opentelemetry-sdk {otel_version} · python {sys.version.split()[0]}")
    if otel_sdk.UNAVAILABLE is not None:
        enabled = f"NO (the OpenTelemetry SDK cannot be imported: {otel_sdk.UNAVAILABLE})"
    else:
        enabled = "yes" if RUNTIME.enabled else "NO (AGENTEL_ENABLED=false or OTEL_SDK_DISABLED=true)"
    out(f"tracing enabled:   {enabled}")
    counts = stats()
    lines.extend(_provider_lines(counts))
    application = RUNTIME.active_provider() is not None and not RUNTIME.exports_visible()
    if application:
        names: list[str] = []
        out("exporters:         the application's (see processors); OTEL_* exporter variables are its own")
    else:
        names = _exporter_names() if settings.exporters is None else ["(given to configure())"]
        out(f"exporters:         {', '.join(names) or 'none configured: traces are printed to stderr as a tree'}")
    sampler = os.environ.get("OTEL_TRACES_SAMPLER", "parentbased_always_on")
    sampler_arg = os.environ.get("OTEL_TRACES_SAMPLER_ARG")
    out(f"sampler:           {sampler}{f' ({sampler_arg})' if sampler_arg else ''}")
    out(
        f"content capture:   {'on' if settings.capture_content else 'off'} · payload budget "
        f"{settings.max_payload_bytes} bytes · conventions {','.join(sorted(settings.semconv))}"
    )
    if settings.traces_file:
        out(f"traces file:       {settings.traces_file}")
    out(f"settings:          {', '.join(differences(settings)) or 'all defaults'}")
    out(f"metrics:           {_metrics_summary(settings)}")
    wants_otlp = any(name.startswith("otlp") for name in names)
    ok = otel_sdk.UNAVAILABLE is None
    if wants_otlp:
        target = otlp_target()
        out(f"OTLP endpoint:     {target.endpoint} ({target.protocol}; from {target.source})")
        shown = ", ".join(f"{key}={mask(value)}" for key, value in target.headers.items()) or "none"
        out(f"OTLP headers:      {shown}")
        out(
            f"OTLP timeout:      {target.timeout_ms:g} ms · compression {target.compression}"
            f" · certificate {target.certificate or 'system roots'}"
        )
        reachable, detail = check_reachable(target)
        out(f"connection check:  {'OK' if reachable else 'FAILED'}: {detail}")
        ok = ok and reachable
    hidden = (*_NOT_COUNTS, "provider", "service_name", "processors")
    out("stats:             " + ", ".join(f"{key}={counts[key]}" for key in counts if key not in hidden))
    if ok and wants_otlp:
        out("verdict:           OK — the collector is reachable; spans can leave this process")
    elif ok and application:
        out("verdict:           OK — spans go to the application's provider and its exporters")
    elif ok:
        out("verdict:           OK — no collector configured; set OTEL_EXPORTER_OTLP_ENDPOINT to send spans")
    elif otel_sdk.UNAVAILABLE is not None:
        out("verdict:           PROBLEM — nothing is traced: the OpenTelemetry SDK cannot be imported (see above)")
    else:
        out("verdict:           PROBLEM — spans would be dropped; fix the endpoint/headers above")
    return DoctorReport(lines, ok)


def doctor() -> DoctorReport:
    """The report ``agentel doctor`` prints, as an object: ``str(report)`` is the text, ``report.ok``
    the verdict (``False`` when the configured collector cannot be reached). With an OTLP exporter
    configured it checks the collector (a TCP connect and an empty export, each bounded to 3 s), so
    call it at start-up or from a health endpoint, not on a request's hot path.

    Example: ``logging.getLogger(__name__).info("%s", agentel.doctor())`` at a service's start-up.
    """
    return build_report()


def print_report(stream: TextIO = sys.stdout) -> int:
    """Print the report (``agentel doctor``); 0 when spans can get out."""
    report = build_report()
    stream.write(str(report))
    return 0 if report.ok else 1


def send_test(stream: TextIO = sys.stdout) -> int:
    """Send a small agent trace through the configured exporters; print its trace id."""
    from agentel._conventions.span_types import SpanType
    from agentel._runtime.lifecycle import force_flush, stats
    from agentel._tracing.fluent import get_last_trace_id, start_span

    before = stats()
    with start_span("agentel send-test", span_type=SpanType.AGENT, inputs={"question": "ping"}) as root:
        with start_span("test llm call", span_type=SpanType.CHAT_MODEL, inputs={"prompt": "ping"}) as llm:
            llm.set_outputs("pong")
        with start_span("test tool call", span_type=SpanType.TOOL, inputs={"x": 1}) as tool:
            tool.set_outputs(2)
        root.set_outputs({"answer": "pong"})
    flushed = force_flush(10000)
    after = stats()
    failures = after.get("export_failures", 0) - before.get("export_failures", 0)
    stream.write(f"trace id: {get_last_trace_id()}\n")
    stream.write(f"sent to:  {after['destination']}\n")
    if not flushed or failures:
        stream.write("result:   FAILED — the exporter could not deliver the spans (see the warning above)\n")
        return 1
    stream.write("result:   OK — 3 spans exported; search the trace id in your tracing UI\n")
    return 0
