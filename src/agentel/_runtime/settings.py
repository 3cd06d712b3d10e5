"""The settings table: each setting defined once — its ``configure()`` keyword, type and default, its
environment variable, the parser of that variable's text, the check, and the line that documents it.

``configure()`` arguments override environment variables, which override the defaults. Both sources
go through the same check (``_runtime/checks.py``): a malformed environment value logs one warning
naming the variable and falls back to the default; a ``configure()`` argument of the wrong type or out
of range raises ``ConfigurationError`` at the call. Reading never changes ``os.environ``. The README's
configuration table and ``agentel doctor``'s settings line are written from ``OPTIONS``
(``readme_table()``; tests/test_readme.py keeps the README in sync).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from typing import Any, Callable, Optional, Sequence

from agentel._errors import ConfigurationError
from agentel._internal_errors import warn_once
from agentel._runtime import checks as _check
from agentel._runtime import env as _env


def _setting(
    default: Any,
    check: Callable[[Any], Any],
    doc: str,
    env: Optional[str] = None,
    parse: Callable[[str], Any] = str,
    shown: Optional[str] = None,
    keyword: bool = True,
) -> Any:
    """One row of the table, as a dataclass field of ``Settings`` (``shown``: the default as the
    README writes it, when ``repr`` would not do; ``keyword=False``: set by its variable only, not a
    ``configure()`` keyword)."""
    metadata = {"check": check, "doc": doc, "env": env, "parse": parse, "shown": shown, "keyword": keyword}
    return field(default=default, metadata=metadata)


@dataclass(frozen=True)
class Settings:
    """The effective configuration; immutable, replaced as a whole by ``configure()``."""

    enabled: bool = _setting(
        True,
        _check.boolean,
        "`false` turns tracing off: decorated functions run with near-zero overhead and no spans. "
        "`OTEL_SDK_DISABLED=true` does the same.",
        _env.AGENTEL_ENABLED,
        _check.parse_bool,
    )
    service_name: Optional[str] = _setting(
        None,
        _check.text,
        "`service.name` of agentel's own provider (else `OTEL_SERVICE_NAME` / `OTEL_RESOURCE_ATTRIBUTES`, "
        "read by the SDK); called again, `configure()` applies it to that provider's resource.",
        shown="SDK default",
    )
    capture_content: bool = _setting(
        True,
        _check.boolean,
        "`false`: no inputs, outputs or exception messages are recorded; structure, timings, types and "
        "error types remain.",
        _env.AGENTEL_CAPTURE_CONTENT,
        _check.parse_bool,
    )
    max_payload_bytes: int = _setting(
        8192,
        _check.int_in(64, _check.MAX_PAYLOAD_BYTES_LIMIT),
        "Byte budget of one serialized payload (inputs, outputs, a JSON attribute value); larger payloads "
        "are cut so the result is still valid JSON and says how much was cut (64 – 1,048,576).",
        _env.AGENTEL_MAX_PAYLOAD_BYTES,
        _check.parse_int,
    )
    max_generator_items: int = _setting(
        100,
        _check.int_in(0, 1_000_000),
        "Yielded items kept as a generator span's outputs (and, in `agentel.compat.mlflow`, recorded as "
        "`mlflow.chunk.item.N` events).",
        _env.AGENTEL_MAX_GENERATOR_ITEMS,
        _check.parse_int,
    )
    keep_traces: int = _setting(
        100,
        _check.int_in(0, 100_000),
        "Recently finished traces kept in memory for `get_trace` / `get_last_active_trace` of "
        "`agentel.compat.mlflow` — only once that module is imported (before, nothing is kept and spans "
        "pay nothing for it); `0` keeps none (0 – 100,000).",
        _env.AGENTEL_KEEP_TRACES,
        _check.parse_int,
        keyword=False,
    )
    keep_traces_bytes: int = _setting(
        32 * 1024 * 1024,
        _check.int_in(0, 1 << 40, clamp=True),
        "Memory bound of those kept traces (estimated size of their names, attributes and events; the "
        "oldest go first).",
        _env.AGENTEL_KEEP_TRACES_BYTES,
        _check.parse_int,
        keyword=False,
    )
    trace_ttl_seconds: float = _setting(
        600.0,
        _check.number_in(0.001, 31_536_000),
        "A client trace never ended is ended (status ERROR) after this many seconds (0.001 – one year).",
        _env.AGENTEL_TRACE_TTL_SECONDS,
        _check.parse_number,
        shown="600",
    )
    max_open_traces: int = _setting(
        10000,
        _check.int_in(1, 10_000_000),
        "Open client traces allowed; beyond it the oldest is ended (status ERROR) (1 – 10,000,000).",
        _env.AGENTEL_MAX_OPEN_TRACES,
        _check.parse_int,
    )
    traces_file: Optional[str] = _setting(
        None,
        _check.path,
        "Also write finished spans to this file as OTLP/JSON lines.",
        _env.AGENTEL_TRACES_FILE,
    )
    semconv: frozenset[str] = _setting(
        frozenset({"genai", "openinference"}),
        _check.semconv,
        "Attribute dialects to emit: `genai`, `openinference`, `mlflow` (a comma list).",
        _env.AGENTEL_SEMCONV,
        shown="genai,openinference",
    )
    console: Optional[bool] = _setting(
        None,
        _check.console,
        "Print traces to stderr as a tree: `true`, `false`, or `auto` (only when no exporter is "
        "configured; `None` in `configure()`).",
        _env.AGENTEL_CONSOLE,
        _check.parse_console,
        shown="auto",
    )
    redact: bool = _setting(
        True,
        _check.boolean,
        'Redact secrets before any exporter sees them (see "Secrets and content").',
        _env.AGENTEL_REDACT,
        _check.parse_bool,
    )
    redact_patterns: tuple[str, ...] = _setting(
        (),
        _check.patterns,
        'Extra regular expressions to redact, as a JSON array of strings, e.g. `["EMP-\\\\d{6}"]`.',
        _env.AGENTEL_REDACT_PATTERNS,
        _check.parse_patterns,
        shown="none",
    )
    set_global: bool = _setting(
        True,
        _check.boolean,
        "Install agentel's own provider as the global OTel provider when agentel builds it and none is "
        "installed, so other instrumentations' spans join it; `false`: only agentel's spans are recorded. "
        "Never replaces a provider someone else installed. `configure(set_global=True)` also builds and "
        "installs it at once.",
        _env.AGENTEL_SET_GLOBAL_PROVIDER,
        _check.parse_bool,
    )
    exit_timeout_millis: int = _setting(
        5000,
        _check.timeout_millis,
        "At exit, SIGTERM or SIGHUP, the longest agentel waits to export buffered spans (each exporter "
        "flushes on its own thread: a stalled collector does not hold up the traces file); an unreachable "
        "collector never delays exit longer (clamped to one hour).",
        _env.AGENTEL_EXIT_TIMEOUT_MILLIS,
        _check.parse_number,
    )
    metrics: bool = _setting(
        True,
        _check.boolean,
        '`false`: no GenAI metrics are recorded (see "Metrics and cost").',
        _env.AGENTEL_METRICS,
        _check.parse_bool,
    )
    prices: Optional[dict[str, dict[str, float]]] = _setting(
        None,
        _check.prices,
        'Your own model prices, `{"model" or "provider/model": {"input": 0.5, "output": 1.5, '
        '"cache_read": 0.05, "cache_write": 0.6}}`, USD per million tokens, used before the genai-prices '
        "data; the variable names a JSON file of them. A bad table raises `ConfigurationError`.",
        _env.AGENTEL_PRICES_FILE,
        _check.parse_prices_file,
    )
    exporters: Optional[Sequence[Any]] = _setting(
        None,
        _check.exporters,
        "Span exporters to use instead of the environment's (`OTEL_TRACES_EXPORTER`, "
        "`OTEL_EXPORTER_OTLP_*`), each behind a `BatchSpanProcessor`.",
        shown="from the environment",
    )
    span_processors: Sequence[Any] = _setting(
        (),
        _check.processors,
        "Span processors added as given (one that raises does not keep spans from the others).",
        shown="none",
    )


@dataclass(frozen=True)
class Option:
    """One setting of the table: its ``configure()`` keyword, environment variable, default, parser,
    check and documentation line."""

    name: str
    default: Any
    check: Callable[[Any], Any]
    doc: str
    env: Optional[str] = None
    parse: Callable[[str], Any] = str
    shown: Optional[str] = None
    keyword: bool = True  # a configure() keyword (else set by its environment variable only)

    @property
    def shown_default(self) -> str:
        """The default as the README and ``agentel doctor`` write it."""
        if self.shown is not None:
            return self.shown
        if self.default is None:
            return "unset"
        if isinstance(self.default, bool):
            return "true" if self.default else "false"
        return str(self.default)


_DEFAULTS = Settings()
OPTIONS: tuple[Option, ...] = tuple(
    Option(name=f.name, default=getattr(_DEFAULTS, f.name), **f.metadata) for f in fields(Settings)
)
"""Every setting, in the order the README lists them."""

_BY_NAME = {option.name: option for option in OPTIONS}

INSTRUMENT_DOC = (
    "Comma list of instrumentations to turn on at `import agentel`, as `agentel.instrument(...)` does "
    "(`openai,langchain,httpx`…), or `all`. Unknown or missing ones are warned about (with the `pip "
    "install` line) and skipped; never an error."
)
"""``AGENTEL_INSTRUMENT`` is read at import by ``instrument_from_environment``, not a ``configure()``
keyword (``agentel.instrument()`` is the call); its README row is written with the table's."""


