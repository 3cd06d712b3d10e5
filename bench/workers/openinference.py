"""OpenInference (``openinference-instrumentation``): ``OITracer`` decorators (``@tracer.chain`` ...)
over a tracer of an SDK provider with BatchSpanProcessor(DropExporter); TraceConfig defaults
(inputs and outputs captured)."""

from __future__ import annotations

from typing import Any, Callable, Dict, List

from _harness import Scale, raw_provider

from . import _peer

LIB = "OpenInference"


def versions() -> Dict[str, str]:
    return {"openinference-instrumentation": _peer.dist_version("openinference-instrumentation")}


def run(case: str, variant: str, scale: Scale) -> List[Dict[str, Any]]:
    from openinference.instrumentation import OITracer, TraceConfig
    from opentelemetry import trace

    tracer = OITracer(raw_provider().get_tracer("bench"), config=TraceConfig())

    def decorate(func: Callable[..., Any], kind: str) -> Callable[..., Any]:
        return getattr(tracer, kind)(func)  # tracer.chain / .llm / .tool / .agent

    def set_usage() -> None:
        trace.get_current_span().set_attributes(
            {"llm.token_count.prompt": 10, "llm.token_count.completion": 5,
             "llm.token_count.total": 15})

    return _peer.run_case(case, LIB, decorate, set_usage, scale)
