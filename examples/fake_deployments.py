"""An offline stand-in for ``mlflow.deployments.get_deploy_client``: a deterministic fake chat model."""

from __future__ import annotations

from typing import Any


class FakeDeployClient:
    """Answers ``predict(endpoint=..., inputs=...)`` like a chat-completions endpoint, offline."""

    def __init__(self, target: str) -> None:
        self.target = target

    def predict(self, endpoint: str, inputs: dict[str, Any]) -> dict[str, Any]:
        """Return an OpenAI-style chat completion whose answer echoes the user question."""
        question = inputs["messages"][-1]["content"]
        answer = f"MLflow 5.0 is not released; I don't know what it contains. ({question})"
        prompt_tokens = sum(len(str(m["content"]).split()) for m in inputs["messages"])
        completion_tokens = len(answer.split())
        return {
            "id": "chatcmpl-offline",
            "object": "chat.completion",
            "model": endpoint,
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": answer}, "finish_reason": "stop"}
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }


def get_deploy_client(target: str) -> FakeDeployClient:
    """The offline client for ``target`` (e.g. ``"databricks"``)."""
    return FakeDeployClient(target)
