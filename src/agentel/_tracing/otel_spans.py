"""An OpenTelemetry span's start, failure and end (starting and ending never raise, whatever another
span processor does); the trace id of the span that ended last; client timestamps."""

from __future__ import annotations

import datetime
import math
import operator
import threading
import traceback
from typing import Any, Mapping, Optional

from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode

from agentel._conventions.builders import start_attributes
from agentel._conventions.span_types import MAX_STATUS_DESCRIPTION_BYTES, convention_for
from agentel._errors import InvalidTimestampError
from agentel._export.processor import AgentelSpanProcessor
from agentel._internal_errors import contained, report_internal_error
from agentel._otel_internals import DEFERRED_START, StartDeferral, attribute_blind, span_whose_start_raised
from agentel._payload.serialize import clip_text, safe_text
from agentel._runtime.pipeline import no_op_on_start
from agentel._runtime.provider import RUNTIME, resolved_state
from agentel._runtime.state import DISABLED_REDACTOR, current_state
from agentel._tracing.write import normalized_attributes

_FORGETTING = contained("ending a span")
_TRACE_TOTAL = contained("set_token_usage: trace total")


class _LastTrace(threading.local):
    trace_id: Optional[int] = None


_last_in_thread = _LastTrace()
_last_global: list[Optional[int]] = [None]


def remember_trace(trace_id: int) -> None:
    """Record the trace id of a span that just ended (per thread and process-wide)."""
    _last_in_thread.trace_id = trace_id
    _last_global[0] = trace_id


def last_trace_id(this_thread: bool = False) -> Optional[int]:
    """The trace id of the last span that ended, in this thread or in the process."""
    return _last_in_thread.trace_id if this_thread else _last_global[0]


def record_error(span: Any, exc: BaseException) -> None:
    """Status ERROR ``"Type: message"`` and an ``exception`` event with type, message, stack trace."""
    type_name = safe_text(type(exc).__name__)
    policy = current_state().policy
    capture = policy.capture_content
    redactor = policy.redactor or DISABLED_REDACTOR
    message, stacktrace = _error_texts(exc, redactor, policy.max_payload_bytes) if capture else ("", "")
    description = f"{type_name}: {message}" if message else type_name
    span.set_status(Status(StatusCode.ERROR, clip_text(description, MAX_STATUS_DESCRIPTION_BYTES)))
    module = type(exc).__module__
    qualified = type(exc).__qualname__ if module in (None, "builtins") else f"{module}.{type(exc).__qualname__}"
    event = {"exception.type": safe_text(qualified), "exception.escaped": "True"}
    if capture:
        event["exception.message"] = message
        event["exception.stacktrace"] = stacktrace
    span.add_event("exception", event)


STACK_FRAMES = 64  # innermost frames of a stack trace kept (the outer ones are counted)


class _LastError:
    """The exception recorded last, by identity only (no reference: its frames are not kept alive).

    An exception crossing N nested traced calls is recorded N times, each time with one more outer
    frame on its traceback. Its message and the innermost ``STACK_FRAMES`` frames (formatted and
    redacted) are the same every time, so they are made once: N levels cost O(N), not O(N²).
    """

    __slots__ = ("key", "head", "depth", "redactor", "budget", "message", "body")

    def __init__(self) -> None:
        self.key: tuple[int, type] = (0, type(None))
        self.head = 0  # id of the traceback entry the exception had when last recorded
        self.depth = 0  # entries in that traceback
        self.redactor: Any = None
        self.budget = 0
        self.message = ""
        self.body = ""


_last_error = _LastError()


def _error_texts(exc: BaseException, redactor: Any, budget: int) -> tuple[str, str]:
    """The redacted message and stack trace of ``exc`` (innermost frames, with a count of the others),
    valid UTF-8 within ``budget`` and twice that."""
    last = _last_error
    tb = exc.__traceback__
    same_exception = last.key == (id(exc), type(exc)) and last.redactor is redactor and last.budget == budget
    grown = -1  # outer entries added since the last time (the traced call's frames in between)
    if same_exception:
        entry, steps = tb, 0
        while entry is not None and steps <= 8:
            if id(entry) == last.head:
                grown = steps
                break
            entry, steps = entry.tb_next, steps + 1
    if grown >= 0:
        depth = last.depth + grown
    else:
        depth, entry = 0, tb
        while entry is not None:
            depth, entry = depth + 1, entry.tb_next
    # the same innermost STACK_FRAMES entries as last time: nothing new to format or redact
    reuse = grown == 0 or (grown > 0 and last.depth >= STACK_FRAMES)
    if not reuse:
        last.message = _bounded_redacted(_safe_str(exc), budget, redactor)
        last.body = _bounded_redacted(_stacktrace(exc), 2 * budget, redactor, keep_end=True)
    last.key, last.head, last.depth, last.redactor = (id(exc), type(exc)), id(tb), depth, redactor
    last.budget = budget
    hidden = depth - STACK_FRAMES
    if hidden > 0:
        return last.message, f"({hidden} outer frames not shown)\n{last.body}"
    return last.message, last.body


def _bounded_redacted(text: str, budget: int, redactor: Any, keep_end: bool = False) -> str:
    """Valid UTF-8 within ``budget`` bytes, redacted: cut to twice the budget first (so redaction
    costs at most that), redacted, then cut to the budget (a cut never leaves half a secret)."""
    rough = clip_text(text, 2 * budget, keep_end=keep_end)
    return clip_text(redactor.free_text(rough), budget, keep_end=keep_end)


