"""agentel → an MLflow tracking server over OTLP/HTTP: the sample agent's trace read back with
``MlflowClient.get_trace("tr-" + trace_id)`` (span types, inputs, outputs, parentage, status), with
agentel's default attribute dialects and with MLflow's own keys added (AGENTEL_SEMCONV), configured in
process and by environment variables only; and the span type MLflow shows for every SpanType.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from _agent import (
    EXPECTED,
    MLFLOW_DEFAULT_DIALECTS,
    MLFLOW_FULL_DIALECTS,
    MLFLOW_SPAN_TYPES,
    assert_tree,
    check_sample_mlflow,
    mlflow_records,
    otlp_exporter,
    run_agent,
    run_agent_subprocess,
)
from _receivers import MlflowServer
from opentelemetry.sdk.trace.export import SpanExporter

import agentel

DIALECTS = [MLFLOW_DEFAULT_DIALECTS, MLFLOW_FULL_DIALECTS]


def _exporter(mlflow_server: MlflowServer) -> SpanExporter:
    return otlp_exporter("http/protobuf", mlflow_server.otlp_http_traces_url, mlflow_server.headers)


@pytest.mark.parametrize("dialects", DIALECTS)
def test_configured_exporter(dialects: str, mlflow_server: MlflowServer, export_agentel: Callable[..., None]) -> None:
    export_agentel(_exporter(mlflow_server), semconv=dialects)
    run = run_agent()
    assert agentel.force_flush(60_000)
    check_sample_mlflow(mlflow_server.get_trace(run.trace_id, expect_spans=len(EXPECTED)), run, dialects)


def _header_value(headers: dict[str, str]) -> str:
    return ",".join(f"{key}={value}" for key, value in headers.items())


@pytest.mark.parametrize("dialects", DIALECTS)
def test_configured_by_environment_only(dialects: str, mlflow_server: MlflowServer) -> None:
    if dialects == MLFLOW_DEFAULT_DIALECTS:  # generic variables; AGENTEL_SEMCONV left at its default
        env = {
            "OTEL_EXPORTER_OTLP_ENDPOINT": mlflow_server.url,  # the exporter appends /v1/traces
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            "OTEL_EXPORTER_OTLP_HEADERS": _header_value(mlflow_server.headers),
        }
    else:  # signal-specific variables
        env = {
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": mlflow_server.otlp_http_traces_url,
            "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/protobuf",
            "OTEL_EXPORTER_OTLP_TRACES_HEADERS": _header_value(mlflow_server.headers),
            "AGENTEL_SEMCONV": dialects,
        }
    env["OTEL_SERVICE_NAME"] = "support-bot"
    env["OTEL_RESOURCE_ATTRIBUTES"] = "deployment.environment=e2e"
    run = run_agent_subprocess(env)
    trace = mlflow_server.get_trace(run.trace_id, expect_spans=len(EXPECTED))
    check_sample_mlflow(trace, run, dialects)
    # MLflow keeps the resource as trace tags
    assert trace["info"]["tags"]["service.name"] == "support-bot"
    assert trace["info"]["tags"]["deployment.environment"] == "e2e"


@pytest.mark.parametrize("dialects", list(MLFLOW_SPAN_TYPES))
def test_span_type_table(dialects: str, mlflow_server: MlflowServer, export_agentel: Callable[..., None]) -> None:
    """One span of every SpanType (and a custom one) under a root; MLflow's span_type for each is
    the measured table in _agent.MLFLOW_SPAN_TYPES (None: MLflow shows no type)."""
    export_agentel(_exporter(mlflow_server), semconv=dialects)
    table = MLFLOW_SPAN_TYPES[dialects]
    ids: dict[str, str] = {}
    with agentel.start_span("types", span_type=agentel.SpanType.CHAIN) as root:
        ids["types"] = root.span_id
        for span_type in table:
            with agentel.start_span(f"span-{span_type}", span_type=span_type, inputs={"type": span_type}) as span:
                span.set_outputs(span_type)
                ids[span.name] = span.span_id
    assert agentel.force_flush(60_000)
    trace = mlflow_server.get_trace(root.trace_id, expect_spans=len(table) + 1)
    parents: dict[str, str | None] = {name: "types" for name in ids}
    parents["types"] = None
    assert_tree(mlflow_records(trace), parents, root.trace_id, ids)
    shown = {s["name"].removeprefix("span-"): s for s in trace["spans"] if s["name"] != "types"}
    assert {t: s["span_type"] for t, s in shown.items()} == table
    for span_type, span in shown.items():  # input.value/output.value are emitted in every dialect
        assert (span["inputs"], span["outputs"]) == ({"type": span_type}, span_type)
