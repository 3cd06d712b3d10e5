"""The GenAI metric instruments: names, units, descriptions and bucket boundaries, created once per
``MeterProvider``.

Names, units and bucket boundaries are those of the GenAI conventions (semantic-conventions-genai,
``model/gen-ai/metrics.yaml`` and ``docs/gen-ai/gen-ai-metrics.md``); the semantic-conventions
package's constant where it has one, the spec's name otherwise.
"""

from __future__ import annotations

from typing import Any

from opentelemetry.semconv._incubating.metrics import gen_ai_metrics as _gen_ai_metrics

from agentel.version import __version__


def _semconv(constant: str, name: str) -> str:
    value = getattr(_gen_ai_metrics, constant, name)
    return value if isinstance(value, str) else name


# the client metrics the semantic-conventions package names: (its constant, the spec's name)
CLIENT_TOKEN_USAGE, CLIENT_OPERATION_DURATION, CLIENT_TIME_TO_FIRST_CHUNK = (
    _semconv(constant, name)
    for constant, name in (
        ("GEN_AI_CLIENT_TOKEN_USAGE", "gen_ai.client.token.usage"),
        ("GEN_AI_CLIENT_OPERATION_DURATION", "gen_ai.client.operation.duration"),
        ("GEN_AI_CLIENT_OPERATION_TIME_TO_FIRST_CHUNK", "gen_ai.client.operation.time_to_first_chunk"),
    )
)
INVOKE_AGENT_DURATION = "gen_ai.invoke_agent.duration"
INVOKE_AGENT_INFERENCE_CALLS = "gen_ai.invoke_agent.inference_calls"
INVOKE_AGENT_TOOL_CALLS = "gen_ai.invoke_agent.tool_calls"
EXECUTE_TOOL_DURATION = "gen_ai.execute_tool.duration"
WORKFLOW_DURATION = "gen_ai.workflow.duration"
CLIENT_COST = "agentel.gen_ai.client.cost"  # not in the conventions: agentel's own

# Recommended explicit bucket boundaries (gen-ai-metrics.md).
TOKEN_BUCKETS = (1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864)
DURATION_BUCKETS = (0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92)
AGENT_DURATION_BUCKETS = (0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 12.8, 25.6, 51.2, 102.4, 204.8, 409.6)
WORKFLOW_DURATION_BUCKETS = (1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200)
CALL_COUNT_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128)

# attribute of ``Instruments`` -> (name, unit, description, bucket boundaries)
HISTOGRAMS: dict[str, tuple[str, str, str, tuple[float, ...]]] = {
    "token_usage": (CLIENT_TOKEN_USAGE, "{token}", "Number of input and output tokens used.", TOKEN_BUCKETS),
    "operation_duration": (CLIENT_OPERATION_DURATION, "s", "GenAI operation duration.", DURATION_BUCKETS),
    "time_to_first_chunk": (
        CLIENT_TIME_TO_FIRST_CHUNK,
        "s",
        "Time to receive the first chunk of a streamed response.",
        DURATION_BUCKETS,
    ),
    "agent_duration": (INVOKE_AGENT_DURATION, "s", "Duration of one agent invocation.", AGENT_DURATION_BUCKETS),
    "agent_inference_calls": (
        INVOKE_AGENT_INFERENCE_CALLS,
        "{inference_call}",
        "Model calls made by one agent invocation (its sub-agents' calls count on theirs).",
        CALL_COUNT_BUCKETS,
    ),
    "agent_tool_calls": (
        INVOKE_AGENT_TOOL_CALLS,
        "{tool_call}",
        "Tool calls made by one agent invocation (its sub-agents' calls count on theirs).",
        CALL_COUNT_BUCKETS,
    ),
    "tool_duration": (EXECUTE_TOOL_DURATION, "s", "Duration of one tool execution.", DURATION_BUCKETS),
    "workflow_duration": (WORKFLOW_DURATION, "s", "GenAI workflow duration.", WORKFLOW_DURATION_BUCKETS),
}


class Instruments:
    """The instruments, created once per ``MeterProvider``: one histogram per entry of ``HISTOGRAMS``
    (same attribute name) and the ``cost`` counter."""

    token_usage: Any
    operation_duration: Any
    time_to_first_chunk: Any
    agent_duration: Any
    agent_inference_calls: Any
    agent_tool_calls: Any
    tool_duration: Any
    workflow_duration: Any

    def __init__(self, provider: Any) -> None:
        meter = provider.get_meter("agentel", __version__)
        self.provider = provider
        for attribute, (name, unit, description, buckets) in HISTOGRAMS.items():
            setattr(self, attribute, _histogram(meter, name, unit, description, buckets))
        self.cost = meter.create_counter(
            CLIENT_COST, unit="USD", description="Cost of model calls in US dollars, by model."
        )


def _histogram(meter: Any, name: str, unit: str, description: str, buckets: tuple[float, ...]) -> Any:
    try:
        return meter.create_histogram(
            name, unit=unit, description=description, explicit_bucket_boundaries_advisory=list(buckets)
        )
    except TypeError:  # an API older than the advisory parameter
        return meter.create_histogram(name, unit=unit, description=description)
