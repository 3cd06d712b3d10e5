"""The processors and exporters of agentel's own provider: those given to ``configure()`` (``exporters=``,
``traces_file``, ``console=True``, ``span_processors=``) and those the environment chooses
(``OTEL_TRACES_EXPORTER``, an OTLP endpoint, the automatic tree printer), each exporter behind redaction,
counting and a batch processor; the sampler fallback and the resource of agentel's own provider."""

from __future__ import annotations

import os
from typing import Any, Optional

from agentel import _otel_internals as _otel
from agentel._export.health import SETUP_CODES, CountingBatchSpanProcessor, CountingExporter
from agentel._export.otel_sdk import SERVICE_NAME, Resource, SpanExporter, SpanProcessor
from agentel._export.processor import GuardedProcessor
from agentel._internal_errors import logger
from agentel._runtime import otel_env as _otel_env
from agentel._runtime import settings as _config

_OTLP_ENDPOINT_VARS = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")


def sampler_from_environment() -> Any:
    """None (the SDK reads OTEL_TRACES_SAMPLER itself), or the documented fallback when it is malformed."""
    fallback = _otel_env.sampler_fallback()
    if fallback is None:
        return None
    from opentelemetry.sdk.trace import sampling

    name, ratio = fallback
    if name.endswith("traceidratio"):
        base = sampling.TraceIdRatioBased(ratio if ratio is not None else 1.0)
        return sampling.ParentBased(base) if name.startswith("parentbased") else base
    return {
        "always_on": sampling.ALWAYS_ON,
        "always_off": sampling.ALWAYS_OFF,
        "parentbased_always_off": sampling.ParentBased(sampling.ALWAYS_OFF),
    }.get(name, sampling.ParentBased(sampling.ALWAYS_ON))


def exporter_names() -> list[str]:
    """Exporter names from OTEL_TRACES_EXPORTER (checked), or otlp when an endpoint is set."""
    names = _otel_env.exporter_names()
    if names is not None:
        resolved = []
        for name in names:
            if name.strip().lower() == "none":
                continue
            resolved.append(_otlp_entry_point() if name.strip().lower() == "otlp" else name.strip())
        return resolved
    if any(os.environ.get(name, "").strip() for name in _OTLP_ENDPOINT_VARS):
        return [_otlp_entry_point()]
    return []


def _otlp_entry_point() -> str:
    return "otlp_proto_http" if _otel_env.otlp_protocol() == _otel_env.HTTP else "otlp_proto_grpc"


def resource(settings: _config.Settings) -> Resource:
    return Resource.create({SERVICE_NAME: settings.service_name} if settings.service_name else {})


def service_name(provider: Any) -> Optional[str]:
    resource = getattr(provider, "resource", None)
    value = getattr(resource, "attributes", {}).get(SERVICE_NAME)
    return None if value is None else str(value)


def _exporter_processor(exporter: SpanExporter, redactor: Any) -> tuple[SpanProcessor, str]:
    """An exporter of agentel's behind redaction (every span, whoever made it), counting and batching."""
    from agentel._export.redacting import RedactingSpanExporter

    destination = _describe(exporter)
    wrapped = RedactingSpanExporter(exporter, redactor)
    processor = CountingBatchSpanProcessor(CountingExporter(wrapped, destination), **_otel_env.batch_options())
    return processor, destination


def explicit_processors(settings: _config.Settings, redactor: Any) -> tuple[list[SpanProcessor], list[str]]:
    """What was explicitly given to agentel: exporters=, traces_file, console=True, span_processors=."""
    from agentel._export.console import ConsoleTreeProcessor

    processors: list[SpanProcessor] = []
    destinations: list[str] = []
    exporters: list[SpanExporter] = list(settings.exporters or ())
    if settings.traces_file:
        from agentel._export.file import OtlpJsonFileExporter

        exporters.append(OtlpJsonFileExporter(settings.traces_file))
    for exporter in exporters:
        processor, destination = _exporter_processor(exporter, redactor)
        processors.append(processor)
        destinations.append(destination)
    if settings.console:
        processors.append(ConsoleTreeProcessor(redactor=redactor))
        destinations.append("a readable tree on stderr")
    if settings.span_processors:  # guarded: one that raises must not keep spans from the others
        processors.extend(GuardedProcessor(processor) for processor in settings.span_processors)
        destinations.append(f"{len(settings.span_processors)} span processor(s) given to configure()")
    return processors, destinations


def explicit_setting_names(settings: _config.Settings) -> list[str]:
    names = []
    if settings.exporters:
        names.append("exporters=")
    if settings.traces_file:
        names.append(f"traces_file={settings.traces_file!r} (AGENTEL_TRACES_FILE)")
    if settings.console:
        names.append("console=True (AGENTEL_CONSOLE)")
    if settings.span_processors:
        names.append("span_processors=")
    return names


