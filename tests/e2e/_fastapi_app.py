"""A FastAPI service for tests/e2e/test_instrumentations_fastapi.py, run by uvicorn under the zero-code
launcher ``opentelemetry-instrument`` (which installs the provider and enables the installed
instrumentors: FastAPI, httpx/httpx2, openai-v2, ...). The app itself only uses agentel's API, and
calls ``agentel.instrument()`` as an app written for both setups would.

``POST /ask`` runs an agent (AGENT → TOOL → the real ``openai`` SDK against the OpenAI-compatible server
at ``FAKE_OPENAI_BASE_URL``) and answers with the request's trace id; ``GET /doctor`` answers with
``agentel.doctor()``'s text and verdict.
"""

from __future__ import annotations

import os
from typing import Any

import openai
from fastapi import FastAPI
from opentelemetry import trace

import agentel
from agentel import SpanType

# the launcher already enabled both: this changes nothing (the test's exact tree shows one span per call)
ENABLED = agentel.instrument("openai", "httpx")
app = FastAPI()
client = openai.AsyncOpenAI(base_url=os.environ["FAKE_OPENAI_BASE_URL"], api_key="sk-e2e-not-a-real-key", max_retries=0)


@agentel.trace(name="lookup_order", span_type=SpanType.TOOL)
async def lookup_order(question: str) -> str:
    response = await client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": question}]
    )
    return response.choices[0].message.content or ""


@agentel.trace(name="support_agent", span_type=SpanType.AGENT)
async def support_agent(question: str, session: str) -> str:
    agentel.update_current_trace(session_id=session, user_id="user-7")
    return await lookup_order(question)


@app.post("/ask")
async def ask(body: dict[str, Any]) -> dict[str, Any]:
    answer = await support_agent(body["question"], body["session"])
    trace_id = format(trace.get_current_span().get_span_context().trace_id, "032x")
    return {"answer": answer, "trace_id": trace_id}


@app.get("/doctor")
def doctor() -> dict[str, Any]:
    report = agentel.doctor()
    return {"text": str(report), "ok": bool(report.ok)}
