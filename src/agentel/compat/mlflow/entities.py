"""``mlflow.entities`` names used by tracing code: span types and statuses, ``SpanEvent``, ``LiveSpan``,
and the read-back shapes ``Trace`` / ``TraceInfo`` / ``TraceData`` / ``Span`` of ``get_trace``."""

from __future__ import annotations

import datetime
import json
import time
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Union

from opentelemetry import trace as otel_trace

from agentel._conventions import names as sc
from agentel._conventions.span_types import SpanStatus, SpanStatusCode, SpanType, to_span_status
from agentel._tracing.span import LiveSpan as _NativeLiveSpan

from .exceptions import MlflowTypeError

# root-span attributes the compat layer writes for trace-level fields (read back by get_trace)
TRACE_STATE = "agentel.trace.state"
TRACE_CLIENT_REQUEST_ID = "agentel.trace.client_request_id"
TRACE_REQUEST_PREVIEW = "agentel.trace.request_preview"
TRACE_RESPONSE_PREVIEW = "agentel.trace.response_preview"
_PREVIEW_CHARS = 1000
_JSON_KEYS = frozenset({sc.INPUT_VALUE, sc.OUTPUT_VALUE, sc.MLFLOW_SPAN_INPUTS, sc.MLFLOW_SPAN_OUTPUTS, sc.METADATA})
_DATETIME_TYPES = (datetime.datetime, datetime.date, datetime.time, datetime.timedelta)
_MAX_NODES = 10000


class TraceState:
    """A trace's state, as MLflow 3 names it."""

    OK = "OK"
    ERROR = "ERROR"
    IN_PROGRESS = "IN_PROGRESS"
    STATE_UNSPECIFIED = "STATE_UNSPECIFIED"


TraceStatus = TraceState  # MLflow 2's name for the same values


@dataclass
class SpanEvent:
    """An event to add to a span with ``span.add_event(SpanEvent(...))``, as in MLflow."""

    name: str
    timestamp: Optional[int] = field(default_factory=time.time_ns)
    attributes: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_exception(cls, exception: BaseException) -> "SpanEvent":
        """An ``exception`` event (message, type, stack trace), as MLflow builds it."""
        import traceback

        stack = "".join(traceback.format_exception(type(exception), exception, exception.__traceback__)).strip()
        return cls(
            name="exception",
            attributes={
                "exception.message": str(exception),
                "exception.type": type(exception).__name__,
                "exception.stacktrace": stack,
            },
        )


def mlflow_value(value: Any) -> Any:
    """``value`` with dates and times as ``str(dt)``, as MLflow's JSON encoder writes them."""
    budget = [_MAX_NODES]

    def walk(item: Any) -> Any:
        budget[0] -= 1
        if isinstance(item, _DATETIME_TYPES):
            return str(item)
        if budget[0] <= 0:
            return item
        kind = type(item)
        if kind is dict:
            return {key: walk(inner) for key, inner in item.items()}
        if kind is list or kind is tuple:
            return kind(walk(inner) for inner in item)
        return item

    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return walk(value)


class MlflowLiveSpan(_NativeLiveSpan):
    """A span in progress with MLflow's semantics on top of agentel's ``LiveSpan``: ``end()`` sets status
    OK unless it failed, dates and times are recorded as ``str(dt)``, and the root span ``start_trace``
    returns also has ``end_trace`` (the Databricks page calls ``root_span.end_trace(request_id, ...)``)."""

    __slots__ = ()
    _ok_on_end = True  # end() without a status: OK unless it failed

    def set_attributes(self, attributes: Mapping[str, Any]) -> None:
        """Set several attributes (dates and times as ``str(dt)``, as MLflow)."""
        if isinstance(attributes, Mapping):
            attributes = {key: mlflow_value(value) for key, value in attributes.items()}
        super().set_attributes(attributes)

    def set_inputs(self, inputs: Any) -> None:
        """Record the span's inputs."""
        super().set_inputs(mlflow_value(inputs))

    def set_outputs(self, outputs: Any) -> None:
        """Record the span's outputs."""
        super().set_outputs(mlflow_value(outputs))

    def record_exception(self, exception: Union[BaseException, str]) -> None:
        """Status ERROR and an ``exception`` event; anything but an exception or a string raises."""
        if not isinstance(exception, (BaseException, str)):
            raise MlflowTypeError("The `exception` parameter must be an Exception instance or a string.")
        super().record_exception(exception)

    def end_trace(self, request_id: Any = None, **kwargs: Any) -> None:
        """End this span's trace through the client (``root_span.end_trace(request_id, outputs=...)``)."""
        from agentel._tracing.client import TraceClient

        TraceClient().end_trace(request_id if request_id is not None else self.request_id, **kwargs)


