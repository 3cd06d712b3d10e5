"""Merging with the service's existing telemetry (in-memory exporters; Phoenix in tests/e2e).

agentel uses the application's SDK ``TracerProvider`` whether it was installed before importing
agentel or after agentel's first span (each span exported once, with the application's resource);
agentel spans nest under raw OTel spans and raw OTel spans under agentel spans, with the fluent API
and with ``TraceClient``; an OTel auto-instrumentation's HTTP client span nests under a traced step;
context crosses threads (``bind_context``, ``ContextThreadPoolExecutor``), asyncio tasks and W3C
headers (``inject``/``extract``/``attach``). Every test checks every span's trace id and parent.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import threading
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from opentelemetry import baggage, trace
from opentelemetry import context as otel_context
from opentelemetry.instrumentation.requests import RequestsInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import agentel
from agentel import SpanType

E2E_DIR = Path(__file__).parent / "e2e"
sys.path.insert(0, str(E2E_DIR))
from _agent import PARENTS, AgentRun, SpanRecord, assert_tree, run_agent, run_python, sdk_records, serve_http  # noqa: E402

APP_SERVICE = "checkout"
REQUEST = "GET /support"  # the application's own (raw OTel) server span around the agent
# The sample agent's tree under the application's request span.
PARENTS_UNDER_REQUEST: dict[str, str | None] = {**PARENTS, "support_agent": REQUEST, REQUEST: None}


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No OTEL_*/AGENTEL_* variables of the machine running the tests."""
    for name in [k for k in os.environ if k.startswith(("OTEL_", "AGENTEL_"))]:
        monkeypatch.delenv(name)


def install_app_provider() -> tuple[TracerProvider, InMemorySpanExporter]:
    """What an application does at startup: its own SDK provider, resource and exporter, global."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": APP_SERVICE}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return provider, exporter


@pytest.fixture
def app_exporter(fresh_runtime: None, clean_env: None) -> InMemorySpanExporter:
    """A pristine agentel, and the application's provider installed as the global one."""
    return install_app_provider()[1]


@pytest.fixture
def own_exporter(fresh_runtime: None, clean_env: None) -> InMemorySpanExporter:
    """A pristine agentel on its own provider (no global provider), exporting to memory."""
    exporter = InMemorySpanExporter()
    agentel.configure(exporters=[exporter], console=False)
    return exporter


def raw_tracer() -> trace.Tracer:
    """The application's own tracer (from the global provider)."""
    return trace.get_tracer("app.raw")


def records(exporter: InMemorySpanExporter) -> list[SpanRecord]:
    """The exported spans' ids, after flushing agentel (its own provider batches)."""
    assert agentel.force_flush(10_000)
    return sdk_records(exporter.get_finished_spans())


def assert_app_resource(spans: tuple[ReadableSpan, ...]) -> None:
    assert spans and {s.resource.attributes["service.name"] for s in spans} == {APP_SERVICE}


# --- the application's provider ------------------------------------------------------------------

_APP_FIRST = f"""
import json, sys
from dataclasses import asdict
sys.path.insert(0, {str(E2E_DIR)!r})
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

exporter = InMemorySpanExporter()
provider = TracerProvider(resource=Resource.create({{"service.name": {APP_SERVICE!r}}}))
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)
assert "agentel" not in sys.modules

import agentel
import _agent

with trace.get_tracer("app.raw").start_as_current_span({REQUEST!r}):
    run = _agent.run_agent()
agentel.force_flush()
spans = exporter.get_finished_spans()
print(json.dumps({{
    "run": asdict(run),
    "records": [asdict(r) for r in _agent.sdk_records(spans)],
    "services": sorted({{s.resource.attributes["service.name"] for s in spans}}),
    "global_provider_kept": trace.get_tracer_provider() is provider,
    "destination": agentel.stats()["destination"],
}}))
"""