def own_processors(
    settings: _config.Settings, explicit: tuple[list[SpanProcessor], list[str]], redactor: Any
) -> tuple[list[SpanProcessor], str]:
    """The processors of agentel's own provider — the explicit ones, then the exporters chosen by the
    environment (``OTEL_TRACES_EXPORTER``, an OTLP endpoint) and the automatic tree printer — and a
    sentence saying where spans go."""
    from agentel._export.console import ConsoleTreeProcessor

    processors, destinations = explicit
    console = settings.console
    names: list[str] = []
    if settings.exporters is None:
        try:
            names = exporter_names()
        # hand-written, not the guard: the fallback is the tree printer, with a warning naming the variables
        except Exception as exc:  # noqa: BLE001 - e.g. an unknown OTLP protocol
            logger.warning(
                "agentel: cannot use the exporter configured by OTEL_TRACES_EXPORTER / "
                "OTEL_EXPORTER_OTLP_*PROTOCOL (%s); printing traces to stderr instead",
                exc,
            )
            console = True
    found = failed = 0
    for name in names:
        if name == "console":
            console = True
            continue
        exporter = load_exporter(name)
        if exporter is not None:
            processor, destination = _exporter_processor(exporter, redactor)
            processors.insert(found, processor)
            destinations.insert(found, destination)
            found += 1
        else:
            failed += 1
    if failed and not processors and console is None:
        logger.warning("agentel: no span exporter could be created; printing traces to stderr instead")
        console = True
    if console is None:  # auto: only when nothing else receives spans
        console = not processors and not names
        if console and os.environ.get("OTEL_TRACES_EXPORTER", "").strip().lower() == "none":
            console = False
    if console and not settings.console:  # console=True is among the explicit processors already
        processors.append(ConsoleTreeProcessor(redactor=redactor))
        destinations.append("a readable tree on stderr")
    return processors, "; ".join(destinations) or "nowhere (OTEL_TRACES_EXPORTER=none)"


def load_exporter(name: str) -> Optional[SpanExporter]:
    try:
        exporter_class: Any = _otel.span_exporter_class(name)
        if name in ("otlp_proto_grpc", "otlp_proto_http"):
            return exporter_class(**_otlp_arguments(name))  # type: ignore[no-any-return]
        return exporter_class()  # type: ignore[no-any-return]
    # hand-written, not the guard: a user-facing warning naming the exporter, not an internal error
    except Exception as exc:  # noqa: BLE001
        logger.warning("agentel: cannot create the span exporter %r: %s; it is skipped", name, exc)
        return None


SETUP_CODES.add(load_exporter.__code__)


def _otlp_arguments(name: str) -> dict[str, Any]:
    """Explicit arguments for agentel's OTLP exporter: the timeout in seconds (the specification gives
    milliseconds), and the fallback for every malformed variable (the exporter would read it otherwise)."""
    protocol = _otel_env.GRPC if name == "otlp_proto_grpc" else _otel_env.HTTP
    arguments: dict[str, Any] = {"timeout": _otel_env.otlp_timeout_seconds()}
    endpoint = _otel_env.otlp_endpoint_override(protocol)
    if endpoint is not None:
        arguments["endpoint"] = endpoint
    compression = _otel_env.otlp_compression_override()
    if compression is not None:
        from grpc import Compression

        arguments["compression"] = Compression.Gzip if compression == "gzip" else Compression.NoCompression
    missing = _otel_env.missing_files()
    if missing:
        ca = _otel_env.readable_file("OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", "OTEL_EXPORTER_OTLP_CERTIFICATE")
        key = _otel_env.readable_file("OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY", "OTEL_EXPORTER_OTLP_CLIENT_KEY")
        cert = _otel_env.readable_file(
            "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE", "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE"
        )
        if protocol == _otel_env.GRPC:
            import grpc

            arguments["credentials"] = grpc.ssl_channel_credentials(
                root_certificates=_read_bytes(ca), private_key=_read_bytes(key), certificate_chain=_read_bytes(cert)
            )
        else:
            arguments["certificate_file"] = ca or True  # True: the system's trusted roots
    return arguments


def _read_bytes(path: Optional[str]) -> Optional[bytes]:
    if path is None:
        return None
    with open(path, "rb") as handle:
        return handle.read()


def _describe(exporter: SpanExporter) -> str:
    path = getattr(exporter, "path", None)
    if path is not None:
        return f"OTLP/JSON lines in {path}"
    endpoint = _otel.exporter_endpoint(exporter)
    kind = type(exporter).__module__
    if "grpc" in kind:
        return f"OTLP/gRPC to {endpoint}"
    if "http" in kind:
        return f"OTLP/HTTP to {endpoint}"
    return type(exporter).__name__
