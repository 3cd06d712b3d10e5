"""An OpenAI-compatible chat completions server on 127.0.0.1 (stdlib only), for the e2e tests; it also
answers Anthropic's ``POST /v1/messages`` (non-streaming) for the anthropic SDK.

It answers ``POST /v1/chat/completions`` the way the real API does: a ``chat.completion`` object with
``usage``, or with ``stream=True`` server-sent events (``chat.completion.chunk`` objects, one per word,
the last with ``finish_reason``, then — when ``stream_options.include_usage`` is set — a chunk with
empty ``choices`` and the ``usage``, then ``data: [DONE]``). Token counts are deterministic: the words
of all request messages (prompt) and of the answer (completion), so tests know the exact numbers.
Every request is recorded (path, headers, body) for the tests to check, e.g. the ``traceparent`` the
instrumented HTTP client sent::

    with FakeOpenAI() as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="sk-test")
        client.chat.completions.create(model="gpt-4o-mini", messages=[...])
        server.requests[0]["headers"]["traceparent"]
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

HOST = "127.0.0.1"
ANSWER = "Your order 42 has shipped."
RESPONSE_MODEL = "gpt-4o-mini-2024-07-18"


def prompt_tokens(messages: list[dict[str, Any]]) -> int:
    """The prompt token count the server reports for these messages (words of every content)."""
    return sum(len(str(m.get("content") or "").split()) for m in messages)


def completion_tokens(answer: str = ANSWER) -> int:
    """The completion token count the server reports for an answer."""
    return len(answer.split())


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
        pass

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length)
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return self._error(400, "invalid JSON body")
        self.server.record(self.path, dict(self.headers.items()), body)
        if self.path.rstrip("/") == "/v1/messages":
            return self._anthropic_message(body)
        if self.path.rstrip("/") not in ("/v1/chat/completions", "/chat/completions"):
            return self._error(404, f"unknown path {self.path}")
        if not isinstance(body.get("messages"), list) or not body.get("model"):
            return self._error(400, "'model' and 'messages' are required")
        if body.get("stream"):
            return self._stream(body)
        answer = self.server.answer
        payload = {
            "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": RESPONSE_MODEL,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": answer, "refusal": None, "annotations": []},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": _usage(body["messages"], answer),
            "service_tier": "default",
            "system_fingerprint": "fp_fake0001",
        }
        data = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.send_header("x-request-id", f"req_{uuid.uuid4().hex}")
        self.end_headers()
        self.wfile.write(data)

    def _anthropic_message(self, body: dict[str, Any]) -> None:
        """Anthropic's Messages API (non-streaming), for the anthropic SDK."""
        if not isinstance(body.get("messages"), list) or not body.get("model"):
            return self._error(400, "'model' and 'messages' are required")
        answer = self.server.answer
        payload = {
            "id": f"msg_{uuid.uuid4().hex[:24]}",
            "type": "message",
            "role": "assistant",
            "model": body["model"],
            "content": [{"type": "text", "text": answer}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {
                "input_tokens": prompt_tokens(body["messages"]),
                "output_tokens": completion_tokens(answer),
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
            },
        }
        data = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.send_header("request-id", f"req_{uuid.uuid4().hex}")
        self.end_headers()
        self.wfile.write(data)

    def _stream(self, body: dict[str, Any]) -> None:
        answer = self.server.answer
        ident = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        created = int(time.time())
        base = {
            "id": ident,
            "object": "chat.completion.chunk",
            "created": created,
            "model": RESPONSE_MODEL,
            "service_tier": "default",
            "system_fingerprint": "fp_fake0001",
        }
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        self.send_response(200)
        self.send_header("content-type", "text/event-stream; charset=utf-8")
        self.send_header("cache-control", "no-cache")
        self.send_header("x-request-id", f"req_{uuid.uuid4().hex}")
        self.end_headers()

        def send(chunk: dict[str, Any]) -> None:
            if include_usage and "usage" not in chunk:
                chunk = {**chunk, "usage": None}
            self.wfile.write(b"data: " + json.dumps({**base, **chunk}).encode() + b"\n\n")
            self.wfile.flush()

        words = answer.split(" ")
        send(
            {
                "choices": [
                    {
                        "index": 0,
                        "delta": {"role": "assistant", "content": "", "refusal": None},
                        "logprobs": None,
                        "finish_reason": None,
                    }
                ]
            }
        )
        for i, word in enumerate(words):
            piece = word if i == len(words) - 1 else word + " "
            send({"choices": [{"index": 0, "delta": {"content": piece}, "logprobs": None, "finish_reason": None}]})
        send({"choices": [{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}]})
        if include_usage:
            send({"choices": [], "usage": _usage(body["messages"], answer)})
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()
        self.close_connection = True

    def _error(self, status: int, message: str) -> None:
        data = json.dumps(
            {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": None}}
        ).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _usage(messages: list[dict[str, Any]], answer: str) -> dict[str, Any]:
    prompt, completion = prompt_tokens(messages), completion_tokens(answer)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, answer: str) -> None:
        super().__init__((HOST, 0), _Handler)
        self.answer = answer
        self.lock = threading.Lock()
        self.requests: list[dict[str, Any]] = []

    def record(self, path: str, headers: dict[str, str], body: Any) -> None:
        with self.lock:
            self.requests.append({"path": path, "headers": {k.lower(): v for k, v in headers.items()}, "body": body})


class FakeOpenAI:
    """The server, run on a free port of 127.0.0.1 in a background thread; a context manager."""

    def __init__(self, answer: str = ANSWER) -> None:
        self._server = _Server(answer)
        self.port = int(self._server.server_address[1])
        self.base_url = f"http://{HOST}:{self.port}/v1"
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-openai", daemon=True)

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Every request received so far: ``{"path", "headers" (lower-case keys), "body"}``."""
        with self._server.lock:
            return list(self._server.requests)

    def start(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
