"""The public surface: every public name is documented in its docstring and in the README."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import agentel
import agentel.compat.mlflow
import agentel.testing

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_every_public_name_has_a_docstring() -> None:
    missing = []
    for module in (agentel, agentel.compat.mlflow, agentel.testing):
        for name in module.__all__:
            obj = getattr(module, name)
            if name.startswith("__") or isinstance(obj, (str, type(agentel))):
                continue
            if not (inspect.getdoc(obj) or "").strip():
                missing.append(f"{module.__name__}.{name}")
    assert missing == []


def test_every_public_name_is_in_the_readme() -> None:
    undocumented = [
        name for name in agentel.__all__ if not name.startswith("__") and not re.search(rf"\b{name}\b", README)
    ]
    assert undocumented == []
