"""``AGENTEL_TRACES_FILE``: spans written as OTLP/JSON lines, one ``ExportTraceServiceRequest`` per line.

Encoding reuses the OTLP exporter's own protobuf encoder; ids are written as hex, as OTLP/JSON requires.
"""

from __future__ import annotations

import json
from typing import Any, Sequence

# imported here, not at the first export: that may be at exit, where importing protobuf's C module
# after an unhandled KeyboardInterrupt turns the process's exit status -SIGINT into 1
from google.protobuf.json_format import MessageToDict
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from agentel._forksafe import new_lock
from agentel._internal_errors import logger

_ID_FIELDS = ("traceId", "spanId", "parentSpanId")


class OtlpJsonFileExporter(SpanExporter):
    """Appends each batch of spans to a file as one OTLP/JSON line."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._path = path
        self._lock = new_lock()
        self._failed = False

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        try:
            message = MessageToDict(encode_spans(spans), use_integers_for_enums=True)
            _hex_ids(message)
            line = json.dumps(message, ensure_ascii=False, separators=(",", ":"))
            with self._lock, open(self._path, "a", encoding="utf-8") as handle:
                handle.write(line + "\n")
            return SpanExportResult.SUCCESS
        except Exception as exc:  # noqa: BLE001
            if not self._failed:
                self._failed = True
                logger.warning("agentel: cannot write spans to AGENTEL_TRACES_FILE=%s: %s", self._path, exc)
            return SpanExportResult.FAILURE

    def shutdown(self) -> None:
        """Nothing held open between batches."""


def _hex_ids(node: Any) -> None:
    """MessageToDict writes bytes as base64; OTLP/JSON wants trace and span ids as hex."""
    import base64

    if isinstance(node, dict):
        for key, value in node.items():
            if key in _ID_FIELDS and isinstance(value, str):
                node[key] = base64.b64decode(value).hex()
            else:
                _hex_ids(value)
    elif isinstance(node, list):
        for item in node:
            _hex_ids(item)
