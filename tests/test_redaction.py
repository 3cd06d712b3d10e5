"""Secrets never reach the exporter: redaction by key and by value shape, in every place agentel writes.

The corpus test counts secrets found in exported spans (must be 0) and false positives on ordinary text
(the docstrings of a set of standard-library modules: must be 0).
"""

from __future__ import annotations

import importlib
import inspect
import json
import random
import string
from typing import Any

import pytest

import agentel
from agentel._payload.redact import REDACTED, Redactor, is_sensitive_key
from agentel.testing import SpanCapture

rng = random.Random(7)


def _rand(alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


ALNUM = string.ascii_letters + string.digits


def secret_corpus() -> list[str]:
    """Fresh fake secrets of every kind the redactor promises to catch."""
    secrets: list[str] = []
    for _ in range(20):
        secrets += [
            "sk-" + _rand(ALNUM, 40),
            "sk-proj-" + _rand(ALNUM + "_-", 48),
            "sk-ant-api03-" + _rand(ALNUM + "_-", 60),
            "AKIA" + _rand(string.ascii_uppercase + string.digits, 16),
            "ghp_" + _rand(ALNUM, 36),
            "github_pat_" + _rand(ALNUM + "_", 40),
            "xoxb-" + _rand(string.digits, 12) + "-" + _rand(ALNUM, 24),
            "AIza" + _rand(ALNUM + "_-", 35),
            "eyJ" + _rand(ALNUM, 20) + ".eyJ" + _rand(ALNUM, 30) + "." + _rand(ALNUM + "_-", 43),
        ]
    return secrets


def _exported_text(capture: SpanCapture) -> str:
    parts = []
    for span in capture.spans:
        parts.append(span.name)
        parts.append(json.dumps(span.attributes, default=str))
        parts.append(json.dumps(span.events, default=str))
        parts.append(span.status_description or "")
    return "\n".join(parts)


def test_secrets_in_every_place_are_redacted_before_export(captured_spans: SpanCapture) -> None:
    secrets = secret_corpus()
    passwords = [_rand(ALNUM, 14) for _ in range(20)]
    private_key = "-----BEGIN RSA PRIVATE KEY-----\n" + _rand(ALNUM, 64) + "\n-----END RSA PRIVATE KEY-----"

    @agentel.trace(attributes={"api_key": secrets[0]})
    def call_tool(config: dict[str, Any], prompt: str) -> dict[str, Any]:
        return {"echo": prompt, "headers": {"Authorization": f"Bearer {secrets[1]}"}}

    @agentel.trace
    def fail(token: str) -> None:
        raise PermissionError(f"login failed for https://bob:{passwords[0]}@db.internal/x with token={token}")

    for index, secret in enumerate(secrets):
        password = passwords[index % len(passwords)]
        call_tool(
            {"api_key": secret, "DB-Password": password, "nested": {"X-Api-Key": secret}, "pem": private_key},
            f"please use {secret} and password: {password}",
        )
        with pytest.raises(PermissionError):
            fail(secret)
        with agentel.start_span("manual", inputs={"cookie": password}) as span:
            span.set_attribute("authorization", f"Basic {_rand(ALNUM, 24)}")
            span.set_attribute("note", f"the key is {secret}")
            span.add_event("retry", {"url": f"postgres://admin:{password}@10.0.0.1/db"})
            span.set_outputs([secret, {"session_token": password}])
    exported = _exported_text(captured_spans)
    found = [s for s in secrets + passwords if s in exported]
    assert found == [], f"{len(found)} secrets reached the exporter, e.g. {found[:3]}"
    assert "PRIVATE KEY-----\\n" not in exported and _rand.__name__ not in exported
    assert exported.count(REDACTED) > 1000
    # structure survives: the rest of each payload is intact and valid JSON
    first = captured_spans.find_all("call_tool")[0]
    assert first.inputs["config"]["api_key"] == REDACTED
    assert first.inputs["prompt"].startswith("please use [REDACTED] and password: [REDACTED]")
    assert first.outputs["echo"].startswith("please use ")
    assert first.attributes["api_key"] == REDACTED


def ordinary_text_corpus() -> list[str]:
    """Docstrings of standard-library modules: prose about keys, tokens, passwords and URLs."""
    texts = []
    for name in (
        "json",
        "os",
        "collections",
        "urllib.parse",
        "http.client",
        "getpass",
        "hashlib",
        "tokenize",
        "secrets",
        "base64",
        "email.message",
        "argparse",
        "logging",
        "smtplib",
    ):
        module = importlib.import_module(name)
        for _, obj in inspect.getmembers(module):
            doc = inspect.getdoc(obj)
            if doc:
                texts.extend(line for line in doc.splitlines() if line.strip())
    return sorted(set(texts))


def test_no_false_positives_on_ordinary_text() -> None:
    redactor = Redactor()
    corpus = ordinary_text_corpus()
    assert len(corpus) > 2000
    changed = [line for line in corpus if redactor.free_text(line) != line]
    changed_json = [
        line for line in corpus if redactor.json_text(json.dumps({"text": line})) != json.dumps({"text": line})
    ]
    assert changed == [], f"{len(changed)} of {len(corpus)} ordinary lines altered, e.g. {changed[:5]}"
    assert changed_json == []


@pytest.mark.parametrize(
    "key",
    [
        "api_key",
        "API-KEY",
        "apiKey",
        "x-api-key",
        "Authorization",
        "db_password",
        "client_secret",
        "access_token",
        "refresh-token",
        "Cookie",
        "Set-Cookie",
        "private_key",
        "aws_secret_access_key",
    ],
)
def test_sensitive_keys_case_and_separator_insensitive(key: str) -> None:
    assert is_sensitive_key(key)


@pytest.mark.parametrize(
    "key", ["max_tokens", "prompt_tokens", "total_tokens", "keyboard", "monkey", "author", "token_count"]
)
def test_ordinary_keys_are_kept(key: str) -> None:
    assert not is_sensitive_key(key)


def test_redaction_can_be_turned_off_and_extended(captured_spans: SpanCapture) -> None:
    agentel.configure(redact=False)
    try:
        with agentel.start_span("off", inputs={"api_key": "sk-" + "a" * 30}):
            pass
    finally:
        agentel.configure()
    agentel.configure(redact_patterns=[r"EMP-\d{6}"])
    try:
        with agentel.start_span("extra", inputs={"employee": "EMP-123456"}):
            pass
    finally:
        agentel.configure()
    assert captured_spans.find("off").inputs == {"api_key": "sk-" + "a" * 30}
    assert captured_spans.find("extra").inputs == {"employee": REDACTED}
    with pytest.raises(agentel.ConfigurationError):
        agentel.configure(redact_patterns=["("])


def test_redacted_payload_stays_within_budget(captured_spans: SpanCapture) -> None:
    agentel.configure(max_payload_bytes=200)
    try:
        with agentel.start_span("tight", inputs={"password": "x"} | {f"k{i}": "ab" for i in range(60)}):
            pass
    finally:
        agentel.configure()
    text = captured_spans.find("tight").attributes["input.value"]
    assert len(text.encode()) <= 200
    assert json.loads(text)["password"] == REDACTED


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Authorization: Basic dXNlcjpwYXNz", "Authorization: [REDACTED]"),
        ("Authorization: Token abc123def", "Authorization: [REDACTED]"),
        ("curl -H 'Authorization: Bearer abcdef123456'", "curl -H 'Authorization: [REDACTED]'"),
        ("password: hunter22, then retry", "password: [REDACTED], then retry"),
        ("see https://user:pa55word@example.com/x", "see https://user:[REDACTED]@example.com/x"),
        ("Bearer of bad news", "Bearer of bad news"),
        ("max_tokens: 1000", "max_tokens: 1000"),
    ],
)
def test_free_text_and_json_string_forms(text: str, expected: str) -> None:
    redactor = Redactor()
    assert redactor.free_text(text) == expected
    assert json.loads(redactor.json_text(json.dumps({"t": text}))) == {"t": expected}
