"""A local Rotel collector (OTLP gRPC + HTTP on 127.0.0.1) with its blackhole exporter: the sink of
cases 7 and 8.

It reuses the project's starter, ``tests/e2e/_receivers.py::Rotel`` (free ports, readiness, stop by
PID). That starter looks for Rotel in the e2e backends dir (``scripts/backends/install``); when it is
not installed there, the same pinned ``rotel`` wheel installed in bench/.venv is used instead.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


def _receivers() -> Any:
    path = REPO / "tests" / "e2e" / "_receivers.py"
    spec = importlib.util.spec_from_file_location("agentel_bench_receivers", path)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def collector(**kw: Any) -> Any:
    """An unstarted ``Rotel`` receiver (use it as a context manager) with the blackhole exporter."""
    rx = _receivers()

    class BenchRotel(rx.Rotel):  # type: ignore[misc, name-defined]
        def command(self) -> list:
            try:
                return super().command()
            except rx.NotInstalledError:
                # Not in the e2e backends dir: use the rotel wheel of this venv (same pin).
                original = rx.venv_dir
                rx.venv_dir = lambda name: Path(sys.prefix)
                try:
                    return super().command()
                finally:
                    rx.venv_dir = original

    kw.setdefault("exporter", "blackhole")
    return BenchRotel(**kw)
