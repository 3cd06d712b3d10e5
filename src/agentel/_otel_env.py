"""Guarding the standard ``OTEL_*`` variables: a malformed value is reported once and removed.

The OpenTelemetry SDK and OTLP exporters read these variables themselves (agentel reuses their
parsing), but some malformed values make them raise — even at import (``OTEL_PROPAGATORS=bogus``,
``OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT=-1``). Before the SDK is imported, and again before agentel builds
its provider, each variable is checked; a malformed one logs one warning naming it and the default it
falls back to, and is removed from ``os.environ`` so that every reader gets that default.
This module must not import the OpenTelemetry SDK.
"""

from __future__ import annotations

import logging
import os
from typing import Callable, Optional
from urllib.parse import unquote, urlparse

logger = logging.getLogger("agentel")
_warned: set[tuple[str, str]] = set()

Check = Callable[[str], Optional[str]]  # returns None when valid, else what was expected


def _non_negative_int(value: str) -> Optional[str]:
    try:
        return None if int(value.strip()) >= 0 else "a non-negative integer"
    except ValueError:
        return "a non-negative integer"


def _positive_int(value: str) -> Optional[str]:
    try:
        return None if int(value.strip()) > 0 else "a positive integer"
    except ValueError:
        return "a positive integer"


def _non_negative_number(value: str) -> Optional[str]:
    try:
        number = float(value.strip())
        return None if number >= 0 and number != float("inf") else "a non-negative number of milliseconds"
    except ValueError:
        return "a non-negative number of milliseconds"


def _one_of(*choices: str) -> Check:
    def check(value: str) -> Optional[str]:
        return None if value.strip().lower() in choices else "one of " + ", ".join(choices)

    return check


def _boolean(value: str) -> Optional[str]:
    return None if value.strip().lower() in ("true", "false") else "true or false"


def _ratio(value: str) -> Optional[str]:
    try:
        return None if 0.0 <= float(value.strip()) <= 1.0 else "a number between 0 and 1"
    except ValueError:
        return "a number between 0 and 1"


def _key_value_list(value: str) -> Optional[str]:
    for pair in value.split(","):
        if not pair.strip():
            continue
        key, sep, _ = pair.partition("=")
        if not sep or not unquote(key).strip():
            return "a comma list of key=value pairs (values URL-encoded)"
    return None


def _endpoint(value: str) -> Optional[str]:
    text = value.strip()
    if "://" not in text:  # gRPC also takes host:port
        host, sep, port = text.rpartition(":")
        return None if sep and host and port.isdigit() else "a URL such as http://localhost:4317"
    parsed = urlparse(text)
    if parsed.scheme in ("http", "https") and parsed.hostname:
        try:
            parsed.port  # noqa: B018 - raises on a malformed port
        except ValueError:
            return "a URL such as http://localhost:4317"
        return None
    return "a URL such as http://localhost:4317"


def _existing_file(value: str) -> Optional[str]:
    return None if os.path.isfile(value.strip()) else "the path of a readable PEM file"


_SAMPLERS = (
    "always_on",
    "always_off",
    "traceidratio",
    "parentbased_always_on",
    "parentbased_always_off",
    "parentbased_traceidratio",
)

# variable -> (check, the default it falls back to, as documented by the OTel specification)
CHECKS: dict[str, tuple[Check, str]] = {
    "OTEL_BSP_SCHEDULE_DELAY": (_non_negative_int, "5000"),
    "OTEL_BSP_EXPORT_TIMEOUT": (_non_negative_int, "30000"),
    "OTEL_BSP_MAX_QUEUE_SIZE": (_positive_int, "2048"),
    "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": (_positive_int, "512"),
    "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT": (_non_negative_int, "no limit"),
    "OTEL_ATTRIBUTE_COUNT_LIMIT": (_non_negative_int, "128"),
    "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT": (_non_negative_int, "no limit"),
    "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT": (_non_negative_int, "128"),
    "OTEL_SPAN_EVENT_COUNT_LIMIT": (_non_negative_int, "128"),
    "OTEL_SPAN_LINK_COUNT_LIMIT": (_non_negative_int, "128"),
    "OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT": (_non_negative_int, "128"),
    "OTEL_LINK_ATTRIBUTE_COUNT_LIMIT": (_non_negative_int, "128"),
    "OTEL_TRACES_SAMPLER": (_one_of(*_SAMPLERS), "parentbased_always_on"),
    "OTEL_EXPORTER_OTLP_PROTOCOL": (_one_of("grpc", "http/protobuf"), "grpc"),
    "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": (_one_of("grpc", "http/protobuf"), "OTEL_EXPORTER_OTLP_PROTOCOL"),
    "OTEL_EXPORTER_OTLP_TIMEOUT": (_non_negative_number, "10000"),
    "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT": (_non_negative_number, "OTEL_EXPORTER_OTLP_TIMEOUT"),
    "OTEL_EXPORTER_OTLP_COMPRESSION": (_one_of("gzip", "none"), "none"),
    "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION": (_one_of("gzip", "none"), "OTEL_EXPORTER_OTLP_COMPRESSION"),
    "OTEL_EXPORTER_OTLP_HEADERS": (_key_value_list, "no headers"),
    "OTEL_EXPORTER_OTLP_TRACES_HEADERS": (_key_value_list, "OTEL_EXPORTER_OTLP_HEADERS"),
    "OTEL_EXPORTER_OTLP_ENDPOINT": (_endpoint, "http://localhost:4317 (grpc) or http://localhost:4318 (http)"),
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": (_endpoint, "OTEL_EXPORTER_OTLP_ENDPOINT"),
    "OTEL_EXPORTER_OTLP_INSECURE": (_boolean, "false"),
    "OTEL_EXPORTER_OTLP_TRACES_INSECURE": (_boolean, "OTEL_EXPORTER_OTLP_INSECURE"),
    "OTEL_EXPORTER_OTLP_CERTIFICATE": (_existing_file, "the system's trusted roots"),
    "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE": (_existing_file, "OTEL_EXPORTER_OTLP_CERTIFICATE"),
    "OTEL_EXPORTER_OTLP_CLIENT_KEY": (_existing_file, "no client key"),
    "OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY": (_existing_file, "OTEL_EXPORTER_OTLP_CLIENT_KEY"),
    "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE": (_existing_file, "no client certificate"),
    "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE": (_existing_file, "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE"),
    "OTEL_RESOURCE_ATTRIBUTES": (_key_value_list, "no extra resource attributes"),
}

