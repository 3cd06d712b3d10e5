"""GenAI metrics of the OpenTelemetry conventions, recorded from the spans agentel already makes.

A span processor looks at every span that ends: agentel's model calls (``LLM``/``CHAT_MODEL``/
``EMBEDDING``) record ``gen_ai.client.operation.duration``, ``gen_ai.client.token.usage`` and, when
streamed, ``gen_ai.client.operation.time_to_first_chunk``; ``TOOL`` spans ``gen_ai.execute_tool.duration``;
``AGENT`` spans ``gen_ai.invoke_agent.duration`` and the run's inference and tool call counts; ``WORKFLOW``
spans ``gen_ai.workflow.duration``; priced model calls add to the ``agentel.gen_ai.client.cost`` counter.
Names, units and bucket boundaries are those of the GenAI conventions (semantic-conventions-genai,
``docs/gen-ai/gen-ai-metrics.md``; the package's constants where it has them).

One model call, one measurement: an agentel model span with a model-call child from another
instrumentation (e.g. openai-v2, which records the client metrics itself) records no client metrics.

Attributes are bounded: operation, provider, model names, tool/agent/workflow names (code-defined
span names at most), ``gen_ai.token.type`` and ``error.type`` (an exception class name) — never ids,
inputs or free text. Exemplars carry the span's trace id (the SDK's exemplar filter decides).

Which ``MeterProvider``: the application's global SDK one when there is one; otherwise agentel's own,
built from ``OTEL_METRICS_EXPORTER`` (``otlp``, ``prometheus``, ``console``, ``none``; the OTLP metrics
endpoint alone selects ``otlp``, the generic OTLP endpoint alone does not), installed globally when
``set_global`` is on and nobody else set one. With no exporter configured nothing is recorded at all.
"""

from __future__ import annotations

import os
from typing import Any, Optional

from opentelemetry import metrics, trace
from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.semconv._incubating.metrics import gen_ai_metrics as _gen_ai_metrics
from opentelemetry.trace import StatusCode

from agentel._conventions import cost as _cost
from agentel._conventions import names as sc
from agentel._forksafe import new_lock, new_rlock
from agentel._internal_errors import logger, report_internal_error
from agentel.version import __version__


def _metric_name(constant: str, name: str) -> str:
    value = getattr(_gen_ai_metrics, constant, name)
    return value if isinstance(value, str) else name


# Instrument names (semantic-conventions-genai, model/gen-ai/metrics.yaml and gen-ai-metrics.md).
CLIENT_TOKEN_USAGE = _metric_name("GEN_AI_CLIENT_TOKEN_USAGE", "gen_ai.client.token.usage")
CLIENT_OPERATION_DURATION = _metric_name("GEN_AI_CLIENT_OPERATION_DURATION", "gen_ai.client.operation.duration")
CLIENT_TIME_TO_FIRST_CHUNK = _metric_name(
    "GEN_AI_CLIENT_OPERATION_TIME_TO_FIRST_CHUNK", "gen_ai.client.operation.time_to_first_chunk"
)
INVOKE_AGENT_DURATION = "gen_ai.invoke_agent.duration"
INVOKE_AGENT_INFERENCE_CALLS = "gen_ai.invoke_agent.inference_calls"
INVOKE_AGENT_TOOL_CALLS = "gen_ai.invoke_agent.tool_calls"
EXECUTE_TOOL_DURATION = "gen_ai.execute_tool.duration"
WORKFLOW_DURATION = "gen_ai.workflow.duration"
CLIENT_COST = "agentel.gen_ai.client.cost"  # not in the conventions: agentel's own

# Attribute names used on metrics.
GEN_AI_TOKEN_TYPE = "gen_ai.token.type"
GEN_AI_WORKFLOW_NAME = "gen_ai.workflow.name"
ERROR_TYPE = "error.type"
ERROR_OTHER = "_OTHER"

