"""``AGENTEL_TRACES_FILE``: spans written as OTLP/JSON lines, one ``ExportTraceServiceRequest`` per line.

The OTLP/JSON mapping of the OTLP exporter's own encoding (``opentelemetry-exporter-otlp-proto-common``'s
``encode_spans``, then protobuf's JSON mapping with enums as integers and ids as hex, as OTLP/JSON
requires), written straight from the spans: going through the protobuf messages and
``MessageToDict`` cost about 4 times as much per span, enough for the file to fall behind a busy
application (``tests/test_traces_file.py`` holds the two encodings equal, span for span).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from agentel._forksafe import new_lock
from agentel._internal_errors import logger
from agentel._otel_internals import attribute_dict, plain_mapping

_HAS_IS_REMOTE = 0x100  # SpanFlags.SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK
_IS_REMOTE = 0x200  # SpanFlags.SPAN_FLAGS_CONTEXT_IS_REMOTE_MASK
_INT64 = (-(2**63), 2**63 - 1)
_KIND = {"INTERNAL": 1, "SERVER": 2, "CLIENT": 3, "PRODUCER": 4, "CONSUMER": 5}
_EMPTY: dict[str, Any] = {}


class OtlpJsonFileExporter(SpanExporter):
    """Appends each batch of spans to a file as one OTLP/JSON line."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._path = path
        self._lock = new_lock()
        self._failed = False

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        try:
            line = json.dumps(export_request(spans), ensure_ascii=False, separators=(",", ":"))
            with self._lock, open(self._path, "a", encoding="utf-8") as handle:
                handle.write(line + "\n")
            return SpanExportResult.SUCCESS
        except Exception as exc:  # noqa: BLE001 - more than a report: says which file, once; the batch fails
            if not self._failed:
                self._failed = True
                logger.warning("agentel: cannot write spans to AGENTEL_TRACES_FILE=%s: %s", self._path, exc)
            return SpanExportResult.FAILURE

    def shutdown(self) -> None:
        """Nothing held open between batches."""


def export_request(spans: Sequence[ReadableSpan]) -> dict[str, Any]:
    """The OTLP/JSON ``ExportTraceServiceRequest`` of ``spans``: grouped by resource, then scope."""
    grouped: dict[Any, dict[Any, list[dict[str, Any]]]] = {}
    for span in spans:
        scopes = grouped.setdefault(span.resource, {})
        scopes.setdefault(span.instrumentation_scope or None, []).append(_span(span))
    resource_spans = []
    for resource, scopes in grouped.items():
        scope_spans = []
        for scope, encoded in scopes.items():
            entry: dict[str, Any] = {"scope": _scope(scope), "spans": encoded}
            if scope is not None and scope.schema_url:
                entry["schemaUrl"] = scope.schema_url
            scope_spans.append(entry)
        item: dict[str, Any] = {"resource": _with_attributes({}, resource.attributes, 0), "scopeSpans": scope_spans}
        if resource.schema_url:
            item["schemaUrl"] = resource.schema_url
        resource_spans.append(item)
    return {"resourceSpans": resource_spans} if resource_spans else {}


def _span(span: ReadableSpan) -> dict[str, Any]:
    context = span.context
    out: dict[str, Any] = {"traceId": format(context.trace_id, "032x"), "spanId": format(context.span_id, "016x")}
    trace_state = context.trace_state
    if trace_state:
        out["traceState"] = ",".join(f"{key}={value}" for key, value in trace_state.items())
    parent = span.parent
    if parent:
        out["parentSpanId"] = format(parent.span_id, "016x")
    if span.name:
        out["name"] = span.name
    out["kind"] = _KIND[span.kind.name]
    if span.start_time:
        out["startTimeUnixNano"] = str(span.start_time)
    if span.end_time:
        out["endTimeUnixNano"] = str(span.end_time)
    _with_attributes(out, attribute_dict(span), span.dropped_attributes)
    if span.events:
        out["events"] = [_event(event) for event in span.events]
    if span.dropped_events:
        out["droppedEventsCount"] = span.dropped_events
    if span.links:
        out["links"] = [_link(link) for link in span.links]
    if span.dropped_links:
        out["droppedLinksCount"] = span.dropped_links
    status: dict[str, Any] = {}
    if span.status.status_code.value:
        status["code"] = span.status.status_code.value
    if span.status.description:
        status["message"] = span.status.description
    out["status"] = status
    out["flags"] = _HAS_IS_REMOTE | _IS_REMOTE if parent is not None and parent.is_remote else _HAS_IS_REMOTE
    return out


