"""OpenLLMetry (``traceloop-sdk``): ``@task`` (``@tool``, ``@agent``), after
``Traceloop.init(exporter=DropExporter(), disable_batch=False, telemetry_enabled=False)``.

Its defaults stay on (content tracing, the auto-instrumentations it installs); the API endpoint is a
closed loopback port and the driver sets TRACELOOP_TELEMETRY=false / metrics and logs off.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List

from _harness import Scale, drop_exporter

from . import _peer

LIB = "OpenLLMetry"


def versions() -> Dict[str, str]:
    return {"traceloop-sdk": _peer.dist_version("traceloop-sdk")}


def run(case: str, variant: str, scale: Scale) -> List[Dict[str, Any]]:
    from traceloop.sdk import Traceloop
    from traceloop.sdk.decorators import agent, task, tool

    exporter = drop_exporter()
    Traceloop.init(
        app_name="bench",
        api_endpoint="http://127.0.0.1:9",
        exporter=exporter,
        disable_batch=False,
        telemetry_enabled=False,
    )
    decorators = {"chain": task, "llm": task, "tool": tool, "agent": agent}

    def decorate(func: Callable[..., Any], kind: str) -> Callable[..., Any]:
        return decorators[kind](name=func.__name__)(func)

    rows = _peer.run_case(case, LIB, decorate, _peer.otel_usage, scale)
    from opentelemetry import trace

    trace.get_tracer_provider().force_flush()
    rows[-1]["spans_reaching_exporter"] = exporter.spans
    return rows
