"""The bench driver: runs every (case, library) job in its own subprocess, prints one table, writes JSON.

Run it through ``bench/run`` (which installs bench/.venv and isolates the network); by hand:
``bench/.venv/bin/python bench/_driver.py [--smoke] [--cases 1,3] [--libs agentel,mlflow]``.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime as dt
import importlib.util
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from _harness import fmt_ns, fmt_ratio, render_table  # noqa: E402

# Every worker starts from this environment: no inherited OTel/library settings, all telemetry off.
_SCRUBBED = ("OTEL_", "AGENTEL_", "MLFLOW_", "TRACELOOP_", "LANGFUSE_", "LOGFIRE_", "PHOENIX_")
QUIET_ENV = {
    "DO_NOT_TRACK": "1",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "TRACELOOP_TELEMETRY": "false",
    "TRACELOOP_METRICS_ENABLED": "false",
    "TRACELOOP_LOGGING_ENABLED": "false",
    "TRACELOOP_TRACE_CONTENT": "true",
    "LOGFIRE_SEND_TO_LOGFIRE": "false",
    "LOGFIRE_CONSOLE": "false",
    "LANGFUSE_HOST": "http://127.0.0.1:9",
    "ANONYMIZED_TELEMETRY": "false",
    "POSTHOG_DISABLED": "1",
    "PHOENIX_TELEMETRY_ENABLED": "false",
    "NO_PROXY": "127.0.0.1,localhost",
    "no_proxy": "127.0.0.1,localhost",
    "PYTHONDONTWRITEBYTECODE": "1",
}
# Closed loopback port (discard): where a peer's "server" points, so nothing could leave the machine.
NOWHERE = "http://127.0.0.1:9"

# lib id -> (display name, module that proves it is installed, extra env)
PEERS: Dict[str, tuple] = {
    "mlflow": ("MLflow Tracing", "mlflow", {
        # mlflow-tracing's documented OTLP-only mode; the worker swaps in the DropExporter.
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": NOWHERE,
        # mlflow-tracing has no local store: without a tracking URI its provider never initialises
        # (ImportError on every call). A tracking server URI on a closed port is never contacted.
        "MLFLOW_TRACKING_URI": NOWHERE,
    }),
    "openinference": ("OpenInference", "openinference.instrumentation", {}),
    "traceloop": ("OpenLLMetry", "traceloop.sdk", {}),
    "langfuse": ("Langfuse", "langfuse", {}),
    "logfire": ("Logfire", "logfire", {}),
}


class Job:
    def __init__(self, case: str, lib: str, variant: str = "", env: Optional[Dict[str, str]] = None,
                 title: str = "") -> None:
        self.case, self.lib, self.variant, self.env = case, lib, variant, dict(env or {})
        self.title = title or f"case {case} {lib} {variant}".strip()


def plan(cases: List[str], libs: Optional[List[str]]) -> List[Job]:
    jobs: List[Job] = []
    peer_cases = {"1", "3", "5"}
    for case in cases:
        if case in ("1", "2", "3", "4", "12"):
            jobs.append(Job(case, "agentel"))
        if case == "1":  # ablation: what the redaction scan costs per call
            jobs.append(Job(case, "agentel", "redact-off", {"AGENTEL_REDACT": "false"}))
        elif case == "5":
            jobs.append(Job(case, "agentel"))
            jobs.append(Job(case, "agentel", "1MB", {"AGENTEL_MAX_PAYLOAD_BYTES": "1000000"},
                            "case 5 agentel budget 1 MB"))
        elif case == "6":
            jobs.append(Job(case, "agentel", "disabled", {"AGENTEL_ENABLED": "false"}))
            jobs.append(Job(case, "agentel", "sampled-out", {
                "OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0"}))
        elif case == "7":
            jobs.append(Job(case, "export"))
        elif case == "8":
            jobs.append(Job(case, "agentel", "raw"))
            jobs.append(Job(case, "agentel", "agentel"))
        elif case == "9":
            jobs.append(Job(case, "imports"))
        elif case == "5b":
            jobs.append(Job(case, "agentel"))
        elif case == "10":  # its own process: the application's provider is installed globally there
            jobs.append(Job(case, "agentel", "app-spans"))
        elif case == "11":
            jobs.extend(Job(case, "agentel_memory", v) for v in ("memory", "console", "file"))
        if case in ("1", "3"):  # ablation: what keeping recent traces for get_trace() costs, in one process
            jobs.append(Job(case, "agentel", "keep-traces"))
        if case in peer_cases:
            jobs.extend(Job(case, peer, env=PEERS[peer][2]) for peer in PEERS)
    if libs:
        keep = set(libs) | {"export", "imports"}
        jobs = [j for j in jobs if j.lib in keep or j.lib.split("_")[0] in keep]
    return jobs


def _case7_floor(rows: List[Dict[str, Any]], agentel_row: Dict[str, Any], add: Any) -> None:
    """Case 7's informational row: raw OTel writing agentel's attribute set, and agentel against it."""
    rawset = next((r for r in rows if r["case"] == "7" and r["library"] == "raw OTel + agentel's attrs"), None)
    if rawset and rawset["exported_per_s"]:
        add("case 7: raw OTel writing agentel's attributes (burst; what the set costs)",
            f"{rawset['exported_per_s']:,.0f} spans/s = {fmt_ratio(rawset['ratio_to_raw'])} raw; agentel "
            f"{fmt_ratio(agentel_row['exported_per_s'] / rawset['exported_per_s'])} that", None)


def merged(jobs: List[Job]) -> List[Job]:
    """Smoke runs: one process per (library, variant, env) runs all its cases (start-up dominates)."""
    groups: Dict[tuple, Job] = {}
    for job in jobs:
        key = (job.lib, job.variant, tuple(sorted(job.env.items())))
        if key in groups:
            groups[key].case += "," + job.case
        else:
            groups[key] = Job(job.case, job.lib, job.variant, job.env)
    for job in groups.values():
        job.title = f"case {job.case} {job.lib} {job.variant}".strip()
    return list(groups.values())


def python_for(lib: str) -> Optional[str]:
    """The interpreter that has ``lib``: this venv, else bench/.venv-peers/<lib> (a peer that could
    not be installed with the others), else None (skipped)."""
    if lib not in PEERS or importlib.util.find_spec(PEERS[lib][1]) is not None:
        return sys.executable
    own = BENCH / ".venv-peers" / lib / "bin" / "python"
    return str(own) if own.exists() else None


def run_job(job: Job, smoke: bool, timeout: float) -> Dict[str, Any]:
    python = python_for(job.lib)
    if python is None:
        return {"job": job.title, "skipped": f"{job.lib} is not installed"}
    env = {k: v for k, v in os.environ.items() if not k.startswith(_SCRUBBED)}
    env.update(QUIET_ENV)
    env.update(job.env)
    cmd = [python, str(BENCH / "worker.py"), "--lib", job.lib, "--case", job.case,
           "--variant", job.variant] + (["--smoke"] if smoke else [])
    t0 = time.monotonic()
    try:
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL, cwd=str(BENCH))
    except subprocess.TimeoutExpired as exc:
        return {"job": job.title, "error": f"timed out after {timeout:.0f} s\n{exc.stderr or ''}"}
    seconds = time.monotonic() - t0
    for line in proc.stdout.splitlines():
        if line.startswith("BENCH-RESULT "):
            result = json.loads(line[len("BENCH-RESULT "):])
            result["job"], result["seconds"] = job.title, seconds
            if "error" in result:
                result["stderr_tail"] = proc.stderr[-3000:]
            return result
    return {"job": job.title, "error": f"exit {proc.returncode}, no result\n{proc.stderr[-3000:]}"}


def machine() -> Dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": model, "python": platform.python_version(),
            "platform": platform.platform()}


def installed_versions() -> Dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    names = ["agentel", "opentelemetry-sdk", "opentelemetry-exporter-otlp-proto-grpc",
             "mlflow-tracing", "openinference-instrumentation", "traceloop-sdk", "langfuse",
             "logfire", "rotel"]
    out = {}
    for name in names:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


# --- targets of issue 7 ---------------------------------------------------------------------------


def _find(rows: List[Dict[str, Any]], case: str, library: str, variant: str = "") -> Optional[Dict[str, Any]]:
    for r in rows:
        if r["case"] == case and r["library"] == library and r.get("variant", "").startswith(variant):
            return r
    return None


SWITCHING = "raw OTel, context per item"  # case 4: the span current only while the body runs
OWN = ("agentel", "raw OTel", "raw OTel + agentel's attrs", SWITCHING)


def _peers(rows: List[Dict[str, Any]], case: str, variant: str = "") -> List[Dict[str, Any]]:
    """The peer libraries' rows of a case (not agentel's, not a raw baseline's)."""
    return [r for r in rows if r["case"] == case and r["library"] not in OWN and "role" not in r
            and r.get("variant", "").startswith(variant) and r.get("ratio") is not None]


