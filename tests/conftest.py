"""Shared fixtures: a pristine agentel runtime and OTel global provider for provider-strategy tests."""

from __future__ import annotations

from typing import Iterator

import pytest

import agentel.testing


@pytest.fixture
def fresh_runtime() -> Iterator[None]:
    """agentel as just imported: no provider chosen yet, no global OTel provider; restored after."""
    with agentel.testing.reset():
        yield