# Recommended explicit bucket boundaries (gen-ai-metrics.md).
TOKEN_BUCKETS = (1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864)
DURATION_BUCKETS = (0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92)
AGENT_DURATION_BUCKETS = (0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 12.8, 25.6, 51.2, 102.4, 204.8, 409.6)
WORKFLOW_DURATION_BUCKETS = (1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200)
CALL_COUNT_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128)

_MODEL_TYPES = {"LLM", "CHAT_MODEL", "EMBEDDING"}
_FOREIGN_MODEL_OPERATIONS = {"chat", "text_completion", "generate_content", "embeddings"}
_FOREIGN_MODEL_KINDS = {"LLM", "EMBEDDING"}
_RECORDED_TYPES = {"LLM", "CHAT_MODEL", "EMBEDDING", "TOOL", "AGENT", "WORKFLOW"}
_OPERATION_OF_TYPE = {"LLM": "text_completion", "CHAT_MODEL": "chat", "EMBEDDING": "embeddings"}
MAX_TRACKED_SPANS = 100000


class Instruments:
    """The instruments, created once per ``MeterProvider``."""

    def __init__(self, provider: Any) -> None:
        meter = provider.get_meter("agentel", __version__)
        self.provider = provider
        self.token_usage = _histogram(
            meter, CLIENT_TOKEN_USAGE, "{token}", "Number of input and output tokens used.", TOKEN_BUCKETS
        )
        self.operation_duration = _histogram(
            meter, CLIENT_OPERATION_DURATION, "s", "GenAI operation duration.", DURATION_BUCKETS
        )
        self.time_to_first_chunk = _histogram(
            meter,
            CLIENT_TIME_TO_FIRST_CHUNK,
            "s",
            "Time to receive the first chunk of a streamed response.",
            DURATION_BUCKETS,
        )
        self.agent_duration = _histogram(
            meter, INVOKE_AGENT_DURATION, "s", "Duration of one agent invocation.", AGENT_DURATION_BUCKETS
        )
        self.agent_inference_calls = _histogram(
            meter,
            INVOKE_AGENT_INFERENCE_CALLS,
            "{inference_call}",
            "Model calls made by one agent invocation (its sub-agents' calls count on theirs).",
            CALL_COUNT_BUCKETS,
        )
        self.agent_tool_calls = _histogram(
            meter,
            INVOKE_AGENT_TOOL_CALLS,
            "{tool_call}",
            "Tool calls made by one agent invocation (its sub-agents' calls count on theirs).",
            CALL_COUNT_BUCKETS,
        )
        self.tool_duration = _histogram(
            meter, EXECUTE_TOOL_DURATION, "s", "Duration of one tool execution.", DURATION_BUCKETS
        )
        self.workflow_duration = _histogram(
            meter, WORKFLOW_DURATION, "s", "GenAI workflow duration.", WORKFLOW_DURATION_BUCKETS
        )
        self.cost = meter.create_counter(
            CLIENT_COST, unit="USD", description="Cost of model calls in US dollars, by model."
        )


def _histogram(meter: Any, name: str, unit: str, description: str, buckets: tuple[float, ...]) -> Any:
    try:
        return meter.create_histogram(
            name, unit=unit, description=description, explicit_bucket_boundaries_advisory=list(buckets)
        )
    except TypeError:  # an API older than the advisory parameter
        return meter.create_histogram(name, unit=unit, description=description)


class _AgentRun:
    __slots__ = ("inference_calls", "tool_calls")

    def __init__(self) -> None:
        self.inference_calls = 0
        self.tool_calls = 0


