"""Timing, statistics, the drop exporter, the table and the JSON of the agentel benchmark.

Everything here is measurement only: nothing asserts a timing.

Method (see README.md): every worker subprocess measures its library *and* the raw OpenTelemetry
baseline itself.  After a warm-up, ``interleave`` runs R rounds; in each round every subject runs N
calls, the order of the subjects alternating from round to round.  Each call is timed on its own
with ``perf_counter_ns`` (so the numbers include ~40-60 ns of timer overhead, the same for every
subject).  For each subject:

* ``median_ns`` - the median over rounds of the round's mean time per call;
* ``p99_ns``    - the 99th percentile of all individual call times, pooled over rounds;
* ``ratio``     - median_ns(subject) / median_ns(baseline), both measured in the same process.
"""

from __future__ import annotations

import gc
import json
import os
import statistics
import sys
import time
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence

# --------------------------------------------------------------------------------------------
# Scale: how many rounds / calls a worker runs.
# --------------------------------------------------------------------------------------------


class Scale:
    """Iteration counts.  ``--smoke`` makes every count tiny (numbers are then meaningless)."""

    def __init__(self, smoke: bool) -> None:
        self.smoke = smoke
        self.rounds = 3 if smoke else 15
        self.warmup = 20 if smoke else 1000

    def calls(self, full: int, smoke: int = 20) -> int:
        return smoke if self.smoke else full


# --------------------------------------------------------------------------------------------
# An exporter that drops everything (the same sink for every library).
# --------------------------------------------------------------------------------------------


def drop_exporter(keep: int = 0) -> Any:
    """A ``SpanExporter`` that drops every batch and reports SUCCESS.

    With ``keep`` it first keeps that many exported spans (``.kept``; on the export thread, so the
    measured calls pay nothing): what a library really exported, read back by the worker.
    """
    from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

    class DropExporter(SpanExporter):
        def __init__(self) -> None:
            self.spans = 0
            self.keep = keep
            self.kept: List[Any] = []

        def export(self, spans: Sequence[Any]) -> SpanExportResult:
            self.spans += len(spans)
            if len(self.kept) < self.keep:
                self.kept.extend(spans[: self.keep - len(self.kept)])
            return SpanExportResult.SUCCESS

        def shutdown(self) -> None:
            pass

        def force_flush(self, timeout_millis: int = 30000) -> bool:
            return True

    return DropExporter()


class CountingExporter:
    """Wraps a real exporter; counts spans handed to it and the ones it exported successfully."""

    def __new__(cls, inner: Any) -> Any:  # built lazily so the module imports without OTel
        from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

        class _Counting(SpanExporter):
            def __init__(self) -> None:
                self.inner = inner
                self.attempted = 0
                self.exported = 0
                self.failed = 0

            def export(self, spans: Sequence[Any]) -> SpanExportResult:
                self.attempted += len(spans)
                try:
                    result = self.inner.export(spans)
                except Exception:  # noqa: BLE001 - a failing exporter is a counted drop
                    result = SpanExportResult.FAILURE
                if result is SpanExportResult.SUCCESS:
                    self.exported += len(spans)
                else:
                    self.failed += len(spans)
                return result

            def shutdown(self) -> None:
                self.inner.shutdown()

            def force_flush(self, timeout_millis: int = 30000) -> bool:
                return bool(self.inner.force_flush(timeout_millis))

        return _Counting()


def raw_provider(exporter: Any = None, **bsp_kwargs: Any) -> Any:
    """An SDK TracerProvider with a BatchSpanProcessor over ``exporter`` (DropExporter by default).

    It is *not* installed globally: the raw baseline never competes with a library for the
    global provider.
    """
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(exporter or drop_exporter(), **bsp_kwargs))
    return provider


# --------------------------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------------------------


