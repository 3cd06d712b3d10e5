"""``mlflow.langchain`` on agentel: ``autolog()`` turns on ``agentel.instrument("langchain")``.

Import it as ``from agentel.compat.mlflow import langchain``, or just write ``mlflow.langchain.autolog()`` after
``import agentel.compat.mlflow as mlflow`` — never ``import mlflow.langchain``: with the real MLflow installed
that statement rebinds the name ``mlflow`` to the real package.
"""

from __future__ import annotations

from ._autolog import flavor_autolog

autolog = flavor_autolog("langchain")

__all__ = ["autolog"]
