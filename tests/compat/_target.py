"""The implementation under test, chosen by ``AGENTEL_COMPAT_TARGET``: ``agentel`` (default) or ``mlflow``.

The ported tests import everything MLflow-specific from here: the ``mlflow`` module itself (real MLflow
or ``agentel.compat.mlflow``), its entity names, and the read-back helpers ``get_traces()`` /
``get_trace(trace_id)`` that return MLflow-shaped traces. Both targets run the same test code; only the
read-back differs (real MLflow: its own tracking store; agentel: ``_readback.py``).
"""

from __future__ import annotations

import contextlib
import os
from typing import Any, Iterator, Optional

TARGET = os.environ.get("AGENTEL_COMPAT_TARGET", "agentel").strip().lower()
if TARGET not in ("agentel", "mlflow"):
    raise RuntimeError(f"AGENTEL_COMPAT_TARGET must be 'agentel' or 'mlflow', not {TARGET!r}")
IS_REAL_MLFLOW = TARGET == "mlflow"

if IS_REAL_MLFLOW:
    # synchronous export, so a finished trace is in the store when the test reads it back
    os.environ.setdefault("MLFLOW_ENABLE_ASYNC_TRACE_LOGGING", "false")
    os.environ.setdefault("MLFLOW_USE_BATCH_SPAN_PROCESSOR", "false")

    import mlflow
    from mlflow import MlflowClient
    from mlflow.entities import SpanEvent, SpanStatusCode, SpanType
    from mlflow.entities.trace_state import TraceState
    from mlflow.exceptions import MlflowException

    LOGGER_NAME = "mlflow"
else:
    import agentel.compat.mlflow as mlflow  # type: ignore[no-redef]
    from agentel import AgentelError
    from agentel.compat.mlflow import MlflowClient  # type: ignore[no-redef]
    from agentel.compat.mlflow.entities import SpanEvent, SpanStatusCode, SpanType  # type: ignore[no-redef]

    _entities = mlflow.entities
    TraceState = getattr(_entities, "TraceState", None)  # type: ignore[misc]
    if TraceState is None:

        class TraceState:  # type: ignore[no-redef]
            """MLflow's trace state names, for comparing with the read-back (agentel has no such class)."""

            STATE_UNSPECIFIED = "STATE_UNSPECIFIED"
            OK = "OK"
            ERROR = "ERROR"
            IN_PROGRESS = "IN_PROGRESS"

    _exceptions = getattr(mlflow, "exceptions", None)
    MlflowException = getattr(_exceptions, "MlflowException", None) or AgentelError  # type: ignore[misc]
    LOGGER_NAME = "agentel"


def _agentel_info(trace_id: str) -> Optional[Any]:
    """agentel's own ``get_trace(trace_id).info`` when agentel provides it (see _readback.py)."""
    getter = getattr(mlflow, "get_trace", None)
    if getter is None:
        return None
    try:
        found = getter(trace_id)
    except Exception:  # noqa: BLE001 - a missing or failing get_trace leaves the span-derived info
        return None
    return getattr(found, "info", None)


class _Recorder:
    """agentel mode: the current test's ``agentel.testing`` capture (set by conftest)."""

    capture: Any = None


RECORDER = _Recorder()


def get_traces(experiment_id: Optional[str] = None) -> list[Any]:
    """Every finished trace of the current test, newest first (MLflow's ``search_traces`` order).

    Real MLflow: the traces of ``experiment_id`` (default: the test's active experiment); agentel
    accepts experiment ids and ignores them, so every trace the test recorded is returned.
    """
    if IS_REAL_MLFLOW:
        from mlflow.tracking.fluent import _get_experiment_id

        mlflow.flush_trace_async_logging()
        return list(MlflowClient().search_traces(locations=[experiment_id or _get_experiment_id()]))
    from . import _readback

    spans = [captured.otel for captured in RECORDER.capture.spans] if RECORDER.capture is not None else []
    by_trace: dict[str, list[Any]] = {}
    for span in spans:
        by_trace.setdefault(format(span.context.trace_id, "032x"), []).append(span)
    traces = []
    for hex_id, members in by_trace.items():
        if any(span.parent is None for span in members):
            trace_id = _public_trace_id(hex_id)
            traces.append(_readback.build_trace(members, trace_id, _status_code, _agentel_info(trace_id)))
    traces.sort(key=lambda t: t.data.spans[0].start_time_ns, reverse=True)
    return traces


