"""The collector hop, the Jaeger/Tempo deployment shape: agentel → Rotel (a real OTLP collector) →
backend. The sample agent's trace must arrive intact in MLflow and in Phoenix, whichever protocol the
application uses to reach the collector.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from _agent import (
    EXPECTED,
    check_sample_mlflow,
    check_sample_phoenix,
    otlp_exporter,
    run_agent,
    run_agent_subprocess,
)
from _receivers import MlflowServer, Phoenix, Rotel

import agentel


def _app_endpoint(hop: Rotel, protocol: str) -> str:
    return hop.grpc_endpoint if protocol == "grpc" else hop.otlp_http_traces_url


@pytest.mark.parametrize("app_protocol", ["grpc", "http/protobuf"])
def test_to_mlflow(
    app_protocol: str,
    rotel: Callable[..., Rotel],
    mlflow_server: MlflowServer,
    export_agentel: Callable[..., None],
) -> None:
    hop = rotel(exporter="otlp", endpoint=mlflow_server.url, protocol="http", headers=mlflow_server.headers)
    export_agentel(otlp_exporter(app_protocol, _app_endpoint(hop, app_protocol)))
    run = run_agent()
    assert agentel.force_flush(60_000)
    check_sample_mlflow(mlflow_server.get_trace(run.trace_id, expect_spans=len(EXPECTED)), run)


@pytest.mark.parametrize("app_protocol,hop_protocol", [("grpc", "grpc"), ("http/protobuf", "http")])
def test_to_phoenix_configured_by_environment(
    app_protocol: str, hop_protocol: str, rotel: Callable[..., Rotel], phoenix: Phoenix, phoenix_project: str
) -> None:
    backend = phoenix.grpc_endpoint if hop_protocol == "grpc" else phoenix.http_url
    hop = rotel(exporter="otlp", endpoint=backend, protocol=hop_protocol)
    base = hop.grpc_endpoint if app_protocol == "grpc" else hop.http_endpoint
    run = run_agent_subprocess(
        {
            "OTEL_EXPORTER_OTLP_ENDPOINT": base,
            "OTEL_EXPORTER_OTLP_PROTOCOL": app_protocol,
            "OTEL_RESOURCE_ATTRIBUTES": f"openinference.project.name={phoenix_project}",
        }
    )
    check_sample_phoenix(phoenix.spans(phoenix_project, run.trace_id, expect=len(EXPECTED)), run)
