"""Context across boundaries: W3C headers between processes, and the current span into threads.

``inject``/``extract`` use the globally configured propagators (``OTEL_PROPAGATORS``, default
``tracecontext,baggage``). When ``OTEL_PROPAGATORS`` is malformed (an unknown name, a trailing comma) the
SDK's ``opentelemetry.propagate`` cannot even be imported; agentel then uses the valid names in it (one
warning) and never imports that module, so ``import agentel`` and these calls keep working.
``bind_context`` and ``ContextThreadPoolExecutor`` carry the current context
into work run on other threads, without patching anything globally (asyncio tasks inherit it already).
"""

from __future__ import annotations

import functools
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable, MutableMapping, Optional, TypeVar

from opentelemetry import context as otel_context

from agentel._internal_errors import contained
from agentel._runtime.otel_env import propagator_names

_INJECT = contained("inject")
_EXTRACT = contained("extract")

R = TypeVar("R")
_fallback: list[Any] = []  # [(raw OTEL_PROPAGATORS, composite propagator)] when the variable is malformed


def _propagator() -> Any:
    """The global propagator, or one built from the valid names when ``OTEL_PROPAGATORS`` is malformed."""
    import os

    raw = os.environ.get("OTEL_PROPAGATORS")
    if _fallback and _fallback[0][0] == raw:
        return _fallback[0][1]
    names = propagator_names()
    if names is None:
        from opentelemetry import propagate

        return propagate.get_global_textmap()
    from importlib.metadata import entry_points

    from opentelemetry.propagators.composite import CompositePropagator

    propagators = []
    for name in names:
        if name.lower() == "none":
            continue
        found = [ep for ep in entry_points(group="opentelemetry_propagator") if ep.name == name]
        if found:
            propagators.append(found[0].load()())
    composite = CompositePropagator(propagators)
    _fallback[:] = [(raw, composite)]
    return composite


def inject(carrier: Optional[MutableMapping[str, str]] = None) -> MutableMapping[str, str]:
    """Write the current trace context into ``carrier`` (e.g. HTTP headers) and return it.

    Example: ``requests.post(url, headers=agentel.inject({}))`` — the receiving service's spans join
    this trace (a ``traceparent`` header with the W3C trace id).
    """
    headers: MutableMapping[str, str] = {} if carrier is None else carrier
    with _INJECT:
        _propagator().inject(headers)
    return headers


def extract(carrier: MutableMapping[str, str]) -> otel_context.Context:
    """Read a trace context from ``carrier`` (e.g. incoming HTTP headers).

    Use it as a parent: ``with agentel.attach(agentel.extract(request.headers)): handle()``, or
    ``TraceClient().start_trace("job", parent=agentel.extract(headers))``.
    """
    with _EXTRACT:
        if isinstance(carrier, dict):  # HTTP header names are case-insensitive: "Traceparent" too
            carrier = {str(key).lower(): value for key, value in carrier.items()}
        return _propagator().extract(carrier)  # type: ignore[no-any-return]
    return otel_context.Context()


class attach:  # noqa: N801 - used like a function
    """Make ``context`` (e.g. from ``extract``) current for a block: spans inside become its children."""

    __slots__ = ("_context", "_token")

    def __init__(self, context: otel_context.Context) -> None:
        self._context = context
        self._token: Any = None

    def __enter__(self) -> otel_context.Context:
        self._token = otel_context.attach(self._context)
        return self._context

    def __exit__(self, *exc_info: Any) -> None:
        otel_context.detach(self._token)


def bind_context(func: Callable[..., R]) -> Callable[..., R]:
    """Return ``func`` bound to the current context, to run it on another thread under this span.

    Example::

        with agentel.start_span("fan-out"):
            threading.Thread(target=agentel.bind_context(work)).start()
            pool.submit(agentel.bind_context(work), item)
    """
    captured = otel_context.get_current()

    @functools.wraps(func)
    def run_in_captured_context(*args: Any, **kwargs: Any) -> R:
        token = otel_context.attach(captured)
        try:
            return func(*args, **kwargs)
        finally:
            otel_context.detach(token)

    return run_in_captured_context


class ContextThreadPoolExecutor(ThreadPoolExecutor):
    """A ``ThreadPoolExecutor`` whose tasks run in the context of the code that submitted them."""

    def submit(self, fn: Callable[..., R], /, *args: Any, **kwargs: Any) -> Future[R]:
        """Submit ``fn`` bound to the caller's current context."""
        return super().submit(bind_context(fn), *args, **kwargs)
