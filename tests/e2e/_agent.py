"""A sample agent shared by the export and merging tests, what any receiver must show for it, and
small helpers to check span trees whatever their source (SDK spans, Phoenix, MLflow).

The agent uses the three agentel APIs: ``@agentel.trace`` (sync and generator functions),
``agentel.start_span`` and ``TraceClient`` (a client trace joining the agent's trace)::

    support_agent [AGENT]           custom attributes, session id
      retrieve_docs [RETRIEVER]
      chat [CHAT_MODEL]             start_span, model name and temperature attributes
      lookup_order [TOOL]
      refund_order [TOOL]           raises ValueError (caught by the agent): status ERROR + event
      stream_answer [LLM]           a generator consumed by the agent
      plan [CHAIN]                  TraceClient.start_trace: joins the active agent span
        rank [UNKNOWN]              TraceClient.start_span

Run as a script (``python _agent.py``) it runs the agent once in a fresh interpreter configured only
by the environment, flushes, and prints the run as one JSON line: the "new user" check.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpanExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpSpanExporter
from opentelemetry.sdk.trace.export import SpanExporter

import agentel
from agentel import SpanType

QUESTION = "Where is my order 42?"
SESSION_ID = "session-7"
DOCS = [{"id": "doc-1", "text": "Orders ship in 2 days."}, {"id": "doc-2", "text": "Refunds take a week."}]
MESSAGES = [{"role": "user", "content": QUESTION}]
REPLY = {"role": "assistant", "content": "Let me look up order 42."}
ORDER = {"order_id": 42, "status": "shipped"}
CHUNKS = ["Your ", "order ", "has shipped."]
ANSWER = "".join(CHUNKS)
REFUND_ERROR = "ValueError: order 42 is not refundable"
PLAN = {"steps": ["lookup", "answer"]}
RANKED = ["doc-2", "doc-1"]
AGENT_ATTRIBUTES = {"app.tenant": "acme", "app.retries": 2}
CHAT_ATTRIBUTES = {"llm.model_name": "offline-model", "app.temperature": 0.2}
_HERE = Path(__file__).resolve()


@dataclass(frozen=True)
class ExpectedSpan:
    """One span of the sample agent's trace, as agentel records it."""

    name: str
    parent: str | None
    span_type: str
    openinference_kind: str
    inputs: Any
    outputs: Any = None
    error: str | None = None  # the status description of an ERROR span
    status: str = "UNSET"
    attributes: Mapping[str, Any] = field(default_factory=dict)


EXPECTED: tuple[ExpectedSpan, ...] = (
    ExpectedSpan(
        "support_agent",
        None,
        SpanType.AGENT,
        "AGENT",
        {"question": QUESTION},
        ANSWER,
        attributes=AGENT_ATTRIBUTES,
    ),
    ExpectedSpan("retrieve_docs", "support_agent", SpanType.RETRIEVER, "RETRIEVER", {"query": QUESTION, "k": 2}, DOCS),
    ExpectedSpan(
        "chat",
        "support_agent",
        SpanType.CHAT_MODEL,
        "LLM",
        {"messages": MESSAGES, "docs": ["doc-1", "doc-2"]},
        REPLY,
        attributes=CHAT_ATTRIBUTES,
    ),
    ExpectedSpan("lookup_order", "support_agent", SpanType.TOOL, "TOOL", {"order_id": 42}, ORDER),
    ExpectedSpan(
        "refund_order", "support_agent", SpanType.TOOL, "TOOL", {"order_id": 42}, error=REFUND_ERROR, status="ERROR"
    ),
    ExpectedSpan("stream_answer", "support_agent", SpanType.LLM, "LLM", {"prompt": REPLY["content"]}, CHUNKS),
    ExpectedSpan("plan", "support_agent", SpanType.CHAIN, "CHAIN", {"question": QUESTION}, PLAN, status="OK"),
    ExpectedSpan("rank", "plan", SpanType.UNKNOWN, "UNKNOWN", {"docs": ["doc-1", "doc-2"]}, RANKED, status="OK"),
)
EXPECTED_BY_NAME = {span.name: span for span in EXPECTED}

