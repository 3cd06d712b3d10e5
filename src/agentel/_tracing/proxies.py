"""The wrapt proxies ``trace`` returns for what is not a plain sync function (see ``wrappers.py``):
imported, with wrapt, by the first such callable."""

from __future__ import annotations

import types
from typing import Any, Callable

import wrapt

from agentel._tracing.calls import Traced
from agentel._tracing.plain_call import global_at, plain_call


class TracedBoundFunction(wrapt.BoundFunctionWrapper):  # type: ignore[type-arg]
    """A traced method bound to an instance; pickles as a plain bound method does."""

    def __reduce_ex__(self, protocol: Any) -> Any:
        instance = self._self_instance
        wrapped = self.__wrapped__
        name = getattr(wrapped, "__name__", None)
        if instance is None:  # looked up on the class (or a staticmethod): find the class by qualname
            qualname = getattr(getattr(wrapped, "__func__", wrapped), "__qualname__", "")
            instance = global_at(getattr(wrapped, "__module__", None), qualname.rpartition(".")[0])
        if instance is None or not isinstance(name, str):
            raise TypeError(f"cannot pickle the traced callable {wrapped!r}")
        return getattr, (instance, name)


class TracedFunction(wrapt.FunctionWrapper):  # type: ignore[type-arg]
    """What ``trace`` returns: a transparent wrapper (wrapt) that pickles like the function it wraps.

    A module-level traced function pickles by its qualified name, as a plain function does (the
    unpickling process imports the module and finds the traced function there); a traced wrapper of
    anything else pickles as "trace this callable with the same options": ``retrace(callable, options)``
    (the callable itself must be picklable, as it would have to be without agentel).
    """

    __bound_function_wrapper__ = TracedBoundFunction

    def __init__(self, wrapped: Any, wrapper: Any, traced: Traced, retrace: Callable[..., Any]) -> None:
        super().__init__(wrapped, wrapper)
        self._self_traced = traced
        self._self_retrace = retrace

    def __reduce_ex__(self, protocol: Any) -> Any:
        qualname = getattr(self.__wrapped__, "__qualname__", None)
        if isinstance(qualname, str) and global_at(getattr(self.__wrapped__, "__module__", None), qualname) is self:
            return qualname  # a global: pickled by reference, like the plain function
        return self._self_retrace, (self.__wrapped__, self._self_traced.options)


class TracedGlobalCopy(TracedFunction):
    """``trace(f)`` of a global function ``f`` (which stays the global): wrapt's proxy, for pickling and
    binding, called through the plain wrapper (each one gets a subclass whose ``__call__`` is its plain
    wrapper: no attribute lookup, no extra frame)."""

    @classmethod
    def of(cls, wrapped: Any, traced: Traced, retrace: Callable[..., Any]) -> Any:
        call = staticmethod(plain_call(wrapped, traced, receiver_first=False))
        copy = type(cls.__name__, (cls,), {"__call__": call, "__slots__": ()})
        return copy(wrapped, traced.call, traced, retrace)


class TracedMethod(TracedFunction):
    """A traced function defined in a class body; bound to an instance, a plain bound method."""

    def __init__(self, wrapped: Any, wrapper: Any, traced: Traced, retrace: Callable[..., Any]) -> None:
        super().__init__(wrapped, wrapper, traced, retrace)
        self._self_bound_call = plain_call(wrapped, traced, receiver_first=True)

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        if instance is None:  # looked up on the class: wrapt's binding, as for any traced callable
            return super().__get__(instance, owner)
        return types.MethodType(self._self_bound_call, instance)
