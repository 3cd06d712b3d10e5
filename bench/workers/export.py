"""Case 7: export throughput over OTLP gRPC to a local Rotel collector (blackhole exporter).

One process, three pipelines, interleaved rounds:

* raw:     ``TracerProvider`` + ``BatchSpanProcessor(OTLPSpanExporter(endpoint, insecure=True))`` set up
           by hand (SDK defaults: queue 2048, batch 512, 5 s delay), exported spans counted by a wrapper;
* raw + agentel's attrs: the same, writing exactly the attributes agentel writes for the same call
           (read from the spans agentel makes in a child process, as cases 1-4 read them): what the
           attribute set alone costs the producer and the exporter thread;
* agentel: configured only from the environment (``OTEL_EXPORTER_OTLP_ENDPOINT``/``_PROTOCOL=grpc``),
           the pipeline a user gets; exported and dropped spans from ``agentel.stats()``.

Workloads per pipeline: a burst (N decorated calls as fast as possible, then force_flush: exported
spans / wall time; the producer and the exporter thread share the GIL, so a costlier call also means
fewer spans exported per second) and paced runs at 5 000 and 10 000 spans/s (drops counted: the rate
that is sustained without loss).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, List

from _harness import CountingExporter, Scale, raw_provider

from . import _raw
from ._collector import collector

RATES = (5_000, 10_000)  # spans per second for the paced runs


def versions() -> Dict[str, str]:
    from importlib.metadata import version

    import agentel

    return {"agentel": agentel.__version__, "rotel": version("rotel"),
            "opentelemetry-exporter-otlp-proto-grpc": version("opentelemetry-exporter-otlp-proto-grpc")}


class _Pipeline:
    def __init__(self, name: str, call: Callable[[], Any], flush: Callable[[], Any],
                 exported: Callable[[], int]) -> None:
        self.name, self.call, self.flush, self.exported = name, call, flush, exported


def _raw_pipeline(endpoint: str, shape: Any = None) -> _Pipeline:
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

    counter = CountingExporter(OTLPSpanExporter(endpoint=endpoint, insecure=True))
    provider = raw_provider(counter)
    name = "raw OTel" if shape is None else "raw OTel + agentel's attrs"
    return _Pipeline(name, _raw.case1(provider.get_tracer("raw"), shape), provider.force_flush,
                     lambda: counter.exported)


_SHAPE_SCRIPT = """
import json, sys
sys.path.insert(0, sys.argv[1])
import agentel.testing
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from workers import _raw
memory = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(memory))
_raw.case1(provider.get_tracer("raw"))()
with agentel.testing.capture_spans() as spans:
    agentel.trace(_raw.lookup)(*_raw.ARGS)