class NoOpSpan(MlflowLiveSpan):
    """MLflow's placeholder span: every method does nothing (what is returned when tracing is off)."""

    __slots__ = ()

    def __init__(self, otel_span: Any = None) -> None:
        super().__init__(otel_span if otel_span is not None else otel_trace.INVALID_SPAN)


def _attribute(key: str, value: Any) -> Any:
    if isinstance(value, str) and (key in _JSON_KEYS or value[:1] in ("{", "[", '"')):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return list(value) if isinstance(value, tuple) else value


class Span:
    """A finished (or still open) span read back by ``get_trace``: MLflow's ``Span`` fields."""

    __slots__ = ("_span",)

    def __init__(self, readable_span: Any) -> None:
        self._span = readable_span

    @property
    def trace_id(self) -> str:
        """The trace id (32 hex), as ``LiveSpan.trace_id``."""
        return format(self._span.context.trace_id, "032x")

    request_id = trace_id

    @property
    def span_id(self) -> str:
        """The span id (16 hex)."""
        return format(self._span.context.span_id, "016x")

    @property
    def parent_id(self) -> Optional[str]:
        """The parent span id, ``None`` for a root."""
        parent = self._span.parent
        return format(parent.span_id, "016x") if parent is not None else None

    @property
    def name(self) -> str:
        """The span name."""
        return str(self._span.name)

    @property
    def start_time_ns(self) -> int:
        """Start time, ns since the epoch."""
        return int(self._span.start_time or 0)

    @property
    def end_time_ns(self) -> Optional[int]:
        """End time, ns since the epoch (``None`` while open)."""
        end: Optional[int] = self._span.end_time
        return end

    @property
    def status(self) -> SpanStatus:
        """The status (``status_code``, ``description``)."""
        return to_span_status(self._span.status)

    @property
    def span_type(self) -> str:
        """The span type."""
        return str(self.get_attribute(sc.AGENTEL_SPAN_TYPE) or SpanType.UNKNOWN)

    @property
    def inputs(self) -> Any:
        """The recorded inputs (parsed)."""
        return self.get_attribute(sc.INPUT_VALUE)

    @property
    def outputs(self) -> Any:
        """The recorded outputs (parsed)."""
        return self.get_attribute(sc.OUTPUT_VALUE)

    @property
    def attributes(self) -> dict[str, Any]:
        """Every attribute; JSON text agentel wrote (objects, lists, inputs/outputs) parsed back."""
        return {key: _attribute(key, value) for key, value in (self._span.attributes or {}).items()}

    @property
    def events(self) -> list[SpanEvent]:
        """The span's events."""
        return [SpanEvent(event.name, event.timestamp, dict(event.attributes or {})) for event in self._span.events]

    def get_attribute(self, key: str) -> Any:
        """One attribute (parsed like ``attributes``), ``None`` when absent."""
        value = (self._span.attributes or {}).get(key)
        return None if value is None else _attribute(key, value)

    def to_dict(self) -> dict[str, Any]:
        """A plain-dict form (ids in hex, times in ns)."""
        return {
            "trace_id": self.trace_id,
            "span_id": self.span_id,
            "parent_id": self.parent_id,
            "name": self.name,
            "span_type": self.span_type,
            "start_time_ns": self.start_time_ns,
            "end_time_ns": self.end_time_ns,
            "status": {"status_code": self.status.status_code, "description": self.status.description},
            "attributes": self.attributes,
            "events": [{"name": e.name, "timestamp": e.timestamp, "attributes": e.attributes} for e in self.events],
        }

    def __repr__(self) -> str:
        ids = f"trace_id={self.trace_id!r}, span_id={self.span_id!r}, parent_id={self.parent_id!r}"
        return f"Span(name={self.name!r}, {ids})"


@dataclass
class TraceInfo:
    """A trace's metadata, with MLflow 3's field names (and MLflow 2's as properties)."""

    trace_id: str
    request_time: int
    state: str
    request_preview: Optional[str] = None
    response_preview: Optional[str] = None
    client_request_id: Optional[str] = None
    execution_duration: Optional[int] = None
    trace_metadata: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def request_id(self) -> str:
        """MLflow 2's name of ``trace_id``."""
        return self.trace_id

    @property
    def timestamp_ms(self) -> int:
        """MLflow 2's name of ``request_time`` (ms since the epoch)."""
        return self.request_time

    @property
    def execution_time_ms(self) -> Optional[int]:
        """MLflow 2's name of ``execution_duration`` (ms)."""
        return self.execution_duration

    @property
    def status(self) -> str:
        """MLflow 2's name of ``state``."""
        return self.state

    @property
    def request_metadata(self) -> dict[str, str]:
        """MLflow 2's name of ``trace_metadata``."""
        return self.trace_metadata

    @property
    def experiment_id(self) -> Optional[str]:
        """Always ``None``: traces go over OpenTelemetry, not to an MLflow experiment."""
        return None