def set_ok_unless_error(span: Any) -> None:
    """Status OK unless the span already failed (MLflow's rule for a span that ends normally)."""
    status = getattr(span, "status", None)
    if status is None or status.status_code is not StatusCode.ERROR:
        span.set_status(Status(StatusCode.OK))


def _stacktrace(exc: BaseException) -> str:
    try:
        return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__, limit=-STACK_FRAMES))
    except Exception:  # noqa: BLE001 - not an internal error (the user's __str__ raised): the frames alone
        return "".join(traceback.format_tb(exc.__traceback__, limit=-STACK_FRAMES))


def _safe_str(value: Any) -> str:
    try:
        return str(value)
    except Exception:  # noqa: BLE001 - not an internal error (the user's __str__ raised): a placeholder
        return f"<{type(value).__name__} whose str() failed>"


def refresh_trace_usage(span: Any) -> None:
    """Rewrite the trace's token total on its local root after ``span``'s usage changed; never raises."""
    with _TRACE_TOTAL:
        RUNTIME.processor.refresh_root_usage(span)


def start_otel_span(
    name: str,
    span_type: str,
    attributes: Optional[Mapping[str, Any]] = None,
    *,
    context: Any = None,
    start_time_ns: Optional[int] = None,
    links: Any = None,
) -> trace.Span:
    """Start (without making current) an OTel span carrying the conventions of ``span_type``."""
    state = current_state()
    tracer = state.tracer
    if tracer is None:
        state, tracer = resolved_state()
    start = start_attributes(span_type, state.policy.dialects)
    start.update(normalized_attributes(attributes, state.policy))
    kind = convention_for(span_type).kind
    return guarded_start(tracer, name, context, kind, start, links, start_time_ns)


def _start_attributes_deferrable(sampler: Any, processors: tuple[Any, ...]) -> bool:
    """Whether spans may get their start attributes in agentel's ``on_start`` (written straight into
    the span's dict there) instead of through ``start_span``, which cleans them through the SDK's
    generic checks (about 28,000 instructions for a span's two or three): only where nothing can tell
    the difference — a sampler that does not read them, and before agentel's processor only processors
    whose ``on_start`` does nothing (batch and simple ones). The attributes, their order and the limits
    applied are the same either way."""
    if not attribute_blind(sampler):
        return False
    for processor in processors:
        if type(processor) is AgentelSpanProcessor:
            return True
        if not no_op_on_start(processor):
            return False
    return False


_DEFERRAL = StartDeferral(_start_attributes_deferrable)


def guarded_start(
    tracer: trace.Tracer,
    name: str,
    context: Any,
    kind: Any,
    attributes: Any,
    links: Any = None,
    start_time_ns: Optional[int] = None,
) -> trace.Span:
    """``tracer.start_span`` that never raises: if another span processor's ``on_start`` raises, the span
    (already started) is recovered and used as usual; if none was made, a non-recording span is."""
    # hand-written, not the guard: the handler recovers the span another processor's on_start broke
    try:
        if attributes and _DEFERRAL.allows(tracer):
            DEFERRED_START.attributes = attributes
            try:
                return tracer.start_span(name, context, kind, None, links=links, start_time=start_time_ns)
            finally:
                DEFERRED_START.attributes = None
        return tracer.start_span(name, context, kind, attributes, links=links, start_time=start_time_ns)
    except Exception as exc:  # noqa: BLE001 - e.g. the application's span processor raised in on_start
        report_internal_error("starting a span (a span processor's on_start raised)", exc)
        span = span_whose_start_raised(exc)
        if (
            span is not None
            and getattr(span, "name", None) == name
            and getattr(span, "end_time", 1) is None
            and RUNTIME.processor.started_here(span)
        ):
            return span
        return trace.INVALID_SPAN


def end_otel_span(span: Any, end_time_ns: Optional[int] = None) -> None:
    """``span.end()`` that never raises; if a span processor's ``on_end`` raises, the span still leaves
    agentel's open-span table (the SDK has already ended it)."""
    # hand-written, not the guard: the handler also takes the span out of agentel's open-span table
    try:
        span.end(end_time=end_time_ns)
    except Exception as exc:  # noqa: BLE001
        report_internal_error("ending a span (a span processor's on_end raised)", exc)
        with _FORGETTING:
            RUNTIME.processor.forget(span)


def to_time_ns(value: Any, what: str) -> Optional[int]:
    """A client timestamp as integer nanoseconds since the epoch; ``InvalidTimestampError`` otherwise.

    ``int`` (or any integral type): nanoseconds, as ``time.time_ns()``. ``float``: seconds, as
    ``time.time()``. ``datetime``: converted (a naive one is local time, as ``datetime.timestamp()``).
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise InvalidTimestampError(f"{what} must be nanoseconds since the epoch (an int); got a bool")
    if isinstance(value, datetime.datetime):
        nanos = round(value.timestamp() * 1e9)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidTimestampError(f"{what} must be a finite time; got {value!r}")
        nanos = round(value * 1e9)  # seconds, as time.time() returns
    else:
        try:
            nanos = operator.index(value)
        except TypeError:
            raise InvalidTimestampError(
                f"{what} must be nanoseconds since the epoch (an int, e.g. time.time_ns()), float seconds "
                f"(time.time()) or a datetime; got {type(value).__name__}"
            ) from None
    if not 0 <= nanos < _MAX_TIME_NS:
        raise InvalidTimestampError(f"{what}={value!r} is outside 1970..2262 (nanoseconds since the epoch)")
    return nanos


_MAX_TIME_NS = 2**63
