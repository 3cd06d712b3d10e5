"""Every dialect agentel writes, in the order their keys are written; ``enabled`` picks a configuration's."""

from __future__ import annotations

import functools

from agentel._conventions.dialects import Dialect
from agentel._conventions.dialects.genai import GENAI
from agentel._conventions.dialects.mlflow import MLFLOW
from agentel._conventions.dialects.openinference import OPENINFERENCE

ALL: tuple[Dialect, ...] = (GENAI, OPENINFERENCE, MLFLOW)
NAMES = tuple(dialect.name for dialect in ALL)


@functools.lru_cache(maxsize=16)
def enabled(names: frozenset[str]) -> tuple[Dialect, ...]:
    """The dialects named in ``names`` (a ``Policy``'s ``dialects``), in writing order."""
    return tuple(dialect for dialect in ALL if dialect.name in names)
