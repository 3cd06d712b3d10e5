"""What ``trace`` returns: a plain Python wrapper for sync functions and methods, a transparent wrapt
proxy for everything else (coroutines, generators, callable objects, classmethods, staticmethods),
each pickling like the callable it wraps. The proxies (``proxies.py``) and wrapt are imported at the
first callable that needs one: tracing only plain functions never imports wrapt."""

from __future__ import annotations

import inspect
from typing import Any, Callable, Mapping, Optional, TypeVar

from agentel._internal_errors import contained
from agentel._tracing.calls import Traced, TraceOptions, kind_of
from agentel._tracing.generators import stream_wrapper
from agentel._tracing.plain_call import global_at, plain_call

F = TypeVar("F", bound=Callable[..., Any])
_DECORATING = contained("trace: decorating")


# Sync Python functions are called through a plain Python function, not through wrapt's proxy: each
# level of a recursive traced call then costs the interpreter two frames (the wrapper's and the
# function's), as under any functools.wraps decorator, instead of three (wrapt's C ``__call__`` counts
# against the recursion limit too), so a traced function recurses as deep as a plainly decorated one.
# A function defined in a class body stays a wrapt proxy (its descriptor binding: looked up on the
# class, under staticmethod/classmethod) whose binding to an instance is a plain bound method of the
# plain wrapper. Everything else (callable objects, bound methods, classmethod/staticmethod objects,
# generators and coroutines) keeps wrapt. ``agentel.trace(f)`` on an existing global ``f`` keeps wrapt's
# proxy too (it pickles as "trace f again"), but is called through the plain wrapper: wrapt's C
# ``__call__`` costs about 0.8 µs per call, a Python ``__call__`` on the proxy about 0.2 µs.


def _plain_kind(target: Any) -> Optional[str]:
    """``"function"``, ``"method"`` or ``"global"`` (an existing global, traced under another name) for a
    sync Python function that takes the plain wrapper, else None."""
    if not inspect.isfunction(target):
        return None
    qualname = getattr(target, "__qualname__", None)
    if not isinstance(qualname, str):
        return None
    scope, dot, _ = qualname.rpartition(".")
    if dot and not scope.endswith("<locals>"):
        return "method"  # defined in a class body
    # a module function under ``@trace`` becomes the global of its name (pickled by reference)
    return "function" if global_at(getattr(target, "__module__", None), qualname) is not target else "global"


def retrace(func: Any, options: tuple[Any, ...]) -> Any:
    """Unpickling a traced wrapper that is not a module global: trace ``func`` again, same options."""
    return traced_callable(func, *options)


def traced_callable(
    func: Any,
    name: Optional[str],
    span_type: str,
    attributes: Optional[Mapping[str, Any]],
    output_reducer: Optional[Callable[[list[Any]], Any]],
    mlflow_semantics: bool = False,
    capture_response: bool = True,
) -> Any:
    """``trace``'s body; ``mlflow_semantics`` (the compat layer) adds status OK on success and one
    ``mlflow.chunk.item.N`` event per yielded item."""

    options = TraceOptions(name, span_type, attributes, output_reducer, mlflow_semantics, capture_response)

    def decorate(target: F) -> F:
        with _DECORATING:
            traced = Traced(target, options)
            kind = kind_of(target)
            plain = _plain_kind(target) if kind == "sync" else None
            if plain == "function":
                return plain_call(target, traced, receiver_first=False)  # type: ignore[return-value]
            from agentel._tracing.proxies import TracedFunction, TracedGlobalCopy, TracedMethod

            if plain == "method":
                return TracedMethod(target, traced.call, traced, retrace)  # type: ignore[return-value]
            if plain == "global":
                return TracedGlobalCopy.of(target, traced, retrace)  # type: ignore[no-any-return]
            wrapper = {
                "sync": traced.call,
                "async": traced.call_async,
                "generator": stream_wrapper(traced, asynchronous=False),
                "async_generator": stream_wrapper(traced, asynchronous=True),
            }[kind]
            return TracedFunction(target, wrapper, traced, retrace)  # type: ignore[return-value]
        return target  # an untraceable callable is returned unchanged

    if func is None:
        return decorate
    return decorate(func)
