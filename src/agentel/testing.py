"""Testing support: capture the spans a piece of code produces, and assert on them.

As a pytest plugin (registered automatically when agentel is installed)::

    def test_agent_calls_tool(captured_spans):
        run_agent("hi")
        captured_spans.assert_tree('''
            agent [AGENT]
              search [TOOL]
        ''')
        assert captured_spans.find("search").inputs == {"query": "hi"}

Outside pytest: ``with agentel.testing.capture_spans() as spans: ...``. Capture works whether or not
the application installed its own ``TracerProvider``, and global state is restored afterwards.
"""

from __future__ import annotations

import contextlib
import textwrap
import weakref
from dataclasses import dataclass, field, fields, replace
from typing import Any, Callable, Iterator, Optional

from agentel import _otel_internals as _otel
from agentel._conventions import names as sc
from agentel._errors import ConfigurationError
from agentel._export import otel_sdk
from agentel._export.otel_sdk import (
    InMemorySpanExporter,
    ReadableSpan,
    SimpleSpanProcessor,
    SpanProcessor,
    TracerProvider,
)
from agentel._runtime import settings as _settings
from agentel._runtime.provider import RUNTIME
from agentel._tracing.span import RecordedPayload

__all__ = ["CapturedSpan", "SpanCapture", "capture_spans", "captured_spans", "reset"]


@dataclass(frozen=True)
class CapturedSpan(RecordedPayload):
    """A finished span, with agentel's view of it (ids as hex, ``inputs``/``outputs`` parsed)."""

    name: str
    span_type: str
    trace_id: str
    span_id: str
    parent_id: Optional[str]
    kind: str
    status_code: str
    status_description: Optional[str]
    attributes: dict[str, Any]
    events: list[tuple[str, dict[str, Any]]]
    start_time_ns: int
    end_time_ns: int
    otel: ReadableSpan = field(repr=False, compare=False)

    @classmethod
    def from_readable(cls, span: ReadableSpan) -> "CapturedSpan":
        """Build from an OTel ``ReadableSpan``."""
        attributes = dict(span.attributes or {})
        return cls(
            name=span.name,
            span_type=str(attributes.get(sc.AGENTEL_SPAN_TYPE, "UNKNOWN")),
            trace_id=format(span.context.trace_id, "032x"),
            span_id=format(span.context.span_id, "016x"),
            parent_id=format(span.parent.span_id, "016x") if span.parent else None,
            kind=span.kind.name,
            status_code=span.status.status_code.name,
            status_description=span.status.description,
            attributes=attributes,
            events=[(event.name, dict(event.attributes or {})) for event in span.events],
            start_time_ns=span.start_time or 0,
            end_time_ns=span.end_time or 0,
            otel=span,
        )

    @property
    def duration_ns(self) -> int:
        """End minus start, in nanoseconds."""
        return self.end_time_ns - self.start_time_ns


class SpanCapture:
    """The finished spans of a capture, in the order they ended, with lookup and tree helpers."""

    def __init__(self, exporter: InMemorySpanExporter) -> None:
        self._exporter = exporter

    @property
    def spans(self) -> list[CapturedSpan]:
        """Every finished span so far."""
        return [CapturedSpan.from_readable(span) for span in self._exporter.get_finished_spans()]

    def __len__(self) -> int:
        return len(self._exporter.get_finished_spans())

    def __iter__(self) -> Iterator[CapturedSpan]:
        return iter(self.spans)

    def clear(self) -> None:
        """Forget the spans captured so far."""
        self._exporter.clear()

    def traces(self) -> dict[str, list[CapturedSpan]]:
        """Spans grouped by trace id, traces in the order their first span ended."""
        grouped: dict[str, list[CapturedSpan]] = {}
        for span in self.spans:
            grouped.setdefault(span.trace_id, []).append(span)
        return grouped

    def find(self, name: str) -> CapturedSpan:
        """The first finished span named ``name``; AssertionError listing the names otherwise."""
        for span in self.spans:
            if span.name == name:
                return span
        raise AssertionError(f"no span named {name!r}; captured: {[s.name for s in self.spans]}")

    def find_all(self, name: str) -> list[CapturedSpan]:
        """Every finished span named ``name``."""
        return [span for span in self.spans if span.name == name]

    def by_type(self, span_type: str) -> list[CapturedSpan]:
        """Every finished span of one ``SpanType``."""
        return [span for span in self.spans if span.span_type == span_type]

    def children(self, parent: CapturedSpan) -> list[CapturedSpan]:
        """The direct children of ``parent``, by start time."""
        kids = [s for s in self.spans if s.parent_id == parent.span_id and s.trace_id == parent.trace_id]
        return sorted(kids, key=lambda s: s.start_time_ns)

    def tree(self, trace_id: Optional[str] = None, *, types: bool = True) -> str:
        """A compact tree (two spaces per level): ``name [TYPE]`` per line, children by start time."""
        traces = self.traces()
        if trace_id is None:
            if not traces:
                return ""
            trace_id = next(iter(traces))
        spans = traces.get(trace_id, [])
        ids = {span.span_id for span in spans}
        lines: list[str] = []

        def walk(span: CapturedSpan, depth: int) -> None:
            label = f"{span.name} [{span.span_type}]" if types else span.name
            lines.append("  " * depth + label)
            for child in self.children(span):
                walk(child, depth + 1)

        roots = sorted((s for s in spans if s.parent_id not in ids), key=lambda s: s.start_time_ns)
        for root in roots:
            walk(root, 0)
        return "\n".join(lines)

    def assert_tree(self, expected: str, trace_id: Optional[str] = None) -> None:
        """Assert the trace's tree equals ``expected`` (indented names; ``[TYPE]`` checked if given)."""
        want = textwrap.dedent(expected).strip("\n").rstrip()
        want = "\n".join(line.rstrip() for line in want.splitlines() if line.strip())
        got = self.tree(trace_id, types="[" in want)
        if got != want:
            raise AssertionError(f"span tree differs\n--- expected\n{want}\n--- captured\n{got}")


