"""agentel, cases 1-6, 5b, 8, 10 and 12: each case timed interleaved with its raw OTel baseline (see _raw.py).

agentel is configured as the brief says: ``configure(span_processors=[BatchSpanProcessor(
DropExporter())], console=False)`` - its own SDK provider, one batch processor, a dropping exporter,
content capture on (the default). Env variants (disabled, sampled out, payload budget) are set by
the driver before this process starts.
"""

from __future__ import annotations

import asyncio
import json
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
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    import agentel

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
    from agentel._runtime.provider import RUNTIME

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


# --- the "raw OTel writing agentel's attribute set" baseline (cases 1-4) -------------------------

RAWSET = "raw OTel + agentel's attrs"


class _Pipelines:
    """agentel over a DropExporter that keeps its first spans, and the raw provider likewise: the spans
    each really exported, read back once before timing, give the attribute set of the third subject."""

    def __init__(self) -> None:
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        self.lib_drop = drop_exporter(keep=64)
        self.agentel = _configure(span_processors=[BatchSpanProcessor(self.lib_drop)])
        self.raw_drop = drop_exporter(keep=64)
        self.raw_provider = raw_provider(self.raw_drop)
        self.tracer = self.raw_provider.get_tracer("raw")

    def exported(self, lib_call: Any) -> List[Any]:
        """The spans agentel exported for one ``lib_call``."""
        self.agentel.force_flush()
        self.lib_drop.kept.clear()
        self.lib_drop.keep = 64
        lib_call()
        self.agentel.force_flush()
        self.lib_drop.keep = 0
        return list(self.lib_drop.kept)

    def shape(self, lib_call: Any, raw_call: Any) -> Any:
        """Run each once, flush, and compare what was exported (see ``_raw.shape_of``)."""
        self.agentel.force_flush()  # spans still queued from an earlier timing are not kept
        self.raw_provider.force_flush()
        self.lib_drop.kept.clear()
        self.raw_drop.kept.clear()
        self.lib_drop.keep = self.raw_drop.keep = 64
        lib_call()
        raw_call()
        self.agentel.force_flush()
        self.raw_provider.force_flush()
        self.lib_drop.keep = self.raw_drop.keep = 0  # nothing more is kept while timing
        return _raw.shape_of(self.lib_drop.kept, self.raw_drop.kept)


def _three_rows(case: str, variant: str, res: Dict[str, Any], described: Dict[str, Any], unit: str = "call",
                **extra: Any) -> List[Dict[str, Any]]:
    """agentel vs raw; raw + agentel's attributes vs raw (attribute cost); agentel vs that (adapter)."""
    return [
        row(case, variant, LIB, res, unit=unit, **extra),
        row(case, variant, RAWSET, res, subject="rawset", unit=unit, role="attribute-cost",
            agentel_attributes=described),
        row(case, variant, LIB, res, baseline="rawset", unit=unit, role="adapter-overhead",
            baseline_label="raw OTel, agentel's attrs"),
    ]


# --- case 1: decorated sync call ------------------------------------------------------------


def agentel_call(agentel: Any) -> Any:
    """The case 1 workload: ``_raw.lookup`` decorated with ``@agentel.trace``, called with ``_raw.ARGS``."""
    traced = agentel.trace(_raw.lookup)
    return lambda: traced(*_raw.ARGS)


def case1(scale: Scale, variant: str) -> List[Dict[str, Any]]:
    if variant:
        agentel = _configure()
        raw = _raw.case1(raw_provider().get_tracer("raw"))
        traced = agentel.trace(_raw.lookup)
        if variant == "keep-traces":
            return [_keep_traces_ablation("1", "decorated sync call", lambda: traced(*_raw.ARGS),
                                          scale.calls(4000), scale)]
        res = interleave({"raw": raw, "lib": lambda: traced(*_raw.ARGS)},
                         rounds=scale.rounds, n=scale.calls(4000), warmup=scale.warmup)
        label = "decorated sync call" + (", AGENTEL_REDACT=false" if variant == "redact-off" else "")
        return [row("1", label, LIB, res, **_stats_extra())]
    p = _Pipelines()
    lib, raw = agentel_call(p.agentel), _raw.case1(p.tracer)
    shape, described = p.shape(lib, raw)
    res = interleave({"raw": raw, "rawset": _raw.case1(p.tracer, shape), "lib": lib},
                     rounds=scale.rounds, n=scale.calls(4000), warmup=scale.warmup)
    return _three_rows("1", "decorated sync call", res, described, **_stats_extra())


