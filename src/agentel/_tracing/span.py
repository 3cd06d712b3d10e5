"""``LiveSpan``: the MLflow-style adapter over one OpenTelemetry span.

State lives in the OTel span itself (attributes, status, events), so a ``LiveSpan`` is a cheap view
that can be made for any span, including spans started by other OTel instrumentations. No method
raises into user code: a failure is logged once and counted.
"""

from __future__ import annotations

import datetime
import json
import math
import operator
import threading
import traceback
from typing import Any, Mapping, Optional, Sequence, Union

from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode

from agentel._conventions import genai as _genai
from agentel._conventions import names as sc
from agentel._conventions.span_types import (
    MAX_STATUS_DESCRIPTION_BYTES,
    SpanStatus,
    StatusLike,
    convention_for,
    to_span_status,
)
from agentel._errors import InvalidStatusError, InvalidTimestampError
from agentel._internal_errors import report_internal_error
from agentel._payload.serialize import byte_size, clip_text, safe_text, to_json
from agentel._runtime.provider import RUNTIME

_PRIMITIVE_TYPES = (str, bool, int, float)
_JSON_KEYS = frozenset({sc.INPUT_VALUE, sc.OUTPUT_VALUE, sc.MLFLOW_SPAN_INPUTS, sc.MLFLOW_SPAN_OUTPUTS})
_MODEL_CALL_TYPES = ("LLM", "CHAT_MODEL")


class _LastTrace(threading.local):
    trace_id: Optional[int] = None


_last_in_thread = _LastTrace()
_last_global: list[Optional[int]] = [None]


def remember_trace(trace_id: int) -> None:
    """Record the trace id of a span that just ended (per thread and process-wide)."""
    _last_in_thread.trace_id = trace_id
    _last_global[0] = trace_id


def last_trace_id(this_thread: bool = False) -> Optional[int]:
    """The trace id of the last span that ended, in this thread or in the process."""
    return _last_in_thread.trace_id if this_thread else _last_global[0]


def set_payload(span: Any, which: str, value: Any) -> None:
    """Serialize ``value`` once (redacted, within budget) and set it as the inputs or outputs of ``span``."""
    settings = RUNTIME.settings
    text = redacted_json(value, RUNTIME.payload_budget)
    if which == "input":
        span.set_attributes({sc.INPUT_VALUE: text, sc.INPUT_MIME_TYPE: sc.JSON_MIME})
        if "mlflow" in settings.semconv:
            span.set_attribute(sc.MLFLOW_SPAN_INPUTS, text)
    else:
        span.set_attributes({sc.OUTPUT_VALUE: text, sc.OUTPUT_MIME_TYPE: sc.JSON_MIME})
        if "mlflow" in settings.semconv:
            span.set_attribute(sc.MLFLOW_SPAN_OUTPUTS, text)
        try:
            span._agentel_outputs_set = True  # read by the decorator: the body's outputs win
        except AttributeError:  # a span class with __slots__: fall back to reading its attributes
            pass


def outputs_were_set(span: Any) -> bool:
    """Whether outputs were already recorded on ``span`` (by ``set_outputs`` in the traced body)."""
    if getattr(span, "_agentel_outputs_set", False):
        return True
    if hasattr(span, "__dict__"):
        return False
    attributes: Mapping[str, Any] = getattr(span, "attributes", None) or {}
    return sc.OUTPUT_VALUE in attributes


def redacted_json(value: Any, budget: int) -> str:
    """``to_json`` of ``value`` with secrets redacted, still within ``budget`` bytes."""
    text = to_json(value, budget)
    redacted = RUNTIME.redactor.json_text(text)
    if redacted is not text and byte_size(redacted) > budget:
        return to_json(json.loads(redacted), budget)
    return redacted


