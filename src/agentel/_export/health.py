"""Export accounting: spans exported, dropped and failed are counted; export errors logged once per cause.

agentel's own provider puts each exporter behind a ``CountingBatchSpanProcessor`` (drops when the queue
is full are counted; the call never blocks) and a ``CountingExporter`` (a failed batch counts its spans
as dropped). The OpenTelemetry exporters log every failed batch; ``quiet_repeated_export_logs`` lets
the first record of each cause through, with what to do, and counts the rest instead of printing them —
only for records logged from inside agentel's own exporters and batch processors (recognised by their
code objects on the logging call's stack). Every other component's records (the application's metrics
or span exporters on the same module loggers) pass untouched, and never use up a cause of agentel's.
"""

from __future__ import annotations

import logging
import re
import sys
import time
from types import FrameType
from typing import Any, Optional, Sequence

from agentel._export.otel_sdk import BatchSpanProcessor, ReadableSpan, SpanExporter, SpanExportResult
from agentel._forksafe import new_lock
from agentel._internal_errors import STATS, logger
from agentel._otel_internals import queued_spans

_EXPORT_LOGGERS = (
    "opentelemetry.exporter.otlp.proto.grpc.exporter",
    "opentelemetry.exporter.otlp.proto.http.trace_exporter",
    "opentelemetry.exporter.otlp.proto.http._common",
    "opentelemetry.sdk._shared_internal",
    "opentelemetry.sdk.trace.export",
    "opentelemetry.util.re",  # the exporters' header parsing, when agentel creates its exporter
)
# what an encoder raises for a value it cannot encode (a lone surrogate, an out-of-range int, a bad type)
_ENCODING_ERRORS = (UnicodeError, ValueError, TypeError, OverflowError, AttributeError)
_NUMBERS = re.compile(r"\d+(\.\d+)?")


_QUICK_FAILURE_S = 0.5


def _innermost_exporter(exporter: Any) -> Any:
    """The exporter under agentel's wrappers (each keeps the one it wraps as ``inner``)."""
    for _ in range(8):
        inner = getattr(exporter, "inner", None)
        if inner is None:
            return exporter
        exporter = inner
    return exporter


def _encoding_error(spans: Sequence[ReadableSpan]) -> Optional[BaseException]:
    """The error the OTLP encoder raises for this batch, or None (checked only after a failed export)."""
    try:
        from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

        encode_spans(spans).SerializeToString()
        return None
    except _ENCODING_ERRORS as exc:
        return exc
    except Exception:  # noqa: BLE001 - not an encoding problem
        return None


class CountingExporter(SpanExporter):
    """Wraps an exporter: counts exported spans, and failed batches as dropped spans; never raises."""

    def __init__(self, inner: SpanExporter, destination: str) -> None:
        self.inner = inner
        self.destination = destination
        self._raises_on_encoding = "grpc" in type(_innermost_exporter(inner)).__module__
        self.attempted = 0  # spans handed to the exporter (calls are serialized by the batch processor)

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.attempted += len(spans)
        return self._export(list(spans))

    def _export(self, spans: list[ReadableSpan]) -> SpanExportResult:
        try:
            started = time.monotonic()
            result = self.inner.export(spans)
            # OTLP/HTTP catches an encoding error itself and fails at once; a network failure takes
            # longer (a stalled collector: the whole timeout), and the gRPC exporter raises instead. So
            # the batch is re-encoded only after a quick failure of an exporter that swallows errors.
            quick = time.monotonic() - started < _QUICK_FAILURE_S
            if result is not SpanExportResult.SUCCESS and quick and not self._raises_on_encoding:
                problem = _encoding_error(spans)
                if problem is not None:
                    raise problem
        except _ENCODING_ERRORS as exc:
            if len(spans) > 1:  # one span the encoder cannot take must not lose the whole batch
                middle = len(spans) // 2
                first, second = self._export(spans[:middle]), self._export(spans[middle:])
                both_ok = first is SpanExportResult.SUCCESS and second is SpanExportResult.SUCCESS
                return SpanExportResult.SUCCESS if both_ok else SpanExportResult.FAILURE
            _log_cause_once(
                f"{self.destination}: unencodable span",
                f"span {getattr(spans[0], 'name', '?')!r} could not be encoded ({type(exc).__name__}: {exc}); "
                "it is dropped, the rest of its batch is exported",
                self.destination,
            )
            result = SpanExportResult.FAILURE
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

    release_inner = True  # False when the same exporter was given to configure() again: it stays open

    def shutdown(self) -> None:
        if not self.release_inner:
            self.force_flush()
            return
        try:
            self.inner.shutdown()
        except Exception as exc:  # noqa: BLE001 - the exporter's own failure, not agentel's: a debug line
            logger.debug("agentel: exporter shutdown failed: %s", exc)

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        flush = getattr(self.inner, "force_flush", None)
        try:
            return bool(flush(timeout_millis)) if flush is not None else True
        except Exception:  # noqa: BLE001 - the exporter's own failure, not agentel's: the flush failed
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
        return {"spans_dropped": max(0, self._handed - self._counting.attempted - queued_spans(self))}

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


