"""Shared fixtures: a pristine agentel runtime and OTel global provider for provider-strategy tests."""

from __future__ import annotations

import signal
from typing import Iterator

import pytest

import agentel.testing


def _programs_get_the_terminals_signal_actions() -> None:
    """The programs tests start get Ctrl-C and SIGHUP as a user's terminal gives them, also when this run
    was started under ``nohup`` or as a background job (which ignore them, and ``exec`` keeps that): a
    Python-level handler here becomes the default action in every child."""
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if signal.getsignal(signal.SIGHUP) == signal.SIG_IGN:
        signal.signal(signal.SIGHUP, lambda signum, frame: None)  # still ignored by this process


_programs_get_the_terminals_signal_actions()


@pytest.fixture
def fresh_runtime() -> Iterator[None]:
    """agentel as just imported: no provider chosen yet, no global OTel provider; restored after."""
    with agentel.testing.reset():
        yield
