"""``mlflow.exceptions.MlflowException``: what the compatibility layer raises for an invalid argument."""

from __future__ import annotations

from agentel._errors import AgentelError, TraceNotFoundError


class MlflowException(AgentelError, ValueError):
    """An invalid argument to an MLflow-named API (e.g. ``update_current_trace(state="DONE")``)."""


class MlflowTypeError(MlflowException, TypeError):
    """An argument of the wrong type (``span.record_exception(123)``): both MLflow's error and the
    ``TypeError`` the native API raises for the same call."""


class MlflowTraceNotFoundError(MlflowException, TraceNotFoundError):
    """``MlflowClient.end_trace`` of a trace that is not open (unknown, or already finished); also an
    ``agentel.TraceNotFoundError``, so either ``except`` catches it."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


__all__ = ["MlflowException", "MlflowTraceNotFoundError", "MlflowTypeError"]
