"""``mlflow.exceptions.MlflowException``: what the compatibility layer raises for an invalid argument."""

from __future__ import annotations

from ..._errors import AgentelError


class MlflowException(AgentelError, ValueError):
    """An invalid argument to an MLflow-named API (e.g. ``update_current_trace(state="DONE")``)."""


__all__ = ["MlflowException"]