# --- case 2: start_span context manager; client API -------------------------------------------


def context_manager_call(agentel: Any) -> Any:
    """The case 2 workload: a ``start_span`` context manager (LLM) with inputs and outputs."""
    def cm() -> None:
        with agentel.start_span("step", span_type=agentel.SpanType.LLM,
                                inputs={"messages": _raw.MESSAGES}) as span:
            span.set_outputs({"answer": "sunny"})

    return cm


def client_trace(agentel: Any) -> Any:
    """The case 2 client workload: a 2-span trace through ``TraceClient``."""
    client = agentel.TraceClient()

    def one_trace() -> None:
        root = client.start_trace("t", inputs={"q": "hi"})
        child = client.start_span("c", request_id=root.request_id, parent_id=root.span_id,
                                  inputs=_raw.TOOL_ARGS)
        client.end_span(root.request_id, child.span_id, outputs={"ok": True})
        client.end_trace(root.request_id, outputs={"answer": "done"})

    return one_trace


def generator_consumer(agentel: Any) -> Any:
    """The case 4 workload: a traced generator of ``_raw.ITEMS`` items, consumed."""
    @agentel.trace
    def gen(n: int) -> Any:
        for i in range(n):
            yield i

    def consume() -> None:
        for _ in gen(_raw.ITEMS):
            pass

    return consume


def case2(scale: Scale, variant: str) -> List[Dict[str, Any]]:
    p = _Pipelines()
    agentel, tracer = p.agentel, p.tracer
    cm = context_manager_call(agentel)
    shape, described = p.shape(cm, _raw.case2_context_manager(tracer))
    res_cm = interleave({"raw": _raw.case2_context_manager(tracer),
                         "rawset": _raw.case2_context_manager(tracer, shape), "lib": cm},
                        rounds=scale.rounds, n=scale.calls(2000), warmup=scale.warmup)

    one_trace = client_trace(agentel)
    shape_c, described_c = p.shape(one_trace, _raw.case2_client(tracer))
    res_client = interleave({"raw": _raw.case2_client(tracer), "rawset": _raw.case2_client(tracer, shape_c),
                             "lib": one_trace},
                            rounds=scale.rounds, n=scale.calls(1000), warmup=scale.warmup)
    return (_three_rows("2", "start_span context manager", res_cm, described)
            + _three_rows("2", "TraceClient, 2-span trace", res_client, described_c, unit="trace",
                          **_stats_extra()))


# --- case 3: nested agent trace ---------------------------------------------------------------


def agent_trace(agentel: Any) -> Any:
    """The case 3 workload: agent -> 3 x (LLM with token usage, tool) -> answer, 8 spans."""
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

    return lambda: agent("weather in paris?")


