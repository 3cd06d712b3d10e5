"""The embedded default: each finished trace printed to stderr as a readable tree.

A span processor buffers ended spans per trace and prints the tree when the trace's local root ends
(a span with no parent, or a remote one). Colours only on a TTY. The buffer is bounded.

Printing never blocks the traced code: the tree is rendered and written by a background thread, to
the stream's file descriptor, in pieces no larger than the pipe's atomic size and only when ``select``
says the descriptor can take them — so stderr being a pipe nobody reads (a subprocess, a stalled log
shipper) holds no lock of the application's and delays nothing. At most ``MAX_QUEUED_TRACES`` wait to
be written; beyond that a trace is dropped and counted (``stats()["console_traces_dropped"]``). At
exit the queue gets ``EXIT_DRAIN_SECONDS`` to drain. A stream without a file descriptor (a test's
``StringIO``, pytest's capture) cannot block and is written directly.

Every piece of user data in the tree (names, types, inputs, outputs, models, error messages) has its
control characters and terminal escape sequences shown escaped (``\\x1b``), so no input can drive the
terminal or forge a line of the tree.
"""

from __future__ import annotations

import json
import os
import re
import select
import sys
import threading
from collections import OrderedDict, deque
from typing import Any, Callable, Optional, TextIO

from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor
from opentelemetry.trace import StatusCode

from agentel._background_threads import start_daemon
from agentel._conventions import names as sc
from agentel._forksafe import new_lock
from agentel._internal_errors import STATS, contained

MAX_PENDING_TRACES = 1000
MAX_SPANS_PER_TRACE = 2000
MAX_QUEUED_TRACES = 1000
EXIT_DRAIN_SECONDS = 2.0
PREVIEW_CHARS = 96
_CHUNK_BYTES = 4096  # PIPE_BUF on Linux: a pipe that select() calls writable takes this much at once
# C0/C1 controls (ESC starts every terminal escape sequence), DEL, line/paragraph separators, bidi controls
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")

_PRINTING = contained("console tree")
_NOTICE = (
    "agentel: no exporter configured, so traces are printed here. To send them to a collector, set "
    "OTEL_EXPORTER_OTLP_ENDPOINT (e.g. http://localhost:4317); to silence this, "
    "OTEL_TRACES_EXPORTER=none.\n"
)


