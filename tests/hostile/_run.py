"""Run a small user program in a fresh interpreter and look at what it did, from outside.

Every hostile test is one short program, the way an unlucky user would write it. ``run_program``
starts it with a clean environment (none of the test process's ``OTEL_*``/``AGENTEL_*`` variables),
waits (bounded), and returns the exit code, wall time, stdout/stderr and — when ``traces_file`` is
used — every span written to the OTLP/JSON lines file::

    result = run_program("import agentel; ...", env={"OTEL_PROPAGATORS": "tracecontext,"}, traces_file=tmp)
    assert result.returncode == 0, result.stderr
    assert result.span_names() == ["tool"]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Optional, Sequence, Union

_SCRUBBED_PREFIXES = ("OTEL_", "AGENTEL_", "PYTHON")
_KEPT = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")


def clean_env(extra: Optional[Mapping[str, str]] = None) -> dict[str, str]:
    """The test process's environment without OTel/agentel/Python settings, plus ``extra``."""
    env = {key: value for key, value in os.environ.items() if key in _KEPT or not key.startswith(_SCRUBBED_PREFIXES)}
    env.setdefault("PATH", "/usr/bin:/bin")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


def read_spans(path: Union[str, Path]) -> list[dict[str, Any]]:
    """Every span in an OTLP/JSON lines file (``AGENTEL_TRACES_FILE``); [] if there is no file."""
    spans: list[dict[str, Any]] = []
    file = Path(path)
    if not file.exists():
        return spans
    for line in file.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        for resource in json.loads(line).get("resourceSpans", []):
            for scope in resource.get("scopeSpans", []):
                spans.extend(scope.get("spans", []))
    return spans


def attributes_of(span: Mapping[str, Any]) -> dict[str, Any]:
    """An OTLP/JSON span's attributes as a plain dict (``{"key": value}``)."""
    return {item["key"]: _any_value(item.get("value", {})) for item in span.get("attributes", [])}


def _any_value(value: Mapping[str, Any]) -> Any:
    for kind in ("stringValue", "boolValue", "doubleValue"):
        if kind in value:
            return value[kind]
    if "intValue" in value:
        return int(value["intValue"])
    if "arrayValue" in value:
        return [_any_value(v) for v in value["arrayValue"].get("values", [])]
    return None


@dataclass
class Result:
    """What a finished program left behind."""

    returncode: int
    stdout: str
    stderr: str
    seconds: float
    spans: list[dict[str, Any]] = field(default_factory=list)
    timed_out: bool = False

    def span_names(self) -> list[str]:
        """Names of the exported spans, sorted."""
        return sorted(str(span.get("name")) for span in self.spans)

    def span(self, name: str) -> dict[str, Any]:
        """The one exported span called ``name`` (AssertionError if there is not exactly one)."""
        found = [span for span in self.spans if span.get("name") == name]
        assert len(found) == 1, f"expected one span {name!r}, got {len(found)} of {self.span_names()}"
        return found[0]

    def last_json_line(self) -> Any:
        """The last stdout line parsed as JSON (programs print their findings that way)."""
        lines = [line for line in self.stdout.splitlines() if line.strip()]
        assert lines, f"the program printed nothing; stderr:\n{self.stderr[-3000:]}"
        return json.loads(lines[-1])


def run_program(
    code: str,
    *,
    env: Optional[Mapping[str, str]] = None,
    traces_file: Union[str, Path, None] = None,
    timeout: float = 60.0,
    cwd: Union[str, Path, None] = None,
    args: Sequence[str] = (),
) -> Result:
    """Run ``code`` (dedented) with ``python -c`` in a fresh interpreter; never hangs beyond ``timeout``.

    With ``traces_file``, spans go to that OTLP/JSON lines file only (``OTEL_TRACES_EXPORTER=none``
    unless ``env`` says otherwise) and are read back into ``Result.spans``.
    """
    extra: dict[str, str] = {}
    if traces_file is not None:
        extra = {"AGENTEL_TRACES_FILE": str(traces_file), "OTEL_TRACES_EXPORTER": "none"}
    extra.update(env or {})
    started = time.monotonic()
    try:
        done = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(code), *args],
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
            env=clean_env(extra),
            cwd=str(cwd) if cwd is not None else None,
            stdin=subprocess.DEVNULL,
        )
        returncode, stdout, stderr, timed_out = done.returncode, done.stdout, done.stderr, False
    except subprocess.TimeoutExpired as expired:
        returncode, timed_out = -9, True
        stdout = _text(expired.stdout)
        stderr = _text(expired.stderr)
    seconds = time.monotonic() - started
    spans = read_spans(traces_file) if traces_file is not None else []
    return Result(returncode, stdout, stderr, seconds, spans, timed_out)


def _text(data: Union[bytes, str, None]) -> str:
    if data is None:
        return ""
    return data if isinstance(data, str) else data.decode("utf-8", "replace")