def get_trace(trace_id: Any) -> Optional[Any]:
    """The finished trace ``trace_id`` (as the target's API gives it), or ``None``."""
    if IS_REAL_MLFLOW:
        mlflow.flush_trace_async_logging()
        return mlflow.get_trace(trace_id)
    from ._readback import normalize_trace_id

    wanted = normalize_trace_id(trace_id)
    return next((t for t in get_traces() if normalize_trace_id(t.info.trace_id) == wanted), None)


def new_experiment_id() -> str:
    """An experiment to pass as ``experiment_id=`` (upstream: ``client.create_experiment(...)``).

    agentel accepts experiment ids and ignores them (issue 13), so any id will do there.
    """
    if IS_REAL_MLFLOW:
        import uuid

        return MlflowClient().create_experiment(f"test_experiment-{uuid.uuid4().hex}")
    return "0"


def _status_code(name: str) -> Any:
    return getattr(SpanStatusCode, name)


def _public_trace_id(hex_id: str) -> str:
    """The trace id in the form agentel's API hands out (``LiveSpan.trace_id``: 32 hex)."""
    return hex_id


# -- fault injection: the tracing machinery fails, the user's code must not notice ------------------


@contextlib.contextmanager
def tracer_unavailable() -> Iterator[None]:
    """Getting the tracer raises (upstream patches ``mlflow.tracing.provider._get_tracer``)."""
    from unittest import mock

    if IS_REAL_MLFLOW:
        with mock.patch("mlflow.tracing.provider._get_tracer", side_effect=ValueError("Some error")):
            yield
    else:
        from opentelemetry import trace

        import agentel.testing

        class Unavailable(trace.NoOpTracerProvider):
            def get_tracer(self, *args: Any, **kwargs: Any) -> Any:
                raise ValueError("Some error")

        with agentel.testing.reset(settings=False):  # no provider chosen yet: the next span asks for one
            trace.set_tracer_provider(Unavailable())
            yield


def span_processor() -> Any:
    """The span processor of the tracer the target starts its spans with (upstream's
    ``_get_tracer(__name__).span_processor``); the recorder of finished traces sits behind it."""
    if IS_REAL_MLFLOW:
        from mlflow.tracing.provider import _get_tracer

        return _get_tracer(__name__).span_processor
    import agentel

    return agentel.get_tracer_provider().get_tracer(__name__).span_processor


def reset_state() -> None:
    """Forget the last active trace id and open client traces (upstream's conftest resets MLflow's
    trace manager between tests)."""
    if IS_REAL_MLFLOW:
        import mlflow.tracing.fluent as fluent

        fluent._set_last_active_trace_id(None)
        return
    from agentel._tracing import otel_spans as _span
    from agentel._tracing.registry import REGISTRY

    _span._last_global[0] = None
    _span._last_in_thread.trace_id = None
    # client traces a test left open stay out of the next test (upstream resets MLflow's trace manager)
    with REGISTRY.lock:
        for table in (getattr(REGISTRY, "traces", None), getattr(REGISTRY, "borrowed", None)):
            if table is not None:
                table.clear()


__all__ = [
    "IS_REAL_MLFLOW",
    "LOGGER_NAME",
    "MlflowClient",
    "MlflowException",
    "SpanEvent",
    "SpanStatusCode",
    "SpanType",
    "TARGET",
    "TraceState",
    "get_trace",
    "get_traces",
    "mlflow",
    "new_experiment_id",
    "reset_state",
    "span_processor",
    "tracer_unavailable",
]
