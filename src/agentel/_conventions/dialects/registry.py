"""Every dialect agentel writes, in the order their keys are written; ``enabled`` picks a configuration's,
``written`` merges what each of them writes."""

from __future__ import annotations

import functools
from typing import Any, Callable, Mapping, Optional

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


def written(
    names: frozenset[str], write: Callable[[Dialect], Mapping[str, Any]], out: Optional[dict[str, Any]] = None
) -> dict[str, Any]:
    """What ``write(dialect)`` gives for each dialect named in ``names``, merged in writing order over
    ``out`` (the keys written whatever the dialects; a new dict when ``None``)."""
    merged: dict[str, Any] = {} if out is None else out
    for dialect in enabled(names):
        merged.update(write(dialect))
    return merged
