"""One benchmark subprocess: ``worker.py --lib L --case C[,C...] [--variant V] [--smoke]``.

It imports ``workers.<L>``, runs the case(s) (the library and its raw OTel baseline, interleaved, in
this process) and prints one ``BENCH-RESULT {json}`` line. Several cases per process only in smoke runs. The driver (_driver.py) sets the environment
(telemetry off, case variants) before this process starts.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import Scale, emit  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lib", required=True)
    parser.add_argument("--case", required=True)
    parser.add_argument("--variant", default="")
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    payload: dict = {"lib": args.lib, "case": args.case, "variant": args.variant, "rows": []}
    errors = []
    try:
        module = importlib.import_module(f"workers.{args.lib}")
        for case in args.case.split(","):
            try:
                payload["rows"].extend(module.run(case, args.variant, Scale(args.smoke)))
            except Exception:  # noqa: BLE001 - reported in the table, the other cases go on
                errors.append(f"case {case}: {traceback.format_exc()}")
        payload["versions"] = module.versions()
    except Exception:  # noqa: BLE001
        errors.append(traceback.format_exc())
    if errors:
        payload["error"] = "\n".join(errors)
    emit(payload)
    # Exit without interpreter teardown: atexit flushes of peers (or of an exporter whose collector is
    # gone, case 8) would only add seconds of waiting, not measurements.
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