# The span type MLflow 3.x shows for each agentel span type, per AGENTEL_SEMCONV (measured; see
# test_export_mlflow.py::test_span_type_table). MLflow prefers openinference.span.kind over
# gen_ai.operation.name, and mlflow.spanType over both.
MLFLOW_DEFAULT_DIALECTS = "genai,openinference"
MLFLOW_FULL_DIALECTS = "genai,openinference,mlflow"
_MLFLOW_TYPE_ROWS = {
    # agentel type: (genai,openinference [default], genai,openinference,mlflow, openinference, genai, mlflow)
    SpanType.AGENT: ("AGENT", "AGENT", "AGENT", "AGENT", "AGENT"),
    SpanType.LLM: ("LLM", "LLM", "LLM", "LLM", "LLM"),
    SpanType.CHAT_MODEL: ("LLM", "CHAT_MODEL", "LLM", "CHAT_MODEL", "CHAT_MODEL"),
    SpanType.TOOL: ("TOOL", "TOOL", "TOOL", "TOOL", "TOOL"),
    SpanType.RETRIEVER: ("RETRIEVER", "RETRIEVER", "RETRIEVER", None, "RETRIEVER"),
    SpanType.EMBEDDING: ("EMBEDDING", "EMBEDDING", "EMBEDDING", "EMBEDDING", "EMBEDDING"),
    SpanType.RERANKER: ("RERANKER", "RERANKER", "RERANKER", None, "RERANKER"),
    SpanType.CHAIN: ("CHAIN", "CHAIN", "CHAIN", None, "CHAIN"),
    SpanType.PARSER: ("CHAIN", "PARSER", "CHAIN", None, "PARSER"),
    SpanType.MEMORY: ("CHAIN", "MEMORY", "CHAIN", None, "MEMORY"),
    SpanType.GUARDRAIL: ("GUARDRAIL", "GUARDRAIL", "GUARDRAIL", None, "GUARDRAIL"),
    SpanType.EVALUATOR: ("EVALUATOR", "EVALUATOR", "EVALUATOR", None, "EVALUATOR"),
    SpanType.WORKFLOW: ("CHAIN", "WORKFLOW", "CHAIN", None, "WORKFLOW"),
    SpanType.TASK: ("CHAIN", "TASK", "CHAIN", None, "TASK"),
    SpanType.UNKNOWN: ("UNKNOWN", "UNKNOWN", "UNKNOWN", None, "UNKNOWN"),
    "MY_CUSTOM_STEP": ("UNKNOWN", "MY_CUSTOM_STEP", "UNKNOWN", None, "MY_CUSTOM_STEP"),
}
MLFLOW_SPAN_TYPES: dict[str, dict[str, str | None]] = {
    dialects: {span_type: row[column] for span_type, row in _MLFLOW_TYPE_ROWS.items()}
    for column, dialects in enumerate(
        (MLFLOW_DEFAULT_DIALECTS, MLFLOW_FULL_DIALECTS, "openinference", "genai", "mlflow")
    )
}
PARENTS = {span.name: span.parent for span in EXPECTED}


@dataclass(frozen=True)
class AgentRun:
    """What the agent saw of its own trace: the trace id and every span id, by span name."""

    trace_id: str
    span_ids: dict[str, str]
    internal_errors: int = 0

    def parent_ids(self) -> dict[str, str | None]:
        """Expected parent span id of each span."""
        return {name: self.span_ids[parent] if parent else None for name, parent in PARENTS.items()}


_seen: dict[str, str] = {}


def _note_current() -> None:
    """Record the current span's id under its name (called inside each span)."""
    span = agentel.get_current_span()
    assert span is not None, "no current span inside a traced function"
    _seen[span.name] = span.span_id


