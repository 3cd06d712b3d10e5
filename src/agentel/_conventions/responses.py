"""Shape-aware capture of model responses: an OpenAI chat completion or Responses object, or an Anthropic
message (a dict or an SDK object, never importing those SDKs), returned by an LLM / CHAT_MODEL span,
and the usage and model carried by a model's streamed chunks."""

from __future__ import annotations

from typing import Any, Optional

from agentel._conventions import readers as read
from agentel._conventions._budget import apply
from agentel._conventions.builders import llm_attributes, messages_attributes
from agentel._conventions.messages import block_part, content_parts
from agentel._conventions.policy import Policy
from agentel._conventions.setters import refresh_cost, set_llm, set_token_usage
from agentel._conventions.usage import usage_attributes
from agentel._internal_errors import contained

_CAPTURING = contained("capturing a model response")


def response_shape(value: Any) -> Optional[str]:
    """``"openai_chat"``, ``"openai_responses"``, ``"anthropic"`` or ``None``; cheap and never raises."""
    if value is None or isinstance(value, (str, bytes, int, float, bool, list, tuple)):
        return None
    choices = read.field(value, "choices")
    if isinstance(choices, (list, tuple)) and (read.field(value, "usage") is not None or read.field(value, "model")):
        return "openai_chat"
    kind = read.field(value, "type")
    if kind == "message" and isinstance(read.field(value, "content"), (list, tuple)):
        return "anthropic"
    if read.field(value, "object") == "response" and isinstance(read.field(value, "output"), (list, tuple)):
        return "openai_responses"
    return None


def _openai_usage(usage: Any) -> dict[str, Any]:
    input_details = read.first(usage, "prompt_tokens_details", "input_tokens_details")
    output_details = read.first(usage, "completion_tokens_details", "output_tokens_details")
    return {
        "input": read.first(usage, "prompt_tokens", "input_tokens"),
        "output": read.first(usage, "completion_tokens", "output_tokens"),
        "total": read.field(usage, "total_tokens"),
        "cached_input": read.field(input_details, "cached_tokens"),
        "reasoning": read.field(output_details, "reasoning_tokens"),
    }


def _anthropic_usage(usage: Any) -> dict[str, Any]:
    base = read.count(read.field(usage, "input_tokens"))
    cache_read = read.count(read.field(usage, "cache_read_input_tokens"))
    cache_write = read.count(read.field(usage, "cache_creation_input_tokens"))
    # GenAI: input_tokens SHOULD include cached tokens; Anthropic reports them apart.
    total_input = None if base is None else base + (cache_read or 0) + (cache_write or 0)
    return {
        "input": total_input,
        "output": read.field(usage, "output_tokens"),
        "cached_input": cache_read,
        "cache_creation": cache_write,
    }


def response_attributes(span: Any, policy: Policy, value: Any) -> dict[str, Any]:
    """Model, response id, finish reasons, token usage and output messages read from a model response."""
    shape = response_shape(value)
    if shape is None:
        return {}
    usage: dict[str, Any] = {}
    output: Any = None
    reasons: list[str] = []
    if shape == "openai_chat":
        choices = read.field(value, "choices") or ()
        reasons = [str(r) for r in (read.field(c, "finish_reason") for c in choices) if r is not None]
        output = list(choices)
        usage = _openai_usage(read.field(value, "usage"))
    elif shape == "anthropic":
        reason = read.field(value, "stop_reason")
        reasons = [str(reason)] if reason is not None else []
        output = [value]
        usage = _anthropic_usage(read.field(value, "usage"))
    else:
        status = read.field(value, "status")
        reasons = [str(status)] if status is not None else []
        items = list(read.field(value, "output") or ())
        output = items
        usage = _openai_usage(read.field(value, "usage"))
    out = llm_attributes(
        span,
        policy,
        response_model=read.field(value, "model"),
        response_id=read.field(value, "id"),
        finish_reasons=reasons or None,
    )
    usage_values = {k: v for k, v in usage.items() if read.count(v) is not None}
    if usage_values:
        out.update(usage_attributes(span, policy, **usage_values))
    if policy.capture_content and output:
        if shape == "openai_responses":
            output = _responses_messages(output, reasons[0] if reasons else None, policy.max_payload_bytes)
        out.update(messages_attributes(span, policy, output=output))
    return out


def _responses_messages(items: list[Any], status: Optional[str], budget: int) -> list[dict[str, Any]]:
    """Responses API output items as one assistant message (its parts: text, tool calls, reasoning)."""
    parts: list[dict[str, Any]] = []
    for item in items:
        kind = read.field(item, "type")
        if kind == "message":
            parts.extend(content_parts(read.field(item, "content"), budget))
        else:
            part = block_part(item, budget)
            if part is not None:
                parts.append(part)
    finish = "tool_call" if any(p.get("type") == "tool_call" for p in parts) else status
    return [{"role": "assistant", "parts": parts, "finish_reason": finish}]


def capture_model_response(span: Any, policy: Policy, value: Any) -> bool:
    """If ``value`` looks like a model response, record what it says on ``span``; never raises.

    True when a response was recorded (the caller then refreshes the trace's token total).
    Example: a ``@trace(span_type=SpanType.CHAT_MODEL)`` function returning ``client.chat.completions.
    create(...)`` gets ``gen_ai.response.model``, token usage, finish reasons and output messages.
    """
    with _CAPTURING:
        if span.is_recording() and response_shape(value) is not None:
            apply(span, response_attributes(span, policy, value), policy)
            refresh_cost(span, policy)
            return True
    return False


class StreamUsage:
    """Token usage and model read from a model's streamed chunks, as they pass; never raises.

    OpenAI chat-completion chunks carry ``usage`` on the last chunk (``stream_options=
    {"include_usage": True}``); Anthropic streams send ``message_start`` (model, input tokens) and
    ``message_delta`` (output tokens) events. Dicts and SDK objects are both read.
    """

    __slots__ = ("input", "output", "cached_input", "model")

    def __init__(self) -> None:
        self.input: Optional[int] = None
        self.output: Optional[int] = None
        self.cached_input: Optional[int] = None
        self.model: Optional[str] = None

    def observe(self, item: Any) -> None:
        """Read what ``item`` says about usage or the model."""
        try:
            kind = read.field(item, "type")
            if kind == "message_start":
                message = read.field(item, "message")
                self._take(_anthropic_usage(read.field(message, "usage")), read.field(message, "model"))
            elif kind == "message_delta":
                self._take({"output": read.field(read.field(item, "usage"), "output_tokens")}, None)
            else:
                usage = read.field(item, "usage")
                self._take(_openai_usage(usage) if usage is not None else {}, read.field(item, "model"))
        except Exception:  # noqa: BLE001 - kept by hand: a chunk we cannot read is simply not usage (no report)
            pass

    def _take(self, usage: dict[str, Any], model: Any) -> None:
        for name in ("input", "output", "cached_input"):
            value = read.count(usage.get(name))
            if value is not None:
                setattr(self, name, value)
        if isinstance(model, str) and model:
            self.model = model

    def apply(self, span: Any, policy: Policy) -> bool:
        """Record what was read on ``span``; True when token usage was recorded (the caller then
        refreshes the trace's token total)."""
        if self.model is not None:
            set_llm(span, policy, response_model=self.model)
        if self.input is None and self.output is None:
            return False
        set_token_usage(span, policy, input=self.input, output=self.output, cached_input=self.cached_input)
        return True
