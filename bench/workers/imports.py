"""Case 9: import time, measured in fresh interpreters with ``python -X importtime``.

For each target a new ``python -X importtime -c "<marker>; import ..."`` runs; the time is the sum of
the cumulative times of the top-level imports after the marker (interpreter start-up and ``site`` are
not counted). Targets are run round-robin, medians over runs. A separate plain run per target lists
which heavy modules ``import agentel`` pulls in (the target is: none until used).
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any, Dict, List

from _harness import Scale, row, summarize

TARGETS = {
    "agentel": "import agentel",
    # a callable that gets a wrapt proxy (a method, generator, coroutine, builtin...): wrapt loads then
    "agentel_proxy": "import agentel; agentel.trace(len)",
    "otel_grpc": "import opentelemetry.sdk.trace, opentelemetry.exporter.otlp.proto.grpc.trace_exporter",
    "otel_http": "import opentelemetry.sdk.trace, opentelemetry.exporter.otlp.proto.http.trace_exporter",
    "otel_sdk": "import opentelemetry.sdk.trace",
    "mlflow": "import mlflow",
}
HEAVY = ["grpc", "google.protobuf", "opentelemetry.exporter", "opentelemetry.proto", "requests",
         "urllib3", "wrapt", "opentelemetry.sdk.trace", "asyncio", "numpy", "pydantic"]
MARK = "BENCH-IMPORT-MARK"


def versions() -> Dict[str, str]:
    return {}


def _importtime_us(stmt: str) -> float:
    code = f"import sys; sys.stderr.write('{MARK}\\n'); sys.stderr.flush(); {stmt}"
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", code],
                          capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise RuntimeError(f"{stmt!r} failed:\n{proc.stderr[-2000:]}")
    total = 0.0
    seen = False
    for line in proc.stderr.splitlines():
        if line == MARK:
            seen = True
            continue
        if not seen or not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = line[len("import time:"):].split("|", 2)
        if cumulative.strip().isdigit() and not name[1:].startswith(" "):  # depth 0
            total += float(cumulative)
    return total


def _loaded_after(stmt: str) -> Dict[str, bool]:
    code = (f"import sys, json; before = set(sys.modules); {stmt}; "
            f"new = set(sys.modules) - before; "
            f"print(json.dumps({{h: any(m == h or m.startswith(h + '.') for m in new) "
            f"for h in {HEAVY!r}}}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    return json.loads(out.stdout.strip().splitlines()[-1]) if out.returncode == 0 else {}


def _available(stmt: str) -> bool:
    return subprocess.run([sys.executable, "-c", stmt], capture_output=True,
                          timeout=120).returncode == 0


def run(case: str, variant: str, scale: Scale) -> List[Dict[str, Any]]:
    runs = 1 if scale.smoke else 9
    targets = {k: v for k, v in TARGETS.items() if _available(v)}
    samples: Dict[str, List[float]] = {k: [] for k in targets}
    for _ in range(runs):
        for name, stmt in targets.items():
            samples[name].append(_importtime_us(stmt) * 1000.0)  # ns, like every other row
    res = {k: summarize(v, [int(x) for x in v]) for k, v in samples.items()}
    base = "otel_grpc"
    label = "OTel SDK + OTLP gRPC exporter"
    rows = [row("9", "import agentel", "agentel", res, baseline=base, subject="agentel",
                unit="import", baseline_label=label, runs=runs,
                modules_loaded_by_import_agentel=_loaded_after(TARGETS["agentel"]))]
    rows.append(row("9", "import agentel + the first traced callable needing wrapt", "agentel", res, baseline=base,
                    subject="agentel_proxy", unit="import", baseline_label=label, runs=runs))
    rows.append(row("9", "import OTel SDK + OTLP HTTP exporter", "raw OTel", res, baseline=base,
                    subject="otel_http", unit="import", baseline_label=label, runs=runs))
    rows.append(row("9", "import opentelemetry.sdk.trace only", "raw OTel", res, baseline=base,
                    subject="otel_sdk", unit="import", baseline_label=label, runs=runs))
    if "mlflow" in res:
        rows.append(row("9", "import mlflow (mlflow-tracing)", "MLflow Tracing", res, baseline=base,
                        subject="mlflow", unit="import", baseline_label=label, runs=runs))
    return rows
