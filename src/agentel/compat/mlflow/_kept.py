"""Reading a finished trace back from the kept-traces buffer, as MLflow's ``Trace`` entity."""

from __future__ import annotations

from typing import Any, Optional

from agentel._internal_errors import report_internal_error
from agentel._runtime.provider import RUNTIME
from agentel._tracing.ids import parse_trace_id

from .entities import Trace, trace_from_spans


def kept_trace(trace_id: Any) -> Optional[Trace]:
    """The kept trace with this id (any id form MLflow accepts); ``None`` if it is not (or no longer) kept."""
    try:
        key = parse_trace_id(trace_id)
    except Exception:  # noqa: BLE001 - a malformed id is simply not kept
        return None
    kept = RUNTIME.processor.kept.get(key)
    if kept is None or not kept.spans:
        return None
    try:
        return trace_from_spans(key, kept.spans, kept.finished)
    except Exception as exc:  # noqa: BLE001 - a broken kept trace reads as not kept, reported once
        report_internal_error("get_trace", exc)
        return None
