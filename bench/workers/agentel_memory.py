"""Case 11: agentel's memory - per open span, per kept trace, and over a long run through the embedded
default exporters (the console tree, AGENTEL_TRACES_FILE).

Variants (each its own process):

* ``memory``  - ``tracemalloc`` (Python allocations still alive, after ``gc.collect()``) and RSS:
  N spans held open (client API, and nested ``start_span`` context managers) vs N raw OTel spans held
  open the same way; traces kept for ``get_trace()`` (buffer on vs off, the case 1 call and the case 3
  trace), and that the buffer stays bounded once full;
* ``console`` - agentel unconfigured (its default: a tree per trace on stderr, here a temporary file
  put on fd 2), N decorated calls, RSS sampled over the run;
* ``file``    - ``AGENTEL_TRACES_FILE`` (OTLP/JSON lines), the same.
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys
import tempfile
import time
import tracemalloc
from typing import Any, Callable, Dict, List

from _harness import Scale, drop_exporter, raw_provider, rss_bytes

from . import _raw

LIB = "agentel"
MB = 2**20


def versions() -> Dict[str, str]:
    import agentel

    return {"agentel": agentel.__version__}


def _stats() -> Dict[str, Any]:
    import agentel

    return {k: v for k, v in agentel.stats().items() if isinstance(v, (int, float, str, bool))}


def _held(make: Callable[[], Any]) -> Dict[str, float]:
    """The net change of traced memory (tracemalloc runs for the whole variant, so what ``make`` frees
    counts too) over ``make()``, which returns what keeps its spans open."""
    gc.collect()
    rss0 = rss_bytes()
    m0 = tracemalloc.get_traced_memory()[0]
    handle = make()
    gc.collect()
    m1 = tracemalloc.get_traced_memory()[0]
    rss1 = rss_bytes()
    return {"traced_bytes": m1 - m0, "rss_bytes": rss1 - rss0, "handle": handle}


def _per(measured: Dict[str, float], n: int) -> Dict[str, float]:
    return {"traced_bytes": measured["traced_bytes"] / n, "rss_bytes": measured["rss_bytes"] / n}


def _memory_row(what: str, unit: str, n: int, lib: Dict[str, float], raw: Dict[str, float] = None,
                baseline_label: str = "raw OTel", **extra: Any) -> Dict[str, Any]:
    return {"case": "11", "kind": "memory", "variant": what, "library": LIB, "unit": unit, "n": n,
            "bytes_per_unit": lib["traced_bytes"], "rss_bytes_per_unit": lib["rss_bytes"],
            "baseline_label": baseline_label if raw else None,
            "baseline_bytes_per_unit": raw["traced_bytes"] if raw else None,
            "ratio": lib["traced_bytes"] / raw["traced_bytes"] if raw and raw["traced_bytes"] else None,
            **extra}


# --- memory: open spans, kept traces ------------------------------------------------------------------


def _open_spans(scale: Scale) -> List[Dict[str, Any]]:
    from opentelemetry import trace

    import agentel

    tracer = raw_provider().get_tracer("raw")
    dumps = _raw.json.dumps
    client = agentel.TraceClient()
    rows = []

    n = scale.calls(5000, 200)
    root = client.start_trace("t", inputs={"q": "hi"})
    raw_root = tracer.start_span("t")
    raw_ctx = trace.set_span_in_context(raw_root)
    for _ in range(50):  # warm-up: first-use caches are not an open span's cost
        child = client.start_span("c", request_id=root.request_id, parent_id=root.span_id, inputs=_raw.TOOL_ARGS)
        client.end_span(root.request_id, child.span_id)

    def lib_open() -> Any:
        return [client.start_span("c", request_id=root.request_id, parent_id=root.span_id, inputs=_raw.TOOL_ARGS)
                for _ in range(n)]

    def raw_open() -> Any:
        return [tracer.start_span("c", context=raw_ctx, attributes={"input.value": dumps(_raw.TOOL_ARGS)})
                for _ in range(n)]

    lib = _held(lib_open)
    for child in lib.pop("handle"):
        client.end_span(root.request_id, child.span_id)
    client.end_trace(root.request_id)
    raw = _held(raw_open)
    for span in raw.pop("handle"):
        span.end()
    raw_root.end()
    rows.append(_memory_row("open spans, TraceClient.start_span", "open span", n, _per(lib, n), _per(raw, n),
                            baseline_label="raw OTel start_span"))

    depth = scale.calls(1000, 100)

    def lib_nested() -> Any:
        stack = contextlib.ExitStack()
        for _ in range(depth):
            stack.enter_context(agentel.start_span("step", inputs={"q": 1}))
        return stack

    def raw_nested() -> Any:
        stack = contextlib.ExitStack()
        for _ in range(depth):
            span = stack.enter_context(tracer.start_as_current_span("step"))
            span.set_attribute("input.value", dumps({"q": 1}))
        return stack

    lib = _held(lib_nested)
    lib.pop("handle").close()  # each stack closed before the next opens: contexts detach in order
    raw = _held(raw_nested)
    raw.pop("handle").close()
    rows.append(_memory_row(f"open spans, nested start_span x {depth}", "open span", depth, _per(lib, depth),
                            _per(raw, depth), baseline_label="raw OTel start_as_current_span"))
    return rows


def _kept_traces(scale: Scale) -> List[Dict[str, Any]]:
    """Memory per trace kept for get_trace(): buffer off -> on for ``limit`` traces; then 5 x limit more
    (smoke: a buffer of 20, 2 x more)."""
    import agentel
    from agentel._runtime.provider import RUNTIME

    from .agentel import agent_trace

    kept = RUNTIME.processor.kept
    original = kept.limit  # 0 while dormant: traces are kept once agentel.compat.mlflow is imported
    default_limit = getattr(kept, "configured_limit", None) or kept.limit or 100
    limit = 20 if scale.smoke else default_limit
    more_traces = (2 if scale.smoke else 5) * limit
    rows = []
    traced = agentel.trace(_raw.lookup)
    if agentel.get_current_span() is not None:
        raise RuntimeError("a span is still current: the kept traces would all be one trace")
    for what, call in (("kept trace (compat.mlflow imported), case 1 call", lambda: traced(*_raw.ARGS)),
                       ("kept trace (compat.mlflow imported), case 3 (8 spans)", agent_trace(agentel))):
        kept.limit = 0
        kept.clear()  # what earlier measurements left in the buffer is not this one's
        for _ in range(scale.calls(200, 20)):
            call()
        agentel.force_flush()

        def traces(call: Callable[[], Any], n: int) -> None:
            for _ in range(n):
                call()
            agentel.force_flush()  # nothing of these traces left in the export queue

        kept.limit = limit
        filled = _held(lambda: traces(call, limit))  # noqa: B023 - called right here
        filled.pop("handle")
        after = _held(lambda: traces(call, more_traces))  # noqa: B023
        after.pop("handle")
        estimate = getattr(kept, "_bytes", None)
        rows.append(_memory_row(what, "kept trace", limit, _per(filled, limit), None,
                                keep_traces=limit,
                                agentel_estimate_per_trace=(estimate / limit) if estimate else None,
                                growth_after_full_bytes=after["traced_bytes"],
                                growth_after_full_traces=more_traces))
    kept.limit = original
    return rows


def memory(scale: Scale) -> List[Dict[str, Any]]:
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    import agentel

    agentel.configure(span_processors=[BatchSpanProcessor(drop_exporter())], console=False)
    tracemalloc.start()
    try:
        rows = _kept_traces(scale) + _open_spans(scale)  # kept traces first: nothing left by the others
    finally:
        tracemalloc.stop()
    rows[-1]["agentel_stats"] = _stats()
    return rows


# --- a long run through the console tree / the traces file ------------------------------------------


def _long_run(scale: Scale, label: str, output_bytes: Callable[[], Dict[str, Any]]) -> Dict[str, Any]:
    import agentel

    traced = agentel.trace(_raw.lookup)
    n = scale.calls(100_000, 2_000)
    samples = 20
    step = max(1, n // samples)
    for _ in range(scale.warmup):
        traced(*_raw.ARGS)
    agentel.force_flush()
    rss = [(0, rss_bytes())]
    t0 = time.perf_counter()
    for i in range(1, n + 1):
        traced(*_raw.ARGS)
        if i % step == 0:
            rss.append((i, rss_bytes()))
    calls_s = time.perf_counter() - t0
    agentel.force_flush()
    wall_s = time.perf_counter() - t0
    rss.append((n, rss_bytes()))
    half = min(rss, key=lambda s: abs(s[0] - n // 2))
    mb = [(i, r / MB) for i, r in rss]
    return {
        "case": "11", "kind": "long-run", "variant": label, "library": LIB, "spans": n,
        "calls_per_s": n / calls_s, "seconds": wall_s,
        "rss_samples_mb": mb, "rss_start_mb": mb[0][1], "rss_end_mb": mb[-1][1],
        "rss_max_mb": max(r for _, r in mb),
        "rss_growth_first_half_mb": (half[1] - rss[0][1]) / MB,
        "rss_growth_second_half_mb": (rss[-1][1] - half[1]) / MB,
        "agentel_stats": _stats(), **output_bytes(),
    }


def console(scale: Scale) -> List[Dict[str, Any]]:
    """agentel's default with nothing configured: the console tree, written to fd 2 (a temp file here)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "stderr.txt")
        saved = os.dup(2)
        with open(path, "wb") as out:
            os.dup2(out.fileno(), 2)
        try:
            import agentel

            def written() -> Dict[str, Any]:
                agentel.force_flush()
                with open(path, "rb") as f:
                    data = f.read()
                return {"output_bytes": len(data), "output_lines": data.count(b"\n"),
                        "destination": "console tree on stderr (fd 2 -> a file)"}

            result = _long_run(scale, "console tree (the default, nothing configured)", written)
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
    return [result]


def traces_file(scale: Scale) -> List[Dict[str, Any]]:
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "traces.jsonl")
        os.environ["AGENTEL_TRACES_FILE"] = path
        import agentel

        def written() -> Dict[str, Any]:
            agentel.force_flush()
            with open(path, "rb") as f:
                data = f.read()
            return {"output_bytes": len(data), "output_lines": data.count(b"\n"),
                    "spans_in_file": data.count(b'"spanId"'), "destination": "AGENTEL_TRACES_FILE"}

        return [_long_run(scale, "AGENTEL_TRACES_FILE (OTLP/JSON lines)", written)]


VARIANTS = {"memory": memory, "console": console, "file": traces_file}


def run(case: str, variant: str, scale: Scale) -> List[Dict[str, Any]]:
    if case != "11":
        raise ValueError(f"case {case} is not run here")
    return VARIANTS[variant](scale)


if __name__ == "__main__":  # pragma: no cover
    sys.exit("run through bench/worker.py")
