"""MLflow Tracing's API on agentel: ``import agentel.compat.mlflow as mlflow`` is the only change needed.

Provided (tracing): ``trace``, ``start_span``, ``start_span_no_context``, ``get_current_active_span``,
``get_active_trace_id``, ``get_last_active_trace_id``, ``update_current_trace``, ``get_trace``,
``get_last_active_trace``, ``set_trace_tag``, ``delete_trace_tag``, ``tracing.disable()``/``enable()``,
``autolog()`` and ``<flavor>.autolog()``, ``set_tracking_uri``/``get_tracking_uri``/``set_experiment``
(accepted and ignored), ``SpanType``, ``entities``, ``exceptions`` and ``MlflowClient``. Spans are real
OpenTelemetry spans, sent where agentel is configured to send them; semantics follow MLflow (status OK
when a span succeeds, ``mlflow.chunk.item.N`` events for generators, metadata stored as strings).

Two differences on purpose: ``MlflowClient.start_trace`` inside an open span joins that span's trace
(MLflow raises), and ``MlflowClient.start_span(parent_id=None)`` starts the span under the trace's root
(MLflow raises). Out of scope: experiments and runs, model logging (``pyfunc``), deployments,
evaluation, and searching stored traces (``search_traces``): ``get_trace`` reads the last
``AGENTEL_KEEP_TRACES`` traces finished in this process.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Optional

from opentelemetry import context as otel_context
from opentelemetry import trace as otel_trace

from agentel._conventions.span_types import SpanType
from agentel._errors import TraceNotFoundError
from agentel._internal_errors import report_internal_error
from agentel._payload.serialize import safe_text
from agentel._runtime.provider import RUNTIME
from agentel._tracing.client import TraceClient
from agentel._tracing.fluent import SpanBlock
from agentel._tracing.ids import parse_trace_id
from agentel._tracing.otel_spans import last_trace_id, start_otel_span
from agentel._tracing.trace_context import update_trace_of
from agentel._tracing.wrappers import traced_callable

from . import anthropic, client, entities, exceptions, langchain, openai, tracing
from ._autolog import autolog, unsupported_flavor
from ._kept import kept_trace
from .client import MlflowClient
from .entities import (
    TRACE_CLIENT_REQUEST_ID,
    TRACE_REQUEST_PREVIEW,
    TRACE_RESPONSE_PREVIEW,
    TRACE_STATE,
    MlflowLiveSpan,
    Trace,
    TraceState,
    mlflow_value,
)
from .exceptions import MlflowException

logger = logging.getLogger("agentel")
_warned: set[str] = set()
RUNTIME.processor.kept.activate()  # get_trace() reads the last AGENTEL_KEEP_TRACES finished traces


def _warn_once(key: str, message: str, *args: Any) -> None:
    if key not in _warned:
        _warned.add(key)
        logger.warning(message, *args)


def _ignored(name: str, value: Any) -> None:
    if value is not None:
        _warn_once(
            f"ignored:{name}", "agentel.compat.mlflow: %s=%r has no counterpart on agentel and is ignored", name, value
        )


def trace(
    func: Optional[Callable[..., Any]] = None,
    name: Optional[str] = None,
    span_type: str = SpanType.UNKNOWN,
    attributes: Optional[Mapping[str, Any]] = None,
    output_reducer: Optional[Callable[[list[Any]], Any]] = None,
    trace_destination: Any = None,
    sampling_ratio_override: Optional[float] = None,
    log_level: Any = None,
    links: Any = None,
    description: Optional[str] = None,
) -> Any:
    """``@mlflow.trace``: each call is a span named ``func.__name__`` (or ``name``), status OK on success.

    A traced generator also records one ``mlflow.chunk.item.N`` event per yielded item (the first
    ``AGENTEL_MAX_GENERATOR_ITEMS``). ``trace_destination``, ``sampling_ratio_override``, ``log_level``
    and ``links`` have no counterpart (one warning each); ``description`` becomes ``mlflow.spanDescription``.
    """
    for key, value in (
        ("trace_destination", trace_destination),
        ("sampling_ratio_override", sampling_ratio_override),
        ("log_level", log_level),
        ("links", links),
    ):
        _ignored(key, value)
    if description is not None:
        attributes = {**(attributes or {}), "mlflow.spanDescription": description}
    if output_reducer is not None and func is not None and not _is_generator_function(func):
        raise MlflowException("The output_reducer argument is only supported for generator functions.")
    return traced_callable(func, name, span_type, attributes, output_reducer, mlflow_semantics=True)


def _is_generator_function(func: Any) -> bool:
    import inspect

    target = getattr(func, "__func__", func)
    return inspect.isgeneratorfunction(target) or inspect.isasyncgenfunction(target)


class _MlflowStartSpan(SpanBlock):
    """``with mlflow.start_span(...)``: status OK when the block succeeds; yields an ``MlflowLiveSpan``."""

    __slots__ = ()
    _span_class = MlflowLiveSpan
    _ok_on_success = True


def start_span(
    name: str = "span",
    span_type: Optional[str] = SpanType.UNKNOWN,
    attributes: Optional[Mapping[str, Any]] = None,
    trace_destination: Any = None,
    log_level: Any = None,
    run_id: Optional[str] = None,
    links: Any = None,
    description: Optional[str] = None,
) -> SpanBlock:
    """``with mlflow.start_span("name") as span:`` — a span for a block of code (MLflow's signature)."""
    for key, value in (("trace_destination", trace_destination), ("log_level", log_level), ("links", links)):
        _ignored(key, value)
    if run_id is not None:
        logger.debug("agentel.compat.mlflow: run_id=%r ignored (no MLflow runs)", run_id)
    if attributes:
        attributes = {key: mlflow_value(value) for key, value in attributes.items()}
    if description is not None:
        attributes = {**(attributes or {}), "mlflow.spanDescription": description}
    return _MlflowStartSpan(name, span_type=span_type or SpanType.UNKNOWN, attributes=attributes)


def start_span_no_context(
    name: str,
    span_type: str = SpanType.UNKNOWN,
    parent_span: Optional[Any] = None,
    inputs: Any = None,
    attributes: Optional[Mapping[str, Any]] = None,
    tags: Optional[Mapping[str, str]] = None,
    metadata: Optional[Mapping[str, str]] = None,
    experiment_id: Optional[str] = None,
    start_time_ns: Optional[int] = None,
    log_level: Any = None,
    links: Any = None,
    description: Optional[str] = None,
) -> MlflowLiveSpan:
    """A span that is not made current; ``parent_span`` (a span) or, if ``None``, the root of a new
    trace. End it with ``span.end()`` (status OK unless set otherwise)."""
    _ignored("log_level", log_level)
    _ignored("links", links)
    if experiment_id is not None:
        logger.debug("agentel.compat.mlflow: experiment_id=%r ignored", experiment_id)
    if not RUNTIME.enabled:
        return MlflowLiveSpan(otel_trace.INVALID_SPAN)
    try:
        if attributes:
            attributes = {key: mlflow_value(value) for key, value in attributes.items()}
        if description is not None:
            attributes = {**(attributes or {}), "mlflow.spanDescription": description}
        parent = getattr(parent_span, "otel_span", parent_span)
        context = otel_trace.set_span_in_context(parent) if parent is not None else otel_context.Context()
        span = MlflowLiveSpan(
            start_otel_span(
                safe_text(name),
                safe_text(span_type or SpanType.UNKNOWN),
                attributes,
                context=context,
                start_time_ns=start_time_ns,
            )
        )
    except Exception as exc:  # noqa: BLE001
        report_internal_error("start_span_no_context", exc)
        return MlflowLiveSpan(otel_trace.INVALID_SPAN)
    if inputs is not None:
        span.set_inputs(inputs)
    if tags or metadata:
        update_trace_of(
            span.otel_span,
            tags={k: str(v) for k, v in (tags or {}).items()} or None,
            metadata={k: str(v) for k, v in (metadata or {}).items()} or None,
        )
    return span


def get_current_active_span() -> Optional[MlflowLiveSpan]:
    """The current span (one started by ``trace``/``start_span`` or any OTel instrumentation), or ``None``."""
    span = otel_trace.get_current_span()
    if not span.get_span_context().is_valid or isinstance(span, otel_trace.NonRecordingSpan):
        return None
    return MlflowLiveSpan(span)


def get_active_trace_id() -> Optional[str]:
    """The id (32 hex) of the trace the current span belongs to, or ``None`` outside spans."""
    span = get_current_active_span()
    return span.trace_id if span is not None else None


def get_last_active_trace_id(thread_local: bool = False) -> Optional[str]:
    """The id (32 hex) of the last trace a span ended in: process-wide, or in this thread."""
    value = last_trace_id(thread_local)
    return format(value, "032x") if value is not None else None


def update_current_trace(
    tags: Optional[Mapping[str, Any]] = None,
    metadata: Optional[Mapping[str, Any]] = None,
    client_request_id: Optional[str] = None,
    request_preview: Optional[str] = None,
    response_preview: Optional[str] = None,
    state: Optional[str] = None,
    model_id: Optional[str] = None,
    session_id: Optional[str] = None,
    user: Optional[str] = None,
) -> None:
    """Update the current trace: tags and metadata (values stored as strings), client request id,
    previews, state (``"OK"``/``"ERROR"``), model id, session and user. Outside a span: one warning."""
    if request_preview is not None and not isinstance(request_preview, str):
        raise MlflowException("The `request_preview` parameter must be a string.")
    if response_preview is not None and not isinstance(response_preview, str):
        raise MlflowException("The `response_preview` parameter must be a string.")
    state_name = getattr(state, "value", state)
    if state is not None and state_name not in (TraceState.OK, TraceState.ERROR):
        raise MlflowException(f"State must be either 'OK' or 'ERROR', but got '{state}'.")
    current = otel_trace.get_current_span()
    if not current.get_span_context().is_valid or not current.is_recording():
        logger.warning(
            "agentel.compat.mlflow: update_current_trace() outside a span does nothing; call it inside "
            "@mlflow.trace or `with mlflow.start_span()`"
        )
        return
    merged = {str(k): str(v) for k, v in (metadata or {}).items()}
    if session_id is not None:
        merged["mlflow.trace.session"] = str(session_id)
    if user is not None:
        merged["mlflow.trace.user"] = str(user)
    if model_id:
        merged["mlflow.modelId"] = str(model_id)
    root_only: dict[str, Any] = {}
    if client_request_id is not None:
        root_only[TRACE_CLIENT_REQUEST_ID] = str(client_request_id)
    if request_preview:
        root_only[TRACE_REQUEST_PREVIEW] = request_preview
    if response_preview:
        root_only[TRACE_RESPONSE_PREVIEW] = response_preview
    if state is not None:
        root_only[TRACE_STATE] = str(state_name)
    update_trace_of(
        current,
        tags={str(k): str(v) for k, v in tags.items()} if tags else None,
        metadata=merged or None,
        session_id=session_id,
        user_id=user,
        root_only=root_only or None,
    )


def get_trace(trace_id: str, silent: bool = False, flush: bool = False) -> Optional[Trace]:
    """The ``Trace`` with this id if this process still keeps it (the last ``AGENTEL_KEEP_TRACES``
    traces, also accepted with MLflow's ``tr-`` prefix), else ``None`` with a warning (unless ``silent``).
    ``flush`` is accepted: kept traces need no flushing."""
    found = kept_trace(trace_id)
    if found is None and not silent:
        logger.warning(
            "agentel.compat.mlflow: trace %r is not kept in this process (the last AGENTEL_KEEP_TRACES=%d "
            "finished traces are); read older traces from your tracing backend",
            trace_id,
            RUNTIME.settings.keep_traces,
        )
    return found


def get_last_active_trace(thread_local: bool = False) -> Optional[Trace]:
    """The last trace that finished in this process (or this thread), as a ``Trace``; ``None`` if none."""
    trace_id = get_last_active_trace_id(thread_local)
    return kept_trace(trace_id) if trace_id is not None else None


def set_trace_tag(trace_id: str, key: str, value: Any) -> None:
    """Tag an open trace: one started with ``MlflowClient.start_trace``, or a fluent one whose root is
    still open (the tag goes on its root span). ``TraceNotFoundError`` for a trace that has ended."""
    try:
        TraceClient().set_trace_tag(trace_id, key, value)
    except TraceNotFoundError:
        root = RUNTIME.processor.local_root(parse_trace_id(trace_id))
        if root is None or not root.is_recording():
            raise
        update_trace_of(root, tags={str(key): str(value)})


def delete_trace_tag(trace_id: str, key: str) -> None:
    """Remove a tag from an open client trace."""
    TraceClient().delete_trace_tag(trace_id, key)


_tracking_uri: list[Optional[str]] = [None]


def set_tracking_uri(uri: Any) -> None:
    """Accepted and ignored (one debug line): spans go where agentel's OTel configuration sends them."""
    _tracking_uri[0] = str(uri) if uri is not None else None
    logger.debug("agentel.compat.mlflow: set_tracking_uri(%r) ignored; spans go over OpenTelemetry", uri)


def get_tracking_uri() -> Optional[str]:
    """The URI last given to ``set_tracking_uri`` (``None`` if none); agentel does not use it."""
    return _tracking_uri[0]


@dataclass
class Experiment:
    """What ``set_experiment`` returns: the name and id given (agentel has no experiments)."""

    experiment_id: str
    name: Optional[str]


def set_experiment(experiment_name: Optional[str] = None, experiment_id: Optional[str] = None) -> Experiment:
    """Accepted and ignored (one debug line); returns an ``Experiment`` echoing the arguments."""
    logger.debug(
        "agentel.compat.mlflow: set_experiment(%r, %r) ignored; agentel has no experiments",
        experiment_name,
        experiment_id,
    )
    return Experiment(str(experiment_id) if experiment_id is not None else "0", experiment_name)


def __getattr__(name: str) -> Any:
    """``mlflow.<flavor>`` for flavors agentel has no instrumentation for: ``autolog()`` warns once."""
    flavor = unsupported_flavor(name)
    if flavor is None:
        raise AttributeError(f"module 'agentel.compat.mlflow' has no attribute {name!r}")
    return flavor


__all__ = [
    "Experiment",
    "MlflowClient",
    "MlflowException",
    "SpanType",
    "Trace",
    "anthropic",
    "autolog",
    "client",
    "delete_trace_tag",
    "entities",
    "exceptions",
    "get_active_trace_id",
    "get_current_active_span",
    "get_last_active_trace",
    "get_last_active_trace_id",
    "get_trace",
    "get_tracking_uri",
    "langchain",
    "openai",
    "set_experiment",
    "set_trace_tag",
    "set_tracking_uri",
    "start_span",
    "start_span_no_context",
    "trace",
    "tracing",
    "update_current_trace",
]
