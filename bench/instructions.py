"""Where the wall-time ratios come from, counted instead of timed: instructions, simulated L1 data-cache
misses and simulated branch mispredictions per unit of work, for the subjects of cases 1-4 (raw OTel,
raw OTel + agentel's attrs, agentel, in one process as in ``bench/run``) and case 10 (the application's
raw span on a provider nobody else touched, on one with a second processor that does nothing, and on
one agentel attached to).

    bench/.venv/bin/python bench/instructions.py [--cases 1,2,2c,3,4,10] [--calls N]

Each subject runs under ``valgrind --tool=cachegrind --cache-sim=yes --branch-sim=yes`` twice, with N
and 2N measured calls after the same set-up and warm-up; the difference divided by N is the cost of one
unit, set-up excluded. Instruction counts repeat to within about 1 % whatever else the machine does;
the cache and branch figures come from cachegrind's simple models of a CPU, not from this one's
counters: read them as how much more data and how many more unpredictable branches a subject touches,
not as cycles. Measurement only, like the rest of ``bench/``; needs valgrind (Debian's ``valgrind``).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Dict, List, Tuple

BENCH = Path(__file__).resolve().parent

# case -> (what one unit is, subjects in the order printed; the first is the baseline)
CASES: Dict[str, Tuple[str, Tuple[str, ...]]] = {
    "1": ("decorated sync call", ("raw", "rawset", "agentel")),
    "2": ("start_span context manager", ("raw", "rawset", "agentel")),
    "2c": ("TraceClient, 2-span trace", ("raw", "rawset", "agentel")),
    "3": ("nested agent trace (8 spans)", ("raw", "rawset", "agentel")),
    "4": ("generator, 100 items", ("raw", "rawset", "switching", "agentel")),
    "10": ("app's own span (raw case 1 call)", ("plain", "noop", "agentel")),
}
LABELS = {
    "raw": "raw OTel",
    "rawset": "raw OTel + agentel's attrs",
    "agentel": "agentel",
    "switching": "raw OTel, context set and reset per item",
    "plain": "app span, provider without agentel",
    "noop": "app span, + a processor that does nothing",
}
COUNTERS = (("I   refs", "instructions"), ("D1  misses", "D1 misses"), ("Mispredicts", "mispredicts"))


def _subject(case: str, which: str) -> Callable[[], Any]:
    """The callable measured for ``which`` subject of ``case``, built as ``bench/run`` builds it."""
    sys.path.insert(0, str(BENCH))
    from _harness import drop_exporter, raw_provider
    from workers import _raw
    from workers import agentel as worker

    if case == "10":
        return _app_span(which, drop_exporter, raw_provider, _raw)
    pipelines = worker._Pipelines()
    agentel, tracer = pipelines.agentel, pipelines.tracer
    lib, raw_of = {
        "1": (lambda: worker.agentel_call(agentel), _raw.case1),
        "2": (lambda: worker.context_manager_call(agentel), _raw.case2_context_manager),
        "2c": (lambda: worker.client_trace(agentel), _raw.case2_client),
        "3": (lambda: worker.agent_trace(agentel), _raw.case3),
        "4": (lambda: worker.generator_consumer(agentel), _raw.case4_generator),
    }[case]
    lib_call = lib()
    if which == "agentel":
        return lib_call
    if which == "raw":
        return raw_of(tracer)  # type: ignore[no-any-return]
    if which == "switching":
        return _raw.case4_generator_switching(tracer)  # type: ignore[no-any-return]
    shape, _ = pipelines.shape(lib_call, raw_of(tracer))
    return raw_of(tracer, shape)  # type: ignore[no-any-return]


def _app_span(which: str, drop_exporter: Any, raw_provider: Any, _raw: Any) -> Callable[[], Any]:
    from opentelemetry.sdk.trace import SpanProcessor

    provider = raw_provider(drop_exporter())
    if which == "noop":
        provider.add_span_processor(SpanProcessor())  # the SDK's base class: every hook does nothing
    elif which == "agentel":
        from opentelemetry import trace

        trace.set_tracer_provider(provider)
        import agentel

        agentel.get_tracer_provider()  # attaches agentel's processor to the application's provider
        agentel.trace(_raw.lookup)(*_raw.ARGS)
    return _raw.case1(provider.get_tracer("app"))  # type: ignore[no-any-return]


def _run_subject(case: str, which: str, calls: int) -> None:
    call = _subject(case, which)
    for _ in range(300):  # warm-up: caches, the tracer resolved, the first batch exported
        call()
    for _ in range(calls):
        call()


def _counted(case: str, which: str, calls: int) -> Dict[str, int]:
    """Cachegrind's totals for one run of the subject with ``calls`` measured calls."""
    command = [
        "valgrind", "--tool=cachegrind", "--cache-sim=yes", "--branch-sim=yes", "--cachegrind-out-file=/dev/null",
        sys.executable, str(Path(__file__).resolve()), "--subject", f"{case}:{which}", "--calls", str(calls),
    ]
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"case {case} {which}: exit {done.returncode}\n{done.stderr[-2000:]}")
    totals: Dict[str, int] = {}
    for key, name in COUNTERS:
        found = re.search(rf"{re.escape(key)}:\s*([\d,]+)", done.stderr)
        if found is None:
            raise RuntimeError(f"case {case} {which}: no '{key}' in cachegrind's output")
        totals[name] = int(found.group(1).replace(",", ""))
    return totals


def _per_unit(case: str, which: str, calls: int) -> Dict[str, float]:
    once, twice = _counted(case, which, calls), _counted(case, which, 2 * calls)
    return {name: (twice[name] - once[name]) / calls for _, name in COUNTERS}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--calls", type=int, default=0, help="measured calls per run (default per case)")
    parser.add_argument("--subject", help=argparse.SUPPRESS)  # internal: run one subject under valgrind
    args = parser.parse_args()
    if args.subject:
        case, which = args.subject.split(":")
        _run_subject(case, which, args.calls)
        return 0
    if shutil.which("valgrind") is None:
        print("bench/instructions.py needs valgrind (apt-get install valgrind)", file=sys.stderr)
        return 2
    cases = [c for c in args.cases.split(",") if c]
    unknown = [c for c in cases if c not in CASES]
    if unknown:
        print(f"unknown case(s) {unknown}; known: {', '.join(CASES)}", file=sys.stderr)
        return 2
    jobs = [(case, which, args.calls or (60 if case in ("3", "4") else 300))
            for case in cases for which in CASES[case][1]]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        results = list(pool.map(lambda job: _per_unit(*job), jobs))
    counted = {(case, which): result for (case, which, _), result in zip(jobs, results)}
    print("| case | subject | instructions | × first | D1 misses | × first | mispredicts | × first |")
    print("|---|---|---|---|---|---|---|---|")
    for case in cases:
        unit, subjects = CASES[case]
        first = counted[(case, subjects[0])]
        for which in subjects:
            row: List[str] = [f"{case} {unit}" if which == subjects[0] else "", LABELS[which]]
            for _, name in COUNTERS:
                value = counted[(case, which)][name]
                row += [f"{value / 1000:,.1f} k", f"{value / first[name]:.2f}"]
            print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
