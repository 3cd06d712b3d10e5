"""The conventions' Policy: one frozen value per configuration."""

from __future__ import annotations

import dataclasses

import pytest

from agentel._conventions.policy import Policy
from agentel._payload.redact import Redactor


def test_policy_is_frozen() -> None:
    policy = Policy()
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy.capture_content = False  # type: ignore[misc]


def test_of_keeps_an_active_redactor_and_drops_a_disabled_one() -> None:
    active = Redactor(True)
    kept = Policy.of(
        capture_content=False, dialects=frozenset({"mlflow"}), max_payload_bytes=100, redactor=active, prices=None
    )
    assert kept.redactor is active
    assert kept.capture_content is False
    assert kept.dialects == frozenset({"mlflow"})
    assert kept.max_payload_bytes == 100
    off = Policy.of(
        capture_content=True, dialects=frozenset(), max_payload_bytes=64, redactor=Redactor(False), prices=None
    )
    assert off.redactor is None
