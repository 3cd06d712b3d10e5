"""Hostile input, property-based: nothing reaches user code, every span ends, every payload is valid JSON.

The CI profile runs 10,000+ generated examples in all (see HYPOTHESIS_EXAMPLES below); set
AGENTEL_HYPOTHESIS_PROFILE=dev for a quick local run.
"""

from __future__ import annotations

import json
import math
import os
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import agentel
from agentel.testing import capture_spans

PROFILE = os.environ.get("AGENTEL_HYPOTHESIS_PROFILE", "ci")
settings.register_profile("ci", max_examples=2600, deadline=None, suppress_health_check=list(HealthCheck))
settings.register_profile("dev", max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
settings.load_profile(PROFILE)
HYPOTHESIS_EXAMPLES = 4 * 2600  # four properties below, CI profile

BUDGET = 8192


class Raises:
    """An object whose every introspection hook raises."""

    def __init__(self, which: str) -> None:
        self.which = which

    def __repr__(self) -> str:
        raise RuntimeError("repr")

    def __str__(self) -> str:
        raise RuntimeError("str")

    def __eq__(self, other: object) -> bool:
        raise RuntimeError("eq")

    def __hash__(self) -> int:
        raise RuntimeError("hash")

    @property
    def __dict__(self) -> dict[str, Any]:  # type: ignore[override]
        raise RuntimeError("dict")

    def to_dict(self) -> dict[str, Any]:
        raise RuntimeError("to_dict")

    def model_dump(self) -> dict[str, Any]:
        raise RuntimeError("model_dump")


class BadLen(list):  # type: ignore[type-arg]
    def __len__(self) -> int:
        raise RuntimeError("len")

    def __iter__(self) -> Any:
        raise RuntimeError("iter")


surrogates = st.sampled_from(["\ud800", "\udfff", "a\udc80b", "\U0001f600", "\x00", "\u2028"])
texts = st.one_of(st.text(max_size=40), surrogates, st.text(max_size=5).map(lambda s: s * 5000))
floats = st.sampled_from([math.nan, math.inf, -math.inf, 0.0, -0.0, 1e308, 5e-324])
atoms = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**200), max_value=2**200),
    floats,
    st.floats(allow_nan=True, allow_infinity=True),
    texts,
    st.binary(max_size=200),
    st.builds(Raises, st.sampled_from(["a", "b"])),
    st.builds(BadLen),
)
keys = st.one_of(st.text(max_size=10), surrogates, st.integers(), st.tuples(st.integers()), st.none(), floats)
values = st.recursive(
    atoms,
    lambda children: st.one_of(
        st.lists(children, max_size=6),
        st.dictionaries(keys, children, max_size=6),
        st.tuples(children, children),
        st.frozensets(st.integers(), max_size=4),
    ),
    max_leaves=30,
)


def _cyclic(value: Any) -> Any:
    box: list[Any] = [value]
    box.append(box)
    return {"cycle": box}


def _deep(depth: int) -> Any:
    value: Any = "bottom"
    for _ in range(depth):
        value = {"d": [value]}
    return value


hostile = st.one_of(values, values.map(_cyclic), st.integers(0, 3000).map(_deep))


def _check_spans(spans: Any, expected: int) -> None:
    assert len(spans) == expected
    for span in spans:
        assert span.end_time_ns >= span.start_time_ns > 0
        span.name.encode("utf-8")
        for key, value in span.attributes.items():
            key.encode("utf-8")
            items = value if isinstance(value, tuple) else (value,)
            for item in items:
                if isinstance(item, str):
                    item.encode("utf-8")  # exporters must be able to encode it
                    assert len(item.encode("utf-8")) <= BUDGET or key not in ("input.value", "output.value")
            if key in ("input.value", "output.value"):
                json.loads(value)


@given(args=st.lists(hostile, max_size=3), kwargs=st.dictionaries(st.text(max_size=8), hostile, max_size=3))
def test_hostile_inputs_and_outputs(args: list[Any], kwargs: dict[str, Any]) -> None:
    def body(*a: Any, **k: Any) -> Any:
        return a[0] if a else k

    traced = agentel.trace(body)
    with capture_spans() as spans:
        result = traced(*args, **kwargs)
    assert result is (args[0] if args else result)
    _check_spans(spans.spans, 1)


@given(attributes=st.dictionaries(keys, hostile, max_size=5), event=hostile)
def test_hostile_attributes_and_events(attributes: dict[Any, Any], event: Any) -> None:
    with capture_spans() as spans:
        with agentel.start_span("s", attributes=attributes) as span:
            span.set_attributes(attributes)
            span.add_event("e", {"payload": event})
            span.set_inputs(event)
            span.set_outputs(attributes)
    _check_spans(spans.spans, 1)


@given(
    name=st.one_of(texts, st.builds(Raises, st.just("n"))), span_type=st.one_of(texts, st.builds(Raises, st.just("t")))
)
def test_hostile_span_names_and_types(name: Any, span_type: Any) -> None:
    with capture_spans() as spans:
        traced = agentel.trace(lambda: 1, name=name, span_type=span_type)
        assert traced() == 1
        with agentel.start_span(name, span_type=span_type):
            pass
    assert len(spans.spans) in (1, 2)  # an unprintable name may make the decorator a pass-through
    _check_spans(spans.spans, len(spans.spans))


class Boom(Exception):
    pass


@given(message=hostile)
def test_hostile_exception_messages_pass_through(message: Any) -> None:
    error = Boom(message)

    @agentel.trace
    def fail() -> None:
        raise error

    with capture_spans() as spans:
        try:
            fail()
        except Boom as caught:
            assert caught is error
        else:  # pragma: no cover
            raise AssertionError("the exception was swallowed")
    _check_spans(spans.spans, 1)
    assert spans.spans[0].status_code == "ERROR"
