"""``mlflow.anthropic`` on agentel: ``autolog()`` turns on ``agentel.instrument("anthropic")``.

Import it as ``from agentel.compat.mlflow import anthropic``, or just write ``mlflow.anthropic.autolog()`` after
``import agentel.compat.mlflow as mlflow`` — never ``import mlflow.anthropic``: with the real MLflow installed
that statement rebinds the name ``mlflow`` to the real package.
"""

from __future__ import annotations

from ._autolog import flavor_autolog

autolog = flavor_autolog("anthropic")

__all__ = ["autolog"]
