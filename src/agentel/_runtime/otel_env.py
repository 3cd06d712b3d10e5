"""The standard ``OTEL_*`` variables agentel's own provider is built from: checked, corrected, never changed.

The OpenTelemetry SDK and the OTLP exporters read these variables themselves, and some malformed values
(or combinations, such as ``OTEL_BSP_MAX_QUEUE_SIZE`` below the batch size) make them raise. agentel
checks each one; where a value is malformed it logs one warning naming the variable and passes the
fallback **explicitly** to the SDK object it builds (an explicit argument wins over the environment).
``os.environ`` is never modified: the application's own OTel setup and its child processes see exactly
what was set. Values the SDK accepts (a resource list with one bad item, a ``unix://`` gRPC endpoint)
are left to it. This module must not import the OpenTelemetry SDK (``check_all`` runs at import).
"""

from __future__ import annotations

import logging
import math
import os
from typing import Any, Callable, Optional
from urllib.parse import unquote, urlparse

from agentel._internal_errors import warn_once

logger = logging.getLogger("agentel")

GRPC = "grpc"
HTTP = "http/protobuf"
DEFAULT_GRPC_ENDPOINT = "http://localhost:4317"
DEFAULT_HTTP_ENDPOINT = "http://localhost:4318"
DEFAULT_TIMEOUT_MILLIS = 10000.0
_BSP_DEFAULTS = {
    "OTEL_BSP_MAX_QUEUE_SIZE": 2048,
    "OTEL_BSP_SCHEDULE_DELAY": 5000,
    "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": 512,
    "OTEL_BSP_EXPORT_TIMEOUT": 30000,
}
# variable -> SpanLimits keyword (count limits default to 128; length limits to "no limit")
SPAN_LIMITS = {
    "OTEL_ATTRIBUTE_COUNT_LIMIT": "max_attributes",
    "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT": "max_span_attributes",
    "OTEL_SPAN_EVENT_COUNT_LIMIT": "max_events",
    "OTEL_SPAN_LINK_COUNT_LIMIT": "max_links",
    "OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT": "max_event_attributes",
    "OTEL_LINK_ATTRIBUTE_COUNT_LIMIT": "max_link_attributes",
    "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT": "max_attribute_length",
    "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT": "max_span_attribute_length",
}
SAMPLERS = (
    "always_on",
    "always_off",
    "traceidratio",
    "parentbased_always_on",
    "parentbased_always_off",
    "parentbased_traceidratio",
)
_KNOWN_PROPAGATORS = ("tracecontext", "baggage", "b3", "b3multi", "jaeger", "xray", "ottrace", "none")
_KNOWN_EXPORTERS = ("otlp", "otlp_proto_grpc", "otlp_proto_http", "console", "none")
_GRPC_TARGET_SCHEMES = ("unix", "unix-abstract", "dns", "ipv4", "ipv6", "vsock")


def _raw(name: str) -> Optional[str]:
    value = os.environ.get(name)
    return value if value is not None and value.strip() else None


def _warn(name: str, raw: str, expected: str, fallback: str) -> None:
    shown = f"<{len(raw)} characters, not shown: it may hold credentials>" if name.endswith("HEADERS") else repr(raw)
    warn_once(
        ("otel", name, raw),
        "agentel: ignoring %s=%s: expected %s; using the default (%s)",
        name,
        shown,
        expected,
        fallback,
    )


def _int_var(name: str, minimum: int, default: Any, fallback_text: str) -> Any:
    """The variable as an int >= minimum, else ``default`` (one warning); unset gives ``default``."""
    raw = _raw(name)
    if raw is None:
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        value = None
    if value is None or value < minimum:
        _warn(name, raw, "a non-negative integer" if minimum == 0 else f"an integer >= {minimum}", fallback_text)
        return default
    return value


# -- batch span processor and span limits


# agentel's own batch processors queue twice the SDK's default (2048): an application producing spans
# in bursts (or at 10 000 spans/s for a few seconds) is not cut off while the exporter catches up. The
# OTEL_BSP_* variables win when set (bench case 7; README "Configuration").
QUEUE_SIZE = 4096