def attribute_value(value: Any) -> Any:
    """Primitive values (and lists of one primitive type) stay native; others become JSON text."""
    if isinstance(value, str):
        return clip_text(value, RUNTIME.payload_budget)
    if isinstance(value, _PRIMITIVE_TYPES):
        return value
    if type(value) in (list, tuple) and len(value) > 0:
        first = type(value[0])
        if first in _PRIMITIVE_TYPES and all(type(v) is first for v in value):
            if first is not str:
                return list(value)
            if sum(len(v) for v in value) <= RUNTIME.payload_budget // 4:
                return [safe_text(v) for v in value]
    return redacted_json(value, RUNTIME.payload_budget)


def normalized_attributes(attributes: Optional[Mapping[str, Any]]) -> dict[str, Any]:
    """``attributes`` with string keys, valid OTel values, and secrets redacted; never raises."""
    if not attributes:
        return {}
    redactor = RUNTIME.redactor
    out: dict[str, Any] = {}
    try:
        items = list(attributes.items())
    except Exception as exc:  # noqa: BLE001
        report_internal_error("attributes", exc)
        return out
    for key, value in items:
        name = safe_text(key, "<unprintable key>") or "<empty key>"
        try:
            out[name] = redactor.attribute(name, attribute_value(value))
        except Exception as exc:  # noqa: BLE001 - one bad value must not lose the others
            report_internal_error("attribute value", exc)
            out[name] = "<unserializable>"
    return out


def tag_attributes(tags: Mapping[str, Any]) -> dict[str, Any]:
    """Trace tags as attributes: ``agentel.tag.<key>`` each and ``tag.tags`` (``key=value`` list), with
    the value of a sensitive key (``api_key``, ``db_password``, …) redacted in both."""
    redactor = RUNTIME.redactor
    out: dict[str, Any] = {}
    listed: list[str] = []
    for key, value in tags.items():
        name = safe_text(key, "<unprintable key>")
        shown = redactor.attribute(name, attribute_value(value))
        out[f"agentel.tag.{name}"] = shown
        listed.append(f"{name}={shown if isinstance(shown, str) else safe_text(shown)}")
    out[sc.TAG_TAGS] = listed
    return out


def record_error(span: Any, exc: BaseException) -> None:
    """Status ERROR ``"Type: message"`` and an ``exception`` event with type, message, stack trace."""
    type_name = safe_text(type(exc).__name__)
    capture = RUNTIME.capture_content
    redactor = RUNTIME.redactor
    message, stacktrace = _error_texts(exc, redactor, RUNTIME.payload_budget) if capture else ("", "")
    description = f"{type_name}: {message}" if message else type_name
    span.set_status(Status(StatusCode.ERROR, clip_text(description, MAX_STATUS_DESCRIPTION_BYTES)))
    module = type(exc).__module__
    qualified = type(exc).__qualname__ if module in (None, "builtins") else f"{module}.{type(exc).__qualname__}"
    event = {"exception.type": safe_text(qualified), "exception.escaped": "True"}
    if capture:
        event["exception.message"] = message
        event["exception.stacktrace"] = stacktrace
    span.add_event("exception", event)


STACK_FRAMES = 64  # innermost frames of a stack trace kept (the outer ones are counted)


class _LastError:
    """The exception recorded last, by identity only (no reference: its frames are not kept alive).

    An exception crossing N nested traced calls is recorded N times, each time with one more outer
    frame on its traceback. Its message and the innermost ``STACK_FRAMES`` frames (formatted and
    redacted) are the same every time, so they are made once: N levels cost O(N), not O(N²).
    """

    __slots__ = ("key", "head", "depth", "redactor", "budget", "message", "body")

    def __init__(self) -> None:
        self.key: tuple[int, type] = (0, type(None))
        self.head = 0  # id of the traceback entry the exception had when last recorded
        self.depth = 0  # entries in that traceback
        self.redactor: Any = None
        self.budget = 0
        self.message = ""
        self.body = ""


_last_error = _LastError()


