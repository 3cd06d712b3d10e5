"""The quickstart of the MLflow tracing page, on agentel: a QAChain traced with the fluent API.

Run: ``python examples/quickstart_agent.py`` (prints the trace tree; set OTEL_EXPORTER_OTLP_ENDPOINT
to send it to a collector instead).

The model call is traced as a CHAT_MODEL span: because ``predict`` returns an OpenAI-style chat
completion, its model, token usage, finish reason and answer are recorded in the GenAI and OpenInference
conventions without any code, and the root span gets the trace's total token usage.
"""

from __future__ import annotations

from typing import Any

import agentel
from fake_deployments import get_deploy_client


class QAChain:
    def __init__(self) -> None:
        self.client = get_deploy_client("databricks")

    @agentel.trace(name="quickstart-agent", span_type=agentel.SpanType.AGENT)
    def predict(self, model_input: list[dict[str, str]], system_prompt: str, params: dict[str, Any]) -> str:
        agentel.set_agent(name="quickstart-agent", description="Answers Databricks questions")
        messages = [
            {"role": "system", "content": system_prompt},
            {"role": "user", "content": model_input[0]["query"]},
        ]

        traced_predict = agentel.trace(self.client.predict, span_type=agentel.SpanType.CHAT_MODEL)
        output = traced_predict(
            endpoint=params["model_name"],
            inputs={
                "temperature": params["temperature"],
                "max_tokens": params["max_tokens"],
                "messages": messages,
            },
        )

        with agentel.start_span(name="_final_answer") as span:
            span.set_inputs({"query": model_input[0]["query"]})
            answer: str = output["choices"][0]["message"]["content"]
            span.set_outputs({"generated_text": answer})
            span.set_attributes(
                {
                    "model_name": params["model_name"],
                    "prompt_tokens": output["usage"]["prompt_tokens"],
                    "completion_tokens": output["usage"]["completion_tokens"],
                    "total_tokens": output["usage"]["total_tokens"],
                }
            )
            return answer


SYSTEM_PROMPT = """
You are an assistant for Databricks users. You are answering python, coding, SQL, data engineering,
spark, data science, DW and platform, API or infrastructure administration question related to
Databricks. If the question is not related to one of these topics, kindly decline to answer. If you
don't know the answer, just say that you don't know, don't try to make up an answer. Keep the answer
as concise as possible. Use the following pieces of context to answer the question at the end:
"""


def main() -> str:
    model = QAChain()
    return model.predict(
        [{"query": "What is in MLflow 5.0"}],
        SYSTEM_PROMPT,
        {"model_name": "databricks-dbrx-instruct", "temperature": 0.1, "max_tokens": 1000},
    )


if __name__ == "__main__":
    print(main())
    print("trace id:", agentel.get_last_trace_id())