def _from_env(option: Option, default: Any) -> Any:
    assert option.env is not None
    raw = os.environ.get(option.env)
    if raw is None or raw.strip() == "":
        return default
    try:
        return option.check(option.parse(raw))
    except _check.Invalid as exc:
        shown = default if not isinstance(default, (frozenset, tuple)) else ",".join(sorted(default)) or "none"
        warn_once(
            ("env", option.env, raw),
            "agentel: ignoring %s=%r: expected %s; using the default %r",
            option.env,
            raw,
            str(exc),
            "auto" if option.name == "console" and default is None else shown,
        )
        return default


_SDK_DISABLED = Option("enabled", False, _check.boolean, "", "OTEL_SDK_DISABLED", _check.parse_bool)


def from_environment() -> Settings:
    """Read every ``AGENTEL_*`` variable (and ``OTEL_SDK_DISABLED``) into a ``Settings``; never raises."""
    values = {option.name: _from_env(option, option.default) for option in OPTIONS if option.env is not None}
    values["enabled"] = values["enabled"] and not _from_env(_SDK_DISABLED, False)
    return replace(_DEFAULTS, **values)


def with_overrides(base: Settings, **overrides: Any) -> Settings:
    """Apply the non-``None`` ``configure()`` arguments over ``base``; ``ConfigurationError`` if one is invalid."""
    clean: dict[str, Any] = {}
    for key, value in overrides.items():
        if value is None:
            continue
        option = _BY_NAME.get(key)
        if option is None:
            raise ConfigurationError(f"configure() got an unknown setting {key!r}")
        try:
            clean[key] = option.check(value)
        except _check.Invalid as exc:
            raise ConfigurationError(
                f"configure({key}=...): expected {exc}, got {type(value).__name__} {_short_repr(value)}"
            ) from None
    return replace(base, **clean)


