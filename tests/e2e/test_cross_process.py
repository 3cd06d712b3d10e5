"""Across processes, verified in Phoenix: an agent calls a service on 127.0.0.1 with the W3C headers
``agentel.inject`` writes; the service (another python process with its own OTel SDK provider, which
agentel adopts, exporting to Phoenix over gRPC) extracts them with ``agentel.extract`` and its spans —
raw OTel and agentel — join the agent's trace. The agent exports over OTLP/HTTP.

Run as a script, this file is the service: it prints its URL on stdout and serves until stdin closes.
"""

from __future__ import annotations

import json
import select
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from _agent import assert_tree, clean_env, otlp_exporter, phoenix_records, serve_http
from _receivers import Phoenix
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

import agentel
from agentel import SpanType

SERVICE_NAME = "order-service"
CALL = "call order-service"


# --- the service (runs in its own process) -------------------------------------------------------


@agentel.trace(span_type=SpanType.TOOL)
def reserve_stock(order_id: int) -> dict[str, Any]:
    span = agentel.get_current_span()
    assert span is not None
    return {"order_id": order_id, "reserved": True, "span_id": span.span_id}


def serve() -> int:
    """The service: its own provider (OTLP exporter configured by OTEL_EXPORTER_OTLP_*), installed
    before agentel's first span; one endpoint per way of joining the caller's trace."""
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

    provider = TracerProvider(resource=Resource.create({"service.name": SERVICE_NAME}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    tracer = trace.get_tracer(SERVICE_NAME)
    client = agentel.TraceClient()

    def handle(path: str, headers: Mapping[str, str], body: bytes) -> Any:
        order_id = int(json.loads(body)["order_id"])
        context = agentel.extract(dict(headers))
        if path == "/attach":  # a handler attaching the extracted context
            with agentel.attach(context):
                with tracer.start_as_current_span("POST /attach", kind=trace.SpanKind.SERVER) as server:
                    result = reserve_stock(order_id)
            ids = {"POST /attach": format(server.get_span_context().span_id, "016x")}
        else:  # a client trace with the extracted context as its parent
            root = client.start_trace("order-job", parent=context, span_type=SpanType.AGENT)
            with agentel.use_span(root):
                result = reserve_stock(order_id)
            client.end_trace(root.request_id, outputs=result)
            ids = {"order-job": root.span_id}
        ids["reserve_stock"] = result["span_id"]
        assert provider.force_flush(60_000)
        return {"ids": ids, "destination": agentel.stats()["destination"]}

    with serve_http(handle) as url:
        print(url, flush=True)
        sys.stdin.read()  # serve until the test closes our stdin
    provider.shutdown()
    return 0


# --- the tests (the agent side) ------------------------------------------------------------------


@dataclass(frozen=True)
class Service:
    url: str
    project: str


@pytest.fixture(scope="module")
def order_service(phoenix: Phoenix, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """The service in a subprocess, exporting to Phoenix over gRPC, in a project of this module."""
    project = f"cross-process-{uuid.uuid4().hex[:8]}"
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": phoenix.grpc_endpoint,
        "OTEL_RESOURCE_ATTRIBUTES": f"openinference.project.name={project}",
    }
    log = tmp_path_factory.mktemp("order-service") / "stderr.log"
    with open(log, "w") as stderr:
        proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve())],
            env=clean_env(env),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 30)
        url = proc.stdout.readline().strip() if ready else ""
        if not url.startswith("http://127.0.0.1:"):
            pytest.fail(f"the service did not start (exit {proc.poll()}):\n{log.read_text()[-3000:]}")
        yield Service(url, project)
    finally:
        proc.stdin.close()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, log.read_text()[-3000:]


@agentel.trace(span_type=SpanType.AGENT)
def order_agent(url: str) -> Any:
    with agentel.start_span(CALL, span_type=SpanType.TOOL) as call:
        headers = agentel.inject({"Content-Type": "application/json"})
        with requests.Session() as session:
            session.trust_env = False  # loopback: never through a proxy
            response = session.post(url, data=json.dumps({"order_id": 42}), headers=headers, timeout=30)
        response.raise_for_status()
        reply: dict[str, Any] = response.json()
        reply["ids"].update({CALL: call.span_id})
    return reply


@pytest.mark.parametrize(
    "path,service_tree",
    [
        ("/attach", {"POST /attach": CALL, "reserve_stock": "POST /attach"}),
        ("/client", {"order-job": CALL, "reserve_stock": "order-job"}),
    ],
)
def test_service_spans_join_the_agent_trace(
    path: str,
    service_tree: dict[str, str],
    order_service: Service,
    phoenix: Phoenix,
    export_agentel: Callable[..., None],
) -> None:
    export_agentel(otlp_exporter("http/protobuf", phoenix.otlp_http_traces_url), project=order_service.project)
    reply = order_agent(order_service.url + path)
    trace_id = agentel.get_last_trace_id()
    assert trace_id is not None and agentel.force_flush(60_000)
    assert "application's global TracerProvider" in reply["destination"]  # agentel adopted the service's
    parents = {"order_agent": None, CALL: "order_agent", **service_tree}
    spans = phoenix.spans(order_service.project, trace_id, expect=len(parents))
    assert_tree(phoenix_records(spans), parents, trace_id, reply["ids"])
    kinds = {s["name"]: s["span_kind"] for s in spans}
    assert kinds["order_agent"] == "AGENT" and kinds["reserve_stock"] == "TOOL"


if __name__ == "__main__":
    sys.exit(serve())
