"""Langfuse (v3+ SDK, OTel-based): ``@observe``.

``Langfuse(span_exporter=DropExporter(), tracing_enabled=True)`` keeps its own provider and its
``LangfuseSpanProcessor`` (a BatchSpanProcessor) but drops the batches; the host is a closed
loopback port, so nothing leaves the machine even where it would call its API.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List

from _harness import Scale, drop_exporter

from . import _peer

LIB = "Langfuse"
KINDS = {"chain": "chain", "llm": "generation", "tool": "tool", "agent": "agent"}


def versions() -> Dict[str, str]:
    return {"langfuse": _peer.dist_version("langfuse")}


def run(case: str, variant: str, scale: Scale) -> List[Dict[str, Any]]:
    from langfuse import Langfuse, observe

    exporter = drop_exporter()
    client = Langfuse(
        public_key="pk-lf-bench",
        secret_key="sk-lf-bench",
        host="http://127.0.0.1:9",
        tracing_enabled=True,
        span_exporter=exporter,
    )

    def decorate(func: Callable[..., Any], kind: str) -> Callable[..., Any]:
        return observe(as_type=KINDS[kind])(func)

    def set_usage() -> None:
        client.update_current_generation(usage_details={"input": 10, "output": 5})

    rows = _peer.run_case(case, LIB, decorate, set_usage, scale)
    client.flush()
    rows[-1]["spans_reaching_exporter"] = exporter.spans  # proof that spans were really created
    return rows