def differences(settings: Settings) -> list[str]:
    """The settings that differ from their defaults, as ``name=value (VARIABLE)`` (``agentel doctor``)."""
    out = []
    for option in OPTIONS:
        value = getattr(settings, option.name)
        if value == option.default:
            continue
        if isinstance(value, (frozenset, tuple)) and all(isinstance(item, str) for item in value):
            shown = ",".join(sorted(value)) if isinstance(value, frozenset) else ",".join(value)
        elif isinstance(value, (list, tuple)):
            shown = f"{len(value)} given"
        elif isinstance(value, dict):
            shown = f"{len(value)} model(s)"
        else:
            shown = str(value)
        source = option.env if option.env is not None and os.environ.get(option.env, "").strip() else "configure()"
        out.append(f"{option.name}={shown} ({source})")
    return out


def readme_table() -> str:
    """The README's table of agentel's own settings (one row per ``OPTIONS`` entry, then
    ``AGENTEL_INSTRUMENT``)."""
    rows = ["| Variable | `configure()` | Default | Meaning |", "|---|---|---|---|"]
    for option in OPTIONS:
        variable = f"`{option.env}`" if option.env else "—"
        keyword = f"`{option.name}`" if option.keyword else "—"
        rows.append(f"| {variable} | {keyword} | `{option.shown_default}` | {option.doc} |")
    rows.append(f"| `{_env.AGENTEL_INSTRUMENT}` | — (`agentel.instrument()`) | `unset` | {INSTRUMENT_DOC} |")
    return "\n".join(rows) + "\n"


def _short_repr(value: Any) -> str:
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a hostile __repr__
        return "<unrepresentable>"
    return text if len(text) <= 80 else text[:77] + "..."
