"""MLflow Tracing (``mlflow-tracing``): ``@mlflow.trace``.

``mlflow-tracing`` alone has no local store (its default tracking URI needs the full ``mlflow``), so
the documented local-only setup is its OTLP export: with ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` set
(by the driver, to a closed loopback port) MLflow puts an ``OtelSpanProcessor`` - a
``BatchSpanProcessor`` subclass that also keeps MLflow's in-memory trace registry - on its own
provider. We hand that processor the DropExporter instead of the OTLP exporter, so MLflow runs
exactly its per-span work and nothing is sent.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List

from _harness import Scale, drop_exporter

from . import _peer

LIB = "MLflow Tracing"
KINDS = {"chain": "CHAIN", "llm": "LLM", "tool": "TOOL", "agent": "AGENT"}


def versions() -> Dict[str, str]:
    return {"mlflow-tracing": _peer.dist_version("mlflow-tracing")}


def _setup() -> Any:
    import mlflow
    import mlflow.tracing.provider as provider

    assert provider.should_use_otlp_exporter(), "driver must set OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
    provider.get_otlp_exporter = lambda: _EXPORTER  # the exporter of MLflow's OtelSpanProcessor
    return mlflow


_EXPORTER = drop_exporter()


def run(case: str, variant: str, scale: Scale) -> List[Dict[str, Any]]:
    mlflow = _setup()
    from mlflow.tracing.constant import SpanAttributeKey

    def decorate(func: Callable[..., Any], kind: str) -> Callable[..., Any]:
        return mlflow.trace(func, span_type=KINDS[kind])

    usage = {"input_tokens": 10, "output_tokens": 5, "total_tokens": 15}

    def set_usage() -> None:
        mlflow.get_current_active_span().set_attribute(SpanAttributeKey.CHAT_USAGE, usage)

    rows = _peer.run_case(case, LIB, decorate, set_usage, scale)
    _check_processor(rows)
    return rows


def _check_processor(rows: List[Dict[str, Any]]) -> None:
    """Record which processors/exporters MLflow really used (the table must not lie)."""
    from mlflow.tracing.provider import provider

    tp = provider.get()
    procs = getattr(getattr(tp, "_active_span_processor", None), "_span_processors", ())
    tp.force_flush()
    rows[-1]["spans_reaching_exporter"] = _EXPORTER.spans
    rows[-1]["setup"] = [
        f"{type(p).__name__}({type(getattr(p, 'span_exporter', None)).__name__})" for p in procs
    ]
