"""The typed errors agentel raises into user code: only for misuse of the explicit APIs."""

from __future__ import annotations


class AgentelError(Exception):
    """Base class of every error agentel raises into user code.

    Tracing itself never raises: only misuse of the explicit client API does.
    """


class InvalidIdError(AgentelError, ValueError):
    """A trace/request id or span id is malformed (not 32/16 hex digits)."""


class TraceNotFoundError(AgentelError, KeyError):
    """No open trace is registered under this request id."""

    def __str__(self) -> str:  # KeyError would quote the message otherwise
        return str(self.args[0]) if self.args else ""


class SpanNotFoundError(AgentelError, KeyError):
    """No open span with this id exists in the given trace."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class SpanAlreadyEndedError(AgentelError):
    """The span (or trace) was already ended."""


class ParentMismatchError(AgentelError, ValueError):
    """The parent span belongs to a different trace than the one given."""


class ConfigurationError(AgentelError, ValueError):
    """An argument given to ``agentel.configure()`` or ``agentel.instrument()`` is invalid."""


class InvalidStatusError(AgentelError, ValueError):
    """A span status that is not a ``SpanStatus``, ``SpanStatusCode`` name or OTel status code."""


class InstrumentationError(AgentelError):
    """``agentel.instrument()`` could not enable an instrumentation that was asked for by name."""


class InstrumentationNotInstalledError(InstrumentationError, ImportError):
    """The instrumentation asked for (or the library it instruments) is not installed or cannot be used.

    ``pip_install`` is the command that installs a working combination, e.g.
    ``pip install 'agentel[openai]'``; ``instrumentation`` is the name that was asked for.
    """

    def __init__(self, message: str, *, instrumentation: str, pip_install: str) -> None:
        super().__init__(message)
        self.instrumentation = instrumentation
        self.pip_install = pip_install


class InvalidTimestampError(AgentelError, ValueError):
    """A start/end time that is not nanoseconds since the epoch, float seconds or a ``datetime``."""
