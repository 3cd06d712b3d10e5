"""The embedded default: each finished trace printed to stderr as a readable tree.

A span processor buffers ended spans per trace and prints the tree when the trace's local root ends
(a span with no parent, or a remote one). Colours only on a TTY. The buffer is bounded.
"""

from __future__ import annotations

import json
import os
import sys
from collections import OrderedDict
from typing import Any, Optional, TextIO

from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor
from opentelemetry.trace import StatusCode

from . import _semconv as sc
from ._forksafe import new_lock
from ._safety import report_internal_error

MAX_PENDING_TRACES = 1000
MAX_SPANS_PER_TRACE = 2000
PREVIEW_CHARS = 96

_NOTICE = (
    "agentel: no exporter configured, so traces are printed here. To send them to a collector, set "
    "OTEL_EXPORTER_OTLP_ENDPOINT (e.g. http://localhost:4317); to silence this, "
    "OTEL_TRACES_EXPORTER=none.\n"
)


class ConsoleTreeProcessor(SpanProcessor):
    """Prints each trace as a tree when its local root span ends."""

    def __init__(self, stream: Optional[TextIO] = None) -> None:
        self._stream = stream
        self._pending: OrderedDict[int, list[ReadableSpan]] = OrderedDict()
        self._lock = new_lock()
        self._noticed = False

    def on_end(self, span: ReadableSpan) -> None:
        try:
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
        except Exception as exc:  # noqa: BLE001
            report_internal_error("console tree", exc)

    def _print(self, trace_id: int, spans: list[ReadableSpan]) -> None:
        stream = self._stream or sys.stderr
        color = _use_color(stream)
        text = render_tree(trace_id, spans, color=color)
        with self._lock:
            if not self._noticed:
                self._noticed = True
                text = _NOTICE + text
        stream.write(text)
        stream.flush()

    def shutdown(self) -> None:
        """Print what is still buffered (traces whose root never ended here)."""
        with self._lock:
            pending = list(self._pending.items())
            self._pending.clear()
        for trace_id, spans in pending:
            self._print(trace_id, spans)

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Nothing is buffered that could be printed before its root ends."""
        return True


def _use_color(stream: TextIO) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    try:
        return stream.isatty()
    except Exception:  # noqa: BLE001
        return False


def _paint(text: str, code: str, color: bool) -> str:
    return f"\033[{code}m{text}\033[0m" if color else text


def _preview(value: Any) -> str:
    if isinstance(value, str):
        try:
            value = json.dumps(json.loads(value), ensure_ascii=False)
        except ValueError:
            pass
    text = str(value).replace("\n", "\\n")
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
        name = _paint(span.name, "1", color)
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
            usage = f"model={model} " if model else ""
            usage += f"tokens in={tokens[0]} out={tokens[1]}" if any(t is not None for t in tokens) else ""
            lines.append(f"{inner}  {_paint('llm', '2', color)} {usage.strip()}")
        if sc.AGENTEL_TRACE_TOTAL_TOKENS in attributes:
            total = (
                f"tokens in={attributes.get(sc.AGENTEL_TRACE_INPUT_TOKENS)} "
                f"out={attributes.get(sc.AGENTEL_TRACE_OUTPUT_TOKENS)} "
                f"total={attributes.get(sc.AGENTEL_TRACE_TOTAL_TOKENS)} "
                f"over {attributes.get(sc.AGENTEL_TRACE_USAGE_SPANS)} model call(s)"
            )
            lines.append(f"{inner}  {_paint('trace', '2', color)} {total}")
        if failed:
            lines.append(f"{inner}  {_paint('✗ ' + (span.status.description or 'error'), '31', color)}")
        kids = children.get(span.context.span_id, [])
        for index, child in enumerate(kids):
            walk(child, inner, index == len(kids) - 1)

    roots = children.get(None, [])
    for index, root in enumerate(roots):
        walk(root, "", index == len(roots) - 1)
    return "\n".join(lines) + "\n"