class _CaptureRouter(SpanProcessor):
    """Installed once on a provider; forwards ended spans to every active capture (captures nest: an
    inner one does not take spans away from the outer one)."""

    def __init__(self) -> None:
        self.sinks: tuple[SpanProcessor, ...] = ()

    def on_end(self, span: ReadableSpan) -> None:
        for sink in self.sinks:
            sink.on_end(span)


_routers: "weakref.WeakKeyDictionary[TracerProvider, _CaptureRouter]" = weakref.WeakKeyDictionary()


@contextlib.contextmanager
def capture_spans() -> Iterator[SpanCapture]:
    """Capture every span ended inside the block (agentel's and other OTel spans of the process).

    The spans are read from the provider agentel uses — the application's global one, or agentel's own
    (installed globally, so instrumentations that cached their tracer keep recording into it); the
    global provider is never swapped. On agentel's own provider its exporters are paused meanwhile.
    Raises ``agentel.ConfigurationError`` when the OpenTelemetry SDK cannot be imported (nothing is traced).
    """
    if otel_sdk.UNAVAILABLE is not None:
        raise ConfigurationError(f"capture_spans(): the OpenTelemetry SDK cannot be imported ({otel_sdk.UNAVAILABLE})")
    exporter = InMemorySpanExporter()
    sink = SimpleSpanProcessor(exporter)
    provider = RUNTIME.tracer_provider()
    saved = RUNTIME.save_state()
    if not isinstance(provider, TracerProvider):  # an API-only provider: capture agentel's spans only
        private = TracerProvider()
        private.add_span_processor(sink)
        RUNTIME.use_provider(private)
        try:
            yield SpanCapture(exporter)
        finally:
            RUNTIME.restore_state(saved)
        return
    router = _routers.get(provider)
    if router is None:
        router = _routers[provider] = _CaptureRouter()
        provider.add_span_processor(router)
    router.sinks = (*router.sinks, sink)
    paused = RUNTIME.begin_capture()
    try:
        yield SpanCapture(exporter)
    finally:
        router.sinks = tuple(s for s in router.sinks if s is not sink)
        RUNTIME.end_capture(paused)
        RUNTIME.restore_state(saved)


_DEFAULTS = _settings.Settings()


class ResetRuntime:
    """What ``reset()`` returns: call it (or leave its ``with`` block) to put everything back."""

    def __init__(self, undo: Callable[[], None]) -> None:
        self._undo: Optional[Callable[[], None]] = undo

    def __call__(self) -> None:
        """Undo the reset (once; later calls do nothing)."""
        undo, self._undo = self._undo, None
        if undo is not None:
            undo()

    def __enter__(self) -> ResetRuntime:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self()


def reset(*, provider: bool = True, settings: bool = True, **changes: Any) -> ResetRuntime:
    """Put agentel's process-wide state back to what ``import agentel`` made it, for a test.

    ``provider=True``: no provider chosen yet, and OpenTelemetry's global provider uninstalled (a test
    may install its own). ``settings=True``: settings read again from the environment
    (``settings=False`` keeps the current ones). ``changes`` (``configure()``'s keywords, checked the
    same way; ``None`` sets a setting's default) then apply on top, without building exporters.
    Returns an undo: call it, or use the result as a context manager; a provider built in between is
    shut down. Example::

        with agentel.testing.reset(capture_content=False):
            ...  # agentel as freshly imported, content capture off

    Inside ``capture_spans()``, ``reset(provider=False, settings=False, semconv="mlflow")`` changes
    settings for the rest of the capture (which restores them at its end).
    """
    saved = RUNTIME.save_state()
    saved_warnings = RUNTIME.save_warnings()
    saved_global = _otel.clear_global_provider() if provider else None
    try:
        if provider:
            RUNTIME.forget_provider()
        base = _settings.from_environment() if settings else RUNTIME.settings
        defaults = [name for name, value in changes.items() if value is None]
        unknown = set(defaults) - {f.name for f in fields(_DEFAULTS)}
        if unknown:
            raise ConfigurationError(f"reset() got an unknown setting {sorted(unknown)[0]!r}")
        unset = {name: getattr(_DEFAULTS, name) for name in defaults}
        RUNTIME.use_settings(replace(_settings.with_overrides(base, **changes), **unset))
    except BaseException:
        _undo_reset(saved, saved_warnings, saved_global)
        raise
    return ResetRuntime(lambda: _undo_reset(saved, saved_warnings, saved_global))


def _undo_reset(saved: Any, saved_warnings: Any, saved_global: Optional[tuple[Any, Any]]) -> None:
    built = RUNTIME.own_provider()
    RUNTIME.restore_state(saved)
    RUNTIME.restore_warnings(saved_warnings)
    if saved_global is not None:
        if built is not None and built is not RUNTIME.own_provider():
            built.shutdown()  # agentel's own provider of the block (global in it, so not stopped above)
        _otel.restore_global_provider(saved_global)


try:
    import pytest
except ImportError:  # pragma: no cover - agentel.testing also works without pytest
    pass
else:

    @pytest.fixture
    def captured_spans() -> Iterator[SpanCapture]:
        """Spans ended during the test, routed to an in-memory exporter (see ``SpanCapture``)."""
        with capture_spans() as capture:
            yield capture
