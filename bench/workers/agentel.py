"""agentel, cases 1-6 and 8: each case timed interleaved with its raw OTel baseline (see _raw.py).

agentel is configured as the brief says: ``configure(span_processors=[BatchSpanProcessor(
DropExporter())], console=False)`` - its own SDK provider, one batch processor, a dropping exporter,
content capture on (the default). Env variants (disabled, sampled out, payload budget) are set by
the driver before this process starts.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from typing import Any, Dict, List

from _harness import (
    CountingExporter,
    Scale,
    ainterleave,
    drop_exporter,
    interleave,
    raw_provider,
    row,
    rss_bytes,
    summarize,
)

from . import _raw

LIB = "agentel"


def versions() -> Dict[str, str]:
    import agentel

    return {"agentel": agentel.__version__}


def _configure(**kw: Any) -> Any:
    import agentel
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    kw.setdefault("span_processors", [BatchSpanProcessor(drop_exporter())])
    agentel.configure(console=False, **kw)
    return agentel


def _stats_extra() -> Dict[str, Any]:
    import agentel

    try:
        s = agentel.stats()
    except Exception as exc:  # noqa: BLE001 - an old agentel without stats()
        return {"stats_error": repr(exc)}
    return {"agentel_stats": {k: v for k, v in s.items() if isinstance(v, (int, float, str, bool))}}


def _keep_traces_ablation(case: str, what: str, call: Any, n: int, scale: Scale, unit: str = "call") -> Dict[str, Any]:
    """What keeping recent traces for ``get_trace()`` (AGENTEL_KEEP_TRACES, default 100) costs: the same
    call with the buffer on and off, interleaved in one process (the baseline here is agentel itself)."""
    from agentel._provider import RUNTIME

    kept = RUNTIME.processor.kept
    limit = kept.limit or 100

    def kept_on() -> None:
        kept.limit = limit
        call()

    def kept_off() -> None:
        kept.limit = 0
        call()

    res = interleave({"raw": kept_off, "lib": kept_on}, rounds=scale.rounds, n=n, warmup=scale.warmup)
    return row(case, f"{what}, keeping traces for get_trace()", LIB, res, unit=unit,
               baseline_label="agentel, AGENTEL_KEEP_TRACES=0")


# --- case 1: decorated sync call ------------------------------------------------------------


def case1(scale: Scale, variant: str) -> List[Dict[str, Any]]:
    agentel = _configure()
    raw = _raw.case1(raw_provider().get_tracer("raw"))
    traced = agentel.trace(_raw.lookup)
    if variant == "keep-traces":
        return [_keep_traces_ablation("1", "decorated sync call", lambda: traced(*_raw.ARGS), scale.calls(4000),
                                      scale)]
    res = interleave({"raw": raw, "lib": lambda: traced(*_raw.ARGS)},
                     rounds=scale.rounds, n=scale.calls(4000), warmup=scale.warmup)
    label = "decorated sync call" + (", AGENTEL_REDACT=false" if variant == "redact-off" else "")
    return [row("1", label, LIB, res, **_stats_extra())]


# --- case 2: start_span context manager; client API -------------------------------------------


def case2(scale: Scale, variant: str) -> List[Dict[str, Any]]:
    agentel = _configure()
    tracer = raw_provider().get_tracer("raw")
    messages = _raw.MESSAGES

    def cm() -> None:
        with agentel.start_span("step", span_type=agentel.SpanType.LLM,
                                inputs={"messages": messages}) as span:
            span.set_outputs({"answer": "sunny"})

    res_cm = interleave({"raw": _raw.case2_context_manager(tracer), "lib": cm},
                        rounds=scale.rounds, n=scale.calls(2000), warmup=scale.warmup)

    client = agentel.TraceClient()

    def one_trace() -> None:
        root = client.start_trace("t", inputs={"q": "hi"})
        child = client.start_span("c", request_id=root.request_id, parent_id=root.span_id,
                                  inputs=_raw.TOOL_ARGS)
        client.end_span(root.request_id, child.span_id, outputs={"ok": True})
        client.end_trace(root.request_id, outputs={"answer": "done"})

    res_client = interleave({"raw": _raw.case2_client(tracer), "lib": one_trace},
                            rounds=scale.rounds, n=scale.calls(1000), warmup=scale.warmup)
    return [
        row("2", "start_span context manager", LIB, res_cm),
        row("2", "TraceClient, 2-span trace", LIB, res_client, unit="trace", **_stats_extra()),
    ]


# --- case 3: nested agent trace ---------------------------------------------------------------


def case3(scale: Scale, variant: str) -> List[Dict[str, Any]]:
    agentel = _configure()
    SpanType = agentel.SpanType

    @agentel.trace(span_type=SpanType.LLM)
    def llm(messages: Any) -> Dict[str, str]:
        agentel.set_token_usage(input=10, output=5)
        return {"content": "call weather"}

    @agentel.trace(span_type=SpanType.TOOL)
    def tool(city: str) -> Dict[str, int]:
        return {"temp": 21}

    @agentel.trace(span_type=SpanType.CHAIN)
    def answer(notes: List[str]) -> str:
        return "It is sunny."

    @agentel.trace(span_type=SpanType.AGENT)
    def agent(question: str) -> str:
        notes = []
        for _ in range(3):
            llm(_raw.MESSAGES)
            notes.append(f"{tool(**_raw.TOOL_ARGS)['temp']}C")
        return answer(notes)

    raw = _raw.case3(raw_provider().get_tracer("raw"))
    if variant == "keep-traces":
        return [_keep_traces_ablation("3", "nested agent trace (8 spans)", lambda: agent("weather in paris?"),
                                      scale.calls(300, 5), scale, unit="trace")]
    res = interleave({"raw": raw, "lib": lambda: agent("weather in paris?")},
                     rounds=scale.rounds, n=scale.calls(300, 5), warmup=scale.warmup // 4)
    return [row("3", "nested agent trace (8 spans)", LIB, res, unit="trace", **_stats_extra())]


# --- case 4: generator and async generator of 100 items ----------------------------------------


def case4(scale: Scale, variant: str) -> List[Dict[str, Any]]:
    agentel = _configure()
    tracer = raw_provider().get_tracer("raw")

    @agentel.trace
    def gen(n: int) -> Any:
        for i in range(n):
            yield i

    @agentel.trace
    async def agen(n: int) -> Any:
        for i in range(n):
            yield i

    def consume() -> None:
        for _ in gen(_raw.ITEMS):
            pass

    async def aconsume() -> None:
        async for _ in agen(_raw.ITEMS):
            pass

    res_gen = interleave({"raw": _raw.case4_generator(tracer), "lib": consume},
                         rounds=scale.rounds, n=scale.calls(300, 5), warmup=scale.warmup // 4)
    res_agen = asyncio.run(ainterleave(
        {"raw": _raw.case4_async_generator(tracer), "lib": aconsume},
        rounds=scale.rounds, n=scale.calls(300, 5), warmup=scale.warmup // 4))
    return [
        row("4", "generator, 100 items", LIB, res_gen, unit="generator"),
        row("4", "async generator, 100 items", LIB, res_agen, unit="generator", **_stats_extra()),
    ]


# --- case 5: 100 KB payload ---------------------------------------------------------------------


def case5(scale: Scale, variant: str) -> List[Dict[str, Any]]:
    agentel = _configure()
    payload = _raw.big_payload()
    raw = _raw.case5(raw_provider().get_tracer("raw"), payload)

    @agentel.trace
    def summarize_doc(doc: Dict[str, Any]) -> int:
        return len(doc["documents"])

    res = interleave({"raw": raw, "lib": lambda: summarize_doc(payload)},
                     rounds=scale.rounds, n=scale.calls(100, 3), warmup=scale.warmup // 20)
    budget = os.environ.get("AGENTEL_MAX_PAYLOAD_BYTES", "default")
    return [row("5", f"100 KB input, budget {budget}", LIB, res,
                baseline_label="raw OTel, full dumps", **_stats_extra())]


# --- case 6: disabled / sampled out vs the undecorated function -------------------------------


def case6(scale: Scale, variant: str) -> List[Dict[str, Any]]:
    agentel = _configure()
    traced = agentel.trace(_raw.lookup)
    bare = _raw.lookup
    subjects = {"bare": lambda: bare(*_raw.ARGS), "lib": lambda: traced(*_raw.ARGS)}

    def cm() -> None:
        with agentel.start_span("step", inputs={"q": 1}) as span:
            span.set_outputs(1)

    subjects["cm"] = cm
    if variant == "sampled-out":  # OTEL_TRACES_SAMPLER applies to a plain SDK provider too
        subjects["raw"] = _raw.case1(raw_provider().get_tracer("raw"))
    res = interleave(subjects, rounds=scale.rounds, n=scale.calls(5000), warmup=scale.warmup)
    label = {"disabled": "AGENTEL_ENABLED=false",
             "sampled-out": "traceidratio 0"}[variant]
    rows = [
        row("6", f"{label}: @trace", LIB, res, baseline="bare", baseline_label="undecorated"),
        row("6", f"{label}: start_span", LIB, res, baseline="bare", subject="cm",
            baseline_label="undecorated"),
    ]
    if "raw" in res:
        rows.append(row("6", f"{label}: raw OTel span", "raw OTel", res, baseline="bare",
                        subject="raw", baseline_label="undecorated"))
    rows[-1].update(_stats_extra())
    return rows


# --- case 8: collector down ------------------------------------------------------------------------


def case8(scale: Scale, variant: str) -> List[Dict[str, Any]]:
    """Normal calls with a live collector, then the collector is stopped and N more calls run.

    ``variant`` is "agentel" (endpoint from OTEL_EXPORTER_OTLP_ENDPOINT, agentel's own pipeline) or
    "raw" (BatchSpanProcessor(OTLPSpanExporter) set up by hand).
    """
    from array import array

    from workers._collector import collector

    normal_calls = scale.calls(100_000, 1_000)
    down_calls = scale.calls(1_000_000, 2_000)
    with collector() as sink:
        if variant == "agentel":
            os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"] = sink.grpc_endpoint
            os.environ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "grpc"
            import agentel

            agentel.configure(console=False)
            call = agentel.trace(_raw.lookup)
            fn = lambda: call(*_raw.ARGS)  # noqa: E731
            counter = None
        else:
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

            counter = CountingExporter(OTLPSpanExporter(endpoint=sink.grpc_endpoint, insecure=True))
            fn = _raw.case1(raw_provider(counter).get_tracer("raw"))
        for _ in range(scale.warmup):
            fn()
        normal = _timed(fn, normal_calls, array)
    # the collector is gone now: every export attempt fails (connection refused, retried)
    buf = array("q", bytes(8 * down_calls))  # allocated before the RSS reference point
    time.sleep(0.2)
    rss_before = rss_bytes()
    t0 = time.perf_counter()
    down = _timed(fn, down_calls, array, buf)
    elapsed = time.perf_counter() - t0
    rss_after = rss_bytes()
    res = {"normal": normal, "down": down}
    counts: Dict[str, Any] = {}
    if counter is not None:
        total = scale.warmup + normal_calls + down_calls
        counts = {"spans_ended": total, "spans_exported": counter.exported,
                  "spans_failed": counter.failed, "spans_not_exported": total - counter.exported}
    extra = {"rss_before_mb": rss_before / 2**20, "rss_after_mb": rss_after / 2**20,
             "rss_growth_mb": (rss_after - rss_before) / 2**20, "down_calls": down_calls,
             "down_seconds": elapsed, "raw_counts": counts}
    if variant == "agentel":
        extra.update(_stats_extra())
    label = "agentel" if variant == "agentel" else "raw OTel"
    return [row("8", f"collector down, {down_calls:,} spans", label, res, baseline="normal",
                subject="down", baseline_label="collector up", kind="collector-down", **extra)]


def _timed(fn: Any, n: int, array: Any, buf: Any = None) -> Dict[str, Any]:
    """Time n calls individually into a preallocated array (no per-call allocation)."""
    if buf is None:
        buf = array("q", bytes(8 * n))
    pc = time.perf_counter_ns
    chunk = max(1, n // 15)  # 15 "rounds" for the median of per-round means
    means = []
    for start in range(0, n, chunk):
        end = min(n, start + chunk)
        total = 0
        for i in range(start, end):
            t0 = pc()
            fn()
            dt = pc() - t0
            buf[i] = dt
            total += dt
        means.append(total / (end - start))
    return summarize(means, list(buf))


# --- case 10: GenAI metrics and cost on a traced model call -------------------------------------


def case10(scale: Scale, variant: str) -> List[Dict[str, Any]]:
    """A traced CHAT_MODEL call (set_llm + set_token_usage), metrics recorded on an SDK MeterProvider
    (the application's, installed globally; its reader aggregates in memory), against the very same
    call with agentel's metrics off; and with the call's cost priced from a user price table as well."""
    from opentelemetry import metrics
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    metrics.set_meter_provider(MeterProvider(metric_readers=[InMemoryMetricReader()]))
    agentel = _configure(prices={"bench/bench-model": {"input": 2.5, "output": 10.0, "cache_read": 1.25}})
    from agentel._metrics import METRICS
    from agentel._provider import RUNTIME

    prices = RUNTIME.prices
    processor = METRICS.processor

    @agentel.trace(span_type=agentel.SpanType.CHAT_MODEL)
    def model_call(question: str) -> str:
        agentel.set_llm(model="bench-model", provider="bench")
        agentel.set_token_usage(input=1200, output=300, cached_input=200)
        return "answer"

    def run_with(metrics_on: bool, priced: bool) -> Any:
        def call() -> None:
            processor.enabled = metrics_on
            RUNTIME.prices = prices if priced else None
            model_call("q")

        return call

    subjects = {
        "off": run_with(False, False),
        "metrics": run_with(True, False),
        "priced": run_with(True, True),
    }
    res = interleave(subjects, rounds=scale.rounds, n=scale.calls(3000), warmup=scale.warmup)
    processor.enabled, RUNTIME.prices = True, prices
    label = "metrics off (same traced call)"
    return [
        row("10", "traced model call + GenAI metrics", LIB, res, baseline="off", subject="metrics",
            baseline_label=label),
        row("10", "traced model call + GenAI metrics + cost", LIB, res, baseline="off", subject="priced",
            baseline_label=label, **_stats_extra()),
    ]


CASES = {"1": case1, "2": case2, "3": case3, "4": case4, "5": case5, "6": case6, "8": case8, "10": case10}


def run(case: str, variant: str, scale: Scale) -> List[Dict[str, Any]]:
    return CASES[case](scale, variant)


if __name__ == "__main__":  # pragma: no cover
    sys.exit("run through bench/worker.py")
