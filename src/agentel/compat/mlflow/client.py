"""``MlflowClient`` for tracing code: MLflow 2.13 and 3.x signatures, keyword and positional, on agentel.

Only the tracing methods exist (``start_trace``, ``start_span``, ``end_span``, ``end_trace``,
``set_trace_tag``, ``delete_trace_tag``, ``get_trace``); ``tracking_uri``/``registry_uri``/
``experiment_id`` are accepted and ignored (spans go where agentel's configuration sends them).
"""

from __future__ import annotations

import logging
from typing import Any, Mapping, Optional

from agentel._conventions.span_types import SpanType, StatusLike
from agentel._errors import InvalidIdError, TraceNotFoundError
from agentel._tracing.client import TraceClient

from ._kept import kept_trace
from .entities import MlflowLiveSpan, Trace, mlflow_value
from .exceptions import MlflowTraceNotFoundError

logger = logging.getLogger("agentel")


_START_TRACE_V3 = ("span_type", "inputs", "attributes", "tags", "experiment_id", "start_time_ns")
_START_TRACE_V213 = ("inputs", "attributes", "tags", "experiment_id", "start_time_ns")


class MlflowClient:
    """MLflow's tracing client on agentel: ``from agentel.compat.mlflow.client import MlflowClient``."""

    def __init__(self, tracking_uri: Optional[str] = None, registry_uri: Optional[str] = None) -> None:
        if tracking_uri or registry_uri:
            logger.debug("agentel: MlflowClient(tracking_uri=%r) ignored; spans go over OTel", tracking_uri)
        self._client = TraceClient()

    def start_trace(self, name: str, *args: Any, **kwargs: Any) -> MlflowLiveSpan:
        """Start a trace; returns its root span.

        MLflow 3.x form: ``start_trace(name, span_type, inputs, attributes, tags, experiment_id,
        start_time_ns)``; MLflow 2.13 form (no span type): ``start_trace(name, inputs, attributes, tags,
        experiment_id, start_time_ns)``. A non-string second positional argument means the 2.13 form.
        """
        order = _START_TRACE_V3 if not args or isinstance(args[0], str) else _START_TRACE_V213
        if len(args) > len(order):
            raise TypeError(f"start_trace() takes at most {len(order) + 1} positional arguments")
        params: dict[str, Any] = {"span_type": SpanType.UNKNOWN}
        params.update(zip(order, args))
        for key, value in kwargs.items():
            if key not in _START_TRACE_V3:
                raise TypeError(f"start_trace() got an unexpected keyword argument {key!r}")
            if key in params and key in dict(zip(order, args)):
                raise TypeError(f"start_trace() got multiple values for argument {key!r}")
            params[key] = value
        experiment_id = params.pop("experiment_id", None)
        if experiment_id is not None:
            logger.debug("agentel: experiment_id=%r ignored", experiment_id)
        if params.get("attributes"):
            params["attributes"] = {key: mlflow_value(value) for key, value in params["attributes"].items()}
        if params.get("inputs") is not None:
            params["inputs"] = mlflow_value(params["inputs"])
        root = self._client.start_trace(name, **params)
        return MlflowLiveSpan(root.otel_span)

    def start_span(
        self,
        name: str,
        request_id: Any = None,
        parent_id: Any = None,
        span_type: str = SpanType.UNKNOWN,
        inputs: Any = None,
        attributes: Optional[Mapping[str, Any]] = None,
        start_time_ns: Optional[int] = None,
        *,
        trace_id: Any = None,
    ) -> MlflowLiveSpan:
        """Start a child span of ``parent_id`` in trace ``request_id`` (MLflow 3: ``trace_id``); the trace
        may also be one the fluent API started and that is still open (callback handlers do this)."""
        span = self._client.start_span(
            name,
            request_id,
            parent_id,
            trace_id=trace_id,
            span_type=span_type,
            inputs=mlflow_value(inputs) if inputs is not None else None,
            attributes={key: mlflow_value(value) for key, value in attributes.items()} if attributes else None,
            start_time_ns=start_time_ns,
        )
        return MlflowLiveSpan(span.otel_span)

    def end_span(
        self,
        request_id: Any = None,
        span_id: Any = None,
        outputs: Any = None,
        attributes: Optional[Mapping[str, Any]] = None,
        status: StatusLike = "OK",
        end_time_ns: Optional[int] = None,
        *,
        trace_id: Any = None,
    ) -> None:
        """End a span."""
        self._client.end_span(
            request_id,
            span_id,
            trace_id=trace_id,
            outputs=outputs,
            attributes=attributes,
            status=status,
            end_time_ns=end_time_ns,
        )

    def end_trace(
        self,
        request_id: Any = None,
        outputs: Any = None,
        attributes: Optional[Mapping[str, Any]] = None,
        status: StatusLike = "OK",
        end_time_ns: Optional[int] = None,
        *,
        trace_id: Any = None,
    ) -> None:
        """End a trace (children still open are ended first); ``MlflowTraceNotFoundError`` (an
        ``MlflowException``) for a trace that is unknown or already finished, with MLflow's message."""
        try:
            self._client.end_trace(
                request_id,
                trace_id=trace_id,
                outputs=outputs,
                attributes=attributes,
                status=status,
                end_time_ns=end_time_ns,
            )
        except (TraceNotFoundError, InvalidIdError) as exc:
            given = trace_id if trace_id is not None else request_id
            kept = kept_trace(given)
            if kept is not None and kept.info.state != "IN_PROGRESS":
                raise MlflowTraceNotFoundError(f"Trace with ID {given} already finished. ({exc})") from exc
            raise MlflowTraceNotFoundError(f"Trace with ID '{given}' not found. ({exc})") from exc

    def set_trace_tag(self, request_id: Any, key: str, value: Any) -> None:
        """Tag an open trace."""
        self._client.set_trace_tag(request_id, key, value)

    def delete_trace_tag(self, request_id: Any, key: str) -> None:
        """Remove a tag from an open trace."""
        self._client.delete_trace_tag(request_id, key)

    def get_trace(self, trace_id: Any = None, display: bool = True, flush: bool = False, **kwargs: Any) -> Trace:
        """A trace this process still keeps (the last ``AGENTEL_KEEP_TRACES``); ``TraceNotFoundError``
        (a ``KeyError``) otherwise. ``request_id=`` (MLflow 2) is accepted too."""
        trace_id = trace_id if trace_id is not None else kwargs.pop("request_id", None)
        if kwargs:
            raise TypeError(f"get_trace() got unexpected keyword arguments {sorted(kwargs)}")
        found = kept_trace(trace_id)
        if found is None:
            raise TraceNotFoundError(
                f"trace {trace_id!r} is not kept in this process (the last AGENTEL_KEEP_TRACES finished "
                f"traces are); read older traces from your tracing backend"
            )
        return found


__all__ = ["MlflowClient", "MlflowLiveSpan"]
