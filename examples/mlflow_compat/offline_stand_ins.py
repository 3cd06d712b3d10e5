"""Offline stand-ins for the two non-tracing MLflow names the Databricks page uses.

``mlflow.deployments.get_deploy_client`` (a model-serving client) and ``mlflow.pyfunc.PythonModel``
(a model base class) are not tracing, so agentel.compat.mlflow does not provide them. Importing this
module adds a minimal ``pyfunc.PythonModel`` to the compat module for the page's code, and offers a
deterministic, offline ``get_deploy_client``.
"""

from __future__ import annotations

import sys
import types
from pathlib import Path

import agentel.compat.mlflow as compat_mlflow

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from fake_deployments import get_deploy_client  # noqa: E402


class PythonModel:
    """Stand-in for ``mlflow.pyfunc.PythonModel``: a plain base class."""


if not hasattr(compat_mlflow, "pyfunc"):
    compat_mlflow.pyfunc = types.SimpleNamespace(PythonModel=PythonModel)  # type: ignore[attr-defined]

__all__ = ["get_deploy_client"]