def test_app_provider_installed_before_importing_agentel() -> None:
    """A fresh interpreter: the app installs its provider, then imports agentel and runs the agent.
    An OTLP endpoint in the environment must not make agentel export a second copy elsewhere."""
    out, err = run_python(["-c", _APP_FIRST], {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9"})
    result = json.loads(out.strip().splitlines()[-1])
    run = AgentRun(**result["run"])
    assert run.internal_errors == 0
    assert_tree([SpanRecord(**r) for r in result["records"]], PARENTS_UNDER_REQUEST, run.trace_id, run.span_ids)
    assert result["services"] == [APP_SERVICE]
    assert result["global_provider_kept"] is True
    assert "application's global TracerProvider" in result["destination"]
    assert err == ""  # nothing tried to reach the OTLP endpoint of the environment


@agentel.trace
def warm_up() -> str:
    return "ok"


def test_app_provider_installed_after_agentels_first_span_is_refused_by_otel(
    fresh_runtime: None, clean_env: None, caplog: pytest.LogCaptureFixture
) -> None:
    """Default: agentel's provider became the global one at its first span; OTel keeps the first global
    provider, so the application's later one is refused and everything stays in agentel's pipeline."""
    own = InMemorySpanExporter()
    agentel.configure(exporters=[own], console=False)
    warm_up()  # agentel builds its own provider and installs it globally
    own_provider = trace.get_tracer_provider()
    assert own_provider is agentel.get_tracer_provider()
    provider, app = install_app_provider()
    assert trace.get_tracer_provider() is own_provider
    with raw_tracer().start_as_current_span(REQUEST):
        run = run_agent()
    assert_tree(
        [r for r in records(own) if r.name != "warm_up"], PARENTS_UNDER_REQUEST, run.trace_id, run.span_ids
    )
    assert app.get_finished_spans() == ()
    messages = [r.getMessage() for r in caplog.records if r.name == "agentel"]
    assert sum("installed after agentel's first span" in m for m in messages) == 1
    assert "installed after agentel's first span" in str(agentel.doctor())
    provider.shutdown()


def test_app_provider_installed_after_agentels_first_span_when_not_global(
    fresh_runtime: None, clean_env: None
) -> None:
    """With AGENTEL_SET_GLOBAL_PROVIDER=false agentel's provider stays private, and the application's
    provider installed later takes every span started afterwards."""
    own = InMemorySpanExporter()
    agentel.configure(exporters=[own], console=False, set_global=False)
    warm_up()  # agentel builds its own provider
    provider, app = install_app_provider()
    with raw_tracer().start_as_current_span(REQUEST):
        run = run_agent()
    agentel.shutdown()  # flushes the application's provider and shuts agentel's own down
    # the exporter given to configure() follows to the application's provider (see README)
    own_records = sdk_records(own.get_finished_spans())
    assert_tree([r for r in own_records if r.name == "warm_up"], {"warm_up": None})
    assert_tree([r for r in own_records if r.name != "warm_up"], PARENTS_UNDER_REQUEST, run.trace_id, run.span_ids)
    assert_tree(sdk_records(app.get_finished_spans()), PARENTS_UNDER_REQUEST, run.trace_id, run.span_ids)
    assert_app_resource(app.get_finished_spans())
    assert trace.get_tracer_provider() is provider
    raw_tracer().start_span("after agentel.shutdown").end()  # the app's provider was not shut down
    assert app.get_finished_spans()[-1].name == "after agentel.shutdown"


def test_the_applications_sampling_decision_is_kept(app_exporter: InMemorySpanExporter) -> None:
    """An incoming request the caller did not sample (flags 00): agentel spans under it (fluent and
    client) are not recorded, and the decision travels on in the headers agentel injects."""
    errors = agentel.stats()["internal_errors"]
    incoming = {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"}
    client = agentel.TraceClient()
    with agentel.attach(agentel.extract(incoming)):
        assert handle("hi") == "HI"
        root = client.start_trace("job")
        with agentel.use_span(root):
            outgoing = agentel.inject({})
        client.end_trace(root.request_id)
    assert outgoing["traceparent"].startswith("00-0af7651916cd43dd8448eb211c80319c-")
    assert outgoing["traceparent"].endswith("-00")
    assert records(app_exporter) == []
    assert agentel.stats()["internal_errors"] == errors


# --- agentel and raw OTel spans nest both ways ---------------------------------------------------


@agentel.trace(span_type=SpanType.TOOL)
def answer_tool(question: str) -> str:
    return question.upper()


@agentel.trace(span_type=SpanType.AGENT)
def handle(question: str) -> str:
    with raw_tracer().start_as_current_span("db.query"):  # raw under agentel
        with agentel.start_span("parse", span_type=SpanType.PARSER) as parse:  # agentel under raw
            parse.set_outputs(question.split())
    return answer_tool(question)


def test_fluent_spans_nest_both_ways_with_raw_spans(app_exporter: InMemorySpanExporter) -> None:
    with raw_tracer().start_as_current_span("POST /chat") as request:
        handle("hi there")
    assert_tree(
        records(app_exporter),
        {
            "POST /chat": None,
            "handle": "POST /chat",
            "db.query": "handle",
            "parse": "db.query",
            "answer_tool": "handle",
        },
        trace_id=format(request.get_span_context().trace_id, "032x"),
    )
    types = {s.name: (s.attributes or {}).get("agentel.span.type") for s in app_exporter.get_finished_spans()}
    assert types == {"POST /chat": None, "handle": "AGENT", "db.query": None, "parse": "PARSER", "answer_tool": "TOOL"}
    assert_app_resource(app_exporter.get_finished_spans())


def test_client_spans_nest_both_ways_with_raw_spans(app_exporter: InMemorySpanExporter) -> None:
    client = agentel.TraceClient()
    with raw_tracer().start_as_current_span("POST /chat") as request:
        root = client.start_trace("chat-run", span_type=SpanType.AGENT)  # joins the active raw span
    tool = client.start_span("tool", request_id=root.request_id, parent_id=root.span_id, span_type=SpanType.TOOL)
    with agentel.use_span(tool):  # from a callback: make the client span current
        with raw_tracer().start_as_current_span("db.query"):
            answer_tool("q")
    raw_tracer().start_span("cache.get", context=trace.set_span_in_context(tool.otel_span)).end()
    client.end_span(root.request_id, tool.span_id)
    client.end_trace(root.request_id)
    trace_id = format(request.get_span_context().trace_id, "032x")
    assert root.request_id == trace_id
    assert_tree(
        records(app_exporter),
        {
            "POST /chat": None,
            "chat-run": "POST /chat",
            "tool": "chat-run",
            "db.query": "tool",
            "answer_tool": "db.query",
            "cache.get": "tool",
        },
        trace_id,
        {"chat-run": root.span_id, "tool": tool.span_id},
    )


@pytest.mark.parametrize("form", ["span", "live_span", "traceparent", "extracted_context"])
def test_client_trace_with_an_explicit_parent(form: str, app_exporter: InMemorySpanExporter) -> None:
    with raw_tracer().start_as_current_span("upstream") as upstream:
        headers = agentel.inject({})
        current = agentel.get_current_span()
    assert current is not None
    parent: Any = {
        "span": upstream,
        "live_span": current,
        "traceparent": headers["traceparent"],
        "extracted_context": agentel.extract(headers),
    }[form]
    client = agentel.TraceClient()
    root = client.start_trace("job", parent=parent)
    client.end_trace(root.request_id)
    assert_tree(
        records(app_exporter),
        {"upstream": None, "job": "upstream"},
        format(upstream.get_span_context().trace_id, "032x"),
    )


# --- an OTel auto-instrumentation inside a traced step ---------------------------------------------


@pytest.fixture
def requests_instrumented() -> Iterator[None]:
    instrumentor = RequestsInstrumentor()
    instrumentor.instrument()
    try:
        yield
    finally:
        instrumentor.uninstrument()


@agentel.trace(span_type=SpanType.TOOL)
def fetch_order(url: str) -> Any:
    with requests.Session() as session:
        session.trust_env = False  # never through a proxy: the server is on loopback
        return session.get(f"{url}/orders/42", timeout=10).json()


@agentel.trace(span_type=SpanType.AGENT)
def order_agent(url: str) -> Any:
    return fetch_order(url)


@pytest.mark.parametrize("provider", ["application", "agentel_global"])
def test_requests_instrumentation_nests_under_the_step(
    provider: str, fresh_runtime: None, clean_env: None, request: pytest.FixtureRequest
) -> None:
    if provider == "application":
        exporter = install_app_provider()[1]
    else:  # agentel's own provider, installed as the global one for other instrumentations
        exporter = InMemorySpanExporter()
        agentel.configure(exporters=[exporter], console=False, set_global=True)
    request.getfixturevalue("requests_instrumented")
    seen: list[Mapping[str, str]] = []

    def handle_request(path: str, headers: Mapping[str, str], body: bytes) -> Any:
        seen.append({k.lower(): v for k, v in headers.items()})
        return {"order": 42}

    with serve_http(handle_request) as url:
        assert order_agent(url) == {"order": 42}
    tree = assert_tree(records(exporter), {"order_agent": None, "fetch_order": "order_agent", "GET": "fetch_order"})
    http = next(s for s in exporter.get_finished_spans() if s.name == "GET")
    assert http.kind is trace.SpanKind.CLIENT
    assert http.attributes is not None and http.attributes["http.status_code"] == 200
    assert str(http.attributes["http.url"]).endswith("/orders/42")
    # the instrumentation propagated the HTTP client span's context to the server
    assert [h["traceparent"][:-3] for h in seen] == [f"00-{tree['GET'].trace_id}-{tree['GET'].span_id}"]


# --- threads, executors, asyncio ------------------------------------------------------------------


def work(index: int) -> str:
    """A unit of work with its own span (unique name); returns the span id."""
    with agentel.start_span(f"work-{index}", span_type=SpanType.TOOL) as span:
        return span.span_id


def _fan_out_tree(names: list[str]) -> dict[str, str | None]:
    return {"fan-out": None, **dict.fromkeys(names, "fan-out")}


def test_bind_context_into_threading_thread(own_exporter: InMemorySpanExporter) -> None:
    with agentel.start_span("fan-out") as parent:
        threads = [threading.Thread(target=agentel.bind_context(work), args=(i,)) for i in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert_tree(records(own_exporter), _fan_out_tree([f"work-{i}" for i in range(3)]), parent.trace_id)


def test_context_thread_pool_executor_submit_and_map(own_exporter: InMemorySpanExporter) -> None:
    with agentel.start_span("fan-out") as parent:
        with agentel.ContextThreadPoolExecutor(max_workers=2) as pool:
            submitted = [pool.submit(work, i) for i in range(3)]
            mapped = list(pool.map(work, range(3, 5)))
    ids = {f"work-{i}": f.result() for i, f in enumerate(submitted)} | {"work-3": mapped[0], "work-4": mapped[1]}
    assert_tree(records(own_exporter), _fan_out_tree(list(ids)), parent.trace_id, ids)


def test_plain_executor_with_bind_context(own_exporter: InMemorySpanExporter) -> None:
    with agentel.start_span("fan-out") as parent:
        with ThreadPoolExecutor(max_workers=2) as pool:
            futures = [pool.submit(agentel.bind_context(work), i) for i in range(3)]
    ids = {f"work-{i}": f.result() for i, f in enumerate(futures)}
    assert_tree(records(own_exporter), _fan_out_tree(list(ids)), parent.trace_id, ids)


@agentel.trace(span_type=SpanType.LLM)
def stream_tokens(count: int) -> Iterator[str]:
    for index in range(count):
        yield f"token-{index}"


def test_generator_consumed_on_another_thread_keeps_its_creation_parent(own_exporter: InMemorySpanExporter) -> None:
    with agentel.start_span("fan-out") as parent:
        tokens = stream_tokens(3)  # created here, consumed on a pool thread without any binding
        with ThreadPoolExecutor(max_workers=1) as pool:
            assert pool.submit(list, tokens).result() == ["token-0", "token-1", "token-2"]
    assert_tree(records(own_exporter), {"fan-out": None, "stream_tokens": "fan-out"}, parent.trace_id)


def test_plain_executor_without_binding_loses_the_parent(own_exporter: InMemorySpanExporter) -> None:
    """The control: without the helper, work on a pool thread starts a trace of its own."""
    with agentel.start_span("fan-out") as parent:
        with ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(work, 0).result()
    by_name = {r.name: r for r in records(own_exporter)}
    assert set(by_name) == {"fan-out", "work-0"}
    assert by_name["fan-out"].parent_id is None and by_name["fan-out"].trace_id == parent.trace_id
    assert by_name["work-0"].parent_id is None and by_name["work-0"].trace_id != parent.trace_id


async def awork(name: str) -> str:
    async with agentel.start_span(name, span_type=SpanType.TOOL) as span:
        await asyncio.sleep(0.001)  # let the other tasks run in between
        return span.span_id


async def alookup() -> str:
    await asyncio.sleep(0.001)
    return "found"


async def orchestrate(tag: str, index: int) -> None:
    async with agentel.start_span(f"orchestrate-{tag}", span_type=SpanType.AGENT):
        traced_lookup = agentel.trace(name=f"{tag}-lookup", span_type=SpanType.TOOL)(alookup)
        await asyncio.gather(awork(f"{tag}-gather"), traced_lookup())
        await asyncio.create_task(awork(f"{tag}-task"))
        await asyncio.to_thread(work, index)  # to_thread copies the context
        await asyncio.get_running_loop().run_in_executor(None, agentel.bind_context(work), index + 1)


async def test_asyncio_tasks_inherit_the_context(own_exporter: InMemorySpanExporter) -> None:
    async with agentel.start_span("requests") as parent:
        await asyncio.gather(orchestrate("a", 10), orchestrate("b", 20))  # interleaved on one loop
    expected: dict[str, str | None] = {"requests": None}
    for tag, index in (("a", 10), ("b", 20)):
        expected[f"orchestrate-{tag}"] = "requests"
        for child in (f"{tag}-gather", f"{tag}-lookup", f"{tag}-task", f"work-{index}", f"work-{index + 1}"):
            expected[child] = f"orchestrate-{tag}"
    assert_tree(records(own_exporter), expected, parent.trace_id)


# --- W3C headers in one process (the cross-process test is tests/e2e/test_cross_process.py) ----


@agentel.trace(span_type=SpanType.CHAIN)
def handle_incoming() -> str | None:
    return baggage.get_baggage("tenant")  # type: ignore[return-value]


def test_inject_extract_attach_round_trip(own_exporter: InMemorySpanExporter) -> None:
    token = otel_context.attach(baggage.set_baggage("tenant", "acme"))
    try:
        with agentel.start_span("client-call") as call:
            headers = agentel.inject({})
    finally:
        otel_context.detach(token)
    flags = call.otel_span.get_span_context().trace_flags
    assert flags.sampled
    assert headers["traceparent"] == f"00-{call.trace_id}-{call.span_id}-{flags:02x}"
    assert headers["baggage"] == "tenant=acme"
    with agentel.attach(agentel.extract(dict(headers))):
        assert handle_incoming() == "acme"
    assert agentel.get_current_span() is None  # attach ended with its block
    assert_tree(records(own_exporter), {"client-call": None, "handle_incoming": "client-call"}, call.trace_id)


def test_extract_reads_header_names_case_insensitively() -> None:
    from opentelemetry import trace as otel_trace

    import agentel

    context = agentel.extract({"Traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"})
    span_context = otel_trace.get_current_span(context).get_span_context()
    assert format(span_context.trace_id, "032x") == "0af7651916cd43dd8448eb211c80319c"