@dataclass
class TraceData:
    """The spans of a trace (start order) and the root's request/response as JSON text."""

    spans: list[Span] = field(default_factory=list)

    def _root(self) -> Optional[Span]:
        return next((span for span in self.spans if span.parent_id is None), self.spans[0] if self.spans else None)

    @property
    def request(self) -> Optional[str]:
        """The root span's inputs as JSON text."""
        root = self._root()
        value = root._span.attributes.get(sc.INPUT_VALUE) if root is not None else None
        return value if isinstance(value, str) else None

    @property
    def response(self) -> Optional[str]:
        """The root span's outputs as JSON text."""
        root = self._root()
        value = root._span.attributes.get(sc.OUTPUT_VALUE) if root is not None else None
        return value if isinstance(value, str) else None


@dataclass
class Trace:
    """A trace read back with ``get_trace``: ``info`` (ids, state, times, tags, metadata) and ``data``
    (its spans)."""

    info: TraceInfo
    data: TraceData

    @property
    def trace_id(self) -> str:
        """The trace id (32 hex)."""
        return self.info.trace_id

    def search_spans(
        self, span_type: Optional[str] = None, name: Optional[str] = None, span_id: Optional[str] = None
    ) -> list[Span]:
        """Spans matching every criterion given (``name`` may be a compiled regular expression)."""
        found = []
        for span in self.data.spans:
            if span_type is not None and span.span_type != span_type:
                continue
            if name is not None and not (name.search(span.name) if hasattr(name, "search") else span.name == name):
                continue
            if span_id is not None and span.span_id != span_id:
                continue
            found.append(span)
        return found

    def to_dict(self) -> dict[str, Any]:
        """A plain-dict form."""
        return {"info": self.info.__dict__.copy(), "data": {"spans": [span.to_dict() for span in self.data.spans]}}


def trace_from_spans(trace_id: int, readable_spans: list[Any], finished: bool) -> Trace:
    """Build the MLflow-shaped ``Trace`` from the kept (read-only) OTel spans of one trace."""
    spans = sorted(readable_spans, key=lambda s: s.start_time or 0)
    root = next((s for s in spans if s.parent is None or s.parent.is_remote), spans[0] if spans else None)
    attributes: Mapping[str, Any] = (root.attributes or {}) if root is not None else {}
    metadata_raw = _attribute(sc.METADATA, attributes.get(sc.METADATA)) if sc.METADATA in attributes else {}
    metadata = {str(k): str(v) for k, v in metadata_raw.items()} if isinstance(metadata_raw, dict) else {}
    prefix = "agentel.tag."
    tags = {key[len(prefix) :]: str(value) for key, value in attributes.items() if key.startswith(prefix)}
    if root is not None and root.end_time is not None and finished:
        failed = root.status is not None and root.status.status_code.name == "ERROR"
        state = str(attributes.get(TRACE_STATE) or (TraceState.ERROR if failed else TraceState.OK))
        duration: Optional[int] = (root.end_time - (root.start_time or 0)) // 1_000_000
    else:
        state, duration = TraceState.IN_PROGRESS, None
    request = attributes.get(sc.INPUT_VALUE)
    response = attributes.get(sc.OUTPUT_VALUE)
    info = TraceInfo(
        trace_id=format(trace_id, "032x"),
        request_time=((root.start_time or 0) // 1_000_000) if root is not None else 0,
        state=state,
        request_preview=_preview(attributes.get(TRACE_REQUEST_PREVIEW, request)),
        response_preview=_preview(attributes.get(TRACE_RESPONSE_PREVIEW, response)),
        client_request_id=_text_or_none(attributes.get(TRACE_CLIENT_REQUEST_ID)),
        execution_duration=duration,
        trace_metadata=metadata,
        tags=tags,
    )
    return Trace(info, TraceData([Span(s) for s in spans]))


def _preview(value: Any) -> Optional[str]:
    return value[:_PREVIEW_CHARS] if isinstance(value, str) else None


def _text_or_none(value: Any) -> Optional[str]:
    return None if value is None else str(value)


LiveSpan = MlflowLiveSpan  # mlflow.entities.LiveSpan

__all__ = [
    "LiveSpan",
    "MlflowLiveSpan",
    "NoOpSpan",
    "Span",
    "SpanEvent",
    "SpanStatus",
    "SpanStatusCode",
    "SpanType",
    "Trace",
    "TraceData",
    "TraceInfo",
    "TraceState",
    "TraceStatus",
]