class ConsoleTreeProcessor(SpanProcessor):
    """Prints each trace as a tree when its local root span ends."""

    def __init__(self, stream: Optional[TextIO] = None, redactor: Optional[Callable[[], Any]] = None) -> None:
        self._stream = stream
        self._redactor = redactor  # other instrumentations' spans are redacted before printing
        self._pending: OrderedDict[int, list[ReadableSpan]] = OrderedDict()
        self._lock = new_lock()
        self._noticed = False
        self._writer = _BackgroundWriter()

    def on_end(self, span: ReadableSpan) -> None:
        with _PRINTING:
            trace_id = span.context.trace_id
            with self._lock:
                spans = self._pending.setdefault(trace_id, [])
                if len(spans) < MAX_SPANS_PER_TRACE:
                    spans.append(span)
                is_root = span.parent is None or span.parent.is_remote
                if not is_root and len(self._pending) > MAX_PENDING_TRACES:
                    trace_id, spans = self._pending.popitem(last=False)
                    is_root = True
                elif is_root:
                    del self._pending[trace_id]
            if is_root:
                self._print(trace_id, spans)

    def _print(self, trace_id: int, spans: list[ReadableSpan]) -> None:
        stream = self._stream or sys.stderr
        if stream is None:  # pythonw, or stderr closed by the application
            return
        color = _use_color(stream)
        if self._redactor is not None:
            from agentel._export.redacting import redact_span

            redactor = self._redactor()
            spans = [redact_span(span, redactor) for span in spans]
        with self._lock:
            notice = not self._noticed
            self._noticed = True
        fd = _file_descriptor(stream)
        if fd is None:  # an in-memory stream: cannot block
            text = render_tree(trace_id, spans, color=color)
            stream.write(_NOTICE + text if notice else text)
            stream.flush()
            return
        self._writer.submit(fd, trace_id, spans, color, notice)

    def shutdown(self) -> None:
        """Print what is still buffered (traces whose root never ended here), waiting a bounded time."""
        with self._lock:
            pending = list(self._pending.items())
            self._pending.clear()
        for trace_id, spans in pending:
            self._print(trace_id, spans)
        self._writer.drain(EXIT_DRAIN_SECONDS)

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Wait (at most ``timeout_millis``) until the trees already handed over are written."""
        return self._writer.drain(max(0.0, timeout_millis / 1000.0))


class _BackgroundWriter:
    """Renders and writes queued trees to a file descriptor from its own daemon thread."""

    def __init__(self) -> None:
        self._queue: deque[tuple[int, int, list[ReadableSpan], bool, bool]] = deque()
        self._lock = new_lock()
        self._wake = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self._thread: Optional[threading.Thread] = None
        self._pid = os.getpid()

    def submit(self, fd: int, trace_id: int, spans: list[ReadableSpan], color: bool, notice: bool) -> None:
        with self._lock:
            if self._pid != os.getpid():  # a forked child: the parent's queue and thread are not ours
                self._queue.clear()
                self._thread = None
                self._wake = threading.Event()
                self._idle = threading.Event()
                self._pid = os.getpid()
            if len(self._queue) >= MAX_QUEUED_TRACES:
                STATS.add("console_traces_dropped")
                return
            self._queue.append((fd, trace_id, spans, color, notice))
            self._idle.clear()
            if self._thread is None or not self._thread.is_alive():
                self._thread = start_daemon(self._run, "agentel-console")
        self._wake.set()

    def drain(self, timeout_s: float) -> bool:
        """True once everything queued is written (or given up on); waits at most ``timeout_s``."""
        return self._idle.wait(timeout_s)

    def _run(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            while True:
                with self._lock:
                    if not self._queue:
                        self._idle.set()
                        break
                    fd, trace_id, spans, color, notice = self._queue.popleft()
                with _PRINTING:
                    try:
                        text = render_tree(trace_id, spans, color=color)
                        _write_all(fd, (_NOTICE + text if notice else text).encode("utf-8", "replace"))
                    except OSError:  # EPIPE, EBADF: nobody to print to; what is queued is dropped, counted
                        with self._lock:
                            dropped = len(self._queue) + 1
                            self._queue.clear()
                        STATS.add("console_traces_dropped", dropped)


def _write_all(fd: int, data: bytes) -> None:
    """Write ``data`` in pieces that never block the writing thread for long (select first)."""
    view = memoryview(data)
    while view:
        try:
            _, writable, _ = select.select([], [fd], [], 1.0)
        except (ValueError, OSError):  # fd too large for select, or not selectable: write plainly
            writable = [fd]
        if not writable:
            continue
        try:
            written = os.write(fd, view[:_CHUNK_BYTES])
        except (BlockingIOError, InterruptedError):
            continue
        view = view[written:]


def _file_descriptor(stream: Any) -> Optional[int]:
    try:
        fd = stream.fileno()
    except Exception:  # noqa: BLE001 - a decision, not an error: the user's stream has no usable fd
        return None
    if not isinstance(fd, int) or fd < 0:
        return None
    try:
        stream.flush()  # what the application already wrote to this stream comes first
    except Exception:  # noqa: BLE001 - the user's stream, not agentel's error: nothing to report
        pass
    return fd


def _use_color(stream: TextIO) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    try:
        return stream.isatty()
    except Exception:  # noqa: BLE001 - the user's stream, not agentel's error: no colours
        return False


def _paint(text: str, code: str, color: bool) -> str:
    return f"\033[{code}m{text}\033[0m" if color else text


def _escape_char(match: "re.Match[str]") -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def escaped(value: Any) -> str:
    """``value`` as text with every control character and terminal escape shown, not executed."""
    text = value if isinstance(value, str) else str(value)
    return _UNSAFE.sub(_escape_char, text)


def _preview(value: Any) -> str:
    if isinstance(value, str):
        try:
            value = json.dumps(json.loads(value), ensure_ascii=False)
        except ValueError:
            pass
    text = escaped(value)
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…"


def _duration_ms(span: ReadableSpan) -> float:
    if span.start_time is None or span.end_time is None:
        return 0.0
    return (span.end_time - span.start_time) / 1e6


def render_tree(trace_id: int, spans: list[ReadableSpan], color: bool = False) -> str:
    """The text of one trace: a header line, then one block per span, children indented."""
    by_id = {span.context.span_id: span for span in spans}
    children: dict[Optional[int], list[ReadableSpan]] = {}
    for span in spans:
        parent = span.parent.span_id if span.parent is not None else None
        children.setdefault(parent if parent in by_id else None, []).append(span)
    for siblings in children.values():
        siblings.sort(key=lambda s: s.start_time or 0)
    lines = [_paint(f"trace {trace_id:032x}", "2", color)]

    def walk(span: ReadableSpan, prefix: str, last: bool) -> None:
        branch = "└─ " if last else "├─ "
        attributes = span.attributes or {}
        span_type = attributes.get(sc.AGENTEL_SPAN_TYPE, span.kind.name.lower())
        failed = span.status.status_code is StatusCode.ERROR
        status = _paint("ERROR", "31", color) if failed else _paint("ok", "32", color)
        name = _paint(escaped(span.name), "1", color)
        span_type = escaped(span_type)
        lines.append(f"{prefix}{branch}{name} [{span_type}] {_duration_ms(span):.1f} ms {status}")
        inner = prefix + ("   " if last else "│  ")
        for key, label in ((sc.INPUT_VALUE, "in "), (sc.OUTPUT_VALUE, "out")):
            if key in attributes:
                lines.append(f"{inner}  {_paint(label, '2', color)} {_preview(attributes[key])}")
        tokens = (
            attributes.get(sc.GEN_AI_USAGE_INPUT_TOKENS, attributes.get(sc.LLM_TOKEN_COUNT_PROMPT)),
            attributes.get(sc.GEN_AI_USAGE_OUTPUT_TOKENS, attributes.get(sc.LLM_TOKEN_COUNT_COMPLETION)),
        )
        model = (
            attributes.get(sc.GEN_AI_REQUEST_MODEL)
            or attributes.get(sc.GEN_AI_RESPONSE_MODEL)
            or attributes.get(sc.LLM_MODEL_NAME)
            or attributes.get(sc.EMBEDDING_MODEL_NAME)
        )
        if model or any(t is not None for t in tokens):
            usage = f"model={escaped(model)} " if model else ""
            usage += f"tokens in={tokens[0]} out={tokens[1]}" if any(t is not None for t in tokens) else ""
            usage += _cost_text(attributes.get("agentel.cost.total_usd"))
            lines.append(f"{inner}  {_paint('llm', '2', color)} {usage.strip()}")
        if sc.AGENTEL_TRACE_TOTAL_TOKENS in attributes:
            total = (
                f"tokens in={attributes.get(sc.AGENTEL_TRACE_INPUT_TOKENS)} "
                f"out={attributes.get(sc.AGENTEL_TRACE_OUTPUT_TOKENS)} "
                f"total={attributes.get(sc.AGENTEL_TRACE_TOTAL_TOKENS)} "
                f"over {attributes.get(sc.AGENTEL_TRACE_USAGE_SPANS)} model call(s)"
                f"{_cost_text(attributes.get('agentel.trace.cost.total_usd'))}"
            )
            lines.append(f"{inner}  {_paint('trace', '2', color)} {total}")
        if failed:
            description = escaped(span.status.description or "error")
            lines.append(f"{inner}  {_paint('✗ ' + description, '31', color)}")
        kids = children.get(span.context.span_id, [])
        for index, child in enumerate(kids):
            walk(child, inner, index == len(kids) - 1)

    roots = children.get(None, [])
    for index, root in enumerate(roots):
        walk(root, "", index == len(roots) - 1)
    return "\n".join(lines) + "\n"


def _cost_text(usd: object) -> str:
    """`` cost=$0.0123`` for a cost in USD, or nothing."""
    if not isinstance(usd, (int, float)) or isinstance(usd, bool):
        return ""
    return f" cost=${usd:.6f}".rstrip("0").rstrip(".") if usd < 0.01 else f" cost=${usd:.4f}"