def _main(rows: List[Dict[str, Any]], case: str, variant: str, role: Optional[str] = None,
          library: str = "agentel") -> Optional[Dict[str, Any]]:
    """agentel's row of (case, exact variant) vs the two-attribute raw baseline, or its ``role`` row."""
    for r in rows:
        if r["case"] == case and r.get("variant") == variant and r["library"] == library and r.get("role") == role:
            return r
    return None


def _adder(out: List[Dict[str, Any]]) -> Any:
    def add(target: str, measured: str, met: Optional[bool]) -> None:
        out.append({"target": target, "measured": measured,
                    "met": "-" if met is None else "yes" if met else "no"})

    return add


def targets(rows: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The targets of issue 7, evaluated on this run's rows (reported, never asserted)."""
    out: List[Dict[str, Any]] = []
    add = _adder(out)

    a1 = _find(rows, "1", "agentel", "decorated sync call")
    if a1 and a1["variant"] == "decorated sync call":
        add("case 1: agentel <= 1.15 x raw OTel", f"{a1['ratio']:.2f} x (added {fmt_ns(a1['added_ns'])})",
            a1["ratio"] <= 1.15)
        peers = _peers(rows, "1")
        if peers:
            fastest = min(peers, key=lambda r: r["ratio"])
            speedup = fastest["ratio"] / a1["ratio"]
            add("case 1: >= 3.5 x faster than the fastest peer",
                f"fastest peer {fastest['library']} {fastest['ratio']:.2f} x raw -> agentel "
                f"{speedup:.2f} x faster", speedup >= 3.5)
        ml = next((r for r in peers if r["library"] == "MLflow Tracing"), None)
        if ml:
            add("case 1: >= 12 x faster than MLflow Tracing",
                f"MLflow {ml['ratio']:.2f} x raw -> agentel {ml['ratio'] / a1['ratio']:.2f} x faster",
                ml["ratio"] / a1["ratio"] >= 12)
    for r in rows:
        if r["case"] == "6" and r["library"] == "agentel":
            add(f"case 6: <= 1 µs added ({r['variant']})", fmt_ns(r["added_ns"]), r["added_ns"] <= 1000)
    for r in rows:
        if r["case"] == "7" and r["library"] == "agentel":
            add("case 7: >= raw exporter throughput (burst)",
                f"{r['exported_per_s']:,.0f} spans/s = {fmt_ratio(r['ratio_to_raw'])} raw",
                r["ratio_to_raw"] >= 1.0)
            _case7_floor(rows, r, add)
            for p in r["paced"]:
                add(f"case 7: zero drops at {p['rate']:,} spans/s" + (" (beyond the target)" if p["rate"] != 5000 else ""),
                    f"{p['dropped']:,} of {p['spans_total']:,} dropped",
                    p["dropped"] == 0 if p["rate"] == 5000 else None)
        if r["case"] == "8" and r["library"] == "agentel":
            add(f"case 8: RSS growth <= 50 MB over {r['down_calls']:,} spans",
                f"+{r['rss_growth_mb']:.1f} MB", r["rss_growth_mb"] <= 50)
            add("case 8: p99 <= 2 x normal with the collector down",
                f"{fmt_ns(r['subject']['p99_ns'])} vs {fmt_ns(r['baseline']['p99_ns'])} "
                f"({fmt_ratio(r['p99_ratio'])}); max {fmt_ns(r['subject']['max_ns'])}",
                r["p99_ratio"] <= 2.0)
        if r["case"] == "9" and r["variant"] == "import agentel":
            add("case 9: import agentel <= 1.3 x SDK + OTLP exporter",
                f"{fmt_ns(r['subject']['median_ns'])} vs {fmt_ns(r['baseline']['median_ns'])} "
                f"({fmt_ratio(r['ratio'])})", r["ratio"] <= 1.3)
            loaded = r.get("modules_loaded_by_import_agentel", {})
            eager = [m for m in ("grpc", "google.protobuf", "opentelemetry.exporter",
                                 "opentelemetry.proto", "requests", "urllib3", "numpy", "pydantic")
                     if loaded.get(m)]
            add("case 9: no exporter / grpc / protobuf / serializer extras at import",
                "imported: " + (", ".join(m for m, y in loaded.items() if y) or "none"), not eager)
        if r["case"] == "9" and r["variant"].startswith("import agentel +"):
            add("case 9: import agentel and trace a callable that needs wrapt (reported)",
                f"{fmt_ns(r['subject']['median_ns'])} ({fmt_ratio(r['ratio'])})", None)
    return out


RATIO_TARGETS = (  # issue 16: agentel / the two-attribute raw baseline, same process
    ("1", "decorated sync call", 1.15),
    ("2", "start_span context manager", 1.15),
    ("2", "TraceClient, 2-span trace", 1.3),
    ("3", "nested agent trace (8 spans)", 1.3),
    ("4", "generator, 100 items", 1.5),
    ("4", "async generator, 100 items", 1.5),
)
GROWTH_LIMIT_MB = 5.0  # case 11: RSS growth over the second half of a long run (~100 B per span at 50 k)


def _signed(ns: float) -> str:
    return ("+" if ns >= 0 else "-") + fmt_ns(abs(ns))


def targets16(rows: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The targets of issue 16, evaluated on this run's rows (reported, never asserted)."""
    out: List[Dict[str, Any]] = []
    add = _adder(out)
    for case, variant, limit in RATIO_TARGETS:
        a = _main(rows, case, variant)
        if a:
            add(f"case {case} {variant}: <= {limit} x raw OTel (2 attributes)",
                f"{a['ratio']:.2f} x (added {fmt_ns(a['added_ns'])})", a["ratio"] <= limit)
    for case, variant, _ in RATIO_TARGETS:
        ad, at = _main(rows, case, variant, "adapter-overhead"), _main(rows, case, variant, "attribute-cost",
                                                                        "raw OTel + agentel's attrs")
        if ad and at:
            add(f"case {case} {variant}: adapter overhead <= 1.05 x raw OTel writing agentel's attributes",
                f"{ad['ratio']:.2f} x ({_signed(ad['added_ns'])}); the attributes alone: {at['ratio']:.2f} x "
                f"raw ({_signed(at['added_ns'])})", ad["ratio"] <= 1.05)
    switching = _main(rows, "4", "generator, 100 items", "context-switch-floor", SWITCHING)
    if switching:
        add("case 4: raw OTel setting and resetting the context per item (the span current only in the body)",
            f"{switching['ratio']:.2f} x raw ({_signed(switching['added_ns'])})", None)
    for case, variant in (("1", "decorated sync call"), ("3", "nested agent trace (8 spans)"),
                          ("5", "100 KB input, budget default")):
        a, peers = _main(rows, case, variant), _peers(rows, case)
        if a and peers:
            best = min(peers, key=lambda r: r["ratio"])
            add(f"case {case}: agentel's ratio below every peer's",
                f"agentel {a['ratio']:.2f} x; best peer {best['library']} {best['ratio']:.2f} x",
                a["ratio"] < best["ratio"])
    a5 = _main(rows, "5", "100 KB input, budget default")
    if a5:
        add("case 5: 100 KB input <= 1.0 x raw OTel's full json.dumps", f"{a5['ratio']:.2f} x", a5["ratio"] <= 1.0)
    for r in rows:
        if r["case"] != "5b" or r["library"] != "agentel":
            continue
        if r.get("role") == "vs-100KB":
            add("case 5b: 10 MB input within 2 x the 100 KB case",
                f"{fmt_ns(r['subject']['median_ns'])} vs {fmt_ns(r['baseline']['median_ns'])} ({r['ratio']:.2f} x)",
                r["ratio"] <= 2.0)
        elif "default" in r["variant"]:
            add("case 5b: 10 MB input <= 0.05 x raw OTel's full json.dumps",
                f"{r['ratio']:.3f} x ({fmt_ns(r['subject']['median_ns'])} vs {fmt_ns(r['baseline']['median_ns'])})",
                r["ratio"] <= 0.05)
            for label, c in r.get("payload_checks", {}).items():
                ok = bool(c.get("valid_json") and c.get("within_budget") and c.get("says_what_was_cut"))
                add(f"case 5b: {label} input cut to valid JSON within the budget, saying what was cut",
                    f"{c.get('bytes', '?'):,} of {c['budget']:,} bytes, valid JSON: {c.get('valid_json')}, "
                    f"{c.get('markers', 0)} cut markers", ok)
    for r in rows:
        if r["case"] == "6" and r["library"] == "agentel":
            limit = 500 if "ENABLED=false" in r["variant"] else 1000
            add(f"case 6: <= {fmt_ns(limit)} added ({r['variant']})", fmt_ns(r["added_ns"]), r["added_ns"] <= limit)
        if r["case"] == "7" and r["library"] == "agentel":
            add("case 7: >= 1.0 x raw exporter throughput (burst)",
                f"{r['exported_per_s']:,.0f} spans/s = {fmt_ratio(r['ratio_to_raw'])} raw", r["ratio_to_raw"] >= 1.0)
            _case7_floor(rows, r, add)
            for pace in r["paced"]:
                add(f"case 7: zero drops at {pace['rate']:,} spans/s",
                    f"{pace['dropped']:,} of {pace['spans_total']:,} dropped", pace["dropped"] == 0)
        if r["case"] == "10":
            add(f"case 10: <= 1 µs per application span ({r['variant']})",
                f"{_signed(r['added_per_span_ns'])} per span ({r['ratio']:.2f} x)", r["added_per_span_ns"] <= 1000)
        if r["case"] == "11" and r.get("kind") == "memory":
            vs = f" vs {r['baseline_bytes_per_unit']:,.0f} B raw" if r.get("baseline_bytes_per_unit") else ""
            add(f"case 11: memory per {r['unit']} ({r['variant']})", f"{r['bytes_per_unit']:,.0f} B{vs}", None)
        if r["case"] == "11" and r.get("kind") == "long-run":
            add(f"case 11: {r['spans']:,} spans through {r['variant']} without unbounded growth",
                f"RSS {r['rss_growth_first_half_mb']:+.1f} MB then {r['rss_growth_second_half_mb']:+.1f} MB "
                f"(second half; limit {GROWTH_LIMIT_MB:.0f} MB)", r["rss_growth_second_half_mb"] <= GROWTH_LIMIT_MB)
    out += [t for t in targets(rows) if t["target"].startswith(("case 8", "case 9"))]
    return out


def render_targets(rows: List[Dict[str, Any]], evaluate: Any = None) -> str:
    items = (evaluate or targets)(rows)
    if not items:
        return ""
    w = [max(len(str(i[k])) for i in items + [{"target": "target", "measured": "measured",
                                                "met": "met"}]) for k in ("target", "measured", "met")]
    lines = ["| " + " | ".join(h.ljust(x) for h, x in zip(("target", "measured", "met"), w)) + " |",
             "|" + "|".join("-" * (x + 2) for x in w) + "|"]
    for i in items:
        lines.append("| " + " | ".join(str(i[k]).ljust(x) for k, x in zip(("target", "measured", "met"), w)) + " |")
    return "\n".join(lines)


# --- output ------------------------------------------------------------------------------------


def render_new_cases(rows: List[Dict[str, Any]]) -> List[str]:
    """The details under the table of the attribute-set baseline and of cases 5b, 10 and 11."""
    out: List[str] = []
    sets = [r for r in rows if r.get("role") == "attribute-cost"]
    if sets:
        out += ["", "Cases 1-4 - the attributes agentel writes, read from the spans it exported in this run "
                "(the 'raw OTel + agentel's attrs' rows write the same set: the extra ones at start):"]
        for r in sets:
            spans = "; ".join(
                f"{name} ({d['kind']}): {len(d['library_keys'])} attributes, beyond raw's: "
                + (", ".join(d["extra_keys"]) or "none")
                + (f" (raw only: {', '.join(d['baseline_only_keys'])})" if d["baseline_only_keys"] else "")
                for name, d in r["agentel_attributes"].items())
            out.append(f"  case {r['case']} {r['variant']}: {spans}")
    for r in rows:
        if r["case"] == "5b" and r.get("payload_checks"):
            out += ["", f"Case 5b - the cut payloads ({r['messages']:,} messages), read from the exported spans:"]
            for label, c in r["payload_checks"].items():
                out.append(f"  {label} input: {c.get('bytes', '?'):,} of {c['budget']:,} bytes, valid JSON: "
                           f"{c.get('valid_json')}, {c.get('markers', 0)} cut markers, e.g. "
                           + ", ".join(c.get("marker_examples") or ["none"]))
    app = [r for r in rows if r["case"] == "10"]
    if app:
        processors = next((r["app_provider_processors"] for r in app if "app_provider_processors" in r), [])
        out += ["", "Case 10 - the application's provider (processors: " + ", ".join(processors) + "):"]
        out += [f"  {r['variant']}: {_signed(r['added_per_span_ns'])} per span ({fmt_ratio(r['ratio'])})" for r in app]
    memory = [r for r in rows if r["case"] == "11"]
    if memory:
        out += ["", "Case 11 - memory (tracemalloc: Python allocations alive after gc; RSS in brackets) and long runs:"]
    for r in memory:
        if r.get("kind") == "memory":
            line = (f"  {r['variant']}: {r['bytes_per_unit']:,.0f} B per {r['unit']} "
                    f"(RSS {r['rss_bytes_per_unit']:,.0f} B), n={r['n']:,}")
            if r.get("baseline_bytes_per_unit"):
                line += f"; {r['baseline_label']}: {r['baseline_bytes_per_unit']:,.0f} B ({fmt_ratio(r['ratio'])})"
            if r.get("keep_traces"):
                est = r.get("agentel_estimate_per_trace")
                line += (f"; agentel's own size estimate {est:,.0f} B" if est else "") + (
                    f"; {r['growth_after_full_traces']:,} more traces once full: "
                    f"{r['growth_after_full_bytes']:+,} B")
            out.append(line)
        elif r.get("kind") == "long-run":
            st = r.get("agentel_stats", {})
            written = f"{r['output_bytes']:,} bytes, {r['output_lines']:,} lines" + (
                f", {r['spans_in_file']:,} spans in the file" if "spans_in_file" in r else "")
            out.append(
                f"  {r['variant']}: {r['spans']:,} calls in {r['seconds']:.1f} s ({r['calls_per_s']:,.0f}/s); RSS "
                f"{r['rss_start_mb']:.1f} -> {r['rss_end_mb']:.1f} MB (max {r['rss_max_mb']:.1f}; "
                f"{r['rss_growth_first_half_mb']:+.1f} MB first half, {r['rss_growth_second_half_mb']:+.1f} MB "
                f"second); written {written}; spans started {st.get('spans_started')}, exported "
                f"{st.get('spans_exported')}, dropped {st.get('spans_dropped')}, console trees dropped "
                f"{st.get('console_traces_dropped', '-')}")
    return out


def _load_note(meta: Dict[str, Any]) -> str:
    """The 1-minute load average at start and end (a shared machine: other work skews absolute times)."""
    load = meta.get("load_average")
    if not load:
        return ""
    return f"; load average {load['start'][0]:.1f} at start, {load['end'][0]:.1f} at end"


def render(results: Dict[str, Any]) -> str:
    rows = results["rows"]
    out = [f"agentel benchmark - {results['meta']['mode']} run, {results['meta']['started']}",
           "machine: {nproc} cores, {cpu}, Python {python}".format(**results["meta"]["machine"])
           + _load_note(results["meta"]),
           "versions: " + ", ".join(f"{k} {v}" for k, v in results["meta"]["versions"].items()),
           "", render_table(r for r in rows if r.get("kind", "timing") in ("timing", "collector-down"))]
    throughput = [r for r in rows if r.get("kind") == "throughput"]
    if throughput:
        out += ["", "Case 7 - export throughput, OTLP gRPC to a local Rotel collector (blackhole):"]
        for r in throughput:
            paced = "; ".join(
                f"{x['rate']:,}/s (achieved {x['achieved_per_s']:,.0f}/s): dropped {x['dropped']:,} of "
                f"{x['spans_total']:,}" for x in r["paced"])
            out.append(
                f"  {r['library']:<9} burst of {r['burst_spans']:,} x {r['rounds']}: "
                f"{r['exported_per_s']:,.0f} spans/s exported (calls offered {r['offered_per_s']:,.0f}/s;"
                f" {fmt_ratio(r['ratio_to_raw'])} raw), dropped {r['burst_dropped']:,} of "
                f"{r['burst_spans_total']:,}")
            out.append(f"  {'':<9} paced {r['paced_seconds']} s x {r['rounds']}: {paced}")
            if r.get("attribute_set"):
                written = "; ".join(f"{name}: {', '.join(keys)}" for name, keys in r["attribute_set"].items())
                out.append(f"  {'':<9} the attributes beyond raw's, read from agentel's spans and written by "
                           f"'raw OTel + agentel's attrs' at start: {written}")
    down = [r for r in rows if r.get("kind") == "collector-down"]
    if down:
        out += ["", "Case 8 - collector down (stopped after the 'collector up' calls):"]
        for r in down:
            stats = r.get("agentel_stats") or {}
            counts = r.get("raw_counts") or {}
            dropped = (f"agentel.stats(): exported {stats.get('spans_exported')}, dropped "
                       f"{stats.get('spans_dropped')}, export failures {stats.get('export_failures', '-')}"
                       if stats else
                       f"exporter saw: exported {counts.get('spans_exported')}, failed "
                       f"{counts.get('spans_failed')}, never exported {counts.get('spans_not_exported')}")
            out.append(
                f"  {r['library']:<9} {r['down_calls']:,} calls in {r['down_seconds']:.1f} s: "
                f"RSS {r['rss_before_mb']:.1f} -> {r['rss_after_mb']:.1f} MB "
                f"(+{r['rss_growth_mb']:.1f} MB); p99 {fmt_ns(r['subject']['p99_ns'])} vs "
                f"{fmt_ns(r['baseline']['p99_ns'])} up ({fmt_ratio(r['p99_ratio'])}); max "
                f"{fmt_ns(r['subject']['max_ns'])}; {dropped}")
    for r in rows:
        if "modules_loaded_by_import_agentel" in r:
            loaded = [m for m, yes in r["modules_loaded_by_import_agentel"].items() if yes]
            out += ["", "Case 9 - modules `import agentel` loads: " + (", ".join(loaded) or "none")]
    notes = [r for r in rows if "spans_reaching_exporter" in r]
    if notes:
        out += ["", "spans that reached each peer's exporter (proof they were created): " + ", ".join(
            f"{r['library']} case {r['case']}: {r['spans_reaching_exporter']}" for r in notes)]
    out += render_new_cases(rows)
    note = ("smoke run: tiny counts, jobs in parallel - these verdicts mean nothing"
            if results["meta"]["mode"] == "smoke" else "reported, not asserted")
    goals = render_targets(rows)
    if goals:
        out += ["", f"Targets of issue 7 ({note}):", goals]
    goals = render_targets(rows, targets16)
    if goals:
        out += ["", f"Targets of issue 16 ({note}):", goals]
    if results["skipped"]:
        out += ["", "skipped: " + "; ".join(results["skipped"])]
    if results["errors"]:
        out += ["", "FAILED jobs:"]
        for e in results["errors"]:
            out.append(f"  {e['job']}: " + e["error"].strip().splitlines()[-1])
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny iteration counts (CI)")
    parser.add_argument("--cases", default="1,2,3,4,5,5b,6,7,8,9,10,11,12")
    parser.add_argument("--libs", default="", help="comma list: agentel,mlflow,openinference,...")
    parser.add_argument("--jobs", type=int, default=0, help="parallel workers (default: 1; smoke: 3)")
    parser.add_argument("--readme", action="store_true",
                        help="put this run's table into bench/README.md (between the bench:latest markers)")
    args = parser.parse_args()
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    jobs = plan(cases, [x.strip() for x in args.libs.split(",") if x.strip()] or None)
    if args.smoke:
        jobs = merged(jobs)
    parallel = args.jobs or (3 if args.smoke else 1)  # smoke numbers are meaningless anyway
    timeout = 180.0 if args.smoke else 1800.0
    started = dt.datetime.now(dt.timezone.utc)
    load_before = os.getloadavg()
    mode = "smoke" if args.smoke else "full"
    print(f"bench: {len(jobs)} jobs ({mode}), {parallel} at a time", file=sys.stderr)

    def one(job: Job) -> Dict[str, Any]:
        result = run_job(job, args.smoke, timeout)
        state = "skipped" if "skipped" in result else "FAILED" if "error" in result else "ok"
        print(f"  {job.title:<30} {state} ({result.get('seconds', 0):.1f} s)", file=sys.stderr)
        return result

    # the slowest job (case 9: many fresh interpreters) starts first; results keep the plan's order
    order = sorted(range(len(jobs)), key=lambda i: jobs[i].lib != "imports") if parallel > 1 else range(len(jobs))
    with concurrent.futures.ThreadPoolExecutor(parallel) as pool:
        futures = {i: pool.submit(one, jobs[i]) for i in order}
        outcomes = [futures[i].result() for i in range(len(jobs))]

    results: Dict[str, Any] = {
        "meta": {"mode": mode, "started": started.isoformat(timespec="seconds"),
                 "seconds": (dt.datetime.now(dt.timezone.utc) - started).total_seconds(),
                 "machine": machine(), "versions": installed_versions(), "cases": cases,
                 "load_average": {"start": load_before, "end": os.getloadavg()}},
        "rows": [r for o in outcomes for r in o.get("rows", [])],
        "errors": [{"job": o["job"], "error": o["error"] + "\n" + o.get("stderr_tail", "")}
                   for o in outcomes if "error" in o],
        "skipped": [f"{o['job']}: {o['skipped']}" for o in outcomes if "skipped" in o],
    }
    table = render(results)
    results["table"] = table
    print(table)
    out_dir = BENCH / "results"
    out_dir.mkdir(exist_ok=True)
    if args.smoke:
        paths = [out_dir / "smoke.json"]
    else:
        paths = [out_dir / f"{started.strftime('%Y%m%dT%H%M%SZ')}.json", out_dir / "latest.json"]
    for path in paths:
        path.write_text(json.dumps(results, indent=1, default=str) + "\n")
    print(f"\nwrote {', '.join(str(p.relative_to(BENCH.parent)) for p in paths)}")
    if args.readme:
        update_readme(results)
    for e in results["errors"]:
        print(f"\n--- {e['job']} ---\n{e['error']}", file=sys.stderr)
    return 1 if results["errors"] else 0


def update_readme(results: Dict[str, Any]) -> None:
    """Replace the text between the bench:latest markers of bench/README.md with this run."""
    path = BENCH / "README.md"
    text = path.read_text()
    start, end = "<!-- bench:latest:start -->", "<!-- bench:latest:end -->"
    if start not in text or end not in text:
        print("README.md has no bench:latest markers; not updated", file=sys.stderr)
        return
    m = results["meta"]
    body = (f"{start}\nRun of {m['started']} ({m['mode']}, {m['seconds'] / 60:.1f} min): "
            f"{m['machine']['nproc']} cores, CPU \"{m['machine']['cpu']}\", CPython "
            f"{m['machine']['python']}, {m['machine']['platform']}.\n\n```\n{results['table']}\n```\n{end}")
    path.write_text(text[:text.index(start)] + body + text[text.index(end) + len(end):])
    print("updated bench/README.md")


if __name__ == "__main__":
    sys.exit(main())
