"""Parents that another instrumentation keeps outside the OpenTelemetry context.

OpenInference's LangChain instrumentor starts a span per runnable from LangChain's callbacks and never
makes it current in the OTel context; it offers ``openinference.instrumentation.langchain.
get_current_span()`` instead. So inside a runnable the OTel context still holds whatever was current
when the chain was invoked. agentel's parent resolution asks that function too and takes the deeper of
the two: both are open on the current call path, so the one that started later is the inner one.

Cost per span: one ``sys.modules`` lookup while OpenInference's LangChain module is not imported; once
it is, a read of LangChain's runnable-config context variable (and only inside a runnable, the lookup).
"""

from __future__ import annotations

import sys
from typing import Any, Optional

from opentelemetry import trace
from opentelemetry.context import Context

_OPENINFERENCE_LANGCHAIN = "openinference.instrumentation.langchain"


class _LangChainHooks:
    """What is read per span once OpenInference's LangChain module is imported (looked up once)."""

    __slots__ = ("instrumentor_class", "get_current_span", "runnable_config")

    def __init__(self, module: Any) -> None:
        self.instrumentor_class = module.LangChainInstrumentor
        self.get_current_span = module.get_current_span
        from langchain_core.runnables.config import var_child_runnable_config

        self.runnable_config = var_child_runnable_config


_hooks: Optional[_LangChainHooks] = None


def _langchain_span() -> Optional[Any]:
    """The span of the LangChain runnable running here, if OpenInference instruments LangChain."""
    global _hooks
    hooks = _hooks
    try:
        if hooks is None:
            hooks = _hooks = _LangChainHooks(sys.modules[_OPENINFERENCE_LANGCHAIN])
        if hooks.runnable_config.get() is None:  # not inside a runnable: the common case, no more work
            return None
        instrumentor = hooks.instrumentor_class._instance
        if instrumentor is None or not instrumentor.is_instrumented_by_opentelemetry:
            return None
        span = hooks.get_current_span()
    except Exception:  # noqa: BLE001 - their lookup failing only means: no foreign parent
        return None
    if span is None or getattr(span, "end_time", None) is not None or not span.get_span_context().is_valid:
        return None
    return span


def deeper_foreign_span() -> Optional[Any]:
    """A span kept outside the OTel context that is deeper than the OTel current span, or ``None``."""
    if _OPENINFERENCE_LANGCHAIN not in sys.modules:
        return None
    foreign = _langchain_span()
    if foreign is None:
        return None
    current = trace.get_current_span()
    current_start = getattr(current, "start_time", None)
    foreign_start = getattr(foreign, "start_time", None)
    if (
        current.get_span_context().is_valid
        and current_start is not None
        and (foreign_start is None or current_start >= foreign_start)
    ):
        return None  # the OTel current span started inside the runnable: it is the inner one
    return foreign


def parent_context() -> Optional[Context]:
    """The context a new span should start in, or ``None`` for the current OTel context."""
    if _OPENINFERENCE_LANGCHAIN not in sys.modules:  # the hot path: one dict lookup
        return None
    foreign = deeper_foreign_span()
    if foreign is None:
        return None
    return trace.set_span_in_context(foreign)


def current_span() -> trace.Span:
    """The innermost open span: the OTel current span, or a deeper one kept outside the context."""
    foreign = deeper_foreign_span()
    return foreign if foreign is not None else trace.get_current_span()
