"""AGENTEL_TRACES_FILE's encoder writes what the OTLP exporter's own encoder and protobuf's JSON mapping
write (enums as integers, ids as hex), for spans of every shape the SDK makes."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from google.protobuf.json_format import MessageToDict
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanLimits, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import (
    Link,
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
    set_span_in_context,
)
from opentelemetry.trace.span import TraceState

from agentel._export.file import OtlpJsonFileExporter, export_request

_ID_FIELDS = ("traceId", "spanId", "parentSpanId")


def _reference(spans: list[ReadableSpan]) -> Any:
    """The protobuf route: the OTLP encoder, MessageToDict, base64 ids turned to hex."""
    message = MessageToDict(encode_spans(spans), use_integers_for_enums=True)

    def hex_ids(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in _ID_FIELDS and isinstance(value, str):
                    node[key] = base64.b64decode(value).hex()
                else:
                    hex_ids(value)
        elif isinstance(node, list):
            for item in node:
                hex_ids(item)

    hex_ids(message)
    return message


def _spans(provider: TracerProvider, exporter: InMemorySpanExporter) -> list[ReadableSpan]:
    tracer = provider.get_tracer("agentel", "1.2.3", schema_url="https://opentelemetry.io/schemas/1.21.0")
    other = provider.get_tracer("app")
    remote = SpanContext(0xABC, 0xDEF, is_remote=True, trace_flags=TraceFlags(1), trace_state=TraceState([("k", "v")]))
    with tracer.start_as_current_span(
        "root", kind=SpanKind.SERVER, context=set_span_in_context(NonRecordingSpan(remote))
    ) as root:
        root.set_attributes(
            {
                "s": "text",
                "empty": "",
                "i": 42,
                "zero": 0,
                "neg": -(2**63),
                "b": False,
                "f": 1.5,
                "f0": 0.0,
                "big": 1e300,
                "nan": float("nan"),
                "inf": float("-inf"),
                "strings": ["a", "", "c"],
                "ints": [1, 2, 3],
                "floats": [0.5],
                "bools": [True, False],
                "none": [],
                "unicode": "é \U0001f600 \u2028",
            }
        )
        root.add_event("evt", {"k": 1, "t": "x"})
        root.add_event("bare")
        with other.start_as_current_span(
            "child", kind=SpanKind.CLIENT, links=[Link(remote, {"why": "batch"})]
        ) as child:
            child.set_status(Status(StatusCode.ERROR, "boom"))
            child.record_exception(ValueError("bad"))
        with tracer.start_as_current_span("ok") as ok:
            ok.set_status(Status(StatusCode.OK))
    with other.start_as_current_span("", kind=SpanKind.PRODUCER):
        pass
    with other.start_as_current_span("consumer", kind=SpanKind.CONSUMER, attributes={"n": 1}):
        pass
    return list(exporter.get_finished_spans())


def _pipeline(**provider_options: Any) -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(**provider_options)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


def test_every_span_shape_encodes_as_the_otlp_encoder_and_protobuf_json_do() -> None:
    provider, exporter = _pipeline(resource=Resource.create({"service.name": "svc", "n": 3}))
    spans = _spans(provider, exporter)
    assert json.loads(json.dumps(export_request(spans))) == json.loads(json.dumps(_reference(spans)))


def test_dropped_counts_and_several_resources_encode_the_same() -> None:
    limited, limited_exporter = _pipeline(
        resource=Resource.create({"service.name": "a"}),
        span_limits=SpanLimits(max_span_attributes=2, max_events=1, max_links=1, max_event_attributes=1),
    )
    spans = _spans(limited, limited_exporter)
    plain, plain_exporter = _pipeline(resource=Resource({}))
    spans += _spans(plain, plain_exporter)
    assert any(span.dropped_attributes for span in spans) and any(span.dropped_events for span in spans)
    assert json.loads(json.dumps(export_request(spans))) == json.loads(json.dumps(_reference(spans)))


def test_an_int_the_otlp_encoder_refuses_is_left_out_as_it_leaves_it_out() -> None:
    provider, exporter = _pipeline()
    with provider.get_tracer("t").start_as_current_span("s", attributes={"huge": 2**64, "kept": 1}):
        pass
    spans = list(exporter.get_finished_spans())
    encoded = export_request(spans)
    attributes = encoded["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["attributes"]
    assert [pair["key"] for pair in attributes] == ["kept"]
    assert json.loads(json.dumps(encoded)) == json.loads(json.dumps(_reference(spans)))


def test_the_exporter_appends_one_request_per_batch(tmp_path: Path) -> None:
    provider, exporter = _pipeline()
    spans = _spans(provider, exporter)
    path = tmp_path / "spans.jsonl"
    file_exporter = OtlpJsonFileExporter(str(path))
    assert file_exporter.export(spans[:2]).name == "SUCCESS"
    assert file_exporter.export(spans[2:]).name == "SUCCESS"
    lines = path.read_text(encoding="utf-8").rstrip("\n").split("\n")  # \u2028 in a value is no line break
    assert [json.loads(line) for line in lines] == [
        json.loads(json.dumps(_reference(spans[:2]))),
        json.loads(json.dumps(_reference(spans[2:]))),
    ]