def _error_texts(exc: BaseException, redactor: Any, budget: int) -> tuple[str, str]:
    """The redacted message and stack trace of ``exc`` (innermost frames, with a count of the others),
    valid UTF-8 within ``budget`` and twice that."""
    last = _last_error
    tb = exc.__traceback__
    same_exception = last.key == (id(exc), type(exc)) and last.redactor is redactor and last.budget == budget
    grown = -1  # outer entries added since the last time (the traced call's frames in between)
    if same_exception:
        entry, steps = tb, 0
        while entry is not None and steps <= 8:
            if id(entry) == last.head:
                grown = steps
                break
            entry, steps = entry.tb_next, steps + 1
    if grown >= 0:
        depth = last.depth + grown
    else:
        depth, entry = 0, tb
        while entry is not None:
            depth, entry = depth + 1, entry.tb_next
    # the same innermost STACK_FRAMES entries as last time: nothing new to format or redact
    reuse = grown == 0 or (grown > 0 and last.depth >= STACK_FRAMES)
    if not reuse:
        last.message = _bounded_redacted(_safe_str(exc), budget, redactor)
        last.body = _bounded_redacted(_stacktrace(exc), 2 * budget, redactor, keep_end=True)
    last.key, last.head, last.depth, last.redactor = (id(exc), type(exc)), id(tb), depth, redactor
    last.budget = budget
    hidden = depth - STACK_FRAMES
    if hidden > 0:
        return last.message, f"({hidden} outer frames not shown)\n{last.body}"
    return last.message, last.body


def _bounded_redacted(text: str, budget: int, redactor: Any, keep_end: bool = False) -> str:
    """Valid UTF-8 within ``budget`` bytes, redacted: cut to twice the budget first (so redaction
    costs at most that), redacted, then cut to the budget (a cut never leaves half a secret)."""
    rough = clip_text(text, 2 * budget, keep_end=keep_end)
    return clip_text(redactor.free_text(rough), budget, keep_end=keep_end)


def set_ok_unless_error(span: Any) -> None:
    """Status OK unless the span already failed (MLflow's rule for a span that ends normally)."""
    status = getattr(span, "status", None)
    if status is None or status.status_code is not StatusCode.ERROR:
        span.set_status(Status(StatusCode.OK))


def _stacktrace(exc: BaseException) -> str:
    try:
        return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__, limit=-STACK_FRAMES))
    except Exception:  # noqa: BLE001 - e.g. a __str__ that raises
        return "".join(traceback.format_tb(exc.__traceback__, limit=-STACK_FRAMES))


def _safe_str(value: Any) -> str:
    try:
        return str(value)
    except Exception:  # noqa: BLE001
        return f"<{type(value).__name__} whose str() failed>"


