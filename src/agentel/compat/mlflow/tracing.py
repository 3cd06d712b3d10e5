"""``mlflow.tracing``: ``disable()`` / ``enable()`` turn agentel's tracing off and on for the process."""

from __future__ import annotations

from agentel._runtime.provider import RUNTIME


def disable() -> None:
    """Stop tracing: decorated functions and blocks run untraced until ``enable()``."""
    RUNTIME.set_enabled(False)


def enable() -> None:
    """Trace again after ``disable()`` (this also overrides ``AGENTEL_ENABLED=false``)."""
    RUNTIME.set_enabled(True)


def is_tracing_enabled() -> bool:
    """Whether tracing is on."""
    return RUNTIME.enabled


__all__ = ["disable", "enable", "is_tracing_enabled"]
