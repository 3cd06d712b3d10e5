"""``LiveSpan``: the MLflow-style adapter over one OpenTelemetry span.

State lives in the OTel span itself (attributes, status, events), so a ``LiveSpan`` is a cheap view
that can be made for any span, including spans started by other OTel instrumentations. No method
raises into user code: a failure is logged once and counted.
"""

from __future__ import annotations

import functools
import json
from typing import Any, Callable, Mapping, Optional, Protocol, Sequence, TypeVar, Union, cast

from opentelemetry import trace

from agentel._conventions import names as sc
from agentel._conventions import setters
from agentel._conventions.responses import capture_model_response
from agentel._conventions.span_types import SpanStatus, StatusLike, to_otel_status, to_span_status
from agentel._errors import InvalidStatusError
from agentel._internal_errors import contained, never_raises
from agentel._payload.serialize import safe_text
from agentel._runtime.state import current_state
from agentel._tracing.otel_spans import (
    end_otel_span,
    record_error,
    refresh_trace_usage,
    remember_trace,
    set_ok_unless_error,
    to_time_ns,
)
from agentel._tracing.write import normalized_attributes, set_payload

_JSON_KEYS = frozenset({sc.INPUT_VALUE, sc.OUTPUT_VALUE, sc.MLFLOW_SPAN_INPUTS, sc.MLFLOW_SPAN_OUTPUTS})
_MODEL_CALL_TYPES = ("LLM", "CHAT_MODEL")
_PAYLOAD = {"input": contained("LiveSpan.set_inputs"), "output": contained("LiveSpan.set_outputs")}
_SET_ATTRIBUTES = contained("LiveSpan.set_attributes")
_SET_STATUS = contained("LiveSpan.set_status", passes=(InvalidStatusError,))  # a bad status is misuse
_ADD_EVENT = contained("LiveSpan.add_event")
_RECORD_EXCEPTION = contained("LiveSpan.record_exception")
_END = contained("LiveSpan.end")
_END_OK = contained("LiveSpan.end: status OK")


_Setter = TypeVar("_Setter", bound=Callable[..., None])


def _convention(
    setter: Callable[..., None], then: Optional[Callable[[Any], None]] = None
) -> Callable[[_Setter], _Setter]:
    """A ``LiveSpan`` convention setter: the decorated method (a signature and a docstring, no body)
    is the API; a call hands its arguments to ``setter(span, policy, ...)`` (``_conventions.setters``,
    which never raises) under the current content policy, then calls ``then(span)``."""

    def decorate(method: _Setter) -> _Setter:
        @functools.wraps(method)
        def convention_setter(self: LiveSpan, *args: Any, **kwargs: Any) -> None:
            setter(self._span, current_state().policy, *args, **kwargs)
            if then is not None:
                then(self._span)

        return cast(_Setter, convention_setter)

    return decorate


class _HasAttributes(Protocol):
    @property
    def attributes(self) -> Mapping[str, Any]: ...


class RecordedPayload:
    """``inputs`` and ``outputs`` read back from a span's ``attributes`` (a live or a captured span)."""

    __slots__ = ()

    @property
    def inputs(self: _HasAttributes) -> Any:
        """The recorded inputs, parsed back from JSON (``None`` when not recorded)."""
        return parsed_json(self.attributes.get(sc.INPUT_VALUE))

    @property
    def outputs(self: _HasAttributes) -> Any:
        """The recorded outputs, parsed back from JSON (``None`` when not recorded)."""
        return parsed_json(self.attributes.get(sc.OUTPUT_VALUE))


