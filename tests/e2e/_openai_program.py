"""An agent calling the real ``openai`` SDK (sync, async, ``stream=True`` with usage) through
opentelemetry-instrumentation-openai-v2 and the httpx instrumentation, run in a fresh interpreter by
tests/e2e/test_instrumentations_openai.py in one of three provider setups (``AGENTEL_E2E_SETUP``):

- ``env``: only environment variables (``OTEL_EXPORTER_OTLP_ENDPOINT``, ``OTEL_RESOURCE_ATTRIBUTES``,
  ``AGENTEL_INSTRUMENT=openai,httpx``); the program calls neither ``configure`` nor ``instrument``;
- ``set_global``: ``agentel.configure(set_global=True)`` then ``agentel.instrument("openai", "httpx")``;
- ``app``: the application installs its own SDK provider (BatchSpanProcessor + OTLP exporter) first,
  then calls ``agentel.instrument("openai", "httpx")``.

The model is the OpenAI-compatible server of _fake_openai.py on 127.0.0.1. A raw OTel tracer obtained
before agentel is imported (as libraries do at import) adds one span. Prints one JSON line: the trace
ids, the token counts the server reported, the traceparent headers it received, ``agentel.stats()``.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

from opentelemetry import trace

APP_TRACER = trace.get_tracer("support.app")  # before agentel exists: a proxy tracer, like a library's

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _fake_openai import FakeOpenAI, completion_tokens, prompt_tokens  # noqa: E402

SETUP = os.environ["AGENTEL_E2E_SETUP"]
if SETUP == "app":
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    app_provider = TracerProvider(resource=Resource.create())  # OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES
    app_provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))  # OTEL_EXPORTER_OTLP_ENDPOINT
    trace.set_tracer_provider(app_provider)

import openai  # noqa: E402

import agentel  # noqa: E402
from agentel import SpanType  # noqa: E402

if SETUP == "set_global":
    agentel.configure(set_global=True)
if SETUP in ("set_global", "app"):
    assert agentel.instrument("openai", "httpx") == ["openai", "httpx"]

MODEL = "gpt-4o-mini"
QUESTION = [{"role": "user", "content": "Where is my order 42?"}]
ORDER_QUESTION = [{"role": "system", "content": "You look up orders."}, {"role": "user", "content": "Order 42?"}]
STREAM_QUESTION = [{"role": "user", "content": "Say it in one sentence."}]
SUMMARY_QUESTION = [{"role": "user", "content": "Summarize the answer please."}]


def run(server: FakeOpenAI) -> dict[str, Any]:
    client = openai.OpenAI(base_url=server.base_url, api_key="sk-e2e-not-a-real-key", max_retries=0)
    aclient = openai.AsyncOpenAI(base_url=server.base_url, api_key="sk-e2e-not-a-real-key", max_retries=0)

    @agentel.trace(name="lookup_order", span_type=SpanType.TOOL)
    def lookup_order(order_id: int) -> str:
        response = client.chat.completions.create(model=MODEL, messages=ORDER_QUESTION)  # type: ignore[arg-type]
        return response.choices[0].message.content or ""

    @agentel.trace(name="ask", span_type=SpanType.CHAT_MODEL)
    def ask(messages: list[dict[str, str]]) -> Any:  # the README pattern: a CHAT_MODEL step returning the response
        return client.chat.completions.create(model=MODEL, messages=messages)  # type: ignore[arg-type]

    @agentel.trace(name="support_agent", span_type=SpanType.AGENT)
    def support_agent() -> str:
        lookup_order(42)
        answer = ask(QUESTION).choices[0].message.content
        stream = client.chat.completions.create(
            model=MODEL,
            messages=STREAM_QUESTION,  # type: ignore[arg-type]
            stream=True,
            stream_options={"include_usage": True},
        )
        streamed = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
        with APP_TRACER.start_as_current_span("app.step"):
            pass
        return f"{answer} / {streamed}"

    @agentel.trace(name="summarize", span_type=SpanType.TOOL)
    async def summarize() -> str:
        stream = await aclient.chat.completions.create(
            model=MODEL,
            messages=SUMMARY_QUESTION,  # type: ignore[arg-type]
            stream=True,
            stream_options={"include_usage": True},
        )
        return "".join([chunk.choices[0].delta.content or "" async for chunk in stream if chunk.choices])

    @agentel.trace(name="async_agent", span_type=SpanType.AGENT)
    async def async_agent() -> str:
        response = await aclient.chat.completions.create(model=MODEL, messages=QUESTION)  # type: ignore[arg-type]
        return (response.choices[0].message.content or "") + await summarize()

    support_agent()
    sync_trace = agentel.get_last_trace_id()
    asyncio.run(async_agent())
    async_trace = agentel.get_last_trace_id()

    def tokens(*conversations: list[dict[str, str]]) -> dict[str, int]:
        prompt = sum(prompt_tokens(c) for c in conversations)
        completion = completion_tokens() * len(conversations)
        return {"input": prompt, "output": completion, "total": prompt + completion}

    return {
        "sync_trace": sync_trace,
        "async_trace": async_trace,
        "sync_tokens": tokens(ORDER_QUESTION, QUESTION, STREAM_QUESTION),
        "async_tokens": tokens(QUESTION, SUMMARY_QUESTION),
        "calls": {
            "lookup_order": tokens(ORDER_QUESTION),
            "ask": tokens(QUESTION),
            "stream": tokens(STREAM_QUESTION),
            "async": tokens(QUESTION),
            "async_stream": tokens(SUMMARY_QUESTION),
        },
        "traceparents": [r["headers"].get("traceparent") for r in server.requests],
    }


if __name__ == "__main__":
    with FakeOpenAI() as fake:
        result = run(fake)
    assert agentel.force_flush(20_000)
    if SETUP == "app":
        assert app_provider.force_flush(20_000)
    result["stats"] = {k: v for k, v in agentel.stats().items() if isinstance(v, (int, str, type(None)))}
    print(json.dumps(result))