def batch_options() -> dict[str, int]:
    """Keyword arguments for every ``BatchSpanProcessor`` agentel builds (the SDK then reads no env)."""
    queue = _int_var("OTEL_BSP_MAX_QUEUE_SIZE", 1, QUEUE_SIZE, str(QUEUE_SIZE))
    delay = _int_var("OTEL_BSP_SCHEDULE_DELAY", 1, 5000, "5000")
    batch = _int_var("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", 1, 512, "512")
    timeout = _int_var("OTEL_BSP_EXPORT_TIMEOUT", 0, 30000, "30000")
    if batch > queue:
        warn_once(
            ("otel", "bsp-batch>queue", batch, queue),
            "agentel: OTEL_BSP_MAX_EXPORT_BATCH_SIZE=%d%s is larger than OTEL_BSP_MAX_QUEUE_SIZE=%d, which the "
            "OpenTelemetry SDK rejects; using a batch size of %d",
            batch,
            "" if _raw("OTEL_BSP_MAX_EXPORT_BATCH_SIZE") else " (the default)",
            queue,
            queue,
        )
        batch = queue
    return {
        "max_queue_size": queue,
        "schedule_delay_millis": delay,
        "max_export_batch_size": batch,
        "export_timeout_millis": timeout,
    }


UNSET_LIMIT = -1  # SpanLimits.UNSET: no limit


def span_limit_overrides() -> dict[str, int]:
    """``SpanLimits`` keywords for the malformed limit variables only (the SDK would raise on them)."""
    out: dict[str, int] = {}
    for name, keyword in SPAN_LIMITS.items():
        raw = _raw(name)
        if raw is None:
            continue
        is_length = keyword.endswith("length")
        default = UNSET_LIMIT if is_length else 128
        if _int_var(name, 0, None, "no limit" if is_length else "128") is None:
            out[keyword] = default
    return out


def sampler_fallback() -> Optional[tuple[str, Optional[float]]]:
    """``(sampler name, ratio)`` to build explicitly when ``OTEL_TRACES_SAMPLER[_ARG]`` is malformed, else None."""
    raw = _raw("OTEL_TRACES_SAMPLER")
    name = (raw or "parentbased_always_on").strip().lower()
    if raw is not None and name not in SAMPLERS and not _has_entry_point("opentelemetry_traces_sampler", name):
        _warn("OTEL_TRACES_SAMPLER", raw, "one of " + ", ".join(SAMPLERS), "parentbased_always_on")
        return ("parentbased_always_on", None)
    arg = _raw("OTEL_TRACES_SAMPLER_ARG")
    if arg is not None and name.endswith("traceidratio"):
        try:
            ratio: Optional[float] = float(arg.strip())
        except ValueError:
            ratio = None
        if ratio is None or not 0.0 <= ratio <= 1.0:
            _warn("OTEL_TRACES_SAMPLER_ARG", arg, "a number between 0 and 1", "1.0")
            return (name, 1.0)
    return None


# -- exporters


def exporter_names() -> Optional[list[str]]:
    """``OTEL_TRACES_EXPORTER`` as a list of known names (unknown ones dropped, with a warning); None if unset."""
    return _name_list("OTEL_TRACES_EXPORTER", _KNOWN_EXPORTERS, "opentelemetry_traces_exporter", "no exporter")


def otlp_protocol() -> str:
    """``OTEL_EXPORTER_OTLP_TRACES_PROTOCOL``, else ``OTEL_EXPORTER_OTLP_PROTOCOL``, else grpc."""
    for name in ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"):
        raw = _raw(name)
        if raw is None:
            continue
        value = raw.strip().lower()
        if value in (GRPC, HTTP):
            return value
        fallback = "OTEL_EXPORTER_OTLP_PROTOCOL" if "TRACES" in name else GRPC
        _warn(name, raw, f"{GRPC} or {HTTP}", fallback)
    return GRPC


def _endpoint_problem(value: str, protocol: str) -> Optional[str]:
    expected = "a URL such as http://localhost:4317" if protocol == GRPC else "a URL such as http://localhost:4318"
    text = value.strip()
    if "://" not in text:
        if protocol != GRPC:
            return expected
        host, sep, port = text.rpartition(":")  # gRPC also takes host:port
        return None if sep and host and port.isdigit() and 0 < int(port) < 65536 else expected
    try:
        parsed = urlparse(text)
        if parsed.scheme in ("http", "https"):
            if not parsed.hostname:
                return expected
            parsed.port  # noqa: B018 - raises on a malformed port
            return None
    except ValueError:  # e.g. "Invalid IPv6 URL"
        return expected
    if protocol == GRPC and parsed.scheme in _GRPC_TARGET_SCHEMES:
        return None
    return expected


