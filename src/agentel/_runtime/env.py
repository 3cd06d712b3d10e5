"""Every ``AGENTEL_*`` environment variable: one constant each, documented with meaning and default.

The README's configuration table is written from this module; the standard ``OTEL_*`` variables are
read by the OpenTelemetry SDK and OTLP exporters themselves.
"""

from __future__ import annotations

AGENTEL_ENABLED = "AGENTEL_ENABLED"
"""Turn tracing on or off (``true``/``false``). Default ``true``. ``OTEL_SDK_DISABLED=true`` also
turns it off. When off, decorated functions run with near-zero overhead and no spans."""

AGENTEL_CAPTURE_CONTENT = "AGENTEL_CAPTURE_CONTENT"
"""Record inputs, outputs, messages and exception messages (``true``/``false``). Default ``true``.
When ``false`` only structure, timings, span types, token counts and error types are exported."""

AGENTEL_MAX_PAYLOAD_BYTES = "AGENTEL_MAX_PAYLOAD_BYTES"
"""Byte budget of one serialized payload (inputs, outputs, a JSON attribute). Default ``8192``.
Larger payloads are cut so that the result is still valid JSON and says how much was cut."""

AGENTEL_TRACE_TTL_SECONDS = "AGENTEL_TRACE_TTL_SECONDS"
"""Seconds after which a client trace that was never ended is ended with status ERROR.
Default ``600``."""

AGENTEL_MAX_OPEN_TRACES = "AGENTEL_MAX_OPEN_TRACES"
"""How many client traces may be open at once; beyond it the oldest is ended with status ERROR.
Default ``10000``."""

AGENTEL_TRACES_FILE = "AGENTEL_TRACES_FILE"
"""Also write every finished span to this file as OTLP/JSON lines (one export request per line).
Default: unset (no file)."""

AGENTEL_SEMCONV = "AGENTEL_SEMCONV"
"""Comma list of attribute dialects to emit: ``genai``, ``openinference``, ``mlflow``.
Default ``genai,openinference``."""

AGENTEL_CONSOLE = "AGENTEL_CONSOLE"
"""Print finished traces to stderr as a tree (``true``/``false``/``auto``). Default ``auto``: only
when no exporter is configured (no ``OTEL_TRACES_EXPORTER``, no ``OTEL_EXPORTER_OTLP_*ENDPOINT``)."""

AGENTEL_EXIT_TIMEOUT_MILLIS = "AGENTEL_EXIT_TIMEOUT_MILLIS"
"""At exit (or SIGTERM), the longest agentel waits to export buffered spans. Default ``5000``."""

AGENTEL_REDACT = "AGENTEL_REDACT"
"""Redact secrets (values under keys such as api_key/password/token, bearer tokens, provider API keys,
JWTs, private keys, URL credentials) before any exporter sees them (``true``/``false``). Default ``true``."""

AGENTEL_REDACT_PATTERNS = "AGENTEL_REDACT_PATTERNS"
"""Extra regular expressions to redact, as a JSON array of strings. Default: none."""

AGENTEL_MAX_GENERATOR_ITEMS = "AGENTEL_MAX_GENERATOR_ITEMS"
"""How many yielded items of a traced generator are kept as its outputs. Default ``100``."""

AGENTEL_KEEP_TRACES = "AGENTEL_KEEP_TRACES"
"""How many recently finished traces this process keeps in memory for ``get_trace(trace_id)`` /
``get_last_active_trace()`` of ``agentel.compat.mlflow`` (kept only once that module is imported).
Default ``100``; ``0`` keeps none."""

AGENTEL_KEEP_TRACES_BYTES = "AGENTEL_KEEP_TRACES_BYTES"
"""Memory bound of those kept traces (approximate size of their spans' names, attributes and events);
the oldest are dropped first. Default ``33554432`` (32 MiB)."""

AGENTEL_SET_GLOBAL_PROVIDER = "AGENTEL_SET_GLOBAL_PROVIDER"
"""Install agentel's own TracerProvider as the global OpenTelemetry provider when agentel builds it and
no provider is installed yet (``true``/``false``). Default ``true``: spans of every other instrumentation
join agentel's pipeline. ``false``: only agentel's spans are recorded. A provider someone else installed
is never replaced."""

AGENTEL_METRICS = "AGENTEL_METRICS"
"""Record the GenAI metrics (token usage, durations, call counts, cost) from agentel's spans
(``true``/``false``). Default ``true``; they are exported only when a metrics exporter is configured."""

AGENTEL_PRICES_FILE = "AGENTEL_PRICES_FILE"
"""A JSON file of your own model prices, ``{"model" or "provider/model": {"input": 0.5, "output": 1.5,
"cache_read": 0.05, "cache_write": 0.6}}`` in USD per million tokens; used before the ``genai-prices``
data. Default: none."""

AGENTEL_INSTRUMENT = "AGENTEL_INSTRUMENT"
"""Comma list of OpenTelemetry instrumentations to turn on at ``import agentel``, as
``agentel.instrument(...)`` does: ``openai``, ``anthropic``, ``langchain``, ``openai_agents``, ``httpx``,
``requests``, or ``all`` (every supported one that is installed). Default: unset (none). Unknown or
missing ones are warned about and skipped."""

ALL = (
    AGENTEL_ENABLED,
    AGENTEL_CAPTURE_CONTENT,
    AGENTEL_MAX_PAYLOAD_BYTES,
    AGENTEL_TRACE_TTL_SECONDS,
    AGENTEL_MAX_OPEN_TRACES,
    AGENTEL_TRACES_FILE,
    AGENTEL_SEMCONV,
    AGENTEL_CONSOLE,
    AGENTEL_MAX_GENERATOR_ITEMS,
    AGENTEL_EXIT_TIMEOUT_MILLIS,
    AGENTEL_REDACT,
    AGENTEL_REDACT_PATTERNS,
    AGENTEL_KEEP_TRACES,
    AGENTEL_KEEP_TRACES_BYTES,
    AGENTEL_SET_GLOBAL_PROVIDER,
    AGENTEL_METRICS,
    AGENTEL_PRICES_FILE,
    AGENTEL_INSTRUMENT,
)
