"""The real openai SDK instrumented by the real openai-v2 instrumentation, called inside agentel's model
spans, against a test-made OpenAI-compatible server on 127.0.0.1 (the URL is argv[1]). The app installs
its own SDK TracerProvider and MeterProvider (in-memory reader). Prints one JSON line: for each
instrumentation scope, the data points of every metric it recorded, and agentel's spans' cost."""

from __future__ import annotations

import json
import sys

from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

reader = InMemoryMetricReader()
metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))
spans = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(spans))
trace.set_tracer_provider(provider)

import openai  # noqa: E402
from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor  # noqa: E402

import agentel  # noqa: E402

OpenAIInstrumentor().instrument(tracer_provider=provider, meter_provider=metrics.get_meter_provider())
client = openai.OpenAI(base_url=sys.argv[1], api_key="sk-test-not-a-real-key", max_retries=0)


@agentel.trace(span_type=agentel.SpanType.CHAT_MODEL)
def ask(question: str) -> object:
    agentel.set_llm(model="gpt-4o", provider="openai")
    return client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": question}])


@agentel.trace(name="support-bot", span_type=agentel.SpanType.AGENT)
def support_bot() -> None:
    ask("where is my order?")
    ask("and my refund?")


support_bot()
points: dict[str, dict[str, list[dict[str, object]]]] = {}
for resource_metrics in reader.get_metrics_data().resource_metrics:
    for scope_metrics in resource_metrics.scope_metrics:
        for metric in scope_metrics.metrics:
            points.setdefault(scope_metrics.scope.name, {})[metric.name] = [
                {
                    "attributes": dict(p.attributes),
                    "count": getattr(p, "count", None),
                    "sum": getattr(p, "sum", None),
                    "value": getattr(p, "value", None),
                }
                for p in metric.data.data_points
            ]
finished = spans.get_finished_spans()
print(
    json.dumps(
        {
            "points": points,
            "spans": [
                {"name": s.name, "scope": s.instrumentation_scope.name, "attributes": dict(s.attributes)}
                for s in finished
            ],
        }
    )
)
