"""What each span records in the GenAI metrics when it ends; agentel's span processor calls it.

agentel's model calls (``LLM``/``CHAT_MODEL``/``EMBEDDING``) record ``gen_ai.client.operation.duration``,
``gen_ai.client.token.usage`` and, when streamed, ``gen_ai.client.operation.time_to_first_chunk``;
``TOOL`` spans ``gen_ai.execute_tool.duration``; ``AGENT`` spans ``gen_ai.invoke_agent.duration`` and
the run's inference and tool call counts; ``WORKFLOW`` spans ``gen_ai.workflow.duration``; priced
model calls add to the ``agentel.gen_ai.client.cost`` counter.

One model call, one measurement: an agentel model span with a model-call child from another
instrumentation (e.g. openai-v2, which records the client metrics itself) records no client metrics.

Attributes are bounded: operation, provider, model names, tool/agent/workflow names (code-defined
span names at most), ``gen_ai.token.type`` and ``error.type`` (an exception class name) — never ids,
inputs or free text. Exemplars carry the span's trace id (the SDK's exemplar filter decides).

Only spans that carry one of ``WATCHED_KEYS`` (or run inside an open agent span) reach this module:
the application's other spans cost agentel's processor those few dict lookups and nothing else.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import StatusCode

from agentel._conventions import cost as _cost
from agentel._conventions import names as sc
from agentel._conventions.cost import Prices
from agentel._conventions.usage import read_usage
from agentel._export.instruments import Instruments
from agentel._export.otel_sdk import ReadableSpan
from agentel._forksafe import new_lock
from agentel._internal_errors import contained

# Attribute names used on metrics.
GEN_AI_TOKEN_TYPE = "gen_ai.token.type"
GEN_AI_WORKFLOW_NAME = "gen_ai.workflow.name"
ERROR_TYPE = "error.type"
ERROR_OTHER = "_OTHER"

WATCHED_KEYS = (sc.AGENTEL_SPAN_TYPE, sc.GEN_AI_OPERATION_NAME, sc.OPENINFERENCE_SPAN_KIND)
_MODEL_TYPES = frozenset({"LLM", "CHAT_MODEL", "EMBEDDING"})
_FOREIGN_MODEL_OPERATIONS = frozenset({"chat", "text_completion", "generate_content", "embeddings"})
_FOREIGN_MODEL_KINDS = frozenset({"LLM", "EMBEDDING"})
RECORDED_TYPES = frozenset({"LLM", "CHAT_MODEL", "EMBEDDING", "TOOL", "AGENT", "WORKFLOW"})
"""agentel span types whose spans record a measurement; other agentel spans matter only inside a run."""
_OPERATION_OF_TYPE = {"LLM": "text_completion", "CHAT_MODEL": "chat", "EMBEDDING": "embeddings"}
MAX_TRACKED_SPANS = 100000
MAX_CACHED_ATTRIBUTE_SETS = 512

_STARTING = contained("metrics: span start")
_ENDING = contained("metrics: span end")


class _AgentRun:
    __slots__ = ("inference_calls", "tool_calls")

    def __init__(self) -> None:
        self.inference_calls = 0
        self.tool_calls = 0


class _ModelAttributeSets:
    """The attribute dicts of one model-call attribute set (built once, reused for every call):
    the common set, with ``error.type``, and with each ``gen_ai.token.type``."""

    __slots__ = ("common", "failed", "input", "output")

    def __init__(self, common: dict[str, Any], error: Optional[str]) -> None:
        self.common = common
        self.failed = {**common, ERROR_TYPE: error} if error else common
        self.input = {**common, GEN_AI_TOKEN_TYPE: "input"}
        self.output = {**common, GEN_AI_TOKEN_TYPE: "output"}


def _no_prices() -> Optional[Prices]:
    return None


def _no_span(span_id: int) -> Any:
    return None


class MetricsRecorder:
    """Records the GenAI metrics of ended spans; keeps only open-span bookkeeping (bounded).

    ``instruments()`` gives the instruments to record on (``None``: metrics go nowhere), ``prices()``
    the price data in use, ``open_span(span_id)`` an open span (for the agent a tool runs under).
    """

    def __init__(
        self,
        instruments: Callable[[], Optional[Instruments]],
        prices: Callable[[], Optional[Prices]] = _no_prices,
    ) -> None:
        self._instruments = instruments
        self.prices = prices
        self.open_span: Callable[[int], Any] = _no_span
        self.enabled = True
        # metrics go nowhere (decided: no exporter, no MeterProvider): spans are not looked at; each new
        # trace checks again (``wake``), so a MeterProvider the application installs later is used
        self.dormant = False
        self.owner: dict[int, int] = {}  # open span id -> span id of its nearest agent ancestor (or itself)
        self._runs: dict[int, _AgentRun] = {}  # open agent span id -> its call counts
        self._models: dict[int, bool] = {}  # open model-call span id -> is it agentel's
        self._delegated: set[int] = set()  # agentel model spans with a foreign model-call child
        self._attribute_sets: dict[tuple[Any, ...], _ModelAttributeSets] = {}
        self._lock = new_lock()

    def on_start(self, span: Any, attributes: Any, span_id: int, parent_id: Optional[int]) -> None:
        """A span that carries one of ``WATCHED_KEYS``, or whose parent runs inside an agent, started
        (``parent_id``: its parent's span id, ``None`` for a root)."""
        try:  # the guard, as a plain try: free when nothing is raised
            span_type = attributes.get(sc.AGENTEL_SPAN_TYPE)
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
            owner = self.owner.get(parent_id) if parent_id is not None and self.owner else None
            if is_agent:
                owner = span_id
                if len(self._runs) < MAX_TRACKED_SPANS:
                    self._runs[span_id] = _AgentRun()
            if owner is not None and len(self.owner) < MAX_TRACKED_SPANS:
                self.owner[span_id] = owner
        except Exception as exc:  # noqa: BLE001 - handed to the guard: reported once, counted
            _STARTING.__exit__(type(exc), exc, exc.__traceback__)

    def on_end(self, span: Any, attributes: Any, span_id: int, parent_id: Optional[int]) -> None:
        """A span that carries one of ``WATCHED_KEYS``, or ran inside an agent, ended (``parent_id``: its
        parent's span id, ``None`` for a root)."""
        try:  # the guard, as a plain try: free when nothing is raised
            self._on_end(span, attributes, span_id, parent_id)
        except Exception as exc:  # noqa: BLE001 - handed to the guard: reported once, counted
            _ENDING.__exit__(type(exc), exc, exc.__traceback__)

    def _on_end(self, span: Any, attributes: Any, span_id: int, parent_id: Optional[int]) -> None:
        span_type: Any = attributes.get(sc.AGENTEL_SPAN_TYPE)
        owner = self.owner.pop(span_id, None) if self.owner else None
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
        parent_is_model = parent_id is not None and parent_id in self._models
        under_agentel_model = False
        if is_model and parent_is_model and span_type is None:
            if self._models.get(parent_id):  # type: ignore[arg-type]
                under_agentel_model = True
                if len(self._delegated) < MAX_TRACKED_SPANS:
                    self._delegated.add(parent_id)  # type: ignore[arg-type]
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
        if span_type not in RECORDED_TYPES:
            return
        instruments = self._instruments()
        if instruments is None:
            return
        context = trace.set_span_in_context(trace.NonRecordingSpan(span.context))
        error = _error_type(span, attributes)
        if is_model:
            if not delegated:
                self._record_model_call(instruments, span, span_type, attributes, error, context)
        elif span_type == "TOOL":
            self._record_tool(instruments, span, attributes, owner, error, context)
        elif span_type == "AGENT":
            _record_agent(instruments, span, attributes, own_run, error, context)
        elif span_type == "WORKFLOW":
            workflow_attributes = {
                sc.GEN_AI_OPERATION_NAME: "invoke_workflow",
                GEN_AI_WORKFLOW_NAME: _text(attributes.get(GEN_AI_WORKFLOW_NAME)) or span.name,
            }
            if error:
                workflow_attributes[ERROR_TYPE] = error
            instruments.workflow_duration.record(_seconds(span), workflow_attributes, context=context)

    def forget(self, span_id: int) -> None:
        """A span without any of ``WATCHED_KEYS`` ended inside an agent run: nothing to record."""
        self.owner.pop(span_id, None)

    def _record_tool(
        self, instruments: Instruments, span: Any, attributes: Any, owner: Optional[int], error: Any, context: Context
    ) -> None:
        tool_attributes = {
            sc.GEN_AI_OPERATION_NAME: "execute_tool",
            sc.GEN_AI_TOOL_NAME: _text(attributes.get(sc.GEN_AI_TOOL_NAME))
            or _text(attributes.get(sc.TOOL_NAME))
            or span.name,
        }
        agent = self.open_span(owner) if owner is not None else None
        if agent is not None:
            tool_attributes[sc.GEN_AI_AGENT_NAME] = _agent_name(agent.name, agent.attributes or {})
        if error:
            tool_attributes[ERROR_TYPE] = error
        instruments.tool_duration.record(_seconds(span), tool_attributes, context=context)

    def _record_foreign_cost(self, span: Any, attributes: Any) -> None:
        prices = self.prices()
        if prices is None:
            return
        cost = _cost.call_cost(prices, attributes)
        if cost is None or cost[0] + cost[1] <= 0:
            return
        instruments = self._instruments()
        if instruments is not None:
            context = trace.set_span_in_context(trace.NonRecordingSpan(span.context))
            sets = self._model_sets(attributes, None, None)
            instruments.cost.add(cost[0] + cost[1], sets.common, context=context)

    def _record_model_call(
        self,
        instruments: Instruments,
        span: Any,
        span_type: str,
        attributes: Any,
        error: Optional[str],
        context: Context,
    ) -> None:
        sets = self._model_sets(attributes, span_type, error)
        instruments.operation_duration.record(_seconds(span), sets.failed, context=context)
        first_item_ms = attributes.get(sc.AGENTEL_TIME_TO_FIRST_ITEM_MS)
        if isinstance(first_item_ms, (int, float)) and first_item_ms >= 0:
            instruments.time_to_first_chunk.record(first_item_ms / 1000.0, sets.common, context=context)
        usage = read_usage(attributes)
        if usage:
            if "input" in usage:
                instruments.token_usage.record(usage["input"], sets.input, context=context)
            if "output" in usage:
                instruments.token_usage.record(usage["output"], sets.output, context=context)
        cost = _cost.recorded_cost(attributes)
        if cost is not None and cost > 0:
            instruments.cost.add(cost, sets.common, context=context)

    def _model_sets(self, attributes: Any, span_type: Optional[str], error: Optional[str]) -> _ModelAttributeSets:
        """The metric attributes of a model call: operation, provider, request/response model (cached
        per distinct set, so a steady workload builds its dicts once)."""
        provider, _ = _cost.provider_and_model(attributes)
        operation = _text(attributes.get(sc.GEN_AI_OPERATION_NAME)) or _OPERATION_OF_TYPE.get(span_type or "", "chat")
        request_model = _text(attributes.get(sc.GEN_AI_REQUEST_MODEL)) or _text(attributes.get(sc.EMBEDDING_MODEL_NAME))
        response_model = _text(attributes.get(sc.GEN_AI_RESPONSE_MODEL))
        if request_model is None and response_model is None:
            request_model = _text(attributes.get(sc.LLM_MODEL_NAME))
        key = (operation, provider, request_model, response_model, error)
        sets = self._attribute_sets.get(key)
        if sets is None:
            common: dict[str, Any] = {sc.GEN_AI_OPERATION_NAME: operation}
            if provider:
                common[sc.GEN_AI_PROVIDER_NAME] = provider
            if request_model:
                common[sc.GEN_AI_REQUEST_MODEL] = request_model
            if response_model:
                common[sc.GEN_AI_RESPONSE_MODEL] = response_model
            sets = _ModelAttributeSets(common, error)
            if len(self._attribute_sets) >= MAX_CACHED_ATTRIBUTE_SETS:
                self._attribute_sets.clear()
            self._attribute_sets[key] = sets
        return sets

    def delegates(self, span_id: int) -> bool:
        """True while ``span_id`` is an open agentel model span with a model-call child of another
        instrumentation (which then carries the call's measurements)."""
        return bool(self._delegated) and span_id in self._delegated

    def sleep(self) -> None:
        """Metrics go nowhere: stop looking at spans (what was tracked is dropped)."""
        self.dormant = True
        self.owner, self._runs, self._models, self._delegated = {}, {}, {}, set()

    def wake(self) -> None:
        """A trace starts while dormant: look at its spans again if metrics now go somewhere."""
        self.dormant = self._instruments() is None

    def forget_after_fork(self) -> None:
        """In a forked child: the parent's open spans are not this process's."""
        self._lock = new_lock()
        self.owner = {}
        self._runs = {}
        self._models = {}
        self._delegated = set()


def _record_agent(
    instruments: Instruments, span: Any, attributes: Any, run: Optional[_AgentRun], error: Any, context: Context
) -> None:
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


def _error_type(span: Any, attributes: Any) -> Optional[str]:
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