def case3(scale: Scale, variant: str) -> List[Dict[str, Any]]:
    if variant == "keep-traces":
        agentel = _configure()
        return [_keep_traces_ablation("3", "nested agent trace (8 spans)", agent_trace(agentel),
                                      scale.calls(300, 5), scale, unit="trace")]
    p = _Pipelines()
    lib, raw = agent_trace(p.agentel), _raw.case3(p.tracer)
    shape, described = p.shape(lib, raw)
    res = interleave({"raw": raw, "rawset": _raw.case3(p.tracer, shape), "lib": lib},
                     rounds=scale.rounds, n=scale.calls(300, 5), warmup=scale.warmup // 4)
    return _three_rows("3", "nested agent trace (8 spans)", res, described, unit="trace", **_stats_extra())


# --- case 4: generator and async generator of 100 items ----------------------------------------


def case4(scale: Scale, variant: str) -> List[Dict[str, Any]]:
    p = _Pipelines()
    agentel, tracer = p.agentel, p.tracer

    consume = generator_consumer(agentel)

    @agentel.trace
    async def agen(n: int) -> Any:
        for i in range(n):
            yield i

    async def aconsume() -> None:
        async for _ in agen(_raw.ITEMS):
            pass

    shape, described = p.shape(consume, _raw.case4_generator(tracer))
    res_gen = interleave({"raw": _raw.case4_generator(tracer), "rawset": _raw.case4_generator(tracer, shape),
                          "switching": _raw.case4_generator_switching(tracer), "lib": consume},
                         rounds=scale.rounds, n=scale.calls(300, 5), warmup=scale.warmup // 4)
    raw_agen = _raw.case4_async_generator(tracer)
    shape_a, described_a = p.shape(lambda: asyncio.run(aconsume()), lambda: asyncio.run(raw_agen()))
    res_agen = asyncio.run(ainterleave(
        {"raw": raw_agen, "rawset": _raw.case4_async_generator(tracer, shape_a), "lib": aconsume},
        rounds=scale.rounds, n=scale.calls(300, 5), warmup=scale.warmup // 4))
    # what keeping the span current only while the body runs costs a hand-written generator
    switching = row("4", "generator, 100 items", "raw OTel, context per item", res_gen, subject="switching",
                    unit="generator", role="context-switch-floor")
    return (_three_rows("4", "generator, 100 items", res_gen, described, unit="generator") + [switching]
            + _three_rows("4", "async generator, 100 items", res_agen, described_a, unit="generator",
                          **_stats_extra()))


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


# --- case 5b: a 10 MB message history -----------------------------------------------------------------


def _budget() -> int:
    try:
        from agentel._runtime.provider import RUNTIME

        return int(RUNTIME.settings.max_payload_bytes)
    except Exception:  # noqa: BLE001 - an agentel without that setting: the documented default
        return int(os.environ.get("AGENTEL_MAX_PAYLOAD_BYTES", "8192"))


def case5b(scale: Scale, variant: str) -> List[Dict[str, Any]]:
    """agentel's cost for a 10 MB input vs raw OTel's full dumps, and vs case 5's 100 KB input (all three
    interleaved in this process); the cut JSON of both payloads checked from the exported spans."""
    p = _Pipelines()
    agentel = p.agentel
    history = _raw.long_history()
    doc = _raw.big_payload()

    @agentel.trace(span_type=agentel.SpanType.LLM)
    def chat(messages: List[Dict[str, str]]) -> Dict[str, str]:
        return {"role": "assistant", "content": "ok"}

    @agentel.trace
    def summarize_doc(doc: Dict[str, Any]) -> int:
        return len(doc["documents"])

    budget = _budget()
    # the checker itself must be able to say no: broken JSON, and JSON that does not say what was cut
    if _raw.truncation_report('{"messages": [', budget)["valid_json"] or _raw.truncation_report(
            '{"messages": ["hi"]}', budget)["says_what_was_cut"]:
        raise RuntimeError("truncation_report accepts what it must reject")
    checks = {}
    for label, call in (("10 MB", lambda: chat(history)), ("100 KB", lambda: summarize_doc(doc))):
        spans = p.exported(call)
        text = spans[0].attributes.get("input.value") if spans else None
        checks[label] = _raw.truncation_report(text, budget)
    res = interleave({"raw": _raw.case5b(p.tracer, history), "lib": lambda: chat(history),
                      "lib100k": lambda: summarize_doc(doc)},
                     rounds=scale.rounds, n=scale.calls(3, 1), warmup=1)
    size = len(json.dumps({"messages": history})) / 1e6
    label = os.environ.get("AGENTEL_MAX_PAYLOAD_BYTES", "default")
    return [
        row("5b", f"{size:.1f} MB message history, budget {label}", LIB, res,
            baseline_label="raw OTel, full dumps", payload_checks=checks, messages=len(history)),
        row("5b", f"{size:.1f} MB history vs 100 KB input (case 5)", LIB, res, baseline="lib100k",
            baseline_label="agentel, 100 KB input", role="vs-100KB", **_stats_extra()),
    ]


# --- case 10: the application's own spans under a provider agentel attached to ------------------------


def _processor_names(provider: Any) -> List[str]:
    multi = getattr(provider, "_active_span_processor", None)
    return [f"{type(p).__module__}.{type(p).__name__}" for p in getattr(multi, "_span_processors", ())]


def case10(scale: Scale, variant: str) -> List[Dict[str, Any]]:
    """The application installs its own SDK provider globally and uses a raw tracer; agentel, used in
    the same process, attaches its span processor to that provider. Baseline: an identical provider
    (BatchSpanProcessor over a DropExporter) that agentel never saw. What each app span pays for agentel."""
    from opentelemetry import trace

    app = raw_provider()
    trace.set_tracer_provider(app)
    plain = raw_provider()
    import agentel

    agentel.get_tracer_provider()  # resolves the provider agentel uses (attaches its processor)
    agentel.trace(_raw.lookup)(*_raw.ARGS)  # and one agentel span, as an application would have
    processors = _processor_names(app)
    if not any(name.startswith("agentel.") for name in processors):
        raise RuntimeError(f"agentel did not attach a span processor to the global provider: {processors}")
    app_tracer, plain_tracer = app.get_tracer("app"), plain.get_tracer("app")
    res1 = interleave({"raw": _raw.case1(plain_tracer), "lib": _raw.case1(app_tracer)},
                      rounds=scale.rounds, n=scale.calls(4000), warmup=scale.warmup)
    res3 = interleave({"raw": _raw.case3(plain_tracer), "lib": _raw.case3(app_tracer)},
                      rounds=scale.rounds, n=scale.calls(300, 5), warmup=scale.warmup // 4)
    label = "same provider, no agentel"
    return [
        row("10", "app's own span (raw case 1 call)", LIB, res1, baseline_label=label, spans_per_unit=1,
            added_per_span_ns=res1["lib"]["median_ns"] - res1["raw"]["median_ns"],
            app_provider_processors=processors),
        row("10", "app's own nested trace (8 raw spans)", LIB, res3, unit="trace", baseline_label=label,
            spans_per_unit=8, added_per_span_ns=(res3["lib"]["median_ns"] - res3["raw"]["median_ns"]) / 8,
            **_stats_extra()),
    ]


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


# --- case 12: GenAI metrics and cost on a traced model call (issue 15) -------------------------


def case12(scale: Scale, variant: str) -> List[Dict[str, Any]]:
    """A traced CHAT_MODEL call (set_llm + set_token_usage), metrics recorded on an SDK MeterProvider
    (the application's, installed globally; its reader aggregates in memory), against the very same
    call with agentel's metrics off; and with the call's cost priced from a user price table as well."""
    from opentelemetry import metrics
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    metrics.set_meter_provider(MeterProvider(metric_readers=[InMemoryMetricReader()]))
    table = {"bench/bench-model": {"input": 2.5, "output": 10.0, "cache_read": 1.25}}
    agentel = _configure(prices=table)
    import agentel.testing
    from agentel._export.metrics import METRICS

    processor = METRICS.processor

    @agentel.trace(span_type=agentel.SpanType.CHAT_MODEL)
    def model_call(question: str) -> str:
        agentel.set_llm(model="bench-model", provider="bench")
        agentel.set_token_usage(input=1200, output=300, cached_input=200)
        return "answer"

    def run_with(metrics_on: bool, priced: bool) -> Any:
        def call() -> None:
            model_call("q")

        def before_block() -> None:  # untimed, before each block of this subject's calls
            processor.enabled = metrics_on
            agentel.testing.reset(provider=False, settings=False, prices=table if priced else None)

        call.before_block = before_block  # type: ignore[attr-defined]
        return call

    subjects = {
        "off": run_with(False, False),
        "metrics": run_with(True, False),
        "priced": run_with(True, True),
    }
    res = interleave(subjects, rounds=scale.rounds, n=scale.calls(3000), warmup=scale.warmup)
    processor.enabled = True
    agentel.testing.reset(provider=False, settings=False, prices=table)
    label = "metrics off (same traced call)"
    return [
        row("12", "traced model call + GenAI metrics", LIB, res, baseline="off", subject="metrics",
            baseline_label=label),
        row("12", "traced model call + GenAI metrics + cost", LIB, res, baseline="off", subject="priced",
            baseline_label=label, **_stats_extra()),
    ]


CASES = {"1": case1, "2": case2, "3": case3, "4": case4, "5": case5, "5b": case5b, "6": case6, "8": case8,
         "10": case10, "12": case12}


def run(case: str, variant: str, scale: Scale) -> List[Dict[str, Any]]:
    return CASES[case](scale, variant)


if __name__ == "__main__":  # pragma: no cover
    sys.exit("run through bench/worker.py")
