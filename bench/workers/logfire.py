"""Pydantic Logfire: ``@logfire.instrument(record_return=True)`` (arguments are recorded by default;
``record_return`` turns on output capture like the other libraries), after
``logfire.configure(send_to_logfire=False, console=False,
additional_span_processors=[BatchSpanProcessor(DropExporter())])``. Its other defaults (scrubbing,
pending spans, ...) stay on."""

from __future__ import annotations

from typing import Any, Callable, Dict, List

from _harness import Scale, drop_exporter

from . import _peer

LIB = "Logfire"


def versions() -> Dict[str, str]:
    return {"logfire": _peer.dist_version("logfire")}


def run(case: str, variant: str, scale: Scale) -> List[Dict[str, Any]]:
    import logfire
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    exporter = drop_exporter()
    logfire.configure(
        send_to_logfire=False,
        console=False,
        additional_span_processors=[BatchSpanProcessor(exporter)],
    )

    def decorate(func: Callable[..., Any], kind: str) -> Callable[..., Any]:
        return logfire.instrument(record_return=True)(func)

    rows = _peer.run_case(case, LIB, decorate, _peer.otel_usage, scale)
    logfire.force_flush()
    rows[-1]["spans_reaching_exporter"] = exporter.spans
    return rows
