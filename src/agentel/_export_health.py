"""Export accounting: spans exported, dropped and failed are counted; export errors logged once per cause.

agentel's own provider puts each exporter behind a ``CountingBatchSpanProcessor`` (drops when the queue
is full are counted; the call never blocks) and a ``CountingExporter`` (a failed batch counts its spans
as dropped). The OpenTelemetry exporters log every failed batch; ``quiet_repeated_export_logs`` lets
the first record of each cause through, with what to do, and counts the rest instead of printing them.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Sequence

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from ._forksafe import new_lock
from ._safety import STATS, logger

_EXPORT_LOGGERS = (
    "opentelemetry.exporter.otlp.proto.grpc.exporter",
    "opentelemetry.exporter.otlp.proto.http.trace_exporter",
    "opentelemetry.exporter.otlp.proto.http._common",
    "opentelemetry.sdk._shared_internal",
    "opentelemetry.sdk.trace.export",
)
_NUMBERS = re.compile(r"\d+(\.\d+)?")


class CountingExporter(SpanExporter):
    """Wraps an exporter: counts exported spans, and failed batches as dropped spans; never raises."""

    def __init__(self, inner: SpanExporter, destination: str) -> None:
        self.inner = inner
        self.destination = destination
        self.attempted = 0  # spans handed to the exporter (calls are serialized by the batch processor)

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.attempted += len(spans)
        try:
            result = self.inner.export(spans)
        except Exception as exc:  # noqa: BLE001 - an exporter must not kill the export thread
            _log_cause_once(
                f"{self.destination}: {type(exc).__name__}", f"{type(exc).__name__}: {exc}", self.destination
            )
            result = SpanExportResult.FAILURE
        if result is SpanExportResult.SUCCESS:
            STATS.add("spans_exported", len(spans))
        else:
            STATS.add("spans_dropped", len(spans))
            STATS.add("export_failures")
        return result

    def shutdown(self) -> None:
        try:
            self.inner.shutdown()
        except Exception as exc:  # noqa: BLE001
            logger.debug("agentel: exporter shutdown failed: %s", exc)

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        flush = getattr(self.inner, "force_flush", None)
        try:
            return bool(flush(timeout_millis)) if flush is not None else True
        except Exception:  # noqa: BLE001
            return False


class CountingBatchSpanProcessor(BatchSpanProcessor):
    """A ``BatchSpanProcessor`` whose queue drops are counted exactly, without racing its worker.

    Spans handed to the queue, minus spans handed to the exporter, minus spans still queued, is the
    number the full queue dropped (the deque silently evicts its oldest span).
    """

    def __init__(self, exporter: CountingExporter, **options: Any) -> None:
        super().__init__(exporter, **options)
        self._counting = exporter
        self._handed = 0
        self._closed = False
        self._count_lock = new_lock()
        STATS.add_source(self._queue_drops)

    def on_end(self, span: ReadableSpan) -> None:
        if span.context is not None and span.context.trace_flags.sampled:
            with self._count_lock:
                if self._closed:  # ended after shutdown (e.g. during configure()): dropped, and counted
                    STATS.add("spans_dropped")
                    return
                self._handed += 1
        super().on_end(span)

    def _queue_drops(self) -> dict[str, int]:
        queue = getattr(getattr(self, "_batch_processor", None), "_queue", ())
        return {"spans_dropped": max(0, self._handed - self._counting.attempted - len(queue))}

    def shutdown(self) -> None:
        super().shutdown()  # type: ignore[no-untyped-call]
        with self._count_lock:
            if self._closed:
                return
            self._closed = True
            STATS.remove_source(self._queue_drops)
            STATS.add("spans_dropped", self._queue_drops()["spans_dropped"])


_hints = {  # first match wins: the more specific causes come first
    "CERTIFICATE_VERIFY_FAILED": "check OTEL_EXPORTER_OTLP_CERTIFICATE (the CA that signed the collector's cert)",
    "SSL": "check OTEL_EXPORTER_OTLP_CERTIFICATE and the endpoint's scheme (http vs https)",
    "UNAUTHENTICATED": "check OTEL_EXPORTER_OTLP_HEADERS (API key / authorization)",
    "UNAVAILABLE": "is the collector running and reachable at that endpoint?",
    "Connection refused": "is the collector running and reachable at that endpoint?",
    "DEADLINE_EXCEEDED": "the collector is slow or unreachable; check the endpoint or raise OTEL_EXPORTER_OTLP_TIMEOUT",
    "401": "check OTEL_EXPORTER_OTLP_HEADERS (API key / authorization)",
    "403": "check OTEL_EXPORTER_OTLP_HEADERS (API key / authorization)",
    "Queue full": "spans are made faster than they are exported; raise OTEL_BSP_MAX_QUEUE_SIZE or check the collector",
}


def _hint(message: str) -> str:
    for needle, hint in _hints.items():
        if needle in message:
            return hint
    return "check OTEL_EXPORTER_OTLP_ENDPOINT, _PROTOCOL and _HEADERS; `agentel doctor` tests the connection"


_logged_causes: set[str] = set()
_causes_lock = new_lock()


def _log_cause_once(cause: str, message: str, destination: str) -> None:
    with _causes_lock:
        if cause in _logged_causes:
            return
        _logged_causes.add(cause)
    logger.warning(
        "agentel: cannot export spans to %s (%s): %s. Spans that cannot be sent are dropped and counted in "
        "agentel.stats(); this is logged once per cause.",
        destination,
        message,
        _hint(message),
    )


class _OncePerCauseFilter(logging.Filter):
    """Lets the first record of each cause through (with a hint) and swallows the repeats."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        try:
            template = str(record.msg)
            text = record.getMessage()
        except Exception:  # noqa: BLE001
            return True
        word = _cause_word(text)
        cause = f"cause:{word}" if word else f"{record.name}:{_NUMBERS.sub('#', template)}"
        with _causes_lock:
            if cause in _logged_causes:
                return False
            _logged_causes.add(cause)
        record.msg = f"{template} [agentel: {_hint(text)}; repeats of this are not logged]"
        return True


def _cause_word(text: str) -> str:
    for needle in _hints:
        if needle in text:
            return needle
    return ""


_installed: list[Any] = []


def quiet_repeated_export_logs() -> None:
    """Install the once-per-cause filter on the OTel exporter/processor loggers (idempotent)."""
    if _installed:
        return
    flt = _OncePerCauseFilter()
    for name in _EXPORT_LOGGERS:
        logging.getLogger(name).addFilter(flt)
    _installed.append(flt)