_KNOWN_PROPAGATORS = ("tracecontext", "baggage", "b3", "b3multi", "jaeger", "xray", "ottrace", "none")
_KNOWN_EXPORTERS = ("otlp", "otlp_proto_grpc", "otlp_proto_http", "console", "none")


def _warn(name: str, raw: str, expected: str, default: str) -> None:
    key = (name, raw)
    if key in _warned:
        return
    _warned.add(key)
    shown = f"<{len(raw)} characters, not shown: it may hold credentials>" if name.endswith("HEADERS") else repr(raw)
    logger.warning("agentel: ignoring %s=%s: expected %s; using the default (%s)", name, shown, expected, default)


def sanitize_environment() -> list[str]:
    """Check every guarded variable; remove malformed ones (one warning each). Returns their names."""
    removed: list[str] = []
    for name, (check, default) in CHECKS.items():
        raw = os.environ.get(name)
        if raw is None or raw.strip() == "":
            continue
        expected = check(raw)
        if expected is not None:
            _warn(name, raw, expected, default)
            os.environ.pop(name, None)
            removed.append(name)
    _check_sampler_arg(removed)
    _filter_list("OTEL_PROPAGATORS", _KNOWN_PROPAGATORS, "tracecontext,baggage", removed)
    _filter_list("OTEL_TRACES_EXPORTER", _KNOWN_EXPORTERS, "otlp when an endpoint is set, else the tree", removed)
    return removed


def _check_sampler_arg(removed: list[str]) -> None:
    raw = os.environ.get("OTEL_TRACES_SAMPLER_ARG")
    sampler = os.environ.get("OTEL_TRACES_SAMPLER", "").strip().lower()
    if raw is None or raw.strip() == "" or not sampler.endswith("traceidratio"):
        return
    expected = _ratio(raw)
    if expected is not None:
        _warn("OTEL_TRACES_SAMPLER_ARG", raw, expected, "1.0")
        os.environ.pop("OTEL_TRACES_SAMPLER_ARG", None)
        removed.append("OTEL_TRACES_SAMPLER_ARG")


def _filter_list(name: str, known: tuple[str, ...], default: str, removed: list[str]) -> None:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return
    parts = [part.strip().lower() for part in raw.split(",") if part.strip()]
    unknown = [part for part in parts if part not in known and not _has_entry_point(name, part)]
    if not unknown:
        return
    kept = [part for part in parts if part not in unknown]
    fallback = f"keeping {','.join(kept)}" if kept else default
    _warn(name, raw, f"names from {', '.join(known)} (unknown: {', '.join(unknown)})", fallback)
    if kept:
        os.environ[name] = ",".join(kept)
    else:
        os.environ.pop(name, None)
    removed.append(name)


def _has_entry_point(variable: str, name: str) -> bool:
    group = "opentelemetry_propagator" if variable == "OTEL_PROPAGATORS" else "opentelemetry_traces_exporter"
    try:
        from importlib.metadata import entry_points

        return any(ep.name == name for ep in entry_points(group=group))
    except Exception:  # noqa: BLE001 - Python 3.9's entry_points() has no group=; be permissive
        return False


def otlp_timeout_seconds() -> Optional[float]:
    """``OTEL_EXPORTER_OTLP_[TRACES_]TIMEOUT`` in seconds: the specification gives milliseconds."""
    for name in ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT"):
        raw = os.environ.get(name, "").strip()
        if raw:
            try:
                return float(raw) / 1000.0
            except ValueError:
                return None
    return None
