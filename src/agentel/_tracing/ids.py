"""Parsing trace/request ids and span ids as users give them (hex, ``tr-`` prefix, upper case)."""

from __future__ import annotations

from typing import Any, Optional

from agentel._errors import InvalidIdError

_HEX = frozenset("0123456789abcdef")
NOOP_TRACE_ID = 0
"""The all-zero id of spans made while tracing is disabled: client calls with it do nothing."""


def parse_trace_id(value: Any, what: str = "request id") -> int:
    """A 32-hex trace id (``tr-`` prefix and upper case accepted) as an int; ``InvalidIdError`` else.

    All zeros is accepted: it is the id of the no-op spans made while tracing is disabled.
    """
    return _hex_id(value, 32, "tr-", what, _NOT_A_TRACE_ID)


def parse_span_id(value: Any) -> int:
    """A 16-hex span id (``0x`` prefix and upper case accepted) as an int; ``InvalidIdError`` else."""
    return _hex_id(value, 16, "0x", "span id", _NOT_A_SPAN_ID)


_NOT_A_TRACE_ID = (
    "is not a trace id: expected 32 hex digits (the W3C trace id, optionally prefixed 'tr-'), "
    "e.g. the .request_id of the span start_trace() returned"
)
_NOT_A_SPAN_ID = (
    "is not a span id: expected 16 hex digits, e.g. the .span_id of a span returned by start_trace() or start_span()"
)


def _hex_id(value: Any, digits: int, prefix: str, what: str, why_not: str) -> int:
    """``value`` as an id of ``digits`` hex digits: an int in range, or its text (``prefix`` and upper
    case accepted); ``InvalidIdError`` ("<what> <value> <why_not>") when it is neither."""
    if type(value) is str and len(value) == digits and _HEX.issuperset(value):  # as LiveSpan gives it
        return int(value, 16)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 1 << (4 * digits):
        return value
    text = value.strip().lower() if isinstance(value, str) else None
    if text is not None and text.startswith(prefix):
        text = text[len(prefix) :]
    if text is None or len(text) != digits or not _HEX.issuperset(text):
        raise InvalidIdError(f"{what} {value!r} {why_not}")
    return int(text, 16)


def pick_trace_id(request_id: Any, trace_id: Any) -> int:
    """The trace id from ``request_id`` or ``trace_id`` (MLflow 2 and 3 names); they must agree."""
    if request_id is None and trace_id is None:
        raise InvalidIdError("a request_id (or trace_id) is required: pass span.request_id of the trace's root")
    first: Optional[int] = parse_trace_id(request_id) if request_id is not None else None
    second: Optional[int] = parse_trace_id(trace_id, "trace id") if trace_id is not None else None
    if first is not None and second is not None and first != second:
        raise InvalidIdError(f"request_id {request_id!r} and trace_id {trace_id!r} differ; pass only one")
    return first if first is not None else second  # type: ignore[return-value]


def hex_trace_id(value: int) -> str:
    """32 lowercase hex digits."""
    return format(value, "032x")


def hex_span_id(value: int) -> str:
    """16 lowercase hex digits."""
    return format(value, "016x")