shape, _ = _raw.shape_of([s.otel for s in spans.spans], memory.get_finished_spans())
print(json.dumps({name: [kind.name, extra] for name, (kind, extra) in shape.items()}))
"""


def _agentel_shape() -> Dict[str, Any]:
    """The span kind and extra attributes agentel writes for case 7's call, read in a child process
    (capturing there leaves this process's agentel pipeline exactly as a user gets it)."""
    from opentelemetry.trace import SpanKind

    env = {**os.environ, "OTEL_TRACES_EXPORTER": "none", "OTEL_METRICS_EXPORTER": "none",
           "AGENTEL_CONSOLE": "false"}
    done = subprocess.run([sys.executable, "-c", _SHAPE_SCRIPT, str(Path(__file__).resolve().parents[1])],
                          env=env, capture_output=True, text=True, timeout=120, check=True)
    found = json.loads(done.stdout.strip().splitlines()[-1])
    return {name: (SpanKind[kind], extra) for name, (kind, extra) in found.items()}


def _agentel_pipeline(endpoint: str) -> _Pipeline:
    os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"] = endpoint
    os.environ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "grpc"
    import agentel

    agentel.configure(console=False)
    traced = agentel.trace(_raw.lookup)
    return _Pipeline("agentel", lambda: traced(*_raw.ARGS), agentel.force_flush,
                     lambda: int(agentel.stats()["spans_exported"]))


def _burst(p: _Pipeline, n: int) -> Dict[str, float]:
    before = p.exported()
    t0 = time.perf_counter()
    for _ in range(n):
        p.call()
    offered = time.perf_counter() - t0
    p.flush()
    wall = time.perf_counter() - t0
    exported = p.exported() - before
    return {"spans": n, "exported": exported, "dropped": n - exported,
            "offered_per_s": n / offered, "exported_per_s": exported / wall}


def _paced(p: _Pipeline, seconds: float, rate: int) -> Dict[str, float]:
    """``rate`` spans/s in slots of 2 ms (10 spans per slot at 5 k/s), sleeping between slots."""
    per_slot = max(1, rate // 500)
    slots = int(seconds * 500)
    before = p.exported()
    t0 = time.perf_counter()
    for s in range(slots):
        for _ in range(per_slot):
            p.call()
        delay = t0 + (s + 1) * 0.002 - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
    achieved = slots * per_slot / (time.perf_counter() - t0)
    p.flush()
    exported = p.exported() - before
    n = slots * per_slot
    return {"spans": n, "exported": exported, "dropped": n - exported, "achieved_per_s": achieved}


def run(case: str, variant: str, scale: Scale) -> List[Dict[str, Any]]:
    burst_n = scale.calls(20_000, 300)
    rounds = 1 if scale.smoke else 5
    paced_s = 0.1 if scale.smoke else 3.0
    with collector() as sink:
        shape = _agentel_shape()
        pipelines = [_raw_pipeline(sink.grpc_endpoint), _raw_pipeline(sink.grpc_endpoint, shape),
                     _agentel_pipeline(sink.grpc_endpoint)]
        for p in pipelines:  # warm-up: connect, first batch
            _burst(p, scale.calls(2_000, 50))
        bursts: Dict[str, List[Dict[str, float]]] = {p.name: [] for p in pipelines}
        paced: Dict[tuple, List[Dict[str, float]]] = {(p.name, r): [] for p in pipelines
                                                      for r in RATES}
        for r in range(rounds):
            for p in pipelines if r % 2 == 0 else pipelines[::-1]:
                bursts[p.name].append(_burst(p, burst_n))
                for rate in RATES:
                    paced[(p.name, rate)].append(_paced(p, paced_s, rate))
    rows = []
    raw_rate = statistics.median(b["exported_per_s"] for b in bursts["raw OTel"])
    for p in pipelines:
        rate = statistics.median(b["exported_per_s"] for b in bursts[p.name])
        rows.append({
            "case": "7", "kind": "throughput", "library": p.name,
            "variant": "OTLP gRPC -> Rotel blackhole",
            "burst_spans": burst_n, "rounds": rounds,
            "exported_per_s": rate,
            "offered_per_s": statistics.median(b["offered_per_s"] for b in bursts[p.name]),
            "burst_dropped": sum(b["dropped"] for b in bursts[p.name]),
            "burst_spans_total": sum(b["spans"] for b in bursts[p.name]),
            "ratio_to_raw": rate / raw_rate if raw_rate else None,
            "paced_seconds": paced_s,
            "paced": [{
                "rate": rate,
                "achieved_per_s": statistics.median(x["achieved_per_s"] for x in paced[(p.name, rate)]),
                "spans_total": sum(x["spans"] for x in paced[(p.name, rate)]),
                "dropped": sum(x["dropped"] for x in paced[(p.name, rate)]),
            } for rate in RATES],
        })
    import agentel

    rows[-1]["attribute_set"] = {name: sorted(extra or {}) for name, (_, extra) in shape.items()}
    rows[-1]["agentel_stats"] = {k: v for k, v in agentel.stats().items()
                                 if isinstance(v, (int, float, str, bool))}
    return rows