class MetricsProcessor(SpanProcessor):
    """Records the GenAI metrics when spans end; keeps only open-span bookkeeping (bounded)."""

    def __init__(self, source: "MetricsRuntime") -> None:
        self._source = source
        self.enabled = True
        self._owner: dict[int, int] = {}  # open span id -> span id of its nearest agent ancestor (or itself)
        self._runs: dict[int, _AgentRun] = {}  # open agent span id -> its call counts
        self._models: dict[int, bool] = {}  # open model-call span id -> is it agentel's
        self._delegated: set[int] = set()  # agentel model spans with a foreign model-call child
        self._lock = new_lock()

    def on_start(self, span: Span, parent_context: Optional[Context] = None) -> None:
        if not self.enabled:
            return
        try:
            attributes: Any = span.attributes or {}
            span_type = attributes.get(sc.AGENTEL_SPAN_TYPE)
            span_id = span.context.span_id
            if span_type is not None:
                is_agent = span_type == "AGENT"
                is_model = span_type in _MODEL_TYPES
            else:
                is_agent = (
                    attributes.get(sc.GEN_AI_OPERATION_NAME) == "invoke_agent"
                    or attributes.get(sc.OPENINFERENCE_SPAN_KIND) == "AGENT"
                )
                is_model = _foreign_model_call(attributes)
            if is_model and len(self._models) < MAX_TRACKED_SPANS:
                self._models[span_id] = span_type is not None
            parent = span.parent
            owner = self._owner.get(parent.span_id) if parent is not None and self._owner else None
            if is_agent:
                owner = span_id
                if len(self._runs) < MAX_TRACKED_SPANS:
                    self._runs[span_id] = _AgentRun()
            if owner is not None and len(self._owner) < MAX_TRACKED_SPANS:
                self._owner[span_id] = owner
        except Exception as exc:  # noqa: BLE001
            report_internal_error("metrics: span start", exc)

    def on_end(self, span: ReadableSpan) -> None:
        if not self.enabled:
            return
        try:
            self._on_end(span)
        except Exception as exc:  # noqa: BLE001
            report_internal_error("metrics: span end", exc)

    def _on_end(self, span: ReadableSpan) -> None:
        span_id = span.context.span_id
        attributes: Any = span.attributes or {}
        span_type: Any = attributes.get(sc.AGENTEL_SPAN_TYPE)
        owner = self._owner.pop(span_id, None) if self._owner else None
        own_run = self._runs.pop(span_id, None) if self._runs else None
        was_model = self._models.pop(span_id, None) if self._models else None
        # one call, one measurement: another instrumentation's model-call span inside this one (seen
        # here, or marked by the token roll-up's same rule as agentel.usage.recorded_by)
        delegated = sc.AGENTEL_USAGE_RECORDED_BY in attributes
        if self._delegated and span_id in self._delegated:
            self._delegated.discard(span_id)
            delegated = True
        is_model = (
            span_type in _MODEL_TYPES
            if span_type is not None
            else (was_model is not None or _foreign_model_call(attributes))
        )
        parent = span.parent
        parent_is_model = parent is not None and parent.span_id in self._models
        under_agentel_model = False
        if is_model and parent_is_model and span_type is None:
            if self._models.get(parent.span_id):  # type: ignore[union-attr]
                under_agentel_model = True
                if len(self._delegated) < MAX_TRACKED_SPANS:
                    self._delegated.add(parent.span_id)  # type: ignore[union-attr]
        run = self._runs.get(owner) if owner is not None else None
        if run is not None and owner != span_id:
            if is_model and not parent_is_model:
                with self._lock:  # tools and model calls of one run may end on several threads
                    run.inference_calls += 1
            elif _is_tool(span_type, attributes):
                with self._lock:
                    run.tool_calls += 1
        if under_agentel_model or (span_type is None and is_model and run is not None and not parent_is_model):
            # another instrumentation's model call inside agentel's model span or agent run: it records
            # the client metrics itself; its cost (which it does not record) is counted here, once
            self._record_foreign_cost(span, attributes)
            return
        if span_type not in _RECORDED_TYPES:
            return
        instruments = self._source.instruments()
        if instruments is None:
            return
        context = trace.set_span_in_context(trace.NonRecordingSpan(span.context))
        error = _error_type(span, attributes)
        if is_model:
            if not delegated:
                self._record_model_call(instruments, span, span_type, attributes, error, context)
        elif span_type == "TOOL":
            tool_attributes = {
                sc.GEN_AI_OPERATION_NAME: "execute_tool",
                sc.GEN_AI_TOOL_NAME: _text(attributes.get(sc.GEN_AI_TOOL_NAME))
                or _text(attributes.get(sc.TOOL_NAME))
                or span.name,
            }
            agent_name = self._source.agent_name(owner)
            if agent_name:
                tool_attributes[sc.GEN_AI_AGENT_NAME] = agent_name
            if error:
                tool_attributes[ERROR_TYPE] = error
            instruments.tool_duration.record(_seconds(span), tool_attributes, context=context)
        elif span_type == "AGENT":
            run = own_run
            name = _agent_name(span.name, attributes)
            agent_attributes = {sc.GEN_AI_OPERATION_NAME: "invoke_agent", sc.GEN_AI_AGENT_NAME: name}
            model = _text(attributes.get(sc.GEN_AI_REQUEST_MODEL))
            if model:
                agent_attributes[sc.GEN_AI_REQUEST_MODEL] = model
            if error:
                agent_attributes[ERROR_TYPE] = error
            instruments.agent_duration.record(_seconds(span), agent_attributes, context=context)
            if run is not None:
                count_attributes = {sc.GEN_AI_OPERATION_NAME: "invoke_agent", sc.GEN_AI_AGENT_NAME: name}
                instruments.agent_inference_calls.record(run.inference_calls, count_attributes, context=context)
                instruments.agent_tool_calls.record(run.tool_calls, count_attributes, context=context)
        elif span_type == "WORKFLOW":
            workflow_attributes = {
                sc.GEN_AI_OPERATION_NAME: "invoke_workflow",
                GEN_AI_WORKFLOW_NAME: _text(attributes.get(GEN_AI_WORKFLOW_NAME)) or span.name,
            }
            if error:
                workflow_attributes[ERROR_TYPE] = error
            instruments.workflow_duration.record(_seconds(span), workflow_attributes, context=context)

    def _record_foreign_cost(self, span: ReadableSpan, attributes: Any) -> None:
        from agentel._runtime.provider import RUNTIME

        if RUNTIME.prices is None:
            return
        cost = _cost.call_cost(RUNTIME.prices, attributes)
        if cost is None or cost[0] + cost[1] <= 0:
            return
        instruments = self._source.instruments()
        if instruments is not None:
            context = trace.set_span_in_context(trace.NonRecordingSpan(span.context))
            instruments.cost.add(cost[0] + cost[1], _model_attributes(attributes, None), context=context)

    def _record_model_call(
        self,
        instruments: Instruments,
        span: ReadableSpan,
        span_type: str,
        attributes: Any,
        error: Optional[str],
        context: Context,
    ) -> None:
        from agentel._export.processor import read_usage

        common = _model_attributes(attributes, span_type)
        duration_attributes = {**common, ERROR_TYPE: error} if error else common
        instruments.operation_duration.record(_seconds(span), duration_attributes, context=context)
        first_item_ms = attributes.get(sc.AGENTEL_TIME_TO_FIRST_ITEM_MS)
        if isinstance(first_item_ms, (int, float)) and first_item_ms >= 0:
            instruments.time_to_first_chunk.record(first_item_ms / 1000.0, common, context=context)
        usage = read_usage(attributes)
        if usage:
            for token_type in ("input", "output"):
                if token_type in usage:
                    instruments.token_usage.record(
                        usage[token_type], {**common, GEN_AI_TOKEN_TYPE: token_type}, context=context
                    )
        cost = _cost.recorded_cost(attributes)
        if cost is not None and cost > 0:
            instruments.cost.add(cost, common, context=context)

    def delegates(self, span_id: int) -> bool:
        """True while ``span_id`` is an open agentel model span with a model-call child of another
        instrumentation (which then carries the call's measurements)."""
        return bool(self._delegated) and span_id in self._delegated

    def forget_after_fork(self) -> None:
        """In a forked child: the parent's open spans are not this process's."""
        self._lock = new_lock()
        self._owner = {}
        self._runs = {}
        self._models = {}
        self._delegated = set()

    def shutdown(self) -> None:
        """Nothing to release (the meter provider is shut down by ``MetricsRuntime``)."""

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Nothing buffered here."""
        return True


def _model_attributes(attributes: Any, span_type: Optional[str]) -> dict[str, Any]:
    """The client metrics' attributes of a model call: operation, provider, request/response model."""
    common: dict[str, Any] = {
        sc.GEN_AI_OPERATION_NAME: _text(attributes.get(sc.GEN_AI_OPERATION_NAME))
        or _OPERATION_OF_TYPE.get(span_type or "", "chat")
    }
    provider, _ = _cost.provider_and_model(attributes)
    if provider:
        common[sc.GEN_AI_PROVIDER_NAME] = provider
    request_model = _text(attributes.get(sc.GEN_AI_REQUEST_MODEL)) or _text(attributes.get(sc.EMBEDDING_MODEL_NAME))
    response_model = _text(attributes.get(sc.GEN_AI_RESPONSE_MODEL))
    if request_model is None and response_model is None:
        request_model = _text(attributes.get(sc.LLM_MODEL_NAME))
    if request_model:
        common[sc.GEN_AI_REQUEST_MODEL] = request_model
    if response_model:
        common[sc.GEN_AI_RESPONSE_MODEL] = response_model
    return common


