"""Fixtures for the end-to-end tests: real OTLP receivers on 127.0.0.1 (see _receivers.py).

A receiver that is not installed or fails to start FAILS the tests that need it (with its log
tail); nothing here skips. Install the receivers first with ``scripts/backends/install``.
"""

from __future__ import annotations

import os
import re
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from opentelemetry.sdk.trace.export import SpanExporter

import agentel

sys.path.insert(0, str(Path(__file__).parent))
from _receivers import MlflowServer, Phoenix, Receiver, ReceiverError, Rotel

_HERE = Path(__file__).parent
R = TypeVar("R", bound=Receiver)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test under tests/e2e with `e2e`."""
    for item in items:
        if _HERE in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.e2e)


def _start(receiver: R) -> R:
    """Start a receiver or fail (never skip) with its log tail."""
    try:
        return receiver.start()
    except ReceiverError as exc:
        message = str(exc)
    pytest.fail(message, pytrace=False)


@pytest.fixture(scope="session")
def phoenix() -> Iterator[Phoenix]:
    """Arize Phoenix for the whole session: .http_url, .grpc_endpoint, .otlp_http_traces_url,
    .spans(project, trace_id, expect=None, timeout=10.0)."""
    receiver = _start(Phoenix())
    yield receiver
    receiver.stop()


@pytest.fixture(scope="session")
def mlflow_server() -> Iterator[MlflowServer]:
    """MLflow tracking server for the whole session: .url, .otlp_http_traces_url, .headers,
    .get_trace(trace_id_hex, expect_spans=None, timeout=15.0)."""
    receiver = _start(MlflowServer())
    yield receiver
    receiver.stop()


@pytest.fixture
def rotel() -> Iterator[Callable[..., Rotel]]:
    """Factory: ``rotel(exporter="otlp", endpoint=..., protocol="http", headers={...})`` or
    ``rotel()`` (blackhole) starts a Rotel collector; all are stopped after the test."""
    started: list[Rotel] = []

    def start(**kwargs: Any) -> Rotel:
        receiver = Rotel(**kwargs)
        started.append(receiver)
        return _start(receiver)

    yield start
    for receiver in started:
        receiver.stop()


@pytest.fixture
def phoenix_project(request: pytest.FixtureRequest) -> str:
    """A Phoenix project name unique to this test (set it as resource `openinference.project.name`)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name)[:60] + "-" + uuid.uuid4().hex[:8]


@pytest.fixture
def export_agentel(fresh_runtime: None, monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Point a pristine agentel at one exporter: ``export_agentel(exporter, project=None,
    semconv=None)``; `project` becomes the resource attribute `openinference.project.name` (via
    OTEL_RESOURCE_ATTRIBUTES, read when agentel builds its provider on the first span)."""
    for name in [k for k in os.environ if k.startswith(("OTEL_", "AGENTEL_"))]:
        monkeypatch.delenv(name)

    def configure(exporter: SpanExporter, project: str | None = None, semconv: str | None = None) -> None:
        if project is not None:
            monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", f"openinference.project.name={project}")
        agentel.configure(exporters=[exporter], console=False, semconv=semconv)

    return configure