def _percentile(sorted_values: Sequence[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    k = (len(sorted_values) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (k - lo)


def summarize(round_means: List[float], samples: List[int]) -> Dict[str, Any]:
    samples = sorted(samples)
    return {
        "median_ns": statistics.median(round_means) if round_means else float("nan"),
        "p99_ns": _percentile(samples, 0.99),
        "p50_call_ns": _percentile(samples, 0.50),
        "max_ns": samples[-1] if samples else float("nan"),
        "rounds": len(round_means),
        "calls": len(samples),
    }


def _before_block(fn: Callable[[], Any]) -> None:
    setup = getattr(fn, "before_block", None)
    if setup is not None:
        setup()


def _time_calls(fn: Callable[[], Any], n: int, out: List[int]) -> float:
    """Run ``fn`` n times, appending each call's duration to ``out``; returns the mean in ns."""
    pc = time.perf_counter_ns
    total = 0
    for _ in range(n):
        t0 = pc()
        fn()
        dt = pc() - t0
        out.append(dt)
        total += dt
    return total / n


def interleave(
    subjects: Mapping[str, Callable[[], Any]],
    *,
    rounds: int,
    n: int,
    warmup: int,
) -> Dict[str, Dict[str, Any]]:
    """Time every subject in interleaved rounds (see the module docstring). A subject with a
    ``before_block`` attribute has it called, untimed, before each of its blocks of calls (to switch
    a setting that its calls share with another subject)."""
    names = list(subjects)
    for name in names:  # warm-up: imports, caches, lazy providers, the BSP thread
        fn = subjects[name]
        _before_block(fn)
        for _ in range(warmup):
            fn()
    means: Dict[str, List[float]] = {name: [] for name in names}
    samples: Dict[str, List[int]] = {name: [] for name in names}
    for r in range(rounds):
        order = names if r % 2 == 0 else names[::-1]
        for name in order:
            _before_block(subjects[name])
            gc.collect()
            means[name].append(_time_calls(subjects[name], n, samples[name]))
    return {name: summarize(means[name], samples[name]) for name in names}


async def ainterleave(
    subjects: Mapping[str, Callable[[], Any]],
    *,
    rounds: int,
    n: int,
    warmup: int,
) -> Dict[str, Dict[str, Any]]:
    """Like ``interleave`` for coroutine functions; the timing runs inside the event loop."""
    pc = time.perf_counter_ns
    names = list(subjects)
    for name in names:
        for _ in range(warmup):
            await subjects[name]()
    means: Dict[str, List[float]] = {name: [] for name in names}
    samples: Dict[str, List[int]] = {name: [] for name in names}
    for r in range(rounds):
        order = names if r % 2 == 0 else names[::-1]
        for name in order:
            gc.collect()
            fn, out, total = subjects[name], samples[name], 0
            for _ in range(n):
                t0 = pc()
                await fn()
                dt = pc() - t0
                out.append(dt)
                total += dt
            means[name].append(total / n)
    return {name: summarize(means[name], samples[name]) for name in names}


def row(
    case: str,
    variant: str,
    library: str,
    results: Mapping[str, Mapping[str, Any]],
    *,
    baseline: str = "raw",
    subject: str = "lib",
    unit: str = "call",
    baseline_label: str = "raw OTel",
    **extra: Any,
) -> Dict[str, Any]:
    """One table row: a subject and the baseline measured with it, plus their ratio."""
    b, s = results[baseline], results[subject]
    return {
        "case": case,
        "variant": variant,
        "library": library,
        "unit": unit,
        "baseline_label": baseline_label,
        "baseline": dict(b),
        "subject": dict(s),
        "ratio": s["median_ns"] / b["median_ns"] if b["median_ns"] else None,
        "p99_ratio": s["p99_ns"] / b["p99_ns"] if b["p99_ns"] else None,
        "added_ns": s["median_ns"] - b["median_ns"],
        **extra,
    }


def rss_bytes() -> int:
    """Current resident set size of this process (Linux)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def emit(payload: Mapping[str, Any]) -> None:
    """A worker's only stdout output: one JSON line, prefixed so stray prints cannot confuse it."""
    sys.stdout.write("BENCH-RESULT " + json.dumps(payload, default=str) + "\n")
    sys.stdout.flush()


# --------------------------------------------------------------------------------------------
# Table
# --------------------------------------------------------------------------------------------


def fmt_ns(ns: Optional[float]) -> str:
    if ns is None or ns != ns:  # None or NaN
        return "-"
    if abs(ns) >= 1e9:
        return f"{ns / 1e9:.2f} s"
    if abs(ns) >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if abs(ns) >= 1e4:
        return f"{ns / 1e3:.0f} µs"
    if abs(ns) >= 1e3:
        return f"{ns / 1e3:.1f} µs"
    return f"{ns:.0f} ns"


def fmt_ratio(r: Optional[float]) -> str:
    return "-" if r is None or r != r else f"{r:.2f}×"


def render_table(rows: Iterable[Mapping[str, Any]]) -> str:
    """A plain-text (and Markdown-compatible) table of timing rows."""
    header = ["case", "variant", "library", "per", "median", "p99", "baseline", "base med",
              "base p99", "ratio", "added"]
    lines = [header]
    for r in rows:
        if "subject" not in r:
            continue
        lines.append([
            str(r["case"]), r["variant"], r["library"], r["unit"],
            fmt_ns(r["subject"]["median_ns"]), fmt_ns(r["subject"]["p99_ns"]),
            r["baseline_label"], fmt_ns(r["baseline"]["median_ns"]), fmt_ns(r["baseline"]["p99_ns"]),
            fmt_ratio(r["ratio"]), fmt_ns(r["added_ns"]),
        ])
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = []
    for i, line in enumerate(lines):
        out.append("| " + " | ".join(c.ljust(w) for c, w in zip(line, widths)) + " |")
        if i == 0:
            out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(out)
