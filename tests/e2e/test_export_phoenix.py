"""agentel → Arize Phoenix over OTLP gRPC and OTLP HTTP/protobuf: the sample agent's trace, read back
through Phoenix's REST API (ids, parentage, names, span kinds, status and exception events,
inputs/outputs, custom attributes).

Each protocol is tested twice: with an exporter given to ``agentel.configure`` in this process, and
in a fresh interpreter configured only by the standard ``OTEL_*`` variables (what users do).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from _agent import EXPECTED, check_sample_phoenix, otlp_exporter, run_agent, run_agent_subprocess
from _receivers import Phoenix, free_port

import agentel


def _endpoint(phoenix: Phoenix, protocol: str) -> str:
    return phoenix.grpc_endpoint if protocol == "grpc" else phoenix.otlp_http_traces_url


@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
def test_configured_exporter(
    protocol: str, phoenix: Phoenix, phoenix_project: str, export_agentel: Callable[..., None]
) -> None:
    export_agentel(otlp_exporter(protocol, _endpoint(phoenix, protocol)), project=phoenix_project)
    run = run_agent()
    assert agentel.force_flush(10_000)
    check_sample_phoenix(phoenix.spans(phoenix_project, run.trace_id, expect=len(EXPECTED)), run)


def _environment(phoenix: Phoenix, variant: str) -> dict[str, str]:
    """Only OTEL_* variables, as a user would set them."""
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    return {
        # gRPC is the default protocol: the endpoint alone selects the OTLP exporter
        "grpc-default": {"OTEL_EXPORTER_OTLP_ENDPOINT": phoenix.grpc_endpoint},
        "grpc": {"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc", "OTEL_EXPORTER_OTLP_ENDPOINT": phoenix.grpc_endpoint},
        # the generic endpoint over HTTP gets /v1/traces appended by the exporter
        "http/protobuf": {
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            "OTEL_EXPORTER_OTLP_ENDPOINT": phoenix.http_url,
        },
        # signal-specific variables win over generic ones (which point nowhere here)
        "http/protobuf-traces-vars": {
            "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
            "OTEL_EXPORTER_OTLP_ENDPOINT": dead,
            "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/protobuf",
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": phoenix.otlp_http_traces_url,
            "OTEL_EXPORTER_OTLP_HEADERS": "x-unused=1",
            "OTEL_EXPORTER_OTLP_TRACES_HEADERS": "authorization=Bearer%20not-checked",
        },
    }[variant]


@pytest.mark.parametrize("variant", ["grpc-default", "grpc", "http/protobuf", "http/protobuf-traces-vars"])
def test_configured_by_environment_only(variant: str, phoenix: Phoenix, phoenix_project: str) -> None:
    env = _environment(phoenix, variant)
    env["OTEL_RESOURCE_ATTRIBUTES"] = f"openinference.project.name={phoenix_project}"
    env["OTEL_SERVICE_NAME"] = "support-bot"
    run = run_agent_subprocess(env)
    check_sample_phoenix(phoenix.spans(phoenix_project, run.trace_id, expect=len(EXPECTED)), run)
