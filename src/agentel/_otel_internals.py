"""Every access to a private attribute of the OpenTelemetry API or SDK, behind a named function.

agentel relies on a few internals that have no public equivalent; each is read here and only here,
with a public (or safe) fallback, and ``tests/test_otel_internals.py`` pins each against the installed
SDK, naming the attribute, so an SDK release that renames or removes one fails loudly there instead of
agentel silently taking the slow or blind fallback. Callers in every wing call these functions (this is
a foundation module: it imports no wing).

Why they are read at all: the SDK's public ``span.attributes`` is a ``MappingProxyType`` over a
``BoundedAttributes``, whose misses raise and catch a ``KeyError`` (about 240 ns per absent key; the
plain dict behind it: about 12 ns), and agentel's span processor looks at every span of the provider;
``trace.get_tracer_provider()`` and ``metrics.get_meter_provider()`` read ``os.environ`` on every call
while none is set; the SDK offers no public way to list a provider's processors, a sampler's delegates,
a span's attribute limit, or to load an exporter by its entry-point name.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Mapping, Optional

from opentelemetry import metrics, trace

_UNKNOWN = object()
_EMPTY: Mapping[str, Any] = {}


# -- the global providers


def global_provider() -> Any:
    """The provider installed with ``trace.set_tracer_provider`` (``None`` while none is).

    The module global ``trace._TRACER_PROVIDER``, not ``get_tracer_provider()``: that reads
    ``os.environ`` on every call while no provider is set, and this is read on every span start until
    a provider is final. Falls back to the public call if the global is gone."""
    provider = getattr(trace, "_TRACER_PROVIDER", _UNKNOWN)
    if provider is _UNKNOWN:
        provider = trace.get_tracer_provider()
        return None if isinstance(provider, trace.ProxyTracerProvider) else provider
    return provider


def clear_global_provider() -> tuple[Any, Any]:
    """Uninstall the global provider (tests only: OpenTelemetry allows setting it once); returns what
    ``restore_global_provider`` needs to put it back."""
    from opentelemetry.util._once import Once

    saved = (trace._TRACER_PROVIDER, trace._TRACER_PROVIDER_SET_ONCE)
    trace._TRACER_PROVIDER = None
    trace._TRACER_PROVIDER_SET_ONCE = Once()
    return saved


def restore_global_provider(saved: tuple[Any, Any]) -> None:
    """Put back the global provider ``clear_global_provider`` removed."""
    trace._TRACER_PROVIDER, trace._TRACER_PROVIDER_SET_ONCE = saved


def global_meter_provider() -> Optional[Any]:
    """The ``MeterProvider`` set globally, or ``None`` — without the environment lookup that
    ``metrics.get_meter_provider()`` does on every call while none is set."""
    internal = getattr(metrics, "_internal", None)
    provider = getattr(internal, "_METER_PROVIDER", None)
    return provider


# -- a provider's parts


def span_limits(provider: Any) -> Optional[Any]:
    """The ``SpanLimits`` an SDK provider applies (``TracerProvider._span_limits``), ``None`` if unknown."""
    return getattr(provider, "_span_limits", None)


def span_processors(provider: Any) -> Optional[tuple[Any, ...]]:
    """The span processors of an SDK provider, in order (``_active_span_processor._span_processors``);
    ``None`` when they cannot be read (another provider class, or the SDK changed)."""
    processors = getattr(getattr(provider, "_active_span_processor", None), "_span_processors", None)
    return processors if isinstance(processors, tuple) else None


def update_resource(provider: Any, resource: Any) -> bool:
    """Give an SDK provider (and every tracer it handed out) a new resource
    (``TracerProvider._update_resource``); ``False`` when the provider cannot."""
    update = getattr(provider, "_update_resource", None)
    if update is None:
        return False
    update(resource)
    return True


def started_on(span: Any, provider: Any) -> bool:
    """Whether ``span`` was started on ``provider`` (an SDK span keeps its provider's processor chain)."""
    pipeline = getattr(provider, "_active_span_processor", None)
    return pipeline is not None and getattr(span, "_span_processor", None) is pipeline


def queued_spans(batch_processor: Any) -> int:
    """How many spans an SDK ``BatchSpanProcessor`` holds in its queue (0 when that cannot be read)."""
    queue = getattr(getattr(batch_processor, "_batch_processor", None), "_queue", ())
    try:
        return len(queue)
    except TypeError:
        return 0


# -- samplers


def root_sampler(sampler: Any) -> Any:
    """The sampler a ``ParentBased`` sampler applies to root spans (``ParentBased._root``), ``None`` if unknown."""
    return getattr(sampler, "_root", None)


def unsampled_parent_samplers(sampler: Any) -> tuple[Any, Any]:
    """The samplers a ``ParentBased`` sampler applies under an unsampled local and remote parent
    (``_local_parent_not_sampled``, ``_remote_parent_not_sampled``); ``None`` each when unknown."""
    return getattr(sampler, "_local_parent_not_sampled", None), getattr(sampler, "_remote_parent_not_sampled", None)


# -- starting spans: start attributes handed to agentel's processor


def start_parts(tracer: Any) -> Optional[tuple[Any, tuple[Any, ...]]]:
    """The sampler and the span processors (in order) an SDK ``Tracer`` starts its spans with
    (``tracer.sampler``, ``tracer.span_processor._span_processors``); ``None`` for another tracer class
    or a processor chain that is not the SDK's synchronous one (e.g. ``ConcurrentMultiSpanProcessor``)."""
    try:
        from opentelemetry.sdk.trace import SynchronousMultiSpanProcessor, Tracer
    except Exception:  # noqa: BLE001 - no SDK (or one that fails to import)
        return None
    if type(tracer) is not Tracer:
        return None
    chain = getattr(tracer, "span_processor", None)
    processors = getattr(chain, "_span_processors", None)
    if type(chain) is not SynchronousMultiSpanProcessor or not isinstance(processors, tuple):
        return None
    return tracer.sampler, processors


_PARENT_BASED_DELEGATES: tuple[str, ...] = ("_root", "_remote_parent_sampled", "_remote_parent_not_sampled")
_PARENT_BASED_DELEGATES += ("_local_parent_sampled", "_local_parent_not_sampled")


def attribute_blind(sampler: Any, depth: int = 0) -> bool:
    """Whether ``sampler`` decides without reading the start attributes and hands them on unchanged:
    one of the SDK's own (``ALWAYS_ON``/``ALWAYS_OFF``, ``TraceIdRatioBased``, ``ParentBased`` — or a
    subclass that keeps its ``should_sample``, like ``ParentBasedTraceIdRatio``), every delegate of a
    ``ParentBased`` too (``_root``, ``_remote_parent_sampled``, …). Any other sampler: ``False``."""
    try:
        from opentelemetry.sdk.trace.sampling import ParentBased, StaticSampler, TraceIdRatioBased
    except Exception:  # noqa: BLE001
        return False
    should_sample = getattr(type(sampler), "should_sample", None)
    if should_sample in (StaticSampler.should_sample, TraceIdRatioBased.should_sample):
        return True
    if should_sample is not ParentBased.should_sample or depth > 2:
        return False
    return all(attribute_blind(getattr(sampler, name, None), depth + 1) for name in _PARENT_BASED_DELEGATES)


class StartDeferral:
    """Whether a tracer's spans may get their start attributes in agentel's ``on_start`` instead of from
    ``start_span``, as ``judge(sampler, processors)`` decides; kept for the last tracer asked and judged
    again when its sampler or its processors change (the SDK replaces the tuple on each
    ``add_span_processor``)."""

    def __init__(self, judge: Callable[[Any, tuple[Any, ...]], bool]) -> None:
        self._judge = judge
        self._last: tuple[Any, Any, Any, bool] = (None, None, None, False)

    def allows(self, tracer: Any) -> bool:
        """The verdict for ``tracer`` (``False`` for anything but an SDK tracer)."""
        last_tracer, sampler, processors, verdict = self._last
        if tracer is last_tracer:
            try:
                if tracer.sampler is sampler and tracer.span_processor._span_processors is processors:
                    return verdict
            except AttributeError:
                return False
        parts = start_parts(tracer)
        if parts is None:
            self._last = (tracer, None, None, False)
            return False
        verdict = bool(self._judge(*parts))
        self._last = (tracer, parts[0], parts[1], verdict)
        return verdict


class _DeferredStart(threading.local):
    attributes: Optional[Mapping[str, Any]] = None


DEFERRED_START = _DeferredStart()
"""The start attributes of the span this thread is starting right now, when they were not passed to
``tracer.start_span`` (``attributes``, ``None`` otherwise): agentel's span processor writes them into
the span first thing in its ``on_start``. Only used where nothing before that could see the difference
(an attribute-blind sampler, and only no-op ``on_start`` processors before agentel's)."""


# -- spans


def attribute_dict(span: Any) -> Mapping[str, Any]:
    """The attributes of an SDK span (open or ended) as the plain dict the SDK keeps; read only.

    Another object (a redacted copy, a test double) gives its public ``attributes``.
    """
    try:
        return span._attributes._dict  # type: ignore[no-any-return]
    except AttributeError:
        return span.attributes or _EMPTY


TRACE_ID, SPAN_ID, IS_REMOTE = 0, 1, 2
"""Indices into the contexts ``SpanHooks`` hands over: the API's ``SpanContext`` is a tuple ``(trace_id,
span_id, is_remote, ...)`` whose properties each index it (a property read costs about 50 ns, an index
12 ns)."""


def _ids(context: Any) -> Optional[tuple[int, int, bool]]:
    return None if context is None else (context.trace_id, context.span_id, context.is_remote)


def span_parts_of(span: Any) -> tuple[Any, Any, Mapping[str, Any]]:
    """A span's ``(trace_id, span_id, is_remote)``, its parent's (``None`` for a root) and its attributes
    (the plain dict when there is one), through the public properties: ``SpanHooks``'s fallback."""
    return _ids(span.context), _ids(span.parent), attribute_dict(span)


def _span_context_is_a_tuple() -> bool:
    """Whether the API's ``SpanContext`` is the tuple ``(trace_id, span_id, is_remote, ...)`` (read without
    the SDK: agentel imports without it)."""
    try:
        context = trace.SpanContext(1, 2, is_remote=True)
        return isinstance(context, tuple) and context[:3] == (1, 2, True)
    except Exception:  # noqa: BLE001 - an API that changed: the public properties are read instead
        return False


_PUBLIC_ONLY = not _span_context_is_a_tuple()


class SpanHooks:
    """The base of a span processor that looks at every span of a provider: ``on_start``/``on_end`` read
    the SDK span's ``_context``, ``_parent`` and ``_attributes._dict`` directly (attribute loads the
    interpreter specializes; each property read costs about 45 ns, a C getter 20-30 ns) and hand them to
    ``span_started(span, context, parent, attributes, parent_context)`` / ``span_ended(span, context,
    parent, attributes)``. Index the contexts with ``TRACE_ID``, ``SPAN_ID``, ``IS_REMOTE``; ``parent`` is
    ``None`` for a root; ``attributes`` is the span's live plain dict (read only). A span without those
    attributes (a hand-made ``ReadableSpan`` with plain-dict attributes, or an SDK that renamed them) is
    read through its public properties (``span_parts_of``), as is every span if ``SpanContext`` is no
    longer a tuple."""

    if _PUBLIC_ONLY:  # the API's SpanContext is no longer a tuple: decided once, at import, not per span

        def on_start(self, span: Any, parent_context: Any = None) -> None:
            self.span_started(span, *span_parts_of(span), parent_context)

        def on_end(self, span: Any) -> None:
            self.span_ended(span, *span_parts_of(span))

    else:

        def on_start(self, span: Any, parent_context: Any = None) -> None:
            try:
                context, parent, attributes = span._context, span._parent, span._attributes._dict
            except AttributeError:
                context, parent, attributes = span_parts_of(span)
            self.span_started(span, context, parent, attributes, parent_context)

        def on_end(self, span: Any) -> None:
            try:
                context, parent, attributes = span._context, span._parent, span._attributes._dict
            except AttributeError:
                context, parent, attributes = span_parts_of(span)
            self.span_ended(span, context, parent, attributes)

    def span_started(self, span: Any, context: Any, parent: Any, attributes: Any, parent_context: Any) -> None:
        """``span`` started (see the class)."""

    def span_ended(self, span: Any, context: Any, parent: Any, attributes: Any) -> None:
        """``span`` ended (see the class)."""


def set_plain_attributes(span: Any, values: Mapping[str, Any]) -> None:
    """``span.set_attributes(values)``, written straight into an SDK span's attribute dict when every
    key is a non-empty ``str`` and every value a ``str``, ``int``, ``float`` or ``bool``, and the SDK
    would do nothing else with them: the span is open, its count limit has room for every key, no text
    is over its length limit. Otherwise the SDK's own call, which converts, truncates, evicts and warns
    as it always does. The same locks as the SDK's, and its order: a key set again moves to the end.

    Through the SDK a payload's two keys cost about 23,000 instructions (per key: two locks, a key
    check, the value cleaned through a chain of ``isinstance``); here about 10,000."""
    direct = _DIRECT_WRITES.get(type(span))
    if direct is None:
        direct = _DIRECT_WRITES[type(span)] = _writes_directly(span)
    if direct:
        attributes = span._attributes
        if _plain(values, attributes.max_value_len):
            stored, limit = attributes._dict, attributes.maxlen
            with span._lock:
                if (
                    span._end_time is None
                    and not attributes._immutable
                    and (limit is None or len(stored) + len(values) <= limit)
                ):
                    with attributes._lock:
                        for key, value in values.items():
                            if key in stored:
                                del stored[key]
                            stored[key] = value
                    return
    span.set_attributes(values)


def set_start_attributes(span: Any, values: Mapping[str, Any]) -> None:
    """``values`` as ``start_span(attributes=values)`` would have set them, on a span in its first
    ``on_start`` (``DEFERRED_START``): while its attribute dict is empty and ``set_plain_attributes``
    would write every value directly, one ``dict.update`` without locks (no other thread can hold the
    span yet, as in the SDK's own start). Otherwise ``set_plain_attributes``."""
    direct = _DIRECT_WRITES.get(type(span))
    if direct is None:
        direct = _DIRECT_WRITES[type(span)] = _writes_directly(span)
    if direct:
        attributes = span._attributes
        stored, limit = attributes._dict, attributes.maxlen
        if (
            not stored
            and not attributes._immutable
            and (limit is None or len(values) <= limit)
            and _plain(values, attributes.max_value_len)
        ):
            stored.update(values)
            return
    set_plain_attributes(span, values)


def _plain(values: Mapping[str, Any], longest: Optional[int]) -> bool:
    """Every key a non-empty ``str``, every value a ``str`` (of at most ``longest`` characters), ``int``,
    ``float`` or ``bool``: what the SDK stores as it is."""
    for key, value in values.items():
        kind = type(value)
        if not key or type(key) is not str:
            return False
        if kind is str:
            if longest is not None and len(value) > longest:
                return False
        elif kind is not int and kind is not float and kind is not bool:
            return False
    return True


_DIRECT_WRITES: dict[type, bool] = {}  # span type → whether set_plain_attributes may write its dict


def _writes_directly(span: Any) -> bool:
    """Whether ``span`` is an SDK ``Span`` whose class keeps the SDK's own ``set_attribute`` and
    ``set_attributes`` (the tracer makes ``_Span``s; a subclass that overrides them gets the public call),
    with the layout ``set_plain_attributes`` writes: ``_lock``, ``_end_time``, a ``BoundedAttributes`` with ``_dict``,
    ``_lock``, ``_immutable``, ``maxlen`` and ``max_value_len``."""
    try:
        from opentelemetry.attributes import BoundedAttributes
        from opentelemetry.sdk.trace import Span
    except Exception:  # noqa: BLE001 - no SDK (or one that fails to import): the public call
        return False
    kind = type(span)
    if (
        not isinstance(span, Span)
        or kind.set_attributes is not Span.set_attributes
        or kind.set_attribute is not Span.set_attribute
    ):
        return False
    attributes: Any = getattr(span, "_attributes", None)
    if type(attributes) is not BoundedAttributes:
        return False
    return (
        hasattr(span, "_lock")
        and hasattr(span, "_end_time")
        and all(hasattr(attributes, name) for name in ("_dict", "_lock", "_immutable", "maxlen", "max_value_len"))
        and isinstance(attributes._dict, dict)
    )


def span_whose_start_raised(exc: BaseException) -> Optional[trace.Span]:
    """The SDK span whose ``start()`` raised ``exc`` (a span processor's ``on_start`` raised out of
    ``tracer.start_span``, after the SDK had made the span): the ``self`` of the SDK's ``Span.start``
    frame in the traceback; ``None`` when there is none (the exception came from elsewhere)."""
    from opentelemetry.sdk.trace import Span

    code = getattr(Span.start, "__code__", None)
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code is code:
            span = tb.tb_frame.f_locals.get("self")
            return span if isinstance(span, Span) else None
        tb = tb.tb_next
    return None


def plain_mapping(attributes: Any) -> Mapping[str, Any]:
    """The plain dict behind a ``BoundedAttributes`` (iterating the mapping itself takes a lock per
    item: about 10 times slower); any other mapping as it is."""
    inner = getattr(attributes, "_dict", None)
    return inner if isinstance(inner, dict) else (attributes or _EMPTY)


def span_events(span: Any) -> Any:
    """The events of an SDK span without the tuple copy the public ``events`` makes (read only)."""
    events = getattr(span, "_events", None)
    return span.events if events is None else events


def attribute_count_limit(span: Any, default: Optional[int]) -> Optional[int]:
    """How many attributes an SDK span keeps before evicting its oldest (``span._attributes.maxlen``;
    ``None``: unbounded); ``default`` when it cannot be read."""
    return getattr(getattr(span, "_attributes", None), "maxlen", default)


# -- exporters


def span_exporter_class(name: str) -> Any:
    """The span exporter class registered under the entry point ``name`` (``opentelemetry_traces_exporter``),
    as the SDK's auto-configuration loads it (``opentelemetry.sdk._configuration._import_exporters``)."""
    from opentelemetry.sdk._configuration import _import_exporters

    exporters, _, _ = _import_exporters([name], [], [])
    return exporters[name]


def metric_exporter_class(name: str) -> tuple[str, Any]:
    """The entry-point name and class (a ``MetricExporter`` or ``MetricReader``) of the metrics exporter
    ``name`` (``otlp``, ``prometheus``, ``console``…), as the SDK's auto-configuration loads it
    (``_get_exporter_entry_point``, ``_import_exporters``)."""
    from opentelemetry.sdk._configuration import _get_exporter_entry_point, _import_exporters

    entry = _get_exporter_entry_point(name, "metrics")
    _, classes, _ = _import_exporters([], [entry], [])
    return entry, classes[entry]


def exporter_endpoint(exporter: Any) -> Optional[str]:
    """The endpoint an OTLP exporter sends to (``_endpoint``), ``None`` if unknown."""
    endpoint = getattr(exporter, "_endpoint", None)
    return None if endpoint is None else str(endpoint)


# -- the current context


def raw_context_switches() -> tuple[Callable[[Any], Any], Callable[[Any], None]]:
    """``(attach, reset)`` for the OTel context at the lowest cost: the set and reset methods of the
    runtime context's ContextVar (``opentelemetry.context._RUNTIME_CONTEXT._current_context``) when the
    API's runtime context is its default ``ContextVarsRuntimeContext``, else the API's ``attach`` /
    ``detach``. This ``reset`` may raise (a token used twice or of another Context): the caller then
    hands the token to ``opentelemetry.context.detach``, which logs it as it always does."""
    from opentelemetry import context as otel_context
    from opentelemetry.context.contextvars_context import ContextVarsRuntimeContext

    runtime = getattr(otel_context, "_RUNTIME_CONTEXT", None)
    variable: Any = getattr(runtime, "_current_context", None)
    if type(runtime) is not ContextVarsRuntimeContext or not hasattr(variable, "reset"):
        return otel_context.attach, otel_context.detach
    return variable.set, variable.reset


def context_switches() -> tuple[Callable[[Any], Any], Callable[[Any], None]]:
    """``(attach, detach)`` for the OTel context, as ``opentelemetry.context.attach`` / ``detach``.

    When the API's runtime context is its default ``ContextVarsRuntimeContext``, ``attach`` is the
    set method of its ContextVar (``opentelemetry.context._RUNTIME_CONTEXT._current_context``) and
    ``detach`` its reset: two Python calls fewer each, paid per yielded item of a traced generator. A
    reset that fails goes to the API's ``detach``, which logs as it always does. Any other runtime
    context (``OTEL_PYTHON_CONTEXT``) gets the API's functions."""
    from opentelemetry import context as otel_context

    attach, reset = raw_context_switches()
    if reset is otel_context.detach:
        return attach, reset

    def detach(token: Any) -> None:
        try:
            reset(token)
        except Exception:  # noqa: BLE001 - not agentel's: the API's detach logs it, as without agentel
            otel_context.detach(token)

    return attach, detach


# -- the standard library


def peek_count(counter: Any) -> int:
    """The next value of an ``itertools.count`` without advancing it (its ``repr`` is ``count(N)``)."""
    return int(repr(counter)[6:-1])