class LiveSpan:
    """A span in progress: ids, inputs/outputs, attributes, status, events, and the OTel span.

    Example::

        with agentel.start_span("retrieve", span_type=agentel.SpanType.RETRIEVER) as span:
            span.set_inputs({"query": q})
            span.set_outputs(docs)
    """

    __slots__ = ("_span",)

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
        return str(self.attributes.get(sc.AGENTEL_SPAN_TYPE, "UNKNOWN"))

    @property
    def attributes(self) -> dict[str, Any]:
        """A copy of the span's attributes (empty for non-recording spans)."""
        return dict(getattr(self._span, "attributes", None) or {})

    @property
    def inputs(self) -> Any:
        """The recorded inputs, parsed back from JSON (``None`` when not recorded)."""
        return _parsed(self.attributes.get(sc.INPUT_VALUE))

    @property
    def outputs(self) -> Any:
        """The recorded outputs, parsed back from JSON (``None`` when not recorded)."""
        return _parsed(self.attributes.get(sc.OUTPUT_VALUE))

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
        if self.span_type in _MODEL_CALL_TYPES:
            _genai.capture_model_response(self._span, outputs)
        self._payload("output", outputs)

    def _payload(self, which: str, value: Any) -> None:
        try:
            if self._span.is_recording() and RUNTIME.capture_content:
                set_payload(self._span, which, value)
        except Exception as exc:  # noqa: BLE001
            report_internal_error(f"LiveSpan.set_{which}s", exc)

    def set_attribute(self, key: str, value: Any) -> None:
        """Set one attribute; non-primitive values are stored as JSON text."""
        self.set_attributes({key: value})

    def set_attributes(self, attributes: Mapping[str, Any]) -> None:
        """Set several attributes; non-primitive values are stored as JSON text."""
        try:
            if self._span.is_recording():
                self._span.set_attributes(normalized_attributes(attributes))
        except Exception as exc:  # noqa: BLE001
            report_internal_error("LiveSpan.set_attributes", exc)

    def set_status(self, status: StatusLike) -> None:
        """Set the status: a ``SpanStatus``, a ``SpanStatusCode`` name, or an OTel status code."""
        try:
            self._span.set_status(to_span_status(status).to_otel_status())
        except InvalidStatusError:
            raise
        except Exception as exc:  # noqa: BLE001
            report_internal_error("LiveSpan.set_status", exc)

    def add_event(
        self, event: Any, attributes: Optional[Mapping[str, Any]] = None, timestamp_ns: Optional[int] = None
    ) -> None:
        """Add an event: a name (with attributes) or an object with ``name``/``attributes``/``timestamp``."""
        try:
            if not isinstance(event, str):
                attributes = getattr(event, "attributes", attributes)
                timestamp_ns = getattr(event, "timestamp", timestamp_ns)
                event = getattr(event, "name", str(event))
        except Exception as exc:  # noqa: BLE001
            report_internal_error("LiveSpan.add_event", exc)
            return
        timestamp = to_time_ns(timestamp_ns, "timestamp_ns")
        try:
            self._span.add_event(safe_text(event), normalized_attributes(attributes), timestamp)
        except Exception as exc:  # noqa: BLE001
            report_internal_error("LiveSpan.add_event", exc)

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
        try:
            record_error(self._span, exception)
        except Exception as exc:  # noqa: BLE001
            report_internal_error("LiveSpan.record_exception", exc)

    def get_attribute(self, key: str) -> Any:
        """One attribute's value (``None`` when absent); values agentel stored as JSON text (objects
        and lists, inputs/outputs) are parsed back, as MLflow's ``get_attribute`` does."""
        value = (getattr(self._span, "attributes", None) or {}).get(key)
        if isinstance(value, str) and value[:1] in ("{", "[", '"') or key in _JSON_KEYS:
            return _parsed(value)
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
        try:
            end_otel_span(self._span, end_time_ns)
            remember_trace(self._span.get_span_context().trace_id)
        except Exception as exc:  # noqa: BLE001
            report_internal_error("LiveSpan.end", exc)

    def __repr__(self) -> str:
        return (
            f"LiveSpan(name={self.name!r}, span_type={self.span_type!r}, "
            f"trace_id={self.trace_id!r}, span_id={self.span_id!r}, parent_id={self.parent_id!r})"
        )

    # -- agent semantic conventions (see docs/conventions.md); each writes every enabled dialect
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
        _genai.set_llm(
            self._span,
            model=model,
            provider=provider,
            temperature=temperature,
            max_tokens=max_tokens,
            top_p=top_p,
            stop=stop,
            response_model=response_model,
            finish_reasons=finish_reasons,
            response_id=response_id,
        )

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
        _genai.set_token_usage(
            self._span,
            input=input,
            output=output,
            total=total,
            cached_input=cached_input,
            reasoning=reasoning,
            cache_creation=cache_creation,
        )

    def set_messages(self, *, input: Any = None, output: Any = None, system: Any = None) -> None:  # noqa: A002
        """Record chat messages (OpenAI- or Anthropic-style dicts or SDK objects, or strings).

        Example: ``span.set_messages(input=[{"role": "user", "content": "hi"}], output="hello", system="Be brief")``.
        """
        _genai.set_messages(self._span, input=input, output=output, system=system)

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
        _genai.set_tool(
            self._span,
            name=name,
            description=description,
            call_id=call_id,
            arguments=arguments,
            result=result,
            parameters=parameters,
        )

    def set_retrieved_documents(
        self, documents: Any, *, query: Optional[str] = None, data_source_id: Optional[str] = None
    ) -> None:
        """Record retrieved documents: dicts/objects with id, content (or page_content), score, metadata.

        Example: ``span.set_retrieved_documents([{"id": "d1", "content": "...", "score": 0.9}], query=q)``.
        """
        _genai.set_retrieved_documents(self._span, documents, query=query, data_source_id=data_source_id)

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
        _genai.set_embeddings(self._span, texts, vectors, model=model, provider=provider, dimensions=dimensions)

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
        _genai.set_agent(self._span, name=name, agent_id=id, description=description)


