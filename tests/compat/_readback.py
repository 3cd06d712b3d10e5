"""agentel mode's read-back: finished OTel spans → MLflow-shaped ``Trace`` objects.

This is the one place where the two modes differ on purpose. Real MLflow is read back with its own
``mlflow.get_trace`` / ``MlflowClient.search_traces``; agentel's spans are captured in memory (the
OTel SDK's in-memory exporter, as ``agentel.testing`` does) and reshaped here into what MLflow's
``Trace`` exposes: ``trace.info.trace_id/state/tags/trace_metadata/client_request_id`` and
``trace.data.spans[i].name/span_type/inputs/outputs/attributes/parent_id/status/events``.

The mapping, in short (nothing here invents behaviour agentel did not record):

- A trace is the finished spans of one OTel trace id, reported once its root span (no parent) ended.
- ``span.attributes``: the keys MLflow itself would show. agentel's ``mlflow`` dialect keys
  (``mlflow.*``, JSON-encoded like MLflow's) are decoded; the keys agentel writes for other backends
  (``agentel.*``, ``openinference.*``, ``gen_ai.*``, ``input.*``, ``output.*``, ``tag.tags``,
  ``metadata``, ``session.id``, ``user.id``) are left out; user attributes are decoded from agentel's
  encoding (JSON text for non-primitive values). ``mlflow.traceRequestId`` is MLflow's bookkeeping copy
  of the trace id and is filled in with the trace id when absent.
- ``span.inputs``/``outputs``: ``mlflow.spanInputs``/``Outputs``, else ``input.value``/``output.value``.
- ``span.status``: the OTel status code name and description.
- ``trace.info``: tags from ``agentel.tag.<key>`` (and ``mlflow.traceName`` = root name), metadata from
  the ``metadata`` attribute plus ``mlflow.traceInputs``/``Outputs`` (the root's inputs/outputs as JSON,
  as MLflow derives them), state from the root's status. Where agentel keeps trace-level fields that
  OTel spans do not carry (a state set by ``update_current_trace(state=)``, ``client_request_id``,
  previews), they are taken from agentel's own ``get_trace(trace_id).info`` when agentel provides one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

_OTHER_DIALECT_PREFIXES = ("agentel.", "openinference.", "gen_ai.", "input.", "output.", "session.", "user.")
_OTHER_DIALECT_KEYS = {"tag.tags", "metadata"}
_INFO_FIELDS_FROM_AGENTEL = ("state", "client_request_id", "request_preview", "response_preview")


def _json_or_text(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("{", "[", '"'):
        try:
            return json.loads(value)
        except ValueError:
            return value
    if isinstance(value, tuple):
        return list(value)
    return value


def _json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return list(value) if isinstance(value, tuple) else value


def normalize_trace_id(trace_id: Any) -> str:
    """Bare lowercase hex of a trace id given as ``tr-<hex>``, ``<hex>`` or an int."""
    if isinstance(trace_id, int):
        return format(trace_id, "032x")
    text = str(trace_id).strip().lower()
    return text[3:] if text.startswith("tr-") else text


@dataclass
class SpanStatus:
    status_code: Any
    description: str = ""


@dataclass
class SpanEvent:
    name: str
    timestamp: int
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass
class Span:
    name: str
    trace_id: str
    span_id: str
    parent_id: Optional[str]
    span_type: Any
    inputs: Any
    outputs: Any
    attributes: dict[str, Any]
    status: SpanStatus
    events: list[SpanEvent]
    start_time_ns: int
    end_time_ns: int

    @property
    def request_id(self) -> str:
        return self.trace_id

    def get_attribute(self, key: str) -> Any:
        return self.attributes.get(key)


@dataclass
class TraceInfo:
    trace_id: str
    state: Any
    request_time: int
    execution_duration: int
    trace_metadata: dict[str, str]
    tags: dict[str, str]
    client_request_id: Optional[str] = None
    request_preview: Optional[str] = None
    response_preview: Optional[str] = None
    experiment_id: Optional[str] = None

    # MLflow 2 names, still answered by MLflow 3's TraceInfo
    @property
    def request_id(self) -> str:
        return self.trace_id

    @property
    def status(self) -> Any:
        return self.state

    @property
    def request_metadata(self) -> dict[str, str]:
        return self.trace_metadata

    @property
    def timestamp_ms(self) -> int:
        return self.request_time

    @property
    def execution_time_ms(self) -> int:
        return self.execution_duration


@dataclass
class TraceData:
    spans: list[Span]

    @property
    def request(self) -> Optional[str]:
        root = _root(self.spans)
        return _dumps(root.inputs) if root is not None and root.inputs is not None else None

    @property
    def response(self) -> Optional[str]:
        root = _root(self.spans)
        return _dumps(root.outputs) if root is not None and root.outputs is not None else None


@dataclass
class Trace:
    info: TraceInfo
    data: TraceData


def _root(spans: list[Span]) -> Optional[Span]:
    return next((span for span in spans if span.parent_id is None), None)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _span(otel: Any, trace_id: str, status_code: Callable[[str], Any]) -> Span:
    raw = dict(otel.attributes or {})
    attributes: dict[str, Any] = {}
    for key, value in raw.items():
        if key in _OTHER_DIALECT_KEYS or key.startswith(_OTHER_DIALECT_PREFIXES):
            continue
        attributes[key] = _json(value) if key.startswith("mlflow.") else _json_or_text(value)
    attributes.setdefault("mlflow.traceRequestId", trace_id)
    span_type = attributes.get("mlflow.spanType", raw.get("agentel.span.type"))
    attributes.setdefault("mlflow.spanType", span_type)
    if "mlflow.spanInputs" not in attributes and "input.value" in raw:
        attributes["mlflow.spanInputs"] = _json(raw["input.value"])
    if "mlflow.spanOutputs" not in attributes and "output.value" in raw:
        attributes["mlflow.spanOutputs"] = _json(raw["output.value"])
    return Span(
        name=otel.name,
        trace_id=trace_id,
        span_id=format(otel.context.span_id, "016x"),
        parent_id=format(otel.parent.span_id, "016x") if otel.parent is not None else None,
        span_type=span_type,
        inputs=attributes.get("mlflow.spanInputs"),
        outputs=attributes.get("mlflow.spanOutputs"),
        attributes=attributes,
        status=SpanStatus(status_code(otel.status.status_code.name), otel.status.description or ""),
        events=[SpanEvent(e.name, e.timestamp, dict(e.attributes or {})) for e in otel.events],
        start_time_ns=otel.start_time or 0,
        end_time_ns=otel.end_time or 0,
    )


def build_trace(
    otel_spans: list[Any],
    trace_id: str,
    status_code: Callable[[str], Any],
    agentel_info: Optional[Any] = None,
) -> Trace:
    """One MLflow-shaped ``Trace`` from the finished OTel spans of one trace (root included)."""
    ordered = sorted(otel_spans, key=lambda s: s.start_time or 0)
    spans = [_span(otel, trace_id, status_code) for otel in ordered]
    root_otel = next(s for s in ordered if s.parent is None)
    root = _root(spans)
    assert root is not None
    raw_root = dict(root_otel.attributes or {})
    tags = {"mlflow.traceName": root.name}
    for key, value in raw_root.items():
        if key.startswith("agentel.tag."):
            tags[key[len("agentel.tag.") :]] = value if isinstance(value, str) else str(value)
    metadata: dict[str, Any] = {}
    if "metadata" in raw_root:
        decoded = _json(raw_root["metadata"])
        if isinstance(decoded, dict):
            metadata.update(decoded)
    metadata["mlflow.traceInputs"] = _dumps(root.inputs) if root.inputs is not None else ""
    metadata["mlflow.traceOutputs"] = _dumps(root.outputs) if root.outputs is not None else ""
    state = {"OK": "OK", "ERROR": "ERROR"}.get(root.status.status_code, "STATE_UNSPECIFIED")
    info = TraceInfo(
        trace_id=trace_id,
        state=state,
        request_time=(root.start_time_ns or 0) // 1_000_000,
        execution_duration=((root.end_time_ns or 0) - (root.start_time_ns or 0)) // 1_000_000,
        trace_metadata=metadata,
        tags=tags,
    )
    if agentel_info is not None:
        for name in _INFO_FIELDS_FROM_AGENTEL:
            if hasattr(agentel_info, name):
                setattr(info, name, getattr(agentel_info, name))
    return Trace(info=info, data=TraceData(spans=spans))
