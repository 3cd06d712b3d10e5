"""Binding a call's arguments to parameter names, planned once per decorated function.

Inputs are the call bound to the signature with defaults applied, without ``self``/``cls``;
``*args``/``**kwargs`` stay under their own parameter names. Callables whose signature cannot be
inspected record ``{"args": [...], "kwargs": {...}}``.
"""

from __future__ import annotations

import inspect
from typing import Any, Optional

_SIMPLE_KINDS = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


class ArgumentBinder:
    """Maps ``(instance, args, kwargs)`` of one callable to an inputs dict."""

    __slots__ = ("_signature", "_skip_signature", "_names", "_defaults", "_fast", "_has_receiver")

    def __init__(self, func: Any) -> None:
        self._signature: Optional[inspect.Signature] = None
        self._skip_signature: Optional[inspect.Signature] = None
        self._names: tuple[str, ...] = ()
        self._defaults: dict[str, Any] = {}
        self._fast = False
        self._has_receiver = False
        target = getattr(func, "__func__", func)  # bound methods, classmethods, staticmethods
        try:
            signature = inspect.signature(target)
        except (TypeError, ValueError):
            return
        params = list(signature.parameters.values())
        self._has_receiver = (
            bool(params)
            and (target is not func or inspect.isfunction(target) or params[0].name in ("self", "cls"))
            and params[0].kind
            in (
                inspect.Parameter.POSITIONAL_ONLY,
                inspect.Parameter.POSITIONAL_OR_KEYWORD,
            )
        )
        self._signature = signature
        if self._has_receiver:
            self._skip_signature = signature.replace(parameters=params[1:])
        if isinstance(func, staticmethod):
            self._has_receiver = False

    def bind(self, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """The inputs of one call; never raises."""
        signature = self._skip_signature if instance is not None and self._has_receiver else self._signature
        if signature is None:
            return _raw(args, kwargs)
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError:
            return _raw(args, kwargs)
        bound.apply_defaults()
        return bound.arguments


def _raw(args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    inputs: dict[str, Any] = {}
    if args:
        inputs["args"] = list(args)
    if kwargs:
        inputs["kwargs"] = kwargs
    return inputs