def _parsed(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


def start_otel_span(
    name: str,
    span_type: str,
    attributes: Optional[Mapping[str, Any]] = None,
    *,
    context: Any = None,
    start_time_ns: Optional[int] = None,
    links: Any = None,
) -> trace.Span:
    """Start (without making current) an OTel span carrying the conventions of ``span_type``."""
    start = sc.start_attributes(span_type, RUNTIME.settings.semconv)
    start.update(normalized_attributes(attributes))
    kind = convention_for(span_type).kind
    return guarded_start(RUNTIME.tracer(), name, context, kind, start, links, start_time_ns)


def guarded_start(
    tracer: trace.Tracer,
    name: str,
    context: Any,
    kind: Any,
    attributes: Any,
    links: Any = None,
    start_time_ns: Optional[int] = None,
) -> trace.Span:
    """``tracer.start_span`` that never raises: if another span processor's ``on_start`` raises, the span
    (already started) is recovered and used as usual; if none was made, a non-recording span is."""
    processor = RUNTIME.processor
    processor.clear_started()
    try:
        return tracer.start_span(name, context, kind, attributes, links=links, start_time=start_time_ns)
    except Exception as exc:  # noqa: BLE001 - e.g. the application's span processor raised in on_start
        report_internal_error("starting a span (a span processor's on_start raised)", exc)
        span = processor.take_started()
        if span is not None and getattr(span, "name", None) == name and getattr(span, "end_time", 1) is None:
            return span
        return trace.INVALID_SPAN


def end_otel_span(span: Any, end_time_ns: Optional[int] = None) -> None:
    """``span.end()`` that never raises; if a span processor's ``on_end`` raises, the span still leaves
    agentel's open-span table (the SDK has already ended it)."""
    try:
        span.end(end_time=end_time_ns)
    except Exception as exc:  # noqa: BLE001
        report_internal_error("ending a span (a span processor's on_end raised)", exc)
        try:
            RUNTIME.processor.forget(span)
        except Exception as internal:  # noqa: BLE001
            report_internal_error("ending a span", internal)


def to_time_ns(value: Any, what: str) -> Optional[int]:
    """A client timestamp as integer nanoseconds since the epoch; ``InvalidTimestampError`` otherwise.

    ``int`` (or any integral type): nanoseconds, as ``time.time_ns()``. ``float``: seconds, as
    ``time.time()``. ``datetime``: converted (a naive one is local time, as ``datetime.timestamp()``).
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise InvalidTimestampError(f"{what} must be nanoseconds since the epoch (an int); got a bool")
    if isinstance(value, datetime.datetime):
        nanos = round(value.timestamp() * 1e9)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidTimestampError(f"{what} must be a finite time; got {value!r}")
        nanos = round(value * 1e9)  # seconds, as time.time() returns
    else:
        try:
            nanos = operator.index(value)
        except TypeError:
            raise InvalidTimestampError(
                f"{what} must be nanoseconds since the epoch (an int, e.g. time.time_ns()), float seconds "
                f"(time.time()) or a datetime; got {type(value).__name__}"
            ) from None
    if not 0 <= nanos < _MAX_TIME_NS:
        raise InvalidTimestampError(f"{what}={value!r} is outside 1970..2262 (nanoseconds since the epoch)")
    return nanos


_MAX_TIME_NS = 2**63
