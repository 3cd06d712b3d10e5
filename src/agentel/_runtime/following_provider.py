"""A ``TracerProvider`` that always hands out tracers of the provider agentel uses at that moment.

``agentel.instrument()`` gives it to instrumentors as ``tracer_provider=``. Instrumentors keep the tracer
they get once, so a real provider object passed to them would go stale when agentel's provider changes
(``configure()`` rebuilds it, an application installs its own later, a test capture swaps it in); this
one resolves the provider on every span start and caches the tracer per provider. A span started
without an explicit context gets the same parent agentel's own spans would (``_foreign_context.py``:
inside a LangChain runnable traced by OpenInference, the runnable's span). Before agentel has
chosen a provider, the first span of any instrumentation makes it choose (as agentel's own first span
would).
"""

from __future__ import annotations

from typing import Any, Optional

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.util import types

from agentel._runtime.foreign_context import parent_context


def current_provider() -> trace.TracerProvider:
    """The provider agentel's spans go to now (the global one while agentel is disabled)."""
    from agentel._runtime.provider import RUNTIME

    if not RUNTIME.enabled:
        return trace.get_tracer_provider()
    # chooses a provider if none was chosen yet; adopts a global one installed since
    return RUNTIME.tracer_provider()  # type: ignore[no-any-return]


class _FollowingTracer(trace.Tracer):
    """A tracer that starts each span on the tracer of ``current_provider()``."""

    __slots__ = ("_args", "_provider", "_tracer")

    def __init__(self, args: tuple[Any, ...]) -> None:
        self._args = args
        self._provider: Optional[trace.TracerProvider] = None
        self._tracer: trace.Tracer = trace.NoOpTracer()

    def _resolve(self) -> trace.Tracer:
        provider = current_provider()
        if provider is not self._provider:
            name, version, schema_url, attributes = self._args
            if attributes is None:
                tracer = provider.get_tracer(name, version, schema_url)
            else:
                tracer = provider.get_tracer(name, version, schema_url, attributes)
            self._tracer, self._provider = tracer, provider
        return self._tracer

    # a span started without an explicit context gets agentel's parent resolution: inside a LangChain
    # runnable traced by OpenInference, the runnable's span (see _foreign_context.py)
    def start_span(self, name: str, context: Optional[Context] = None, *args: Any, **kwargs: Any) -> trace.Span:
        if context is None:
            context = parent_context()
        return self._resolve().start_span(name, context, *args, **kwargs)

    def start_as_current_span(self, name: str, context: Optional[Context] = None, *args: Any, **kwargs: Any) -> Any:
        if context is None:
            context = parent_context()
        return self._resolve().start_as_current_span(name, context, *args, **kwargs)


class FollowingTracerProvider(trace.TracerProvider):
    """Tracers from whichever provider agentel uses when each span starts."""

    def get_tracer(
        self,
        instrumenting_module_name: str,
        instrumenting_library_version: Optional[str] = None,
        schema_url: Optional[str] = None,
        attributes: Optional[types.Attributes] = None,
    ) -> trace.Tracer:
        return _FollowingTracer((instrumenting_module_name, instrumenting_library_version, schema_url, attributes))

    def __getattr__(self, name: str) -> Any:
        # resource, force_flush, ... of the provider in use, for instrumentors that look at them
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(current_provider(), name)


FOLLOWING_PROVIDER = FollowingTracerProvider()
