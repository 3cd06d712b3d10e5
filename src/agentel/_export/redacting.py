"""Redaction of finished spans that agentel did not write: other instrumentations' attributes, event
attributes and status descriptions get the same secret redaction as agentel's own values.

agentel's own spans are redacted when each value is written, so they are passed through unchanged
(no second scan). A span with nothing to redact is passed on as the same object; otherwise a redacted
copy is. The work runs where the exporter runs (the batch processor's thread), not in the traced call.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Optional, Sequence

from opentelemetry.trace import Status

from agentel._export.otel_sdk import Event, ReadableSpan, SpanExporter, SpanExportResult
from agentel._internal_errors import report_internal_error
from agentel._payload.redact import Redactor

AGENTEL_SCOPE = "agentel"


def _redacted_mapping(attributes: Optional[Mapping[str, Any]], redactor: Redactor) -> Optional[dict[str, Any]]:
    """A redacted copy of ``attributes``, or ``None`` when nothing changed."""
    if not attributes:
        return None
    changed: Optional[dict[str, Any]] = None
    for key, value in attributes.items():
        new = redactor.attribute(key, value)
        if new is value or (isinstance(new, list) and list(value) == new) or new == value:
            continue
        if changed is None:
            changed = dict(attributes)
        changed[key] = new
    return changed


def redact_span(span: ReadableSpan, redactor: Redactor) -> ReadableSpan:
    """``span`` itself when it holds no secret (or is agentel's own), else a redacted copy."""
    if not redactor.enabled:
        return span
    scope = span.instrumentation_scope
    if scope is not None and scope.name == AGENTEL_SCOPE:
        return span
    attributes = _redacted_mapping(span.attributes, redactor)
    events: Optional[list[Event]] = None
    for index, event in enumerate(span.events):
        event_attributes = _redacted_mapping(event.attributes, redactor)
        if event_attributes is not None:
            if events is None:
                events = list(span.events)
            events[index] = Event(event.name, event_attributes, event.timestamp)
    status = span.status
    if status.description:
        description = redactor.free_text(status.description)
        if description != status.description:
            status = Status(status.status_code, description)
    if attributes is None and events is None and status is span.status:
        return span
    return ReadableSpan(
        name=span.name,
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=attributes if attributes is not None else span.attributes,
        events=events if events is not None else span.events,
        links=span.links,
        kind=span.kind,
        status=status,
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


_DEFAULT = Redactor()  # until the runtime says otherwise: redact, with the default patterns
_source: list[Callable[[], Redactor]] = [lambda: _DEFAULT]


def use_redactor_source(reader: Callable[[], Redactor]) -> None:
    """Called by the runtime: where an exporter made without a redactor reads the current one (so
    ``configure(redact=...)`` applies to it too)."""
    _source[0] = reader


def _default_redactor() -> Redactor:
    return _source[0]()


class RedactingSpanExporter(SpanExporter):
    """Wraps a span exporter so every span it exports has secrets redacted, whoever created the span.

    agentel applies it on its own provider by default; an application with its own pipeline wraps its
    exporter the same way. It follows ``AGENTEL_REDACT`` / ``AGENTEL_REDACT_PATTERNS`` (and
    ``configure(redact=..., redact_patterns=...)``)::

        exporter = agentel.RedactingSpanExporter(OTLPSpanExporter())
        provider.add_span_processor(BatchSpanProcessor(exporter))
    """

    def __init__(self, inner: SpanExporter, redactor: Optional[Callable[[], Redactor]] = None) -> None:
        self.inner = inner
        self._redactor = redactor or _default_redactor

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Redact, then hand the spans to the wrapped exporter."""
        try:
            redactor = self._redactor()
            spans = [redact_span(span, redactor) for span in spans]
        except Exception as exc:  # noqa: BLE001 - never export a span that may hold a secret unredacted
            report_internal_error("redacting spans for export", exc)
            return SpanExportResult.FAILURE
        return self.inner.export(spans)

    def shutdown(self) -> None:
        """Shut the wrapped exporter down."""
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Flush the wrapped exporter."""
        flush = getattr(self.inner, "force_flush", None)
        return bool(flush(timeout_millis)) if flush is not None else True

    def __getattr__(self, name: str) -> Any:
        # describe the wrapped exporter (endpoint, path) as if it were this one
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)
