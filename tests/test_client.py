"""TraceClient: explicit ids from any thread, misuse errors, end_trace, TTL and capacity, use_span."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Iterator

import pytest
from opentelemetry import trace as otel_trace

import agentel
import agentel.testing
from agentel import TraceClient
from agentel._tracing.registry import REGISTRY, close_trace
from agentel.testing import SpanCapture


@pytest.fixture
def client() -> Iterator[TraceClient]:
    yield TraceClient()
    with REGISTRY.lock:  # nothing leaks into the next test
        leftovers = list(REGISTRY.traces.values())
        REGISTRY.traces.clear()
    for record in leftovers:
        close_trace(record, None, "test teardown")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_source_document_flow(captured_spans: SpanCapture, client: TraceClient) -> None:
    root = client.start_trace(name="simple-rag-agent", inputs={"query": "Demo", "model_name": "DBRX"})
    request_id = root.request_id
    span_ss = client.start_span(
        "search", request_id=request_id, parent_id=root.span_id, inputs=dict(query_text="demo", num_results=3)
    )
    client.end_span(request_id, span_id=span_ss.span_id, outputs=["Test Result"])
    client.end_trace(request_id, outputs={"output": ["Test Result"]})
    captured_spans.assert_tree(
        """
        simple-rag-agent [CHAIN]
          search [UNKNOWN]
        """
    )
    search = captured_spans.find("search")
    rag = captured_spans.find("simple-rag-agent")
    assert search.inputs == {"query_text": "demo", "num_results": 3}
    assert search.outputs == ["Test Result"]
    assert search.status_code == "OK"
    assert rag.outputs == {"output": ["Test Result"]}
    assert rag.trace_id == request_id == root.trace_id


def test_ids_accept_tr_prefix_and_upper_case(captured_spans: SpanCapture, client: TraceClient) -> None:
    root = client.start_trace("t")
    child = client.start_span("c", request_id="tr-" + root.request_id.upper(), parent_id=root.span_id.upper())
    client.end_span(trace_id="TR-" + root.trace_id, span_id="0x" + child.span_id, status=agentel.SpanStatusCode.ERROR)
    client.end_trace(trace_id=root.trace_id, status=agentel.SpanStatus("ERROR", "failed run"))
    assert captured_spans.find("c").status_code == "ERROR"
    assert captured_spans.find("t").status_description == "failed run"


def test_misuse_errors_are_typed_and_say_what_to_do(client: TraceClient) -> None:
    root = client.start_trace("t")
    child = client.start_span("c", root.request_id)
    unknown_trace = "ab" * 16
    with pytest.raises(agentel.TraceNotFoundError, match=f"no open trace with request id {unknown_trace}") as err:
        client.start_span("x", request_id=unknown_trace)
    assert isinstance(err.value, KeyError) and isinstance(err.value, agentel.AgentelError)
    with pytest.raises(agentel.SpanNotFoundError, match="no span 00000000000000aa"):
        client.start_span("x", root.request_id, parent_id="00000000000000aa")
    with pytest.raises(agentel.SpanNotFoundError, match="no open span"):
        client.end_span(root.request_id, "00000000000000aa")
    with pytest.raises(agentel.InvalidIdError, match="32 hex digits") as bad:
        client.end_trace("not-an-id")
    assert isinstance(bad.value, ValueError)
    with pytest.raises(agentel.InvalidIdError, match="16 hex digits"):
        client.end_span(root.request_id, "xyz")
    with pytest.raises(agentel.InvalidIdError, match="request_id"):
        client.start_span("x")
    with pytest.raises(agentel.InvalidStatusError):
        client.end_span(root.request_id, child.span_id, status="FINE")
    client.end_span(root.request_id, child.span_id)
    with pytest.raises(agentel.SpanAlreadyEndedError, match="already ended"):
        client.end_span(root.request_id, child.span_id)
    with pytest.raises(agentel.SpanAlreadyEndedError, match="end_trace"):
        client.end_span(root.request_id, root.span_id)
    other = client.start_trace("other", new_trace=True)
    with pytest.raises(agentel.ParentMismatchError, match="belongs to trace"):
        client.start_span("x", root.request_id, parent_id=other.span_id)
    client.end_trace(root.request_id)
    with pytest.raises(agentel.TraceNotFoundError):
        client.end_trace(root.request_id)
    client.end_trace(other.request_id)


def test_child_of_an_already_ended_span_is_allowed(captured_spans: SpanCapture, client: TraceClient) -> None:
    root = client.start_trace("t")
    first = client.start_span("first", root.request_id)
    client.end_span(root.request_id, first.span_id)
    late = client.start_span("late", root.request_id, parent_id=first.span_id)
    client.end_span(root.request_id, late.span_id)
    client.end_trace(root.request_id)
    assert captured_spans.find("late").parent_id == first.span_id


def test_end_trace_ends_open_children_marks_them_and_warns_once(
    captured_spans: SpanCapture, client: TraceClient, caplog: pytest.LogCaptureFixture
) -> None:
    root = client.start_trace("t")
    a = client.start_span("a", root.request_id)
    client.start_span("b", root.request_id, parent_id=a.span_id)
    client.end_trace(root.request_id)
    for name in ("a", "b"):
        assert captured_spans.find(name).attributes["agentel.ended_by"] == "end_trace"
    warnings = [r for r in caplog.records if "still open" in r.getMessage()]
    assert len(warnings) == 1 and "ended 2 span(s)" in warnings[0].getMessage()
    ended = [s.name for s in captured_spans.spans]
    assert ended.index("b") < ended.index("a") < ended.index("t")  # children first


def test_tags_are_written_on_the_root(captured_spans: SpanCapture, client: TraceClient) -> None:
    root = client.start_trace("t", tags={"team": "search"})
    client.set_trace_tag(root.request_id, "env", "prod")
    client.set_trace_tag(root.request_id, "tmp", "x")
    client.delete_trace_tag(root.request_id, "tmp")
    with pytest.raises(KeyError):
        client.delete_trace_tag(root.request_id, "missing")
    client.end_trace(root.request_id)
    attributes = captured_spans.find("t").attributes
    assert attributes["agentel.tag.team"] == "search"
    assert attributes["agentel.tag.env"] == "prod"
    assert "agentel.tag.tmp" not in attributes
    assert set(attributes["tag.tags"]) == {"team=search", "env=prod"}


def test_start_trace_joins_the_active_span(captured_spans: SpanCapture, client: TraceClient) -> None:
    tracer = otel_trace.get_tracer("service")
    with tracer.start_as_current_span("http request") as request_span:
        root = client.start_trace("agent")
        client.end_trace(root.request_id)
        fresh = client.start_trace("separate", new_trace=True)
        client.end_trace(fresh.request_id)
    service_trace = format(request_span.get_span_context().trace_id, "032x")
    assert root.trace_id == service_trace
    assert root.parent_id == format(request_span.get_span_context().span_id, "016x")
    assert fresh.trace_id != service_trace and fresh.parent_id is None


def test_request_ids_stay_unique_with_a_link_to_the_active_span(
    captured_spans: SpanCapture, client: TraceClient
) -> None:
    tracer = otel_trace.get_tracer("service")
    with tracer.start_as_current_span("http request") as request_span:
        first = client.start_trace("first")
        second = client.start_trace("second")  # the service trace is held by "first"
    assert first.request_id != second.request_id
    client.end_trace(second.request_id)
    client.end_trace(first.request_id)
    links = captured_spans.find("second").otel.links
    assert [link.context.span_id for link in links] == [request_span.get_span_context().span_id]


def test_traceparent_and_span_parents(captured_spans: SpanCapture, client: TraceClient) -> None:
    traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    root = client.start_trace("remote-child", parent=traceparent)
    assert root.trace_id == "0af7651916cd43dd8448eb211c80319c"
    assert root.parent_id == "b7ad6b7169203331"
    client.end_trace(root.request_id)
    with agentel.start_span("fluent") as fluent:
        pass
    child_of_live = client.start_trace("under-live", parent=fluent)
    assert child_of_live.parent_id == fluent.span_id
    client.end_trace(child_of_live.request_id)
    with pytest.raises(agentel.InvalidIdError, match="traceparent"):
        client.start_trace("bad", parent="00-zz")


def test_use_span_nests_fluent_and_raw_otel_spans(captured_spans: SpanCapture, client: TraceClient) -> None:
    root = client.start_trace("agent")
    step = client.start_span("callback-step", root.request_id)

    @agentel.trace
    def tool() -> str:
        return "ok"

    def callback() -> None:
        with agentel.use_span(client.get_span(root.request_id, step.span_id)):
            tool()
            with otel_trace.get_tracer("lib").start_as_current_span("raw"):
                pass

    thread = threading.Thread(target=callback)
    thread.start()
    thread.join()
    client.end_span(root.request_id, step.span_id)
    client.end_trace(root.request_id)
    tool_span = captured_spans.spans[0]
    assert tool_span.name.endswith("tool")
    assert tool_span.parent_id == step.span_id
    assert captured_spans.find("raw").parent_id == step.span_id
    assert agentel.get_current_span() is None


def test_32_threads_start_and_end_spans_on_other_threads(captured_spans: SpanCapture, client: TraceClient) -> None:
    roots = [client.start_trace(f"trace-{i}") for i in range(32)]
    expected_parent: dict[str, str] = {}
    lock = threading.Lock()

    def start(root: agentel.LiveSpan) -> list[tuple[str, str]]:
        made = []
        for j in range(20):
            parent = root.span_id if j % 2 == 0 else made[-1][1]
            span = client.start_span(f"s{j}", root.request_id, parent_id=parent)
            with lock:
                expected_parent[span.span_id] = parent
            made.append((root.request_id, span.span_id))
        return made

    with ThreadPoolExecutor(32) as pool:
        started = [pair for made in pool.map(start, roots) for pair in made]
    started.reverse()  # ended by other threads, in another order
    with ThreadPoolExecutor(32) as pool:
        list(pool.map(lambda pair: client.end_span(pair[0], pair[1]), started))
    for root in roots:
        client.end_trace(root.request_id)
    spans = captured_spans.spans
    assert len(spans) == 32 * 21
    by_trace = {root.request_id: root for root in roots}
    for span in spans:
        assert span.trace_id in by_trace
        if span.parent_id is not None and span.span_id in expected_parent:
            assert span.parent_id == expected_parent[span.span_id]
        assert "agentel.ended_by" not in span.attributes


def test_abandoned_traces_end_after_ttl_with_injected_clock(
    captured_spans: SpanCapture,
) -> None:
    clock = FakeClock()
    client = TraceClient(clock=clock)
    agentel.testing.reset(provider=False, trace_ttl_seconds=60, max_open_traces=3)  # the capture restores
    old = client.start_trace("abandoned")
    client.start_span("open-child", old.request_id)
    clock.now += 61
    young = client.start_trace("young")  # sweeps
    abandoned = captured_spans.find("abandoned")
    assert abandoned.status_code == "ERROR"
    assert "AGENTEL_TRACE_TTL_SECONDS=60s" in (abandoned.status_description or "")
    assert captured_spans.find("open-child").attributes["agentel.ended_by"] == "ttl_or_capacity"
    with pytest.raises(agentel.TraceNotFoundError):
        client.end_trace(old.request_id)
    others = [client.start_trace(f"t{i}", new_trace=True) for i in range(3)]
    last = client.start_trace("one-more", new_trace=True)  # 5 open > 3: the two oldest are evicted
    evicted = captured_spans.find("young")
    assert "AGENTEL_MAX_OPEN_TRACES=3" in (evicted.status_description or "")
    assert captured_spans.find("t0").status_code == "ERROR"
    for still_open in (*others[1:], last):
        client.end_trace(still_open.request_id)


def test_disabled_client_calls_are_harmless(captured_spans: SpanCapture, client: TraceClient) -> None:
    agentel.configure(enabled=False)
    try:
        root = client.start_trace("t")
        child = client.start_span("c", root.request_id, parent_id=root.span_id)
        client.end_span(root.request_id, child.span_id)
        client.end_trace(root.request_id, outputs="x")
    finally:
        agentel.configure(enabled=True)
    assert len(captured_spans) == 0


def test_client_spans_carry_span_type_conventions(captured_spans: SpanCapture, client: TraceClient) -> None:
    root = client.start_trace("agent", span_type=agentel.SpanType.AGENT, attributes={"k": [1, 2]})
    llm = client.start_span("llm", root.request_id, span_type=agentel.SpanType.CHAT_MODEL)
    client.end_span(root.request_id, llm.span_id, attributes={"model": "m"})
    client.end_trace(root.request_id)
    llm_span: Any = captured_spans.find("llm")
    assert llm_span.kind == "CLIENT"
    assert llm_span.attributes["gen_ai.operation.name"] == "chat"
    assert llm_span.attributes["model"] == "m"
    assert captured_spans.find("agent").attributes["k"] == (1, 2)


def test_abandoned_traces_are_also_swept_by_span_calls(
    captured_spans: SpanCapture,
) -> None:
    clock = FakeClock()
    client = TraceClient(clock=clock)
    agentel.testing.reset(provider=False, trace_ttl_seconds=60)  # the capture restores
    abandoned = client.start_trace("abandoned")
    clock.now += 30
    live = client.start_trace("live", new_trace=True)
    clock.now += 31  # "abandoned" is now 61 s old, "live" 31 s
    child = client.start_span("child", live.request_id)  # no start_trace needed for the sweep
    assert captured_spans.find("abandoned").status_code == "ERROR"
    client.end_span(live.request_id, child.span_id)
    client.end_trace(live.request_id)
    assert captured_spans.find("live").status_code == "OK"
    assert abandoned.request_id != live.request_id
