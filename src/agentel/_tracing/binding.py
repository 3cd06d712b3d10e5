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

    __slots__ = ("_signature", "_skip_signature", "_plans", "_has_receiver")

    def __init__(self, func: Any) -> None:
        self._signature: Optional[inspect.Signature] = None
        self._skip_signature: Optional[inspect.Signature] = None
        self._plans: tuple[Optional[_FastPlan], Optional[_FastPlan]] = (None, None)  # (all, without receiver)
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
        self._plans = (_FastPlan.of(params), _FastPlan.of(params[1:]) if self._has_receiver else None)

    def bind(self, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """The inputs of one call; never raises."""
        skip = instance is not None and self._has_receiver
        plan = self._plans[1] if skip else self._plans[0]
        if plan is not None and len(args) <= plan.positional_count:
            inputs = dict(zip(plan.names, args))
            if kwargs:
                inputs.update(kwargs)
            if len(inputs) < len(plan.names):
                for name, default in plan.defaults:
                    if name not in inputs:
                        inputs[name] = default
            return inputs
        signature = self._skip_signature if skip else self._signature
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


class _FastPlan:
    """Binding without ``inspect`` for signatures made only of plain named parameters."""

    __slots__ = ("names", "positional_count", "defaults")

    def __init__(self, names: tuple[str, ...], positional_count: int, defaults: tuple[tuple[str, Any], ...]) -> None:
        self.names = names
        self.positional_count = positional_count
        self.defaults = defaults

    @classmethod
    def of(cls, params: list[inspect.Parameter]) -> Optional["_FastPlan"]:
        """A plan, or ``None`` when the signature has ``*args``, ``**kwargs`` or positional-only parts."""
        if not all(p.kind in _SIMPLE_KINDS for p in params):
            return None
        positional = [p.name for p in params if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD]
        keyword_only = [p.name for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY]
        defaults = tuple((p.name, p.default) for p in params if p.default is not inspect.Parameter.empty)
        return cls(tuple(positional + keyword_only), len(positional), defaults)
