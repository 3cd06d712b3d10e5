"""Secret redaction, applied by agentel before any exporter sees a value (on by default).

Two rules: values under sensitive keys (``api_key``, ``authorization``, ``password``, ``secret``,
``token``, ``cookie``, … — case- and separator-insensitive), and values that look like secrets wherever
they appear (bearer tokens, provider API keys ``sk-…``/``AKIA…``/``ghp_…``/``xoxb-…``/``AIza…``, JWTs,
private-key blocks, credentials in URLs). A cheap pre-check skips texts that cannot contain a secret.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any, Iterable, Optional, Pattern

REDACTED = "[REDACTED]"

_SENSITIVE_SUFFIXES = (
    "apikey",
    "secret",
    "password",
    "passwd",
    "passphrase",
    "pwd",
    "token",
    "cookie",
    "authorization",
    "privatekey",
    "accesskey",
    "secretkey",
    "credential",
    "credentials",
    "signature",
)
_SENSITIVE_EXACT = frozenset({"auth", "pass", "setcookie", "xapikey"})

_VALUE_PATTERNS: tuple[tuple[str, str], ...] = (
    # name, regex (a match is replaced by [REDACTED], keeping group "keep" when present)
    # a key block never spans another BEGIN, so each scan ends there: linear in the text
    (
        "private key block",
        r"-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY-----(?:(?!-----BEGIN ).){0,65536}?"
        r"-----END [A-Z0-9 ]{0,40}PRIVATE KEY-----",
    ),
    # a token has a digit, or both cases ("Bearer of bad news" is prose): checked in _replacement, not
    # with a backtracking lookahead (that was quadratic in the length of a long word after "bearer")
    ("bearer token", r"(?P<keep>\b(?i:bearer)\s+)(?P<token>[A-Za-z0-9._~+/=-]{8,})"),
    ("basic auth", r"(?P<keep>\b(?i:basic)\s+)(?P<token>[A-Za-z0-9+/]{12,}={0,2})"),
    ("OpenAI/Anthropic key", r"\bsk-(?:proj-|ant-(?:api\d+-)?|svcacct-)?[A-Za-z0-9_-]{16,}"),
    ("AWS access key id", r"\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b"),
    ("GitHub token", r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,})"),
    ("Slack token", r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
    ("Google API key", r"\bAIza[0-9A-Za-z_-]{35}\b"),
    ("JWT", r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
    ("URL credentials", r"(?i)(?P<keep>\b[a-z][a-z0-9+.-]{1,15}://[^/\s:@\"'<>]{1,128}:)[^/\s@\"'<>]{1,256}(?=@)"),
)

# key=value / key: value in free text
_SCHEME = r"(?:(?:bearer|basic|token|digest|apikey|sso-key)\s+)?"  # "Authorization: Token abc…"
_TEXT_PAIR = re.compile(
    r"(?i)(?P<key>\b[a-z][a-z0-9_.-]{0,60})(?P<sep>\s*[=:]\s*)(?P<quote>['\"]?)"
    r"(?P<value>" + _SCHEME + r"(?:\[REDACTED\]|[^\s'\"&,;)}\]]{4,}))"
)
# Cheap pre-check, on lowered text, in two steps: a literal scan (fast in the regex engine), then — only
# when it hits — a stricter look: a sensitive key followed by ":" or "=" (JSON or free text), or the
# start of a secret-shaped value. Bare words ("max_tokens", "keyboard") do not trigger the full pass.
# The words: key secret pass pwd token cookie auth credential signature bearer basic sk- akia asia abia
# acca gh[pousr]_ github_pat_ xox aiza eyj -----begin ://, written as a tree of first letters (no two
# start alike), so that the regex engine tries one branch per position instead of every word: ~2x faster.
_TRIGGER_WORDS_RE = re.compile(
    r"key|s(?:ecret|ignature|k-)|p(?:ass|wd)|token|c(?:ookie|redential)|a(?:uth|kia|sia|bia|cca|iza)|"
    r"b(?:earer|asic)|g(?:h[pousr]_|ithub_pat_)|xox|eyj|-----begin|://"
)
_KEY_WORDS = frozenset({"key", "secret", "pass", "pwd", "token", "cookie", "auth", "credential", "signature"})
_WORDS_WITH_SUFFIX = frozenset({"pass", "auth", "credential"})  # password, authorization, credentials


def _may_hold_secret(lowered: str) -> bool:
    """A secret-shaped value starts here, or a sensitive key is followed by ``:`` or ``=``."""
    first = _TRIGGER_WORDS_RE.search(lowered)  # one C call for the common text with no trigger word
    if first is None:
        return False
    size = len(lowered)
    for match in _TRIGGER_WORDS_RE.finditer(lowered, first.start()):
        word = match.group()
        if word not in _KEY_WORDS:
            return True
        i = match.end()
        if word in _WORDS_WITH_SUFFIX:  # password, authorization: a bounded look, so the check stays linear
            stop = min(size, i + 32)
            while i < stop and (lowered[i].isalnum() or lowered[i] == "_"):
                i += 1
        if i < size and lowered[i] in "\"'":
            i += 1
        while i < size and lowered[i] == " ":
            i += 1
        if i < size and lowered[i] in ":=":
            return True
    return False


@functools.lru_cache(maxsize=4096)  # attribute keys repeat: the same few dozen on every span
def is_sensitive_key(key: str) -> bool:
    """True for keys such as ``api_key``, ``X-Api-Key``, ``Authorization``, ``db_password``."""
    normalized = "".join(ch for ch in key.lower() if ch.isalnum())
    return normalized in _SENSITIVE_EXACT or normalized.endswith(_SENSITIVE_SUFFIXES)


class Redactor:
    """Redacts secrets from JSON payload text, free text and attribute values."""

    def __init__(self, enabled: bool = True, extra_patterns: Iterable[str] = ()) -> None:
        self.enabled = enabled
        extra = [re.compile(pattern) for pattern in extra_patterns]
        self._values: list[Pattern[str]] = [re.compile(rx, re.DOTALL) for _, rx in _VALUE_PATTERNS] + extra
        self._extra = extra

    def _values_only(self, text: str) -> str:
        for pattern in self._values:
            text = pattern.sub(_replacement, text)
        return text

    def _may_contain_secret(self, text: str) -> bool:
        # a case-sensitive search of the lowered text is ~8x faster than an IGNORECASE search
        if _may_hold_secret(text.lower()):
            return True
        return bool(self._extra) and any(pattern.search(text) for pattern in self._extra)

    def json_text(self, text: str) -> str:
        """Redact a JSON document's text; the result is still valid JSON.

        The document is parsed and walked: a value of any type under a sensitive key (an int PIN, an
        ``["alice", "hunter2"]`` auth pair, a nested object) becomes ``[REDACTED]``, every string is
        redacted as free text. Text that is not JSON is redacted as free text.
        """
        if not self.enabled:
            return text
        lowered = text.lower()  # the pre-check of _may_contain_secret, inlined: it runs on every payload
        if _TRIGGER_WORDS_RE.search(lowered) is None and not self._extra:
            return text
        if not self._may_contain_secret(text):
            return text
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            return self.free_text(text)
        redacted, changed = self._walk(data, 0)
        if not changed:
            return text
        return json.dumps(redacted, ensure_ascii=False, allow_nan=False)

    def _walk(self, data: Any, depth: int) -> tuple[Any, bool]:
        if isinstance(data, str):
            cleaned = self.free_text(data)
            return cleaned, cleaned != data
        if depth > 64:
            return data, False
        if isinstance(data, dict):
            out: dict[str, Any] = {}
            changed = False
            for key, value in data.items():
                if value is not None and not isinstance(value, bool) and is_sensitive_key(key):
                    out[key], changed = REDACTED, True
                    continue
                out[key], item_changed = self._walk(value, depth + 1)
                changed = changed or item_changed
            return out, changed
        if isinstance(data, list):
            items = [self._walk(item, depth + 1) for item in data]
            return [item for item, _ in items], any(flag for _, flag in items)
        return data, False

    def free_text(self, text: str) -> str:
        """Redact free text (messages, stack traces, string attribute values)."""
        if not self.enabled or not self._may_contain_secret(text):
            return text
        text = self._values_only(text)
        return _TEXT_PAIR.sub(_redact_text_pair, text)

    def attribute(self, key: str, value: Any) -> Any:
        """An attribute value with secrets redacted (by key, or by what the strings look like)."""
        if not self.enabled:
            return value
        if value is not None and not isinstance(value, bool) and is_sensitive_key(key):
            return REDACTED  # whatever its type: a PIN is an int, an auth pair a list
        if isinstance(value, str):
            if value[:1] in '{["' and value[-1:] in '}]"':
                return self.json_text(value)
            return self.free_text(value)
        if isinstance(value, (list, tuple)) and value and isinstance(value[0], str):
            return [self.free_text(item) if isinstance(item, str) else item for item in value]
        return value


def _replacement(match: "re.Match[str]") -> str:
    groups = match.groupdict()
    token = groups.get("token")
    if token is not None and not _looks_like_a_token(token):
        return match.group(0)
    keep = groups.get("keep")
    return f"{keep}{REDACTED}" if keep else REDACTED


def _looks_like_a_token(text: str) -> bool:
    """A digit, or both upper and lower case letters: ``abc123…`` or ``AbCd…``, not ``configuration``."""
    return any(ch.isdigit() for ch in text) or (text.lower() != text and text.upper() != text)


def _redact_text_pair(match: "re.Match[str]") -> str:
    if is_sensitive_key(match.group("key")):
        return f"{match.group('key')}{match.group('sep')}{match.group('quote')}{REDACTED}"
    return match.group(0)


def parse_patterns(raw: Optional[str]) -> tuple[list[str], Optional[str]]:
    """``AGENTEL_REDACT_PATTERNS`` (a JSON array of regular expressions) → (patterns, error)."""
    if raw is None or not raw.strip():
        return [], None
    try:
        patterns = json.loads(raw)
        if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
            raise ValueError("not a JSON array of strings")
        for pattern in patterns:
            re.compile(pattern)
        return patterns, None
    except (ValueError, re.error) as exc:
        return [], str(exc)


def compile_error(pattern: str) -> Optional[str]:
    """Why ``pattern`` is not a valid regular expression, or None."""
    try:
        re.compile(pattern)
        return None
    except (re.error, TypeError, ValueError, OverflowError, RecursionError) as exc:
        return str(exc)
