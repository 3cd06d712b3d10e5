"""agentel's processors on one provider, replaceable as a whole (``Pipeline``), and the names of a
provider's processors and exporters as ``agentel.stats()`` and ``agentel doctor`` show them."""

from __future__ import annotations

from typing import Any, Optional, Sequence

from opentelemetry.context import Context

from agentel import _otel_internals as _otel
from agentel._export.otel_sdk import (
    BatchSpanProcessor,
    ReadableSpan,
    SimpleSpanProcessor,
    Span,
    SpanExporter,
    SpanProcessor,
    TracerProvider,
)
from agentel._export.processor import GuardedProcessor
from agentel._internal_errors import never_raises

_NOOP_ON_START = (SpanProcessor.on_start, BatchSpanProcessor.on_start, SimpleSpanProcessor.on_start)


def no_op_on_start(processor: SpanProcessor) -> bool:
    """Whether ``processor.on_start`` does nothing (a batch or simple processor, also under the guard
    ``configure(span_processors=...)`` puts around it): the pipeline then skips the call."""
    inner = processor.inner if isinstance(processor, GuardedProcessor) else processor
    return type(inner).on_start in _NOOP_ON_START


class Pipeline(SpanProcessor):
    """agentel's exporters and processors on one provider, replaceable as a whole.

    ``paused`` (set by ``agentel.testing`` during a capture) keeps spans away from them.
    """

    def __init__(self) -> None:
        self.processors: tuple[SpanProcessor, ...] = ()
        self._starters: tuple[SpanProcessor, ...] = ()  # those whose on_start does something
        self.paused = False

    def replace(self, processors: Sequence[SpanProcessor]) -> tuple[SpanProcessor, ...]:
        """Use ``processors`` from now on; returns the previous ones (not shut down)."""
        old, self.processors = self.processors, tuple(processors)
        self._starters = tuple(p for p in self.processors if not no_op_on_start(p))
        return old

    def on_start(self, span: Span, parent_context: Optional[Context] = None) -> None:
        if self._starters and not self.paused:
            for processor in self._starters:
                processor.on_start(span, parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        if not self.paused:
            for processor in self.processors:
                processor.on_end(span)

    def shutdown(self) -> None:
        for processor in self.processors:
            processor.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return all([processor.force_flush(timeout_millis) for processor in self.processors])


@never_raises("provider shutdown")
def shutdown_quietly(provider: TracerProvider) -> None:
    """Shut ``provider`` down; an error is reported, not raised."""
    provider.shutdown()


def innermost(processor: Any) -> Any:
    """The exporter at the bottom of a processor's wrappers (or the processor itself)."""
    exporter = getattr(processor, "span_exporter", None)
    if exporter is None:
        return processor
    while isinstance(getattr(exporter, "__dict__", {}).get("inner"), SpanExporter):
        exporter = exporter.__dict__["inner"]
    return exporter


def processor_names(provider: Any) -> list[str]:
    """An SDK provider's span processors by class, with exporters: ``BatchSpanProcessor(OTLPSpanExporter)``."""
    names: list[str] = []
    for processor in _otel.span_processors(provider) or ():
        names.extend(_processor_names(processor))
    return names


def _processor_names(processor: Any) -> list[str]:
    if isinstance(processor, Pipeline):
        return [name for inner in processor.processors for name in _processor_names(inner)]
    exporter = getattr(processor, "span_exporter", None)
    if exporter is None:
        return [type(processor).__name__]
    wrappers = []
    while hasattr(exporter, "inner") and isinstance(exporter.__dict__.get("inner"), SpanExporter):
        if type(exporter).__name__ == "RedactingSpanExporter":
            wrappers.append("redacted")
        exporter = exporter.__dict__["inner"]
    suffix = f", {', '.join(wrappers)}" if wrappers else ""
    return [f"{type(processor).__name__}({type(exporter).__name__}{suffix})"]
