"""The GenAI message schema: the common chat shapes (OpenAI chat and Responses items, Anthropic content
blocks, SDK objects of those shapes, plain strings) become ``{"role", "parts", ["name"],
["finish_reason"]}`` messages, the one form every dialect is written from.

``budget`` bounds the conversion of any value that is not already text or JSON (see ``to_jsonable``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Optional, Sequence

from agentel._conventions import readers as read

# provider finish reasons -> the GenAI output-message FinishReason values
_FINISH_REASONS = {
    "stop": "stop",
    "end_turn": "stop",
    "stop_sequence": "stop",
    "completed": "stop",
    "length": "length",
    "max_tokens": "length",
    "max_output_tokens": "length",
    "incomplete": "length",
    "content_filter": "content_filter",
    "refusal": "content_filter",
    "tool_calls": "tool_call",
    "tool_call": "tool_call",
    "function_call": "tool_call",
    "tool_use": "tool_call",
    "error": "error",
    "failed": "error",
}


def _data_url_part(url: str, modality: str) -> dict[str, Any]:
    if url.startswith("data:") and ";base64," in url:
        header, _, data = url.partition(";base64,")
        return {"type": "blob", "modality": modality, "mime_type": header[5:] or None, "content": data}
    return {"type": "uri", "modality": modality, "uri": url}


def _response_value(content: Any, budget: int) -> Any:
    """A tool result: text stays text, a list of text blocks is joined, anything else is JSON-able."""
    if isinstance(content, str) or content is None:
        return content if content is not None else ""
    if isinstance(content, (list, tuple)):
        texts = [read.field(block, "text") if not isinstance(block, str) else block for block in content]
        if texts and all(isinstance(t, str) for t in texts):
            return "".join(texts)
    return read.json_value(content, budget)


def _tool_call_part(call_id: Any, name: Any, arguments: Any, budget: int) -> dict[str, Any]:
    part: dict[str, Any] = {"type": "tool_call", "id": read.text(call_id), "name": read.text(name) or ""}
    if arguments is not None:
        part["arguments"] = read.json_value(arguments, budget)
    return part


def block_part(block: Any, budget: int) -> Optional[dict[str, Any]]:
    if block is None:
        return None
    if isinstance(block, str):
        return {"type": "text", "content": block}
    kind = read.field(block, "type")
    if kind in ("text", "input_text", "output_text") or (kind is None and read.field(block, "text") is not None):
        return {"type": "text", "content": read.text(read.first(block, "text", "content")) or ""}
    if kind == "refusal":
        return {"type": "text", "content": read.text(read.field(block, "refusal")) or ""}
    if kind in ("image_url", "input_image"):
        image = read.field(block, "image_url")
        url = image if isinstance(image, str) else read.field(image, "url")
        return _data_url_part(str(url), "image") if url else {"type": str(kind)}
    if kind in ("image", "document"):
        source = read.field(block, "source")
        modality = "image" if kind == "image" else "document"
        if read.field(source, "type") == "base64":
            mime = read.text(read.field(source, "media_type"))
            return {
                "type": "blob",
                "modality": modality,
                "mime_type": mime,
                "content": read.text(read.field(source, "data")),
            }
        url = read.field(source, "url")
        return {"type": "uri", "modality": modality, "uri": str(url)} if url else {"type": str(kind)}
    if kind in ("tool_use", "server_tool_use", "function_call"):
        arguments = read.first(block, "input", "arguments")
        return _tool_call_part(read.first(block, "call_id", "id"), read.field(block, "name"), arguments, budget)
    if kind in ("tool_result", "function_call_output"):
        call_id = read.first(block, "tool_use_id", "call_id")
        return {
            "type": "tool_call_response",
            "id": read.text(call_id),
            "response": _response_value(read.first(block, "content", "output"), budget),
        }
    if kind in ("thinking", "reasoning"):
        text = read.first(block, "thinking", "text")
        if text is None:
            summary = read.field(block, "summary")
            if isinstance(summary, (list, tuple)):
                text = "".join(str(read.field(s, "text") or "") for s in summary)
        return {"type": "reasoning", "content": read.text(text) or ""}
    return {"type": str(kind) if kind is not None else "unknown"}


def content_parts(content: Any, budget: int) -> list[dict[str, Any]]:
    if content is None:
        return []
    if isinstance(content, str):
        return [{"type": "text", "content": content}] if content else []
    if isinstance(content, (list, tuple)):
        return [part for part in (block_part(block, budget) for block in content) if part is not None]
    if isinstance(content, Mapping) or read.field(content, "type") is not None:
        part = block_part(content, budget)
        return [part] if part is not None else []
    return [{"type": "text", "content": read.as_json_text(read.json_value(content, budget))}]


def _normalized_finish(reason: Any, parts: list[dict[str, Any]]) -> str:
    if reason is not None:
        text = str(reason)
        return _FINISH_REASONS.get(text.lower(), text)
    return "tool_call" if any(p.get("type") == "tool_call" for p in parts) else "stop"


def to_genai_message(item: Any, default_role: str, output: bool = False, *, budget: int) -> Optional[dict[str, Any]]:
    """One chat message in the GenAI schema (``{"role", "parts", ["name"], ["finish_reason"]}``).

    Accepts OpenAI-style ``{"role", "content", "tool_calls", "tool_call_id", "name"}`` dicts, OpenAI
    choices (``{"message", "finish_reason"}``), Anthropic messages with content blocks (``text``,
    ``tool_use``, ``tool_result``, ``thinking``, ``image``), Responses API items, SDK objects of those
    shapes, and plain strings. Example: ``to_genai_message({"role": "user", "content": "hi"}, "user", budget=8192)``.
    """
    if item is None:
        return None
    finish: Any = None
    if isinstance(item, Mapping) and isinstance(item.get("parts"), list) and "role" in item:
        parts = [dict(p) for p in item["parts"] if isinstance(p, Mapping)]  # already in the GenAI schema
        done: dict[str, Any] = {"role": str(item["role"]), "parts": parts}
        if item.get("name"):
            done["name"] = str(item["name"])
        if output:
            done["finish_reason"] = _normalized_finish(item.get("finish_reason"), parts)
        return done
    if isinstance(item, str):
        role, parts, name, message = default_role, [{"type": "text", "content": item}], None, None
    else:
        message = item
        inner = read.field(item, "message")
        if inner is not None and read.field(item, "role") is None:  # an OpenAI choice
            finish, message = read.field(item, "finish_reason"), inner
        role = read.text(read.field(message, "role")) or default_role
        if read.field(message, "type") == "function_call":  # a Responses API output item
            parts = [p for p in [block_part(message, budget)] if p is not None]
            role = "assistant"
        else:
            parts = content_parts(read.field(message, "content"), budget)
            if not parts and read.field(message, "text") is not None:  # a legacy completion choice
                parts = [{"type": "text", "content": read.text(read.field(message, "text")) or ""}]
        for call in read.field(message, "tool_calls") or ():
            function = read.field(call, "function")
            parts.append(
                _tool_call_part(
                    read.field(call, "id"), read.field(function, "name"), read.field(function, "arguments"), budget
                )
            )
        legacy = read.field(message, "function_call")
        if legacy is not None:
            parts.append(_tool_call_part(None, read.field(legacy, "name"), read.field(legacy, "arguments"), budget))
        tool_call_id = read.field(message, "tool_call_id")
        if role in ("tool", "function") or tool_call_id is not None:
            response = _response_value(read.field(message, "content"), budget)
            parts = [{"type": "tool_call_response", "id": read.text(tool_call_id), "response": response}]
        name = read.text(read.field(message, "name"))
        finish = finish if finish is not None else read.first(message, "finish_reason", "stop_reason")
    result: dict[str, Any] = {"role": role, "parts": parts}
    if name:
        result["name"] = name
    if output:
        result["finish_reason"] = _normalized_finish(finish, parts)
    return result


def to_genai_messages(messages: Any, default_role: str, output: bool = False, *, budget: int) -> list[dict[str, Any]]:
    """A list of GenAI-schema messages from one message, a list of them, or a string."""
    if messages is None:
        return []
    if isinstance(messages, (str, Mapping)) or not isinstance(messages, (list, tuple)):
        items: Sequence[Any] = [messages]
    else:
        items = messages
    converted = (to_genai_message(item, default_role, output, budget=budget) for item in items)
    return [message for message in converted if message is not None]


def system_parts(system: Any, budget: int) -> list[dict[str, Any]]:
    if system is None:
        return []
    if isinstance(system, (list, tuple)):
        parts: list[dict[str, Any]] = []
        for item in system:
            if isinstance(item, str):
                parts.append({"type": "text", "content": item})
            elif read.field(item, "role") is not None:  # a system message
                parts.extend(content_parts(read.field(item, "content"), budget))
            else:
                part = block_part(item, budget)
                if part is not None:
                    parts.append(part)
        return parts
    if read.field(system, "role") is not None:
        return content_parts(read.field(system, "content"), budget)
    return content_parts(system, budget)