def _agentel_caller(record: logging.LogRecord) -> Optional[str]:
    """The destination of agentel's exporter (or "queue") when the record was logged inside one of
    agentel's own exporters or batch processors — found by walking the caller's frames (only when a
    warning is logged; no cost on the span path). ``None``: someone else's record."""
    frame: Optional[FrameType] = sys._getframe(2)
    depth = 0
    while frame is not None and depth < 60:
        code = frame.f_code
        if code is _EXPORT_CODE:
            owner = frame.f_locals.get("self")
            return str(getattr(owner, "destination", "agentel's exporter"))
        if code is _ON_END_CODE:
            return "agentel's export queue"
        if code in SETUP_CODES:
            return "agentel's exporter setup"
        frame = frame.f_back
        depth += 1
    return None


class _OncePerCauseFilter(logging.Filter):
    """For records about agentel's own exporters only: the first of each cause passes (with a hint),
    repeats are counted instead of printed. Every other component's record passes untouched."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        try:
            destination = _agentel_caller(record)
            if destination is None:
                return True
            template = str(record.msg)
            text = record.getMessage()
        except Exception:  # noqa: BLE001 - someone's unformattable record: it passes, untouched
            return True
        if template.startswith("Header format invalid"):
            # it quotes the raw *_HEADERS value, which may hold credentials; agentel already warned about
            # the variable by name (without its value) when it checked the environment
            return False
        word = _cause_word(text)
        cause = f"{destination}|{word}" if word else f"{destination}|{record.name}:{_NUMBERS.sub('#', template)}"
        with _causes_lock:
            if cause in _logged_causes:
                STATS.add("export_log_repeats")
                return False
            _logged_causes.add(cause)
        record.msg = f"{template} [agentel: {_hint(text)}; repeats of this are counted in agentel.stats(), not logged]"
        return True


def _cause_word(text: str) -> str:
    for needle in _hints:
        if needle in text:
            return needle
    return ""


_installed: list[Any] = []


def quiet_repeated_export_logs() -> None:
    """Install the once-per-cause filter on the OTel exporter/processor loggers (idempotent); it acts
    only on records logged from inside agentel's own exporters and batch processors."""
    if _installed:
        return
    flt = _OncePerCauseFilter()
    for name in _EXPORT_LOGGERS:
        logging.getLogger(name).addFilter(flt)
    _installed.append(flt)


SETUP_CODES: set[Any] = set()  # code of agentel's functions that create exporters (registered by them)
_EXPORT_CODE = CountingExporter.export.__code__
_ON_END_CODE = CountingBatchSpanProcessor.on_end.__code__
