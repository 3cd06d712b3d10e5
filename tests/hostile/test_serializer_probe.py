"""Recording a value never touches it beyond what it defines itself, and costs what the budget allows,
not what the value weighs (issue 12, items 3 and 22)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from xmlrpc.server import SimpleXMLRPCRequestHandler, SimpleXMLRPCServer

import pytest
from _program import run_all

MOCKS = """
    from unittest import mock
    import agentel

    class Model:                       # what the mocks stand in for: it has the methods agentel looks for
        def model_dump(self): return {}
        def to_dict(self): return {}

    plain, spec = mock.MagicMock(), mock.MagicMock(spec=Model)
    callable_mock, non_callable = mock.Mock(), mock.NonCallableMagicMock()
    mocks = [plain, spec, callable_mock, non_callable]

    @agentel.trace
    def tool(client, *others):
        return client

    @agentel.trace(span_type="CHAT_MODEL")   # a model call: agentel reads the response's shape
    def chat(client):
        return client

    async def agen():
        yield plain
    @agentel.trace(span_type="LLM")
    def stream():
        yield plain
        yield spec

    tool(plain, spec, callable_mock, non_callable)
    for m in mocks:
        chat(m)
    list(stream())
    with agentel.start_span("manual", span_type="CHAT_MODEL") as span:
        span.set_inputs({"client": plain})
        span.set_outputs(spec)
        span.set_attribute("client", callable_mock)
    calls = {name: [str(c) for c in m.mock_calls] for name, m in zip(["plain", "spec", "callable", "nc"], mocks)}
    spec.model_dump.assert_not_called()   # the program's own assertion holds
    plain.assert_not_called()
    report(calls=calls, children=sorted(plain._mock_children))
"""


def test_mocks_are_opaque_no_call_is_recorded() -> None:
    (out,) = run_all([{"source": MOCKS}])
    assert out.returncode == 0, out.explain()
    assert out.result["calls"] == {"plain": [], "spec": [], "callable": [], "nc": []}
    assert out.result["children"] == []  # not even an attribute was invented on the mock
    inputs = next(s for s in out.spans() if s.name == "tool").attributes["input.value"]
    assert "MagicMock" in inputs  # recorded by its repr


class _CountingHandler(SimpleXMLRPCRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self.server.requests += 1  # type: ignore[attr-defined]
        super().do_POST()


@pytest.fixture
def rpc_server() -> Iterator[SimpleXMLRPCServer]:
    server = SimpleXMLRPCServer(("127.0.0.1", 0), requestHandler=_CountingHandler, logRequests=False)
    server.requests = 0  # type: ignore[attr-defined]
    server.register_function(lambda a, b: a + b, "add")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


PROXIES = """
    import sys, time, xmlrpc.client
    import agentel

    class Lazy:                          # a lazy remote object: every unknown attribute is a slow fetch
        fetched = []
        def __getattr__(self, name):
            Lazy.fetched.append(name)
            time.sleep(2)
            return lambda *a, **k: {"fetched": name}

    proxy = xmlrpc.client.ServerProxy(sys.argv[1])

    @agentel.trace
    def use(server, lazy):
        return server.add(2, 3)          # the one request the program makes

    @agentel.trace(span_type="LLM")
    def respond(lazy):
        return lazy

    t0 = time.perf_counter()
    result = use(proxy, Lazy())
    respond(Lazy())
    respond(proxy)
    report(result=result, fetched=Lazy.fetched, seconds=time.perf_counter() - t0)
"""


def test_rpc_proxies_and_lazy_objects_are_never_probed(rpc_server: SimpleXMLRPCServer) -> None:
    url = f"http://127.0.0.1:{rpc_server.server_address[1]}/"
    (out,) = run_all([{"source": PROXIES, "args": [url]}])
    assert out.returncode == 0, out.explain()
    assert out.result["result"] == 5
    assert rpc_server.requests == 1  # type: ignore[attr-defined]  # only the program's own call
    assert out.result["fetched"] == []
    assert out.result["seconds"] < 1.5  # no 2 s fetch was triggered
    assert sorted(out.names()) == ["respond", "respond", "use"]


LARGE = """
    import json, time, agentel

    @agentel.trace
    def consume(data):
        return len(data) if hasattr(data, "__len__") else 0

    def plain(data):
        return len(data) if hasattr(data, "__len__") else 0

    values = {
        "ints": list(range(5_000_000)),
        "string": "x" * 50_000_000,
        "dict": {str(i): i for i in range(1_000_000)},
        "nested": [[i] * 50 for i in range(100_000)],
        "tuple_of_floats": tuple(float(i) for i in range(2_000_000)),
    }
    consume([1])                         # the first span builds the provider: not part of the figure
    figures = {}
    for name, value in values.items():
        base = peak_rss_kb()
        t0 = time.perf_counter(); plain(value); plain_s = time.perf_counter() - t0
        t0 = time.perf_counter(); consume(value); traced_s = time.perf_counter() - t0
        figures[name] = {"extra_s": traced_s - plain_s, "peak_rss_growth_kb": peak_rss_kb() - base}
    agentel.force_flush()
    report(figures=figures)
"""


def test_a_huge_input_costs_what_its_budget_allows() -> None:
    (out,) = run_all([{"source": LARGE, "timeout": 120}])
    assert out.returncode == 0, out.explain()
    figures = out.result["figures"]
    for name, figure in figures.items():
        # before: +1.3 s and +321 MB for 5 M ints (the whole list converted, then cut to 8 KB)
        assert figure["extra_s"] < 0.25, (name, figure)
        assert figure["peak_rss_growth_kb"] < 16_000, (name, figure)
    spans = [span for span in out.spans() if span.attributes["input.value"] != '{"data": [1]}']
    assert len(spans) == len(figures)
    for span in spans:
        payload = span.attributes["input.value"]
        assert len(payload.encode()) <= 8192
        assert "…" in payload  # says that it was cut
    worst = max(f["extra_s"] for f in figures.values())
    print(f"\n  huge inputs (5 M ints, 50 MB str, 1 M-key dict, ...): worst +{worst * 1000:.0f} ms per call")
