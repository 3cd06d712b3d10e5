"""Where agentel's per-call time goes: cProfile of the case 1 call (or the case 3 trace, the case 5 payload
call, case 10 / 10n: the application's own raw span / nested trace on a provider agentel attached to, or
case 12: a traced model call with the GenAI metrics on, against the same call with them off as the
"raw OTel" column), the raw OTel baseline profiled the same way, and both summed by component.

    bench/.venv/bin/python bench/profile_agentel.py [--case 1|3|5|10|10n|12] [--calls N] [--py-spy]

``--py-spy`` also records a flame graph (bench/results/profile-case<N>.svg) with py-spy when it is
installed (it is in requirements-core.txt). cProfile inflates small functions; read the components
as proportions, and the bench table for absolute numbers.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable, Dict

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from _harness import drop_exporter, raw_provider  # noqa: E402
from workers import _raw  # noqa: E402

# (substring of the file path or function, component) - first match wins
COMPONENTS = [
    ("agentel/_payload/redact", "agentel: redaction"),
    ("agentel/_payload/serialize", "agentel: serialization"),
    ("agentel/_payload/budget", "agentel: serialization"),
    ("agentel/_payload/", "agentel: payload write pipeline"),
    ("agentel/_otel_internals", "agentel: its SDK fast paths (attribute writes, processor hooks)"),
    ("agentel/_export/processor", "agentel: its span processor"),
    ("agentel/_export/rollup", "agentel: trace usage roll-up"),
    ("agentel/_conventions/usage", "agentel: trace usage roll-up"),
    ("agentel/_export/recorder", "agentel: GenAI metrics recording"),
    ("agentel/_export/", "agentel: export (other)"),
    ("agentel/_tracing/binding", "agentel: argument binding"),
    ("agentel/_runtime/", "agentel: provider/tracer lookup"),
    ("agentel/_tracing/fluent", "agentel: start_span (fluent)"),
    ("agentel/_tracing/calls", "agentel: decorator call path"),
    ("agentel/_tracing/wrappers", "agentel: decorator call path"),
    ("agentel/_tracing/", "agentel: payload/span helpers (_tracing)"),
    ("agentel/_conventions/", "agentel: conventions (attribute builders)"),
    ("agentel/", "agentel: other"),
    ("opentelemetry/attributes", "OTel: attribute validation"),
    ("opentelemetry/sdk/metrics", "OTel: metrics SDK (record, aggregation, exemplars)"),
    ("opentelemetry/sdk/trace/sampling", "OTel: sampler"),
    ("opentelemetry/sdk/trace/export", "OTel: BatchSpanProcessor"),
    ("opentelemetry/sdk/_shared_internal", "OTel: BatchSpanProcessor"),
    ("opentelemetry/sdk/trace/id_generator", "OTel: id generation"),
    ("opentelemetry/sdk", "OTel: SDK span start/end"),
    ("opentelemetry/context", "OTel: context attach/detach"),
    ("opentelemetry/trace", "OTel: API"),
    ("opentelemetry/", "OTel: other"),
    ("json/", "json"),
    ("of 're.Pattern'", "re (regex, C)"),
    ("_json.", "json"),
    ("re/", "re (regex)"),
    ("wrapt", "wrapt"),
    ("random", "random (ids)"),
]


def component(key: tuple) -> str:
    filename, _, func = key
    where = f"{filename}:{func}"
    for needle, name in COMPONENTS:
        if needle in where:
            return name
    if filename == "~":
        return "builtins (isinstance, len, locks, ...)"
    return "other: " + Path(filename).name


def by_component(stats: pstats.Stats) -> Dict[str, float]:
    out: Dict[str, float] = defaultdict(float)
    for key, (_, _, tottime, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        out[component(key)] += tottime
    return out


def build(case: str) -> Dict[str, Callable[[], Any]]:
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    if case in ("10", "10n"):  # the application's own raw span (10n: its nested 8-span trace), on its
        from opentelemetry import trace  # provider with agentel attached vs without

        app = raw_provider()
        trace.set_tracer_provider(app)
        import agentel

        agentel.get_tracer_provider()
        workload = _raw.case1 if case == "10" else _raw.case3
        return {"raw OTel": workload(raw_provider().get_tracer("app")), "agentel": workload(app.get_tracer("app"))}
    if case == "12":  # a traced model call with the GenAI metrics on ("agentel") vs off ("raw OTel")
        from opentelemetry import metrics
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import InMemoryMetricReader

        metrics.set_meter_provider(MeterProvider(metric_readers=[InMemoryMetricReader()]))
        import agentel
        from agentel._export.metrics import METRICS

        agentel.configure(span_processors=[BatchSpanProcessor(drop_exporter())], console=False)

        @agentel.trace(span_type=agentel.SpanType.CHAT_MODEL)
        def model_call(question: str) -> str:
            agentel.set_llm(model="bench-model", provider="bench")
            agentel.set_token_usage(input=1200, output=300, cached_input=200)
            return "answer"

        def with_metrics(on: bool) -> Callable[[], Any]:
            def call() -> None:
                METRICS.processor.enabled = on
                model_call("q")
            return call

        return {"raw OTel": with_metrics(False), "agentel": with_metrics(True)}
    import agentel

    agentel.configure(span_processors=[BatchSpanProcessor(drop_exporter())], console=False)
    tracer = raw_provider().get_tracer("raw")
    if case == "1":
        traced = agentel.trace(_raw.lookup)
        return {"raw OTel": _raw.case1(tracer), "agentel": lambda: traced(*_raw.ARGS)}
    if case == "5":
        payload = _raw.big_payload()
        traced = agentel.trace(lambda doc: len(doc["documents"]))
        return {"raw OTel": _raw.case5(tracer, payload), "agentel": lambda: traced(payload)}
    if case == "3":
        t = agentel.trace

        @t(span_type="LLM")
        def llm(messages: Any) -> Any:
            agentel.set_token_usage(input=10, output=5)
            return {"content": "call weather"}

        @t(span_type="TOOL")
        def tool(city: str) -> Any:
            return {"temp": 21}

        @t(span_type="AGENT")
        def agent(q: str) -> str:
            for _ in range(3):
                llm(_raw.MESSAGES)
                tool(**_raw.TOOL_ARGS)
            return t(lambda notes: "It is sunny.", name="answer")(["21C"])

        return {"raw OTel": _raw.case3(tracer), "agentel": lambda: agent("q")}
    raise SystemExit(f"no profile for case {case}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--case", default="1")
    parser.add_argument("--calls", type=int, default=0)
    parser.add_argument("--py-spy", action="store_true")
    parser.add_argument("--_spy_target", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    calls = args.calls or {"1": 20000, "3": 3000, "5": 100, "10": 20000, "10n": 3000, "12": 5000}[args.case]
    subjects = build(args.case)
    if args._spy_target:  # the process py-spy records
        fn = subjects[args._spy_target]
        for _ in range(calls):
            fn()
        return
    totals: Dict[str, Dict[str, float]] = {}
    for name, fn in subjects.items():
        for _ in range(calls // 10):
            fn()
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(calls):
            fn()
        prof.disable()
        stats = pstats.Stats(prof)
        totals[name] = by_component(stats)
        if name == "agentel":
            print(f"=== agentel, case {args.case}: top functions by own time ({calls} calls) ===")
            stats.sort_stats("tottime").print_stats(20)
    names = sorted(set().union(*totals.values()), key=lambda c: -totals["agentel"].get(c, 0.0))
    print(f"=== own time per call by component, µs (cProfile-inflated), case {args.case} ===")
    print(f"{'component':<36} {'agentel':>9} {'raw OTel':>9} {'extra':>9}")
    for c in names:
        a, r = totals["agentel"].get(c, 0.0), totals["raw OTel"].get(c, 0.0)
        if max(a, r) * 1e6 / calls >= 0.05:
            print(f"{c:<36} {a * 1e6 / calls:9.2f} {r * 1e6 / calls:9.2f} {(a - r) * 1e6 / calls:9.2f}")
    ta, tr = sum(totals["agentel"].values()), sum(totals["raw OTel"].values())
    print(f"{'total':<36} {ta * 1e6 / calls:9.2f} {tr * 1e6 / calls:9.2f} {(ta - tr) * 1e6 / calls:9.2f}")
    if args.py_spy:
        spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        if not os.path.exists(spy):
            print("py-spy is not installed")
            return
        out = BENCH / "results" / f"profile-case{args.case}.svg"
        out.parent.mkdir(exist_ok=True)
        subprocess.run([spy, "record", "-o", str(out), "-r", "500", "--", sys.executable, __file__,
                        "--case", args.case, "--calls", str(calls * 5), "--_spy_target", "agentel"],
                       check=False)
        print(f"flame graph: {out}")


if __name__ == "__main__":
    main()