class LiveSpan(RecordedPayload):
    """A span in progress: ids, inputs/outputs, attributes, status, events, and the OTel span.

    Example::

        with agentel.start_span("retrieve", span_type=agentel.SpanType.RETRIEVER) as span:
            span.set_inputs({"query": q})
            span.set_outputs(docs)
    """

    __slots__ = ("_span",)
    _ok_on_end = False  # the compat layer's subclass: ``end()`` without a status sets OK unless it failed

    def __init__(self, otel_span: trace.Span) -> None:
        self._span = otel_span

    # -- identity
    @property
    def otel_span(self) -> trace.Span:
        """The underlying OpenTelemetry span."""
        return self._span

    @property
    def trace_id(self) -> str:
        """The W3C/OTel trace id: 32 lowercase hex digits."""
        return format(self._span.get_span_context().trace_id, "032x")

    @property
    def request_id(self) -> str:
        """MLflow's name for the trace id (same value as ``trace_id``)."""
        return self.trace_id

    @property
    def span_id(self) -> str:
        """The span id: 16 lowercase hex digits."""
        return format(self._span.get_span_context().span_id, "016x")

    @property
    def parent_id(self) -> Optional[str]:
        """The parent span id (16 hex), or ``None`` for a root span."""
        parent = getattr(self._span, "parent", None)
        return format(parent.span_id, "016x") if parent is not None else None

    @property
    def name(self) -> str:
        """The span name."""
        return str(getattr(self._span, "name", ""))

    @property
    def span_type(self) -> str:
        """The agent span type (``SpanType``), ``UNKNOWN`` for spans not made by agentel."""
        attributes = getattr(self._span, "attributes", None) or {}  # read, not copied
        return str(attributes.get(sc.AGENTEL_SPAN_TYPE, "UNKNOWN"))

    @property
    def attributes(self) -> dict[str, Any]:
        """A copy of the span's attributes (empty for non-recording spans)."""
        return dict(getattr(self._span, "attributes", None) or {})

    @property
    def status(self) -> SpanStatus:
        """The current status."""
        status = getattr(self._span, "status", None)
        return to_span_status(status) if status is not None else SpanStatus()

    @property
    def start_time_ns(self) -> Optional[int]:
        """Start time in nanoseconds since the epoch."""
        return getattr(self._span, "start_time", None)

    @property
    def end_time_ns(self) -> Optional[int]:
        """End time in nanoseconds since the epoch, ``None`` while open."""
        return getattr(self._span, "end_time", None)

    def is_recording(self) -> bool:
        """False when the span is sampled out, disabled, or already ended."""
        return self._span.is_recording()

    # -- annotation
    def set_inputs(self, inputs: Any) -> None:
        """Record the span's inputs (any value; serialized to JSON within the byte budget)."""
        self._payload("input", inputs)

    def set_outputs(self, outputs: Any) -> None:
        """Record the span's outputs (any value; serialized to JSON within the byte budget).

        On an ``LLM``/``CHAT_MODEL`` span, an OpenAI- or Anthropic-style response also records its
        model, token usage and finish reasons, as the decorator does for a returned response.
        """
        with _PAYLOAD["output"]:
            if not self._span.is_recording():  # sampled out, disabled or ended: nothing to record
                return
            policy = current_state().policy
            if self.span_type in _MODEL_CALL_TYPES and capture_model_response(self._span, policy, outputs):
                refresh_trace_usage(self._span)
            if policy.capture_content:
                set_payload(self._span, "output", outputs, policy)

    def _payload(self, which: str, value: Any) -> None:
        with _PAYLOAD[which]:
            policy = current_state().policy
            if self._span.is_recording() and policy.capture_content:
                set_payload(self._span, which, value, policy)

    def set_attribute(self, key: str, value: Any) -> None:
        """Set one attribute; non-primitive values are stored as JSON text."""
        self.set_attributes({key: value})

    def set_attributes(self, attributes: Mapping[str, Any]) -> None:
        """Set several attributes; non-primitive values are stored as JSON text."""
        with _SET_ATTRIBUTES:
            if self._span.is_recording():
                self._span.set_attributes(normalized_attributes(attributes))

    def set_status(self, status: StatusLike) -> None:
        """Set the status: a ``SpanStatus``, a ``SpanStatusCode`` name, or an OTel status code."""
        with _SET_STATUS:
            self._span.set_status(to_otel_status(status))

    def add_event(
        self, event: Any, attributes: Optional[Mapping[str, Any]] = None, timestamp_ns: Optional[int] = None
    ) -> None:
        """Add an event: a name (with attributes) or an object with ``name``/``attributes``/``timestamp``."""
        if not isinstance(event, str):
            fields = _event_fields(event, attributes, timestamp_ns)
            if fields is None:
                return
            event, attributes, timestamp_ns = fields
        timestamp = to_time_ns(timestamp_ns, "timestamp_ns")  # a bad timestamp is misuse: it raises
        with _ADD_EVENT:
            self._span.add_event(safe_text(event), normalized_attributes(attributes), timestamp)

    def record_exception(self, exception: Union[BaseException, str]) -> None:
        """Mark the span ERROR and add an ``exception`` event (type, message, stack trace).

        A string is recorded as ``Exception(message)``, as MLflow does; anything else that is not an
        exception raises ``TypeError`` (a misuse, not something to record silently).
        """
        if isinstance(exception, str):
            exception = Exception(exception)
        elif not isinstance(exception, BaseException):
            raise TypeError(
                f"record_exception() takes an exception or a message string, got {type(exception).__name__}"
            )
        with _RECORD_EXCEPTION:
            record_error(self._span, exception)

    def get_attribute(self, key: str) -> Any:
        """One attribute's value (``None`` when absent); values agentel stored as JSON text (objects
        and lists, inputs/outputs) are parsed back, as MLflow's ``get_attribute`` does."""
        value = (getattr(self._span, "attributes", None) or {}).get(key)
        if isinstance(value, str) and value[:1] in ("{", "[", '"') or key in _JSON_KEYS:
            return parsed_json(value)
        return list(value) if isinstance(value, tuple) else value

    def end(
        self,
        outputs: Any = None,
        attributes: Optional[Mapping[str, Any]] = None,
        status: StatusLike = None,
        end_time_ns: Optional[int] = None,
    ) -> None:
        """End the span, optionally setting outputs, attributes and status first. Idempotent."""
        end_time_ns = to_time_ns(end_time_ns, "end_time_ns")
        if getattr(self._span, "end_time", None) is not None:
            return
        if outputs is not None:
            self.set_outputs(outputs)
        if attributes:
            self.set_attributes(attributes)
        if status is not None:
            self.set_status(status)
        elif self._ok_on_end:
            with _END_OK:
                set_ok_unless_error(self._span)
        with _END:
            end_otel_span(self._span, end_time_ns)
            remember_trace(self._span.get_span_context().trace_id)

    def __repr__(self) -> str:
        return (
            f"LiveSpan(name={self.name!r}, span_type={self.span_type!r}, "
            f"trace_id={self.trace_id!r}, span_id={self.span_id!r}, parent_id={self.parent_id!r})"
        )

    # -- agent semantic conventions (see docs/conventions.md); each writes every enabled dialect. A
    # setter is its signature and docstring: ``_convention`` hands the call to the builders
    @_convention(setters.set_llm)
    def set_llm(
        self,
        *,
        model: Optional[str] = None,
        provider: Optional[str] = None,
        temperature: Optional[float] = None,
        max_tokens: Optional[int] = None,
        top_p: Optional[float] = None,
        stop: Union[str, Sequence[str], None] = None,
        response_model: Optional[str] = None,
        finish_reasons: Union[str, Sequence[str], None] = None,
        response_id: Optional[str] = None,
    ) -> None:
        """Record a model call: model, provider, sampling parameters, response model, finish reasons.

        Example: ``span.set_llm(model="gpt-4o", provider="openai", temperature=0.2, max_tokens=512)``.
        """

    @_convention(setters.set_token_usage, then=refresh_trace_usage)
    def set_token_usage(
        self,
        *,
        input: Optional[int] = None,  # noqa: A002 - the natural name
        output: Optional[int] = None,
        total: Optional[int] = None,
        cached_input: Optional[int] = None,
        reasoning: Optional[int] = None,
        cache_creation: Optional[int] = None,
    ) -> None:
        """Record token counts (merged with counts already set); ``total`` is input + output when absent.

        The trace's local root also gets the running total (``agentel.trace.usage.*``).
        Example: ``span.set_token_usage(input=812, output=64, cached_input=512)``.
        """

    @_convention(setters.set_messages)
    def set_messages(self, *, input: Any = None, output: Any = None, system: Any = None) -> None:  # noqa: A002
        """Record chat messages (OpenAI- or Anthropic-style dicts or SDK objects, or strings).

        Example: ``span.set_messages(input=[{"role": "user", "content": "hi"}], output="hello", system="Be brief")``.
        """

    @_convention(setters.set_tool)
    def set_tool(
        self,
        *,
        name: Optional[str] = None,
        description: Optional[str] = None,
        call_id: Optional[str] = None,
        arguments: Any = None,
        result: Any = None,
        parameters: Any = None,
    ) -> None:
        """Record a tool call: name, description, call id, arguments, result (and its JSON schema).

        Example: ``span.set_tool(name="search", call_id="call_1", arguments={"q": "otel"}, result=["doc"])``.
        """

    @_convention(setters.set_retrieved_documents)
    def set_retrieved_documents(
        self, documents: Any, *, query: Optional[str] = None, data_source_id: Optional[str] = None
    ) -> None:
        """Record retrieved documents: dicts/objects with id, content (or page_content), score, metadata.

        Example: ``span.set_retrieved_documents([{"id": "d1", "content": "...", "score": 0.9}], query=q)``.
        """

    @_convention(setters.set_embeddings)
    def set_embeddings(
        self,
        texts: Union[str, Sequence[str], None] = None,
        vectors: Optional[Sequence[Sequence[float]]] = None,
        *,
        model: Optional[str] = None,
        provider: Optional[str] = None,
        dimensions: Optional[int] = None,
    ) -> None:
        """Record an embeddings call: the texts, their vectors (within the budget), model, dimensions.

        Example: ``span.set_embeddings(["hello"], [[0.1, 0.2]], model="text-embedding-3-small")``.
        """

    def set_agent(
        self,
        *,
        name: Optional[str] = None,
        id: Optional[str] = None,
        description: Optional[str] = None,  # noqa: A002
    ) -> None:
        """Record the agent's name, id and description.

        Example: ``span.set_agent(name="support-bot", id="agent-7", description="Answers billing questions")``.
        """
        setters.set_agent(self._span, current_state().policy, name=name, agent_id=id, description=description)


def parsed_json(text: Any) -> Any:
    """``text`` parsed as JSON; anything else (not a string, not JSON) as it is."""
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


@never_raises("LiveSpan.add_event")
def _event_fields(event: Any, attributes: Any, timestamp_ns: Any) -> tuple[Any, Any, Any]:
    """Name, attributes and timestamp of an event object (MLflow's ``SpanEvent``, OTel's ``Event``)."""
    attributes = getattr(event, "attributes", attributes)
    timestamp_ns = getattr(event, "timestamp", timestamp_ns)
    return getattr(event, "name", str(event)), attributes, timestamp_ns
