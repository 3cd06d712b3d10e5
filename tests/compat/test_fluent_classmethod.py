"""Port of MLflow's tests/tracing/test_fluent_classmethod.py: ``@mlflow.trace`` on class/static methods.

Both decorator orders, with and without ``name``/``span_type``. The upstream file reads the trace with
``mlflow.tracing.fluent.get_last_active_trace_id`` / ``get_trace`` (the same functions as
``mlflow.get_last_active_trace_id`` / ``mlflow.get_trace``), and expects ``span.outputs ==
{"output": 3}``; real MLflow 3.17.2 records the return value itself, ``3`` (as the same tests in
test_fluent.py expect), so that is what is asserted.
"""

from __future__ import annotations

from typing import Any

from ._target import get_trace, mlflow

# The upstream file uses SpanType.MODEL_INFERENCE, which MLflow 3.17.2's SpanType does not have; MLflow
# takes any string as a span type, so the same name is passed as a string.
MODEL_INFERENCE = "MODEL_INFERENCE"


def first_span() -> Any:
    trace_id = mlflow.get_last_active_trace_id()
    assert trace_id is not None
    trace = get_trace(trace_id)
    assert trace is not None
    assert len(trace.data.spans) > 0
    return trace.data.spans[0]


def check(span: Any, name: str = "predict") -> None:
    assert span.name == name
    assert span.inputs == {"x": 1, "y": 2}
    assert span.outputs == 3


def test_trace_with_classmethod() -> None:
    class Model:
        @mlflow.trace
        @classmethod
        def predict(cls, x: int, y: int) -> int:
            return x + y

    assert Model.predict(1, 2) == 3
    check(first_span())


def test_trace_with_classmethod_order_reversed() -> None:
    class Model:
        @classmethod
        @mlflow.trace
        def predict(cls, x: int, y: int) -> int:
            return x + y

    assert Model.predict(1, 2) == 3
    check(first_span())


def test_trace_with_classmethod_with_params() -> None:
    class Model:
        @mlflow.trace(name="custom_predict", span_type=MODEL_INFERENCE)
        @classmethod
        def predict(cls, x: int, y: int) -> int:
            return x + y

    assert Model.predict(1, 2) == 3
    span = first_span()
    check(span, "custom_predict")
    assert span.span_type == MODEL_INFERENCE


def test_trace_with_staticmethod() -> None:
    class Model:
        @mlflow.trace
        @staticmethod
        def predict(x: int, y: int) -> int:
            return x + y

    assert Model.predict(1, 2) == 3
    check(first_span())


def test_trace_with_staticmethod_order_reversed() -> None:
    class Model:
        @staticmethod
        @mlflow.trace
        def predict(x: int, y: int) -> int:
            return x + y

    assert Model.predict(1, 2) == 3
    check(first_span())


def test_trace_with_staticmethod_with_params() -> None:
    class Model:
        @mlflow.trace(name="custom_predict", span_type=MODEL_INFERENCE)
        @staticmethod
        def predict(x: int, y: int) -> int:
            return x + y

    assert Model.predict(1, 2) == 3
    span = first_span()
    check(span, "custom_predict")
    assert span.span_type == MODEL_INFERENCE
