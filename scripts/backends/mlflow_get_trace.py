"""Print one MLflow trace as JSON; runs with the MLflow venv's python (never the project's).

Usage: mlflow_get_trace.py TRACKING_URL TRACE_ID_HEX [--expect-spans N] [--timeout SECONDS]

Polls ``MlflowClient(url).get_trace("tr-" + hex)`` until the trace exists (and has at least N
spans), then prints ``{"info": {...}, "spans": [...]}``. Exits 2 with a message on timeout.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from mlflow import MlflowClient


def _plain(value: Any) -> Any:
    """Make a value JSON-serialisable (enums by name, unknown objects by repr)."""
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    name = getattr(value, "name", None)
    if isinstance(name, str) and hasattr(value, "value"):  # an Enum
        return name
    return repr(value)


def _span(span: Any) -> dict[str, Any]:
    status = span.status
    return {
        "name": span.name,
        "trace_id": span.trace_id,
        "span_id": span.span_id,
        "parent_id": span.parent_id,
        "span_type": span.span_type,
        "inputs": _plain(span.inputs),
        "outputs": _plain(span.outputs),
        "status": {
            "status_code": _plain(status.status_code),
            "description": status.description,
        },
        "attributes": _plain(span.attributes),
        "events": [
            {"name": e.name, "timestamp": e.timestamp, "attributes": _plain(e.attributes)}
            for e in span.events
        ],
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("trace_id_hex")
    parser.add_argument("--expect-spans", type=int, default=None)
    parser.add_argument("--timeout", type=float, default=15.0)
    args = parser.parse_args()

    client = MlflowClient(args.url)
    request_id = "tr-" + args.trace_id_hex.lower()
    deadline = time.monotonic() + args.timeout
    trace, problem = None, "no attempt"
    while True:
        try:
            trace = client.get_trace(request_id)
            count = len(trace.data.spans)
            if args.expect_spans is None or count >= args.expect_spans:
                break
            problem = f"trace has {count} spans, expected at least {args.expect_spans}"
        except Exception as exc:  # noqa: BLE001 - not there yet (404) or server busy
            problem = f"{type(exc).__name__}: {exc}"
        if time.monotonic() >= deadline:
            print(f"trace {request_id} not ready after {args.timeout}s: {problem}", file=sys.stderr)
            return 2
        time.sleep(0.2)

    info = trace.info
    out = {
        "info": {
            "trace_id": info.trace_id,
            "state": _plain(info.state),
            "experiment_id": info.experiment_id,
            "request_time": info.request_time,
            "execution_duration": info.execution_duration,
            "trace_metadata": _plain(info.trace_metadata),
            "tags": _plain(info.tags),
        },
        "spans": [_span(s) for s in trace.data.spans],
    }
    json.dump(out, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