def _foreign_model_call(attributes: Any) -> bool:
    return bool(
        attributes.get(sc.GEN_AI_OPERATION_NAME) in _FOREIGN_MODEL_OPERATIONS
        or attributes.get(sc.OPENINFERENCE_SPAN_KIND) in _FOREIGN_MODEL_KINDS
    )


def _is_tool(span_type: Optional[str], attributes: Any) -> bool:
    if span_type is not None:
        return span_type == "TOOL"
    return bool(
        attributes.get(sc.GEN_AI_OPERATION_NAME) == "execute_tool"
        or attributes.get(sc.OPENINFERENCE_SPAN_KIND) == "TOOL"
    )


def _text(value: Any) -> Optional[str]:
    return value if isinstance(value, str) and value else None


def _agent_name(span_name: str, attributes: Any) -> str:
    return _text(attributes.get(sc.GEN_AI_AGENT_NAME)) or _text(attributes.get(sc.AGENT_NAME)) or span_name


def _seconds(span: ReadableSpan) -> float:
    if span.start_time is None or span.end_time is None:
        return 0.0
    return max(0, span.end_time - span.start_time) / 1e9


def _error_type(span: ReadableSpan, attributes: Any) -> Optional[str]:
    """``error.type`` of a failed span: the exception's class name, else ``_OTHER``."""
    if span.status.status_code is not StatusCode.ERROR:
        return None
    explicit = _text(attributes.get(ERROR_TYPE))
    if explicit:
        return explicit
    for event in reversed(span.events):
        if event.name == "exception" and event.attributes:
            kind = _text(event.attributes.get("exception.type"))
            if kind:
                return kind
    return ERROR_OTHER


