"""No single span can poison or oversize an OTLP batch, through a real receiver (issue 12, items 12, 14, 15):
every exported string is valid UTF-8 (lone surrogates become U+FFFD), exception messages, stack traces,
status descriptions and plain string attributes stay within the byte budget, and agentel's JSON payloads
stay valid JSON under a small ``OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT``."""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path
from typing import Iterator

import pytest
from _run import attributes_of, run_program

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from _receivers import Phoenix, ReceiverError  # noqa: E402

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def phoenix() -> Iterator[Phoenix]:
    receiver = Phoenix()
    try:
        receiver.start()
    except ReceiverError as exc:
        pytest.fail(str(exc), pytrace=False)
    yield receiver
    receiver.stop()


def _otlp_env(phoenix: Phoenix, protocol: str, project: str) -> dict[str, str]:
    endpoint = phoenix.grpc_endpoint if protocol == "grpc" else phoenix.otlp_http_traces_url
    return {
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": endpoint,
        "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc" if protocol == "grpc" else "http/protobuf",
        "OTEL_EXPORTER_OTLP_INSECURE": "true",
        "OTEL_RESOURCE_ATTRIBUTES": f"openinference.project.name={project}",
        "OTEL_BSP_SCHEDULE_DELAY": "60000",  # one batch at the final flush: all spans share it
    }


SURROGATES = r"""
import json, os, agentel
name = "report-\udcff.txt"            # what os.listdir gives for a non-UTF-8 file name
@agentel.trace
def unrelated(i):
    return i
@agentel.trace
def open_report(path):
    raise FileNotFoundError(f"no such file: {path}")
with agentel.start_span("batch") as root:
    for i in range(40):
        unrelated(i)
    try:
        open_report(name)
    except FileNotFoundError:
        pass
    root.set_status(agentel.SpanStatus("ERROR", "failed on " + name))
    root.add_event("file " + name, {"path": name, "paths": [name, "ok"]})
    root.set_attribute("file", name)
print(json.dumps({"trace_id": root.trace_id, "flushed": agentel.force_flush(20000)}))
"""


@pytest.mark.parametrize("protocol", ["http", "grpc"])
def test_a_lone_surrogate_never_loses_the_batch(protocol: str, phoenix: Phoenix) -> None:
    project = f"surrogates-{protocol}-{uuid.uuid4().hex[:8]}"
    result = run_program(SURROGATES, env=_otlp_env(phoenix, protocol, project), timeout=90)
    assert result.returncode == 0, result.stderr
    found = result.last_json_line()
    assert found["flushed"], result.stderr
    spans = phoenix.spans(project, found["trace_id"], expect=42, timeout=30)
    assert len(spans) == 42  # 40 unrelated + the failing one + the root: nothing lost
    failing = next(span for span in spans if span["name"] == "open_report")
    assert "report-\ufffd.txt" in failing["status_message"]  # repaired with U+FFFD, as documented
    root = next(span for span in spans if span["name"] == "batch")
    assert root["attributes"]["file"] == "report-\ufffd.txt"
    assert root["status_message"] == "failed on report-\ufffd.txt"


HUGE_FAILURE = """
import json, agentel
body = "<html>" + "x" * 2_000_000 + "</html>"   # a 2 MB response body echoed by an error
@agentel.trace
def unrelated(i):
    return i
@agentel.trace
def call_api():
    raise RuntimeError("upstream said: " + body)
with agentel.start_span("batch") as root:
    for i in range(40):
        unrelated(i)
    try:
        call_api()
    except RuntimeError:
        pass
    root.set_attribute("response.body", body)   # a plain string attribute, 2 MB
    root.add_event("response", {"body": body})
    root.set_status(agentel.SpanStatus("ERROR", body))
print(json.dumps({"trace_id": root.trace_id, "flushed": agentel.force_flush(20000)}))
"""


def test_a_huge_failure_cannot_oversize_a_grpc_batch(phoenix: Phoenix) -> None:
    project = f"oversize-{uuid.uuid4().hex[:8]}"
    result = run_program(HUGE_FAILURE, env=_otlp_env(phoenix, "grpc", project), timeout=90)
    assert result.returncode == 0, result.stderr
    found = result.last_json_line()
    assert found["flushed"], result.stderr
    spans = phoenix.spans(project, found["trace_id"], expect=42, timeout=30)
    assert len(spans) == 42  # the 4 MiB gRPC default was not exceeded: the batch arrived whole
    failing = next(span for span in spans if span["name"] == "call_api")
    assert len(failing["status_message"].encode()) <= 1024
    event = failing["events"][0]["attributes"]
    assert len(event["exception.message"].encode()) <= 8192
    assert len(event["exception.stacktrace"].encode()) <= 16384
    assert "chars cut]" in event["exception.stacktrace"] and event["exception.stacktrace"].rstrip().endswith(
        "</html>"
    )  # the start and the end of the stack trace are kept
    root = next(span for span in spans if span["name"] == "batch")
    assert len(root["attributes"]["response.body"].encode()) <= 8192


@pytest.mark.parametrize("limit", ["120", "64", "16"])
def test_payloads_stay_valid_json_under_a_small_attribute_length_limit(limit: str, tmp_path: Path) -> None:
    program = """
    import agentel
    @agentel.trace(span_type=agentel.SpanType.CHAT_MODEL)
    def chat(messages, options):
        agentel.set_messages(input=messages, output="a long answer " * 40)
        return {"answer": "a long answer " * 40, "tokens": list(range(100))}
    chat([{"role": "user", "content": "question " * 50}], {"temperature": 0.2, "tags": ["x"] * 50})
    """
    result = run_program(program, env={"OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT": limit}, traces_file=tmp_path / "t.jsonl")
    assert result.returncode == 0, result.stderr
    attributes = attributes_of(result.span("chat"))
    json_keys = [key for key, value in attributes.items() if key.endswith((".value", "messages", "mlflow.spanInputs"))]
    assert "input.value" in json_keys and "output.value" in json_keys
    for key in json_keys:
        value = attributes[key]
        assert len(value) <= int(limit), key
        json.loads(value)  # valid JSON, not cut mid-document by the SDK