def otlp_endpoint_override(protocol: str) -> Optional[str]:
    """The endpoint to pass explicitly when the one the exporter would read is malformed, else None.

    Order, as the specification says: the traces variable, then the generic one, then the default.
    """
    traces = _raw("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    generic = _raw("OTEL_EXPORTER_OTLP_ENDPOINT")
    default = DEFAULT_GRPC_ENDPOINT if protocol == GRPC else DEFAULT_HTTP_ENDPOINT + "/v1/traces"
    generic_ok = generic is not None and _endpoint_problem(generic, protocol) is None
    if generic is not None and not generic_ok:
        _warn("OTEL_EXPORTER_OTLP_ENDPOINT", generic, str(_endpoint_problem(generic, protocol)), default)
    if traces is not None:
        problem = _endpoint_problem(traces, protocol)
        if problem is None:
            return None
        if generic_ok:
            assert generic is not None
            fallback = generic.strip() if protocol == GRPC else generic.strip().rstrip("/") + "/v1/traces"
        else:
            fallback = default
        _warn("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", traces, problem, fallback)
        return fallback
    if generic is not None and not generic_ok:
        return default
    return None


def otlp_timeout_seconds() -> float:
    """``OTEL_EXPORTER_OTLP_[TRACES_]TIMEOUT`` in seconds (the specification gives milliseconds)."""
    for name in ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT"):
        raw = _raw(name)
        if raw is None:
            continue
        try:
            value = float(raw.strip())
        except ValueError:
            value = -1.0
        if value >= 0 and math.isfinite(value):
            return value / 1000.0
        fallback = "OTEL_EXPORTER_OTLP_TIMEOUT" if "TRACES" in name else "10000"
        _warn(name, raw, "a non-negative number of milliseconds", fallback)
    return DEFAULT_TIMEOUT_MILLIS / 1000.0


def otlp_compression_override() -> Optional[str]:
    """``"gzip"``/``"none"`` to pass explicitly when a compression variable is malformed, else None."""
    chosen: Optional[str] = None
    malformed = False
    for name in ("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "OTEL_EXPORTER_OTLP_COMPRESSION"):
        raw = _raw(name)
        if raw is None:
            continue
        value = raw.strip().lower()
        if value in ("gzip", "none", "deflate"):
            if chosen is None:
                chosen = value
            continue
        malformed = True
        _warn(name, raw, "gzip or none", "OTEL_EXPORTER_OTLP_COMPRESSION" if "TRACES" in name else "none")
    if not malformed:
        return None
    return chosen or "none"


def headers_problem(name: str) -> Optional[str]:
    """What is wrong with a ``*_HEADERS`` value (the exporters keep its valid pairs), or None."""
    raw = _raw(name)
    if raw is None:
        return None
    for pair in raw.split(","):
        if not pair.strip():
            continue
        key, sep, _ = pair.partition("=")
        if not sep or not unquote(key).strip():
            return "a comma list of key=value pairs (values URL-encoded)"
    return None


def missing_files() -> list[str]:
    """Certificate/key variables whose file does not exist (each warned about once)."""
    missing = []
    for name, fallback in (
        ("OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", "OTEL_EXPORTER_OTLP_CERTIFICATE"),
        ("OTEL_EXPORTER_OTLP_CERTIFICATE", "the system's trusted roots"),
        ("OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY", "OTEL_EXPORTER_OTLP_CLIENT_KEY"),
        ("OTEL_EXPORTER_OTLP_CLIENT_KEY", "no client key"),
        ("OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE", "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE"),
        ("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", "no client certificate"),
    ):
        raw = _raw(name)
        if raw is not None and not os.path.isfile(raw.strip()):
            _warn(name, raw, "the path of a readable PEM file", fallback)
            missing.append(name)
    return missing


def readable_file(*names: str) -> Optional[str]:
    """The first of ``names`` set to an existing file (signal-specific first)."""
    for name in names:
        raw = _raw(name)
        if raw is not None and os.path.isfile(raw.strip()):
            return raw.strip()
    return None


# -- propagators


def propagator_names() -> Optional[list[str]]:
    """None when ``OTEL_PROPAGATORS`` is unset or valid (the SDK's global propagator is used as is);
    else the valid names in it (unknown and empty entries dropped, with one warning)."""
    raw = _raw("OTEL_PROPAGATORS")
    if raw is None:
        return None
    parts = [part.strip() for part in raw.split(",")]
    if all(part and _known_name(part, _KNOWN_PROPAGATORS, "opentelemetry_propagator") for part in parts):
        return None
    return _name_list("OTEL_PROPAGATORS", _KNOWN_PROPAGATORS, "opentelemetry_propagator", "tracecontext,baggage")


def _known_name(name: str, known: tuple[str, ...], group: str) -> bool:
    return name.lower() in known or _has_entry_point(group, name)


def _name_list(variable: str, known: tuple[str, ...], group: str, default: str) -> Optional[list[str]]:
    raw = _raw(variable)
    if raw is None:
        return None
    parts = [part.strip() for part in raw.split(",")]
    kept = [part for part in parts if part and _known_name(part, known, group)]
    unknown = [part for part in parts if part and part not in kept]
    if unknown or len(kept) != len(parts):
        listed = f" (unknown: {', '.join(unknown)})" if unknown else " (an empty entry)"
        _warn(variable, raw, f"a comma list of names from {', '.join(known)}{listed}", ",".join(kept) or default)
    return kept


def _has_entry_point(group: str, name: str) -> bool:
    try:
        from importlib.metadata import entry_points

        return any(ep.name == name for ep in entry_points(group=group))
    except Exception:  # noqa: BLE001 - Python 3.9's entry_points() has no group=; be permissive
        return False


_CHECKS: tuple[Callable[[], Any], ...] = (
    batch_options,
    span_limit_overrides,
    sampler_fallback,
    exporter_names,
    otlp_protocol,
    lambda: otlp_endpoint_override(otlp_protocol()),
    otlp_timeout_seconds,
    otlp_compression_override,
    missing_files,
    propagator_names,
)


def check_all() -> None:
    """Check every variable (one warning per malformed value); reads only, never raises."""
    for check in _CHECKS:
        try:
            check()
        except Exception as exc:  # noqa: BLE001 - a check of the user's variables, logged at debug only: not counted
            logger.debug("agentel: checking the environment failed: %s", exc)
    for name in ("OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TRACES_HEADERS"):
        problem = headers_problem(name)
        raw = _raw(name)
        if problem is not None and raw is not None:
            _warn(name, raw, problem, "the valid pairs in it")
            mask_header_values_in_sdk_logs()
    for name in ("OTEL_EXPORTER_OTLP_INSECURE", "OTEL_EXPORTER_OTLP_TRACES_INSECURE"):
        raw = _raw(name)
        if raw is not None and raw.strip().lower() not in ("true", "false"):
            _warn(name, raw, "true or false", "false")
    raw = _raw("OTEL_RESOURCE_ATTRIBUTES")
    if raw is not None and any(pair.strip() and "=" not in pair for pair in raw.split(",")):
        _warn("OTEL_RESOURCE_ATTRIBUTES", raw, "a comma list of key=value pairs", "the valid pairs in it")


class _MaskHeaderValues(logging.Filter):
    """The SDK's header parser logs a malformed ``*_HEADERS`` item verbatim — often ``authorization:Bearer
    <token>``. This filter (on that one logger) replaces the item by its length; the message stays."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args and "Header" in str(record.msg):
            record.args = tuple(
                f"<{len(arg)} characters, not shown: it may hold credentials>" if isinstance(arg, str) else arg
                for arg in record.args
            )
        return True


_masking: list[logging.Filter] = []


def mask_header_values_in_sdk_logs() -> None:
    """Install ``_MaskHeaderValues`` once on ``opentelemetry.util.re`` (where header parsing logs)."""
    if not _masking:
        _masking.append(_MaskHeaderValues())
        logging.getLogger("opentelemetry.util.re").addFilter(_masking[0])
