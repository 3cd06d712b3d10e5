"""What ``trace`` returns: a plain Python wrapper for sync functions and methods, a transparent wrapt
proxy for everything else (coroutines, generators, callable objects, classmethods, staticmethods),
each pickling like the callable it wraps."""

from __future__ import annotations

import functools
import inspect
import sys
import types
from typing import Any, Callable, Mapping, Optional, TypeVar

import wrapt

from agentel._internal_errors import contained
from agentel._runtime.state import current_state
from agentel._tracing.calls import Traced, TraceOptions, kind_of
from agentel._tracing.generators import stream_wrapper

F = TypeVar("F", bound=Callable[..., Any])
_DECORATING = contained("trace: decorating")


class _TracedBoundFunction(wrapt.BoundFunctionWrapper):  # type: ignore[type-arg]
    """A traced method bound to an instance; pickles as a plain bound method does."""

    def __reduce_ex__(self, protocol: Any) -> Any:
        instance = self._self_instance
        wrapped = self.__wrapped__
        name = getattr(wrapped, "__name__", None)
        if instance is None:  # looked up on the class (or a staticmethod): find the class by qualname
            qualname = getattr(getattr(wrapped, "__func__", wrapped), "__qualname__", "")
            instance = _global(getattr(wrapped, "__module__", None), qualname.rpartition(".")[0])
        if instance is None or not isinstance(name, str):
            raise TypeError(f"cannot pickle the traced callable {wrapped!r}")
        return getattr, (instance, name)


class _TracedFunction(wrapt.FunctionWrapper):  # type: ignore[type-arg]
    """What ``trace`` returns: a transparent wrapper (wrapt) that pickles like the function it wraps.

    A module-level traced function pickles by its qualified name, as a plain function does (the
    unpickling process imports the module and finds the traced function there); a traced wrapper of
    anything else pickles as "trace this callable with the same options" (the callable itself must be
    picklable, as it would have to be without agentel).
    """

    __bound_function_wrapper__ = _TracedBoundFunction

    def __init__(self, wrapped: Any, wrapper: Any, traced: Traced) -> None:
        super().__init__(wrapped, wrapper)
        self._self_traced = traced

    def __reduce_ex__(self, protocol: Any) -> Any:
        qualname = getattr(self.__wrapped__, "__qualname__", None)
        if isinstance(qualname, str) and _global(getattr(self.__wrapped__, "__module__", None), qualname) is self:
            return qualname  # a global: pickled by reference, like the plain function
        return _retrace, (self.__wrapped__, self._self_traced.options)


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
    return "function" if _global(getattr(target, "__module__", None), qualname) is not target else "global"


def _plain_call(func: Callable[..., Any], traced: Traced, receiver_first: bool) -> Callable[..., Any]:
    """``traced.call`` as one plain function: nothing but it stands between the caller and ``func``.
    ``receiver_first``: the first argument is the instance (or class) the method is bound to."""
    start, safe_inputs, fail, succeed = traced._start, traced._safe_inputs, traced._fail, traced._succeed

    def traced_call(*args: Any, **kwargs: Any) -> Any:
        state = current_state()  # read once: a concurrent configure() does not change this call
        if not state.enabled or (state.sampling.active and state.sampling.certainly_dropped()):
            return func(*args, **kwargs)
        started = start(state)
        if started is None:  # called outside the except block: a user exception gets no __context__
            return func(*args, **kwargs)
        span, token, state = started
        try:
            # Ctrl-C here ends the span too
            if receiver_first and args:
                safe_inputs(span, state.policy, args[0], args[1:], kwargs)
            else:
                safe_inputs(span, state.policy, None, args, kwargs)
            result = func(*args, **kwargs)
        except BaseException as exc:
            fail(span, token, exc)
            raise
        succeed(span, token, state.policy, result)
        return result

    functools.update_wrapper(traced_call, func)  # names, docstring, __wrapped__ (so the signature)
    return traced_call


class _TracedGlobalCopy(_TracedFunction):
    """``trace(f)`` of a global function ``f`` (which stays the global): wrapt's proxy, for pickling and
    binding, called through the plain wrapper (each one gets a subclass whose ``__call__`` is its plain
    wrapper: no attribute lookup, no extra frame)."""

    @classmethod
    def of(cls, wrapped: Any, traced: Traced) -> Any:
        call = staticmethod(_plain_call(wrapped, traced, receiver_first=False))
        return type(cls.__name__, (cls,), {"__call__": call, "__slots__": ()})(wrapped, traced.call, traced)


class _TracedMethod(_TracedFunction):
    """A traced function defined in a class body; bound to an instance, a plain bound method."""

    def __init__(self, wrapped: Any, wrapper: Any, traced: Traced) -> None:
        super().__init__(wrapped, wrapper, traced)
        self._self_bound_call = _plain_call(wrapped, traced, receiver_first=True)

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        if instance is None:  # looked up on the class: wrapt's binding, as for any traced callable
            return super().__get__(instance, owner)
        return types.MethodType(self._self_bound_call, instance)


def _global(module_name: Any, qualname: str) -> Any:
    """The object at ``module.qualname`` (dotted), or None; never imports anything."""
    module = sys.modules.get(module_name) if isinstance(module_name, str) else None
    if module is None or not qualname or "<locals>" in qualname:
        return None
    found: Any = module
    for part in qualname.split("."):
        found = getattr(found, part, None)
    return found


def _retrace(func: Any, options: tuple[Any, ...]) -> Any:
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
                return _plain_call(target, traced, receiver_first=False)  # type: ignore[return-value]
            if plain == "method":
                return _TracedMethod(target, traced.call, traced)  # type: ignore[return-value]
            if plain == "global":
                return _TracedGlobalCopy.of(target, traced)  # type: ignore[no-any-return]
            wrapper = {
                "sync": traced.call,
                "async": traced.call_async,
                "generator": stream_wrapper(traced, asynchronous=False),
                "async_generator": stream_wrapper(traced, asynchronous=True),
            }[kind]
            return _TracedFunction(target, wrapper, traced)  # type: ignore[return-value]
        return target  # an untraceable callable is returned unchanged

    if func is None:
        return decorate
    return decorate(func)
