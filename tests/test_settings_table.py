"""The settings table: each setting once; configure() and the environment apply the same check."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from typing import Any

import pytest

import agentel
from agentel._runtime import env as _env
from agentel._runtime import settings as _settings

# (setting, a value its check refuses, the same value as environment text); the numbers are issue 14's
# example (configure(max_open_traces=0, trace_ttl_seconds=-5) was accepted, the environment refused them)
REFUSED = [
    ("max_open_traces", 0, "0"),
    ("trace_ttl_seconds", -5, "-5"),
    ("max_payload_bytes", 63, "63"),
    ("max_generator_items", -1, "-1"),
    ("max_generator_items", 1_000_001, "1000001"),
    ("exit_timeout_millis", -1, "-1"),
    ("semconv", "bogus", "bogus"),
    ("redact_patterns", ["("], '["("]'),
    ("enabled", "maybe", "maybe"),
    ("console", "sometimes", "sometimes"),
]

PROGRAM = """
import json, sys, logging
logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
import agentel
from agentel._runtime.provider import RUNTIME
print(json.dumps(getattr(RUNTIME.settings, sys.argv[1]), default=sorted))
"""


def test_every_configure_keyword_is_one_row_of_the_table() -> None:
    keywords = list(inspect.signature(agentel.configure).parameters)
    assert sorted(keywords) == sorted(option.name for option in _settings.OPTIONS if option.keyword)
    assert all(option.doc and option.check for option in _settings.OPTIONS)


def test_every_agentel_variable_is_in_the_table() -> None:
    in_table = {option.env for option in _settings.OPTIONS if option.env}
    assert set(_env.ALL) - in_table == {_env.AGENTEL_INSTRUMENT}  # read by instrument_from_environment
    assert len(in_table) == len([option for option in _settings.OPTIONS if option.env])  # one row each


@pytest.mark.parametrize("name, value, text", REFUSED, ids=[row[0] for row in REFUSED])
def test_configure_and_the_environment_refuse_the_same_value(name: str, value: Any, text: str) -> None:
    option = next(option for option in _settings.OPTIONS if option.name == name)
    with pytest.raises(agentel.ConfigurationError, match=name):
        agentel.configure(**{name: value})
    assert option.env is not None
    env = {"PATH": "/usr/bin:/bin", option.env: text, "OTEL_TRACES_EXPORTER": "none"}
    result = subprocess.run(
        [sys.executable, "-c", PROGRAM, name], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert f"ignoring {option.env}=" in result.stderr  # one warning naming the variable
    assert json.loads(result.stdout) == json.loads(json.dumps(option.default, default=sorted))  # the default


def test_configure_max_open_traces_zero_keeps_the_earlier_settings() -> None:
    before = agentel.stats()["enabled"]
    with pytest.raises(agentel.ConfigurationError):
        agentel.configure(max_open_traces=0, trace_ttl_seconds=-5)
    assert agentel.stats()["enabled"] is before


def test_doctor_lists_the_settings_that_differ_from_their_defaults() -> None:
    settings = _settings.with_overrides(_settings.Settings(), max_payload_bytes=5000, semconv="mlflow")
    assert _settings.differences(settings) == [
        "max_payload_bytes=5000 (configure())",
        "semconv=mlflow (configure())",
    ]
    assert _settings.differences(_settings.Settings()) == []
