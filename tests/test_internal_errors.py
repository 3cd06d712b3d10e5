"""The never-raise guard: agentel's own errors are reported once and counted; user-level
BaseExceptions pass through."""

from __future__ import annotations

import logging

import pytest

from agentel._internal_errors import STATS, contained, never_raises


def _internal_errors() -> int:
    return STATS.snapshot()["internal_errors"]


def test_contained_swallows_an_exception_counts_it_and_logs_once(caplog: pytest.LogCaptureFixture) -> None:
    guard = contained("test: a guarded block that fails")
    before = _internal_errors()
    with caplog.at_level(logging.WARNING, logger="agentel"):
        for _ in range(3):
            with guard:
                raise ValueError("boom")
    assert _internal_errors() == before + 3
    lines = [r for r in caplog.records if "a guarded block that fails" in r.getMessage()]
    assert len(lines) == 1


@pytest.mark.parametrize("exc", [KeyboardInterrupt(), SystemExit(3), GeneratorExit()])
def test_contained_lets_base_exceptions_through(exc: BaseException) -> None:
    before = _internal_errors()
    with pytest.raises(type(exc)):
        with contained("test: base exceptions"):
            raise exc
    assert _internal_errors() == before


def test_contained_lets_the_types_it_passes_through_and_swallows_the_rest() -> None:
    guard = contained("test: a typed misuse error passes", passes=(LookupError,))
    before = _internal_errors()
    with pytest.raises(KeyError):
        with guard:
            raise KeyError("misuse: the caller must see it")
    assert _internal_errors() == before
    with guard:
        raise ValueError("internal")
    assert _internal_errors() == before + 1


def test_never_raises_returns_the_default_and_keeps_the_name() -> None:
    @never_raises("test: a failing helper", default=-1)
    def helper(x: int) -> int:
        """Doc."""
        return 10 // x

    assert helper(2) == 5
    assert helper(0) == -1
    assert helper.__name__ == "helper" and helper.__doc__ == "Doc."