class MetricsRuntime:
    """Which ``MeterProvider`` the instruments come from, and agentel's own one when it builds it."""

    def __init__(self) -> None:
        self._lock = new_rlock()
        self.processor = MetricsProcessor(self)
        self._instruments: Optional[Instruments] = None
        self._final = False  # True once instruments come from a global SDK MeterProvider (or a test's)
        self._built = False  # agentel's own provider was decided (built, or nothing configured)
        self._own: Optional[Any] = None
        self.destination = "not yet decided (no span ended)"
        self.settings: Any = None

    def apply(self, settings: Any) -> None:
        """New settings: metrics on/off. agentel's own provider is kept (its readers, e.g. the
        Prometheus endpoint, keep serving) unless the resource (service name) changed; then it is
        rebuilt lazily. Not yet built: decided again on the next span."""
        with self._lock:
            old = self.settings
            self.settings = settings
            self.processor.enabled = bool(getattr(settings, "metrics", True))
            if self._final:
                return
            same_resource = old is not None and getattr(old, "service_name", None) == getattr(
                settings, "service_name", None
            )
            if self._own is not None and same_resource:
                return
            self._shutdown_own()
            self._instruments = None
            self._built = False

    def agent_name(self, agent_span_id: Optional[int]) -> Optional[str]:
        """Name of the open agent span ``agent_span_id`` (for the tools it calls)."""
        if agent_span_id is None:
            return None
        from agentel._runtime.provider import RUNTIME

        span = RUNTIME.processor.open_span(agent_span_id)
        if span is None:
            return None
        return _agent_name(span.name, span.attributes or {})

    def instruments(self) -> Optional[Instruments]:
        """The instruments to record on, or ``None`` when metrics go nowhere."""
        if self._final:
            return self._instruments
        provider = getattr(metrics._internal, "_METER_PROVIDER", None)
        if provider is not None and provider is not self._own and _is_sdk_meter_provider(provider):
            return self._adopt(provider)
        if not self._built:
            self._build_own()
        return self._instruments

    def _adopt(self, provider: Any) -> Optional[Instruments]:
        with self._lock:
            if not self._final:
                self._shutdown_own()
                self._instruments = Instruments(provider)
                self._final = True
                self.destination = "the application's global MeterProvider (its readers/exporters)"
            return self._instruments

    def _build_own(self) -> None:
        with self._lock:
            if self._built:
                return
            self._built = True
            try:
                provider = build_meter_provider(self.settings)
            except Exception as exc:  # noqa: BLE001
                report_internal_error("metrics: building the MeterProvider", exc)
                provider = None
            if provider is None:
                self.destination = "nowhere (no metrics exporter configured)"
                return
            self._own = provider
            self._instruments = Instruments(provider)
            self.destination = f"agentel's own MeterProvider ({provider._agentel_destination})"
            if getattr(self.settings, "set_global", False) and type(metrics.get_meter_provider()).__name__ in (
                "_ProxyMeterProvider",
                "NoOpMeterProvider",
            ):
                metrics.set_meter_provider(provider)
                self._final = True

    def use_meter_provider(self, provider: Any) -> None:
        """Record on ``provider`` until ``reset()`` (used by tests and captures)."""
        with self._lock:
            self._instruments = Instruments(provider)
            self._final = True
            self.destination = "a test MeterProvider"

    def reset(self) -> None:
        """Forget the provider choice (agentel's own provider is shut down); decided again lazily."""
        with self._lock:
            self._shutdown_own()
            self._instruments = None
            self._final = False
            self._built = False
            self.destination = "not yet decided (no span ended)"

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Export recorded metrics now (agentel's own provider, or the adopted one)."""
        instruments = self._instruments
        provider = instruments.provider if instruments is not None else None
        flush = getattr(provider, "force_flush", None)
        if flush is None:
            return True
        try:
            return bool(flush(timeout_millis))
        except Exception as exc:  # noqa: BLE001
            report_internal_error("metrics: force_flush", exc)
            return False

    def shutdown(self) -> None:
        """At exit: flush an adopted provider, shut down agentel's own."""
        if self._own is None and self._final:
            self.force_flush(5000)
        with self._lock:
            self._shutdown_own()

    def _shutdown_own(self) -> None:
        own = self._own
        self._own = None
        if own is not None:
            if self._instruments is not None and self._instruments.provider is own:
                self._instruments = None
                self._built = False
            try:
                own.shutdown()
            except Exception as exc:  # noqa: BLE001
                report_internal_error("metrics: MeterProvider shutdown", exc)

    def after_fork(self) -> None:
        """In a forked child: fresh lock and bookkeeping."""
        self._lock = new_rlock()
        self.processor.forget_after_fork()


def _is_sdk_meter_provider(provider: Any) -> bool:
    from opentelemetry.sdk.metrics import MeterProvider

    return isinstance(provider, MeterProvider)


# Only the metrics endpoint: a generic OTLP endpoint often points at a traces-only backend (Phoenix,
# MLflow), which would answer every metrics push with an error.
_OTLP_METRICS_ENDPOINT_VARS = ("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",)


def metrics_exporter_names(endpoint_selects_otlp: bool = True) -> list[str]:
    """Names from ``OTEL_METRICS_EXPORTER``; ``otlp`` when only ``OTEL_EXPORTER_OTLP_METRICS_ENDPOINT``
    is set (and ``endpoint_selects_otlp``: agentel owns the tracer provider too); else none."""
    raw = os.environ.get("OTEL_METRICS_EXPORTER", "").strip().lower()
    if raw:
        return [name.strip() for name in raw.split(",") if name.strip() and name.strip() != "none"]
    if endpoint_selects_otlp and any(os.environ.get(name, "").strip() for name in _OTLP_METRICS_ENDPOINT_VARS):
        return ["otlp"]
    return []


def _otlp_metrics_timeout_seconds() -> Optional[float]:
    for name in ("OTEL_EXPORTER_OTLP_METRICS_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT"):
        raw = os.environ.get(name, "").strip()
        if raw:
            try:
                return float(raw) / 1000.0
            except ValueError:
                return None
    return None


def build_meter_provider(settings: Any) -> Optional[Any]:
    """agentel's own ``MeterProvider`` from the environment, or ``None`` when no exporter is configured."""
    from agentel._runtime.provider import RUNTIME

    # an application that installed its own TracerProvider configured its telemetry itself: an OTLP
    # endpoint in the environment then selects no metrics exporter unless OTEL_METRICS_EXPORTER says so
    adopted = RUNTIME.active_provider()
    names = metrics_exporter_names(endpoint_selects_otlp=adopted is None or adopted is RUNTIME._own_provider)
    if not names:
        return None
    from opentelemetry.sdk._configuration import _get_exporter_entry_point, _import_exporters
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import MetricExporter, MetricReader, PeriodicExportingMetricReader
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource

    readers: list[Any] = []
    described: list[str] = []
    for name in names:
        try:
            entry = _get_exporter_entry_point(name, "metrics")
            _, classes, _ = _import_exporters([], [entry], [])
            cls: Any = classes[entry]
            if issubclass(cls, MetricReader):
                readers.append(cls())
                described.append(name)
            elif issubclass(cls, MetricExporter):
                timeout = _otlp_metrics_timeout_seconds() if entry.startswith("otlp") else None
                exporter = cls(timeout=timeout) if timeout is not None else cls()
                readers.append(PeriodicExportingMetricReader(exporter))
                described.append(name)
        except Exception as exc:  # noqa: BLE001
            logger.warning(
                "agentel: ignoring OTEL_METRICS_EXPORTER=%r: cannot create the metrics exporter %r (%s); "
                "using the default for it (no metrics exporter)",
                os.environ.get("OTEL_METRICS_EXPORTER", ""),
                name,
                exc,
            )
    if not readers:
        return None
    service_name = getattr(settings, "service_name", None)
    attributes = {SERVICE_NAME: service_name} if service_name else {}
    provider = MeterProvider(metric_readers=readers, resource=Resource.create(attributes), shutdown_on_exit=False)
    provider._agentel_destination = ", ".join(described)  # type: ignore[attr-defined]
    provider._agentel_readers = readers  # type: ignore[attr-defined]
    return provider


METRICS = MetricsRuntime()