@agentel.trace(span_type=SpanType.RETRIEVER)
def retrieve_docs(query: str, k: int = 2) -> list[dict[str, str]]:
    _note_current()
    return DOCS[:k]


@agentel.trace(span_type=SpanType.TOOL)
def lookup_order(order_id: int) -> dict[str, Any]:
    _note_current()
    return {"order_id": order_id, "status": "shipped"}


@agentel.trace(span_type=SpanType.TOOL)
def refund_order(order_id: int) -> None:
    _note_current()
    raise ValueError(f"order {order_id} is not refundable")


@agentel.trace(span_type=SpanType.LLM)
def stream_answer(prompt: str) -> Iterator[str]:
    _note_current()
    yield from CHUNKS


def _plan(client: agentel.TraceClient, docs: list[str]) -> None:
    """A client trace started inside the agent span: it joins the agent's trace."""
    root = client.start_trace("plan", inputs={"question": QUESTION})
    rank = client.start_span("rank", request_id=root.request_id, parent_id=root.span_id, inputs={"docs": docs})
    _seen["plan"], _seen["rank"] = root.span_id, rank.span_id
    client.end_span(root.request_id, rank.span_id, outputs=sorted(docs, reverse=True))
    client.end_trace(root.request_id, outputs=PLAN)


@agentel.trace(span_type=SpanType.AGENT, attributes=AGENT_ATTRIBUTES)
def support_agent(question: str) -> str:
    _note_current()
    agentel.update_current_trace(session_id=SESSION_ID)
    docs = [doc["id"] for doc in retrieve_docs(question)]
    with agentel.start_span("chat", span_type=SpanType.CHAT_MODEL, attributes=CHAT_ATTRIBUTES) as chat:
        _note_current()
        chat.set_inputs({"messages": MESSAGES, "docs": docs})
        chat.set_outputs(REPLY)
    lookup_order(42)
    try:
        refund_order(42)
    except ValueError:
        pass
    answer = "".join(stream_answer(REPLY["content"]))
    _plan(agentel.TraceClient(), docs)
    return answer


def run_agent() -> AgentRun:
    """Run the sample agent once; return its trace id and span ids."""
    _seen.clear()
    errors_before = agentel.stats()["internal_errors"]
    assert support_agent(QUESTION) == ANSWER
    trace_id = agentel.get_last_trace_id()
    assert trace_id is not None
    assert set(_seen) == set(PARENTS), f"spans seen by the agent: {sorted(_seen)}"
    return AgentRun(trace_id, dict(_seen), agentel.stats()["internal_errors"] - errors_before)


# --- running the agent in a fresh interpreter ---------------------------------------------------

_SCRUBBED = ("OTEL_", "AGENTEL_")


def clean_env(extra: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without OTEL_*/AGENTEL_* variables, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_SCRUBBED)}
    env.update(extra)
    return env


