"""A traced sync function as one plain Python function (``plain_call``), and finding a module global by
its qualified name (``global_at``): shared by ``wrappers.py`` and its wrapt proxies (``proxies.py``)."""

from __future__ import annotations

import functools
import sys
from typing import Any, Callable

from agentel._runtime.state import current_state
from agentel._tracing.calls import Traced


def plain_call(func: Callable[..., Any], traced: Traced, receiver_first: bool) -> Callable[..., Any]:
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


def global_at(module_name: Any, qualname: str) -> Any:
    """The object at ``module.qualname`` (dotted), or None; never imports anything."""
    module = sys.modules.get(module_name) if isinstance(module_name, str) else None
    if module is None or not qualname or "<locals>" in qualname:
        return None
    found: Any = module
    for part in qualname.split("."):
        found = getattr(found, part, None)
    return found