def _event(event: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if event.timestamp:
        out["timeUnixNano"] = str(event.timestamp)
    if event.name:
        out["name"] = event.name
    return _with_attributes(out, event.attributes, event.dropped_attributes)


def _link(link: Any) -> dict[str, Any]:
    context = link.context
    out: dict[str, Any] = {"traceId": format(context.trace_id, "032x"), "spanId": format(context.span_id, "016x")}
    _with_attributes(out, link.attributes, link.dropped_attributes)
    out["flags"] = _HAS_IS_REMOTE | _IS_REMOTE if context.is_remote else _HAS_IS_REMOTE
    return out


def _scope(scope: Any) -> dict[str, Any]:
    if scope is None:
        return {}
    out: dict[str, Any] = {}
    if scope.name:
        out["name"] = scope.name
    if scope.version:
        out["version"] = scope.version
    return _with_attributes(out, scope.attributes, 0)


def _with_attributes(out: dict[str, Any], attributes: Any, dropped: int) -> dict[str, Any]:
    """``out`` with ``attributes`` (a value the OTLP encoder cannot take is left out, as it does)."""
    if attributes:
        encoded = []
        for key, value in plain_mapping(attributes).items():
            pair = _key_value(key, value)
            if pair is not None:
                encoded.append(pair)
        if encoded:
            out["attributes"] = encoded
    if dropped:
        out["droppedAttributesCount"] = dropped
    return out


def _key_value(key: Any, value: Any) -> Any:
    encoded = _value(value)
    if encoded is None:
        logger.debug("agentel: AGENTEL_TRACES_FILE: attribute %r left out (cannot be encoded)", key)
        return None
    return {"key": key, "value": encoded} if key else {"value": encoded}


def _value(value: Any) -> Any:
    """An ``AnyValue`` in OTLP/JSON, or ``None`` for what the OTLP encoder refuses."""
    kind = type(value)
    if kind is str:
        return {"stringValue": value}
    if kind is bool:
        return {"boolValue": value}
    if kind is int:
        return {"intValue": str(value)} if _INT64[0] <= value <= _INT64[1] else None
    if kind is float:
        return {"doubleValue": _double(value)}
    if value is None:
        return _EMPTY
    if isinstance(value, bool):
        return {"boolValue": bool(value)}
    if isinstance(value, str):
        return {"stringValue": str(value)}
    if isinstance(value, int):
        return {"intValue": str(int(value))} if _INT64[0] <= value <= _INT64[1] else None
    if isinstance(value, float):
        return {"doubleValue": _double(float(value))}
    if isinstance(value, bytes):
        return {"bytesValue": base64.b64encode(value).decode("ascii")} if value else {"bytesValue": ""}
    if isinstance(value, Sequence):
        items = [_value(item) for item in value]
        if any(item is None for item in items):
            return None
        return {"arrayValue": {"values": items}} if items else {"arrayValue": {}}
    if isinstance(value, Mapping):
        pairs = [_key_value(str(key), item) for key, item in value.items()]
        if any(pair is None for pair in pairs):
            return None
        return {"kvlistValue": {"values": pairs}} if pairs else {"kvlistValue": {}}
    return None


def _double(value: float) -> Any:
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    return value