def run_python(args: Iterable[str], env: Mapping[str, str], timeout: float = 60.0) -> tuple[str, str]:
    """Run the project's python with `args` and the clean env + `env`; (stdout, stderr), or fail."""
    done = subprocess.run(
        [sys.executable, *args], env=clean_env(env), capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise AssertionError(f"python {' '.join(args)} exited {done.returncode}:\n{done.stderr[-4000:]}")
    return done.stdout, done.stderr


def run_agent_subprocess(env: Mapping[str, str]) -> AgentRun:
    """Run the sample agent in a fresh python configured only by `env` (plus OTel defaults); it must
    print nothing on stderr (no warning, no console tree when an exporter is configured)."""
    out, err = run_python([str(_HERE)], env)
    assert err == "", f"the agent's stderr is not empty:\n{err[-4000:]}"
    return AgentRun(**json.loads(out.strip().splitlines()[-1]))


# --- checking span trees ------------------------------------------------------------------------


@dataclass(frozen=True)
class SpanRecord:
    """The identity of one exported span, whatever the receiver: hex ids."""

    name: str
    trace_id: str
    span_id: str
    parent_id: str | None


def assert_tree(
    records: Iterable[SpanRecord],
    parents: Mapping[str, str | None],
    trace_id: str | None = None,
    span_ids: Mapping[str, str] | None = None,
) -> dict[str, SpanRecord]:
    """Check that `records` are exactly the spans named in `parents` (each once), all in one trace
    (`trace_id` if given), each with the named parent (None: a root, or the parent's id if `parents`
    maps to a 16-hex id not among the names), and with the ids in `span_ids` if given."""
    records = list(records)
    names = sorted(r.name for r in records)
    assert names == sorted(parents), f"span names {names} != expected {sorted(parents)}"
    by_name = {r.name: r for r in records}
    trace_ids = {r.trace_id for r in records}
    assert len(trace_ids) == 1, f"spans spread over traces {trace_ids}"
    if trace_id is not None:
        assert trace_ids == {trace_id}, f"trace id {trace_ids} != {trace_id}"
    for name, parent in parents.items():
        if parent is None:
            want = None
        elif parent in by_name:
            want = by_name[parent].span_id
        else:
            want = parent  # an explicit span id (e.g. a span of another process)
        assert by_name[name].parent_id == want, f"{name}: parent {by_name[name].parent_id} != {parent} ({want})"
    for name, span_id in (span_ids or {}).items():
        assert by_name[name].span_id == span_id, f"{name}: span id {by_name[name].span_id} != {span_id}"
    return by_name


def sdk_records(spans: Iterable[Any]) -> list[SpanRecord]:
    """SpanRecords of OTel SDK ``ReadableSpan``s (e.g. from an ``InMemorySpanExporter``)."""
    return [
        SpanRecord(
            s.name,
            format(s.context.trace_id, "032x"),
            format(s.context.span_id, "016x"),
            format(s.parent.span_id, "016x") if s.parent is not None else None,
        )
        for s in spans
    ]


def phoenix_records(spans: Iterable[Mapping[str, Any]]) -> list[SpanRecord]:
    """SpanRecords of spans from Phoenix's REST API."""
    return [SpanRecord(s["name"], s["context"]["trace_id"], s["context"]["span_id"], s["parent_id"]) for s in spans]


def mlflow_records(trace: Mapping[str, Any]) -> list[SpanRecord]:
    """SpanRecords of a trace from ``MlflowServer.get_trace`` (MLflow's trace ids are ``tr-<hex>``)."""
    return [
        SpanRecord(s["name"], s["trace_id"].removeprefix("tr-"), s["span_id"], s["parent_id"]) for s in trace["spans"]
    ]


def parsed(value: Any) -> Any:
    """A JSON text parsed; anything else as is (receivers differ in what they parse)."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def check_sample_phoenix(spans: list[dict[str, Any]], run: AgentRun) -> None:
    """Everything Phoenix's REST API must show for one run of the sample agent."""
    assert run.internal_errors == 0
    by_name = assert_tree(phoenix_records(spans), PARENTS, run.trace_id, run.span_ids)
    got = {s["name"]: s for s in spans}
    for name, want in EXPECTED_BY_NAME.items():
        span, attributes = got[name], got[name]["attributes"]
        assert by_name[name].span_id == run.span_ids[name]
        assert span["span_kind"] == want.openinference_kind, (name, span["span_kind"])
        assert attributes["agentel.span.type"] == want.span_type, name
        assert span["status_code"] == want.status, (name, span["status_code"])
        assert parsed(attributes["input.value"]) == want.inputs, name
        assert attributes["input.mime_type"] == "application/json", name
        assert parsed(attributes.get("output.value")) == want.outputs, name
        assert attributes.get("session.id") == SESSION_ID, name
        for key, value in want.attributes.items():
            assert attributes.get(key) == value, (name, key)
        if want.error:
            assert span["status_message"] == want.error
            events = [e for e in span["events"] if e["name"] == "exception"]
            assert len(events) == 1, f"{name}: expected one exception event, got {span['events']}"
            event = events[0]
            assert event["attributes"]["exception.type"] == "ValueError"
            assert event["attributes"]["exception.message"] == want.error.split(": ", 1)[1]
            assert "refund_order" in event["attributes"]["exception.stacktrace"]
        else:
            assert not span["status_message"], (name, span["status_message"])
            assert [e["name"] for e in span["events"]] == [], name
    assert got["stream_answer"]["attributes"]["agentel.generator.items"] == len(CHUNKS)


def check_sample_mlflow(trace: Mapping[str, Any], run: AgentRun, dialects: str = MLFLOW_DEFAULT_DIALECTS) -> None:
    """Everything ``MlflowClient.get_trace`` must show for one run of the sample agent sent with
    AGENTEL_SEMCONV=`dialects`."""
    span_types = MLFLOW_SPAN_TYPES[dialects]
    assert run.internal_errors == 0
    info = trace["info"]
    assert info["trace_id"] == "tr-" + run.trace_id
    assert info["state"] == "OK"
    assert info["trace_metadata"]["mlflow.trace.session"] == SESSION_ID
    assert_tree(mlflow_records(trace), PARENTS, run.trace_id, run.span_ids)
    for span in trace["spans"]:
        name, want = span["name"], EXPECTED_BY_NAME[span["name"]]
        assert span["span_type"] == span_types[want.span_type], (name, span["span_type"])
        assert span["inputs"] == want.inputs, name
        assert span["outputs"] == want.outputs, name
        assert span["status"] == {"status_code": want.status, "description": want.error or ""}, name
        for key, value in want.attributes.items():
            assert span["attributes"].get(key) == value, (name, key)
        exceptions = [e["attributes"] for e in span["events"] if e["name"] == "exception"]
        if want.error:
            assert len(exceptions) == 1, f"{name}: expected one exception event, got {span['events']}"
            event = exceptions[0]
            assert f"{event['exception.type']}: {event['exception.message']}" == want.error
        else:
            assert exceptions == [], name


# --- exporters and a local HTTP server ----------------------------------------------------------


def otlp_exporter(protocol: str, endpoint: str, headers: Mapping[str, str] | None = None) -> SpanExporter:
    """An OTLP span exporter: `protocol` "grpc" (endpoint http://host:port, plaintext) or
    "http/protobuf" (endpoint: the full .../v1/traces URL)."""
    if protocol == "grpc":
        return GrpcSpanExporter(endpoint=endpoint, insecure=True, headers=dict(headers or {}))
    if protocol == "http/protobuf":
        return HttpSpanExporter(endpoint=endpoint, headers=dict(headers or {}))
    raise ValueError(f"unknown OTLP protocol {protocol!r}")


Handler = Callable[[str, Mapping[str, str], bytes], Any]


@contextlib.contextmanager
def serve_http(handle: Handler) -> Iterator[str]:
    """Serve POST/GET on 127.0.0.1 (a free port) from a thread; yields the base URL. Each request
    calls ``handle(path, headers, body)`` and answers its result as JSON (500 with the error text if
    it raises)."""

    class _Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                code, payload = 200, json.dumps(handle(self.path, dict(self.headers.items()), body))
            except Exception as exc:  # noqa: BLE001 - reported to the client
                code, payload = 500, json.dumps({"error": f"{type(exc).__name__}: {exc}"})
            data = payload.encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _answer

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="serve_http", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def main() -> int:
    """Run the agent once, flush, print the run as JSON (for ``run_agent_subprocess``)."""
    run = run_agent()
    if not agentel.force_flush(60_000):
        print("agentel.force_flush() timed out", file=sys.stderr)
        return 1
    print(json.dumps(asdict(run)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
