"""``mlflow.openai`` on agentel: ``autolog()`` turns on ``agentel.instrument("openai")``.

Import it as ``from agentel.compat.mlflow import openai``, or just write ``mlflow.openai.autolog()`` after
``import agentel.compat.mlflow as mlflow`` — never ``import mlflow.openai``: with the real MLflow installed
that statement rebinds the name ``mlflow`` to the real package.
"""

from __future__ import annotations

from ._autolog import flavor_autolog

autolog = flavor_autolog("openai")

__all__ = ["autolog"]
