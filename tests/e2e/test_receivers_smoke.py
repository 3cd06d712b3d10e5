"""Smoke tests of the receivers themselves, with the plain OpenTelemetry SDK (no agentel)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from _receivers import MlflowServer, Phoenix, Rotel
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter


def send_two_spans(exporter: SpanExporter, project: str = "default") -> dict[str, str]:
    """Export a trace `root` → `child` with a private TracerProvider; return the hex ids."""
    provider = TracerProvider(
        resource=Resource.create(
            {"service.name": "agentel-smoke", "openinference.project.name": project}
        )
    )
    provider.add_span_processor(BatchSpanProcessor(exporter))
    tracer = provider.get_tracer("agentel.smoke")
    try:
        with tracer.start_as_current_span("root") as root:
            child = tracer.start_span("child", attributes={"smoke.n": 1})  # parent: root
            child.end()
        assert provider.force_flush(10_000)
    finally:
        provider.shutdown()
    return {
        "trace_id": format(root.get_span_context().trace_id, "032x"),
        "root": format(root.get_span_context().span_id, "016x"),
        "child": format(child.get_span_context().span_id, "016x"),
    }


def check_phoenix(phoenix: Phoenix, project: str, ids: dict[str, str]) -> None:
    spans = {s["name"]: s for s in phoenix.spans(project, ids["trace_id"], expect=2)}
    assert set(spans) == {"root", "child"}
    assert {s["context"]["trace_id"] for s in spans.values()} == {ids["trace_id"]}
    assert spans["root"]["context"]["span_id"] == ids["root"]
    assert spans["child"]["context"]["span_id"] == ids["child"]
    assert spans["root"]["parent_id"] is None
    assert spans["child"]["parent_id"] == ids["root"]
    assert spans["child"]["attributes"]["smoke.n"] == 1


def check_mlflow(mlflow_server: MlflowServer, ids: dict[str, str]) -> None:
    trace = mlflow_server.get_trace(ids["trace_id"], expect_spans=2)
    assert trace["info"]["trace_id"] == "tr-" + ids["trace_id"]
    assert trace["info"]["state"] == "OK"
    spans = {s["name"]: s for s in trace["spans"]}
    assert set(spans) == {"root", "child"}
    assert spans["root"]["span_id"] == ids["root"]
    assert spans["child"]["span_id"] == ids["child"]
    assert spans["root"]["parent_id"] is None
    assert spans["child"]["parent_id"] == ids["root"]


def test_phoenix_grpc(phoenix: Phoenix, phoenix_project: str) -> None:
    ids = send_two_spans(
        GrpcExporter(endpoint=phoenix.grpc_endpoint, insecure=True), phoenix_project
    )
    check_phoenix(phoenix, phoenix_project, ids)


def test_phoenix_http_protobuf(phoenix: Phoenix, phoenix_project: str) -> None:
    ids = send_two_spans(HttpExporter(endpoint=phoenix.otlp_http_traces_url), phoenix_project)
    check_phoenix(phoenix, phoenix_project, ids)


def test_mlflow_http(mlflow_server: MlflowServer) -> None:
    exporter = HttpExporter(
        endpoint=mlflow_server.otlp_http_traces_url, headers=mlflow_server.headers
    )
    check_mlflow(mlflow_server, send_two_spans(exporter))


@pytest.mark.parametrize("app_protocol", ["grpc", "http"])
def test_rotel_to_mlflow(
    rotel: Callable[..., Rotel], mlflow_server: MlflowServer, app_protocol: str
) -> None:
    hop = rotel(
        exporter="otlp", endpoint=mlflow_server.url, protocol="http", headers=mlflow_server.headers
    )
    exporter: Any = (
        GrpcExporter(endpoint=hop.grpc_endpoint, insecure=True)
        if app_protocol == "grpc"
        else HttpExporter(endpoint=hop.otlp_http_traces_url)
    )
    check_mlflow(mlflow_server, send_two_spans(exporter))


def test_rotel_to_phoenix_grpc(
    rotel: Callable[..., Rotel], phoenix: Phoenix, phoenix_project: str
) -> None:
    hop = rotel(exporter="otlp", endpoint=phoenix.grpc_endpoint, protocol="grpc")
    ids = send_two_spans(GrpcExporter(endpoint=hop.grpc_endpoint, insecure=True), phoenix_project)
    check_phoenix(phoenix, phoenix_project, ids)


def test_rotel_blackhole_accepts(rotel: Callable[..., Rotel]) -> None:
    sink = rotel()
    send_two_spans(GrpcExporter(endpoint=sink.grpc_endpoint, insecure=True))
    assert sink.alive()
