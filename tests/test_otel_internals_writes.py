"""``set_plain_attributes`` writes an SDK span's attribute dict directly: the layout it writes is pinned
here against the installed SDK, and every case is checked against the SDK's own ``set_attributes`` on
a twin span — the same attributes, in the same order, the same drop count, the same warnings."""

from __future__ import annotations

import logging
from typing import Any, Mapping

import pytest
from opentelemetry.attributes import BoundedAttributes
from opentelemetry.sdk.trace import Span, SpanLimits, TracerProvider

from agentel import _otel_internals as internals


def _twins(limits: SpanLimits | None = None) -> tuple[Any, Any]:
    tracer = TracerProvider(span_limits=limits or SpanLimits()).get_tracer("t")
    return tracer.start_span("direct", attributes={"a": 1}), tracer.start_span("sdk", attributes={"a": 1})


def _same_as_the_sdk(values: Mapping[str, Any], limits: SpanLimits | None = None, end: bool = False) -> Any:
    direct, sdk = _twins(limits)
    for span in (direct, sdk):
        span.set_attributes({"b": "x", "c": 2})
        if end:
            span.end()
    internals.set_plain_attributes(direct, values)
    sdk.set_attributes(values)
    assert list(direct.attributes.items()) == list(sdk.attributes.items())
    assert direct._attributes.dropped == sdk._attributes.dropped
    return direct


def test_the_sdk_span_layout_it_writes_is_there() -> None:
    span = TracerProvider().get_tracer("t").start_span("s")
    assert isinstance(span, Span) and type(span._attributes) is BoundedAttributes
    for name in ("_lock", "_end_time", "_attributes"):
        assert hasattr(span, name), f"the SDK's Span no longer has {name}: update agentel._otel_internals"
    for name in ("_dict", "_lock", "_immutable", "maxlen", "max_value_len"):
        assert hasattr(span._attributes, name), f"BoundedAttributes no longer has {name}"
    assert internals._writes_directly(span), "set_plain_attributes would always take the SDK's slower call"


def test_plain_values_are_written_directly_not_through_the_sdk(monkeypatch: pytest.MonkeyPatch) -> None:
    span = TracerProvider().get_tracer("t").start_span("s")

    def refuse(*args: Any) -> None:
        raise AssertionError("went through the SDK's set_attributes")

    monkeypatch.setattr(BoundedAttributes, "_set_items", refuse)
    monkeypatch.setattr(BoundedAttributes, "__setitem__", refuse)
    internals.set_plain_attributes(span, {"input.value": '{"q": 1}', "n": 3, "f": 0.5, "ok": True})
    assert dict(span.attributes) == {"input.value": '{"q": 1}', "n": 3, "f": 0.5, "ok": True}


@pytest.mark.parametrize(
    "values, limits",
    [
        ({"d": "text", "e": 5, "f": 1.5, "g": False}, None),  # new keys: written directly
        ({"b": "again", "h": 1}, None),  # a key set again moves to the end
        ({"d": "1", "e": "2"}, SpanLimits(max_span_attributes=4)),  # no room for both: the oldest evicted
        ({"d": "a long text"}, SpanLimits(max_attribute_length=4)),  # cut by the SDK
        ({"d": "abc"}, SpanLimits(max_attribute_length=4)),  # within the length limit: direct
        ({"d": ["x", "y"], "e": 1}, None),  # a list: the SDK makes it a tuple
        ({"d": None}, None),  # None: the SDK's rule
        ({"": "empty key", "d": 1}, None),  # an invalid key: dropped by the SDK
        ({1: "int key", "d": 1}, None),  # a key that is not a str: the SDK's rule
        ({"d": "abc", "e": "a long text"}, SpanLimits(max_attribute_length=4)),  # one of two too long
    ],
)
def test_every_case_ends_as_the_sdks_set_attributes_leaves_it(
    values: Mapping[str, Any], limits: SpanLimits | None
) -> None:
    _same_as_the_sdk(values, limits)


def test_an_ended_span_is_left_alone_with_the_sdks_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="opentelemetry.sdk.trace"):
        _same_as_the_sdk({"d": "late"}, end=True)
    assert [r.getMessage() for r in caplog.records].count("Setting attribute on ended span.") == 2


def test_a_span_class_that_overrides_set_attributes_gets_its_own_call() -> None:
    seen: list[dict[str, Any]] = []

    class Watched(Span):
        def set_attributes(self, attributes: Mapping[str, Any]) -> None:
            seen.append(dict(attributes))
            super().set_attributes(attributes)

    span = Watched("w", context=None)
    span.start()
    internals.set_plain_attributes(span, {"k": "v"})
    assert seen == [{"k": "v"}] and span.attributes["k"] == "v"
