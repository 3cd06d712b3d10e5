"""Agent semantic conventions: one helper call becomes the attributes of every enabled dialect.

``set_llm``, ``set_token_usage``, ``set_messages``, ``set_tool``, ``set_retrieved_documents``,
``set_embeddings`` and ``set_agent`` take plain values (or the common SDK shapes) and set, on one OTel
span, the OpenTelemetry GenAI attributes (``genai``), the OpenInference attributes (``openinference``)
and MLflow's own keys (``mlflow``), as selected by ``AGENTEL_SEMCONV``. ``capture_model_response``
reads an OpenAI chat completion / Responses object or an Anthropic message (a dict or an SDK object,
never importing those SDKs) returned by an LLM / CHAT_MODEL span.

Budget: every JSON attribute is at most ``max_payload_bytes``; a message, document or embedding list
is cut once (long strings shortened, then the oldest messages or the last documents left out) so that
its JSON fits, and every dialect is written from that one cut list, so each dialect's copy fits too.
Flattened OpenInference keys also respect the span's attribute-count limit. With
``capture_content=False`` message, document, query, text and tool argument/result content is dropped;
models, token counts, ids, names and types are kept. Values are redacted (``AGENTEL_REDACT``) and made
UTF-8 encodable like every other attribute. Nothing here raises into user code.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any, Optional, Sequence

from agentel._conventions import names as sc
from agentel._conventions.cost import call_cost, cost_attributes
from agentel._conventions.usage import has_usage, read_usage
from agentel._internal_errors import report_internal_error
from agentel._payload.serialize import byte_size, safe_text, static_attribute, to_json, to_jsonable
from agentel._runtime.provider import RUNTIME

_MIN_CAP = 16  # characters a cut string keeps at least
_ATTRIBUTE_RESERVE = 16  # attribute slots left free for later keys (status, outputs, ...)
_DEFAULT_ATTRIBUTE_LIMIT = 128  # the SDK default (OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT)
_PROTECTED = frozenset({"type", "role", "id", "name", "finish_reason", "modality", "mime_type"})

# gen_ai.provider.name <-> llm.provider where the two registries spell a provider differently
_GENAI_TO_OI_PROVIDER = {
    "gcp.gen_ai": "google",
    "gcp.vertex_ai": "google",
    "gcp.gemini": "google",
    "aws.bedrock": "aws",
    "azure.ai.openai": "azure",
    "azure.ai.inference": "azure",
    "mistral_ai": "mistralai",
    "x_ai": "xai",
    "moonshot_ai": "moonshot",
}
_OI_TO_GENAI_PROVIDER = {
    "google": "gcp.gen_ai",
    "vertexai": "gcp.vertex_ai",
    "aws": "aws.bedrock",
    "azure": "azure.ai.openai",
    "mistralai": "mistral_ai",
    "xai": "x_ai",
    "moonshot": "moonshot_ai",
}
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


# --------------------------------------------------------------------------------------------------
# small, forgiving readers


def _field(obj: Any, name: str) -> Any:
    """``obj[name]`` for mappings, ``obj.name`` otherwise; ``None`` when absent or unreadable."""
    if obj is None:
        return None
    if isinstance(obj, Mapping):
        return obj.get(name)
    return static_attribute(obj, name)  # never through __getattr__: proxies and mocks are opaque


def _first(obj: Any, *names: str) -> Any:
    for name in names:
        value = _field(obj, name)
        if value is not None:
            return value
    return None


def _count(value: Any) -> Optional[int]:
    """A token count: a non-negative int (ints, integral floats, digit strings), else ``None``."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float) and value.is_integer():
        return int(value) if value >= 0 else None
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _number(value: Any) -> Optional[float]:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _text(value: Any) -> Optional[str]:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def _strings(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        return [str(item) for item in value if item is not None]
    return [str(value)]


def _json_value(value: Any) -> Any:
    """JSON-able data; a string holding a JSON object or array is parsed (best effort, as the spec asks)."""
    if isinstance(value, str):
        stripped = value.strip()
        if stripped[:1] in ("{", "["):
            try:
                return json.loads(stripped)
            except ValueError:
                return value
        return value
    return to_jsonable(value, RUNTIME.payload_budget)


def _dumps(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates cannot be exported
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text


def _as_json_text(value: Any) -> str:
    return value if isinstance(value, str) else _dumps(value)


# --------------------------------------------------------------------------------------------------
# the byte budget: cut a JSON-able list so that its JSON fits, keeping it schema-shaped


def _cap(value: Any, cap: int, key: Optional[str] = None) -> Any:
    if isinstance(value, str):
        if len(value) <= cap or key in _PROTECTED:
            return value
        return f"{value[:cap]}…[+{len(value) - cap} chars]"
    if isinstance(value, dict):
        return {k: _cap(v, cap, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_cap(v, cap) for v in value]
    return value


def _longest(value: Any) -> int:
    if isinstance(value, str):
        return len(value)
    if isinstance(value, dict):
        return max((_longest(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return max((_longest(v) for v in value), default=0)
    return 0


def fit_list(items: list[Any], budget: int, keep: str = "last") -> tuple[list[Any], str, int]:
    """Cut ``items`` (JSON-able) so that their JSON is at most ``budget`` bytes.

    Long strings are shortened (each ends with ``…[+N chars]``); if that is not enough, whole items are
    left out: the oldest (``keep="last"``, for conversations) or the last (``keep="first"``, for ranked
    documents). Returns the kept items, their JSON text and how many items were left out.

    Example: ``fit_list([{"role": "user", "parts": [...]}], 8192)``.
    """
    items = _cap(items, budget)
    text = _dumps(items)
    if byte_size(text) <= budget:
        return items, text, 0
    sizes = [byte_size(_dumps(_cap(item, _MIN_CAP))) + 2 for item in items]  # + the ", " separator
    order = range(len(items) - 1, -1, -1) if keep == "last" else range(len(items))
    chosen: list[int] = []
    used = 2
    for index in order:
        if used + sizes[index] > budget:
            break
        chosen.append(index)
        used += sizes[index]
    kept = [items[i] for i in sorted(chosen)]
    best = _cap(kept, _MIN_CAP)
    best_text = _dumps(best)
    while kept and byte_size(best_text) > budget:  # never expected; keeps the bound unconditional
        kept = kept[1:] if keep == "last" else kept[:-1]
        best = _cap(kept, _MIN_CAP)
        best_text = _dumps(best)
    dropped = len(items) - len(kept)
    low, high = _MIN_CAP + 1, _longest(kept)
    while low <= high:
        middle = (low + high) // 2
        candidate = _cap(kept, middle)
        candidate_text = _dumps(candidate)
        if byte_size(candidate_text) <= budget:
            best, best_text, low = candidate, candidate_text, middle + 1
        else:
            high = middle - 1
    return best, best_text, dropped


def bounded_text(text: str, budget: int) -> str:
    """``text`` cut (with a ``…[+N chars]`` marker) to at most ``budget`` UTF-8 bytes."""
    if byte_size(text) <= budget:
        return text
    keep = max(0, budget - 32)
    cut = text[:keep]
    while cut and byte_size(cut) > keep:
        cut = cut[: len(cut) - max(1, (byte_size(cut) - keep) // 2)]
    return f"{cut}…[+{len(text) - len(cut)} chars]"


def _attribute_room(span: Any) -> int:
    """How many more attributes ``span`` takes before the SDK starts evicting its oldest ones."""
    limit = getattr(getattr(span, "_attributes", None), "maxlen", _DEFAULT_ATTRIBUTE_LIMIT)
    if limit is None:
        return 1 << 30
    attributes = getattr(span, "attributes", None) or {}
    return max(0, int(limit) - len(attributes) - _ATTRIBUTE_RESERVE)


def _flatten_within(prefix: str, items: list[Any], flatten: Any, room: int, keep: str) -> tuple[dict[str, Any], int]:
    """Indexed OpenInference keys for ``items``, leaving out whole items beyond ``room`` keys."""
    per_item = [flatten(f"{prefix}.{i}", item) for i, item in enumerate(items)]
    order = range(len(items) - 1, -1, -1) if keep == "last" else range(len(items))
    chosen: list[int] = []
    used = 0
    for index in order:
        if used + len(per_item[index]) > room:
            break
        chosen.append(index)
        used += len(per_item[index])
    chosen.sort()
    if len(chosen) == len(items):
        flat: dict[str, Any] = {}
        for keys in per_item:
            flat.update(keys)
        return flat, 0
    flat = {}
    for new_index, old_index in enumerate(chosen):
        flat.update(flatten(f"{prefix}.{new_index}", items[old_index]))
    return flat, len(items) - len(chosen)


def _clean(key: str, value: Any) -> Any:
    """An attribute value made exportable (UTF-8 encodable) and redacted; JSON stays within budget."""
    if isinstance(value, str):
        value = safe_text(value)
    elif isinstance(value, list) and value and isinstance(value[0], str):
        value = [safe_text(item) for item in value]
    redactor = RUNTIME.redactor
    if not redactor.enabled:
        return value
    redacted = redactor.attribute(key, value)
    if redacted is not value and isinstance(redacted, str) and redacted[:1] in "[{":
        budget = RUNTIME.payload_budget
        if byte_size(redacted) > budget:  # "[REDACTED]" is longer than the secret it replaced
            try:
                return to_json(json.loads(redacted), budget)
            except ValueError:
                return bounded_text(redacted, budget)
    return redacted


def _apply(span: Any, attributes: dict[str, Any]) -> None:
    if attributes and span.is_recording():
        span.set_attributes({key: _clean(key, value) for key, value in attributes.items()})


def _existing(span: Any, key: str) -> Any:
    attributes = getattr(span, "attributes", None)
    return attributes.get(key) if attributes else None


# --------------------------------------------------------------------------------------------------
# model and token usage


def _provider_names(provider: str) -> tuple[str, str]:
    name = provider.strip().lower()
    genai = _OI_TO_GENAI_PROVIDER.get(name, name)
    return genai, _GENAI_TO_OI_PROVIDER.get(genai, name)


def llm_attributes(
    span: Any,
    *,
    model: Any = None,
    provider: Any = None,
    temperature: Any = None,
    max_tokens: Any = None,
    top_p: Any = None,
    stop: Any = None,
    response_model: Any = None,
    finish_reasons: Any = None,
    response_id: Any = None,
) -> dict[str, Any]:
    """The attributes ``set_llm`` sets on ``span`` (existing invocation parameters are merged)."""
    dialects = RUNTIME.settings.semconv
    out: dict[str, Any] = {}
    model_name, response_name = _text(model), _text(response_model)
    temperature_value, top_p_value = _number(temperature), _number(top_p)
    max_tokens_value = _count(max_tokens)
    stops, reasons = _strings(stop), _strings(finish_reasons)
    response_id_text = _text(response_id)
    genai_provider = oi_provider = None
    if provider is not None:
        genai_provider, oi_provider = _provider_names(str(provider))
    if "genai" in dialects:
        for key, value in (
            (sc.GEN_AI_REQUEST_MODEL, model_name),
            (sc.GEN_AI_PROVIDER_NAME, genai_provider),
            (sc.GEN_AI_REQUEST_TEMPERATURE, temperature_value),
            (sc.GEN_AI_REQUEST_MAX_TOKENS, max_tokens_value),
            (sc.GEN_AI_REQUEST_TOP_P, top_p_value),
            (sc.GEN_AI_RESPONSE_MODEL, response_name),
            (sc.GEN_AI_RESPONSE_ID, response_id_text),
        ):
            if value is not None:
                out[key] = value
        if stops:
            out[sc.GEN_AI_REQUEST_STOP_SEQUENCES] = stops
        if reasons:
            out[sc.GEN_AI_RESPONSE_FINISH_REASONS] = reasons
    shown_model = response_name or model_name
    if "openinference" in dialects:
        if shown_model is not None:
            out[sc.LLM_MODEL_NAME] = shown_model
        if oi_provider is not None:
            out[sc.LLM_PROVIDER] = oi_provider
        parameters = {
            key: value
            for key, value in (
                ("temperature", temperature_value),
                ("max_tokens", max_tokens_value),
                ("top_p", top_p_value),
                ("stop", stops or None),
            )
            if value is not None
        }
        if parameters:
            previous = _existing(span, sc.LLM_INVOCATION_PARAMETERS)
            if isinstance(previous, str):
                try:
                    merged = json.loads(previous)
                    if isinstance(merged, dict):
                        parameters = {**merged, **parameters}
                except ValueError:
                    pass
            out[sc.LLM_INVOCATION_PARAMETERS] = to_json(parameters, RUNTIME.payload_budget)
        if reasons:
            out[sc.LLM_FINISH_REASON] = reasons[0] if len(reasons) == 1 else reasons
    if "mlflow" in dialects:
        if shown_model is not None:
            out[sc.MLFLOW_LLM_MODEL] = json.dumps(shown_model)
        if oi_provider is not None:
            out[sc.MLFLOW_LLM_PROVIDER] = json.dumps(oi_provider)
    return out


def usage_attributes(
    span: Any,
    *,
    input: Any = None,  # noqa: A002 - the issue's name for it
    output: Any = None,
    total: Any = None,
    cached_input: Any = None,
    reasoning: Any = None,
    cache_creation: Any = None,
) -> dict[str, Any]:
    """The attributes ``set_token_usage`` sets: new counts merged over those already on ``span``.

    None when another instrumentation's child span already recorded this model call's usage
    (``agentel.usage.recorded_by``): the call is counted once, there.
    """
    attributes = getattr(span, "attributes", None)
    if attributes and attributes.get(sc.AGENTEL_USAGE_RECORDED_BY) is not None:
        return {}
    usage = read_usage(attributes) if attributes else {}
    usage = dict(usage or {})
    explicit_total = _count(total)
    changed = False
    for key, value in (
        ("input", input),
        ("output", output),
        ("cache_read", cached_input),
        ("reasoning", reasoning),
        ("cache_write", cache_creation),
    ):
        number = _count(value)
        if number is not None:
            usage[key] = number
            changed = changed or key in ("input", "output")
    if explicit_total is not None:
        usage["total"] = explicit_total
    elif changed:  # derived only when this call changed input or output
        usage["total"] = usage.get("input", 0) + usage.get("output", 0)
    dialects = RUNTIME.settings.semconv
    out: dict[str, Any] = {}
    if "genai" in dialects:
        for key, name in (
            (sc.GEN_AI_USAGE_INPUT_TOKENS, "input"),
            (sc.GEN_AI_USAGE_OUTPUT_TOKENS, "output"),
            (sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, "cache_read"),
            (sc.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS, "cache_write"),
            (sc.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS, "reasoning"),
        ):
            if name in usage:
                out[key] = usage[name]
    if "openinference" in dialects:
        for key, name in (
            (sc.LLM_TOKEN_COUNT_PROMPT, "input"),
            (sc.LLM_TOKEN_COUNT_COMPLETION, "output"),
            (sc.LLM_TOKEN_COUNT_TOTAL, "total"),
            (sc.LLM_TOKEN_COUNT_CACHE_READ, "cache_read"),
            (sc.LLM_TOKEN_COUNT_CACHE_WRITE, "cache_write"),
            (sc.LLM_TOKEN_COUNT_REASONING, "reasoning"),
        ):
            if name in usage:
                out[key] = usage[name]
    if "mlflow" in dialects:
        mlflow_usage = {
            mlflow_key: usage[name]
            for mlflow_key, name in (
                ("input_tokens", "input"),
                ("output_tokens", "output"),
                ("total_tokens", "total"),
                ("cache_read_input_tokens", "cache_read"),
                ("cache_creation_input_tokens", "cache_write"),
            )
            if name in usage
        }
        if mlflow_usage:
            out[sc.MLFLOW_CHAT_USAGE] = json.dumps(mlflow_usage)
    return out


# --------------------------------------------------------------------------------------------------
# messages: the common chat shapes -> the GenAI message schema (then OpenInference from it)


def _data_url_part(url: str, modality: str) -> dict[str, Any]:
    if url.startswith("data:") and ";base64," in url:
        header, _, data = url.partition(";base64,")
        return {"type": "blob", "modality": modality, "mime_type": header[5:] or None, "content": data}
    return {"type": "uri", "modality": modality, "uri": url}


def _response_value(content: Any) -> Any:
    """A tool result: text stays text, a list of text blocks is joined, anything else is JSON-able."""
    if isinstance(content, str) or content is None:
        return content if content is not None else ""
    if isinstance(content, (list, tuple)):
        texts = [_field(block, "text") if not isinstance(block, str) else block for block in content]
        if texts and all(isinstance(t, str) for t in texts):
            return "".join(texts)
    return _json_value(content)


def _tool_call_part(call_id: Any, name: Any, arguments: Any) -> dict[str, Any]:
    part: dict[str, Any] = {"type": "tool_call", "id": _text(call_id), "name": _text(name) or ""}
    if arguments is not None:
        part["arguments"] = _json_value(arguments)
    return part


def _block_part(block: Any) -> Optional[dict[str, Any]]:
    if block is None:
        return None
    if isinstance(block, str):
        return {"type": "text", "content": block}
    kind = _field(block, "type")
    if kind in ("text", "input_text", "output_text") or (kind is None and _field(block, "text") is not None):
        return {"type": "text", "content": _text(_first(block, "text", "content")) or ""}
    if kind == "refusal":
        return {"type": "text", "content": _text(_field(block, "refusal")) or ""}
    if kind in ("image_url", "input_image"):
        image = _field(block, "image_url")
        url = image if isinstance(image, str) else _field(image, "url")
        return _data_url_part(str(url), "image") if url else {"type": str(kind)}
    if kind in ("image", "document"):
        source = _field(block, "source")
        modality = "image" if kind == "image" else "document"
        if _field(source, "type") == "base64":
            mime = _text(_field(source, "media_type"))
            return {"type": "blob", "modality": modality, "mime_type": mime, "content": _text(_field(source, "data"))}
        url = _field(source, "url")
        return {"type": "uri", "modality": modality, "uri": str(url)} if url else {"type": str(kind)}
    if kind in ("tool_use", "server_tool_use", "function_call"):
        arguments = _first(block, "input", "arguments")
        return _tool_call_part(_first(block, "call_id", "id"), _field(block, "name"), arguments)
    if kind in ("tool_result", "function_call_output"):
        call_id = _first(block, "tool_use_id", "call_id")
        return {
            "type": "tool_call_response",
            "id": _text(call_id),
            "response": _response_value(_first(block, "content", "output")),
        }
    if kind in ("thinking", "reasoning"):
        text = _first(block, "thinking", "text")
        if text is None:
            summary = _field(block, "summary")
            if isinstance(summary, (list, tuple)):
                text = "".join(str(_field(s, "text") or "") for s in summary)
        return {"type": "reasoning", "content": _text(text) or ""}
    return {"type": str(kind) if kind is not None else "unknown"}


def _content_parts(content: Any) -> list[dict[str, Any]]:
    if content is None:
        return []
    if isinstance(content, str):
        return [{"type": "text", "content": content}] if content else []
    if isinstance(content, (list, tuple)):
        return [part for part in (_block_part(block) for block in content) if part is not None]
    if isinstance(content, Mapping) or _field(content, "type") is not None:
        part = _block_part(content)
        return [part] if part is not None else []
    return [{"type": "text", "content": _as_json_text(_json_value(content))}]


def _normalized_finish(reason: Any, parts: list[dict[str, Any]]) -> str:
    if reason is not None:
        text = str(reason)
        return _FINISH_REASONS.get(text.lower(), text)
    return "tool_call" if any(p.get("type") == "tool_call" for p in parts) else "stop"


def to_genai_message(item: Any, default_role: str, output: bool = False) -> Optional[dict[str, Any]]:
    """One chat message in the GenAI schema (``{"role", "parts", ["name"], ["finish_reason"]}``).

    Accepts OpenAI-style ``{"role", "content", "tool_calls", "tool_call_id", "name"}`` dicts, OpenAI
    choices (``{"message", "finish_reason"}``), Anthropic messages with content blocks (``text``,
    ``tool_use``, ``tool_result``, ``thinking``, ``image``), Responses API items, SDK objects of those
    shapes, and plain strings. Example: ``to_genai_message({"role": "user", "content": "hi"}, "user")``.
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
        inner = _field(item, "message")
        if inner is not None and _field(item, "role") is None:  # an OpenAI choice
            finish, message = _field(item, "finish_reason"), inner
        role = _text(_field(message, "role")) or default_role
        if _field(message, "type") == "function_call":  # a Responses API output item
            parts = [p for p in [_block_part(message)] if p is not None]
            role = "assistant"
        else:
            parts = _content_parts(_field(message, "content"))
            if not parts and _field(message, "text") is not None:  # a legacy completion choice
                parts = [{"type": "text", "content": _text(_field(message, "text")) or ""}]
        for call in _field(message, "tool_calls") or ():
            function = _field(call, "function")
            parts.append(_tool_call_part(_field(call, "id"), _field(function, "name"), _field(function, "arguments")))
        legacy = _field(message, "function_call")
        if legacy is not None:
            parts.append(_tool_call_part(None, _field(legacy, "name"), _field(legacy, "arguments")))
        tool_call_id = _field(message, "tool_call_id")
        if role in ("tool", "function") or tool_call_id is not None:
            response = _response_value(_field(message, "content"))
            parts = [{"type": "tool_call_response", "id": _text(tool_call_id), "response": response}]
        name = _text(_field(message, "name"))
        finish = finish if finish is not None else _first(message, "finish_reason", "stop_reason")
    result: dict[str, Any] = {"role": role, "parts": parts}
    if name:
        result["name"] = name
    if output:
        result["finish_reason"] = _normalized_finish(finish, parts)
    return result


def to_genai_messages(messages: Any, default_role: str, output: bool = False) -> list[dict[str, Any]]:
    """A list of GenAI-schema messages from one message, a list of them, or a string."""
    if messages is None:
        return []
    if isinstance(messages, (str, Mapping)) or not isinstance(messages, (list, tuple)):
        items: Sequence[Any] = [messages]
    else:
        items = messages
    converted = (to_genai_message(item, default_role, output) for item in items)
    return [message for message in converted if message is not None]


def _system_parts(system: Any) -> list[dict[str, Any]]:
    if system is None:
        return []
    if isinstance(system, (list, tuple)):
        parts: list[dict[str, Any]] = []
        for item in system:
            if isinstance(item, str):
                parts.append({"type": "text", "content": item})
            elif _field(item, "role") is not None:  # a system message
                parts.extend(_content_parts(_field(item, "content")))
            else:
                part = _block_part(item)
                if part is not None:
                    parts.append(part)
        return parts
    if _field(system, "role") is not None:
        return _content_parts(_field(system, "content"))
    return _content_parts(system)


def _oi_message(prefix: str, message: dict[str, Any]) -> dict[str, Any]:
    """One message as OpenInference keys (the same projection Phoenix makes from the GenAI schema)."""
    flat: dict[str, Any] = {f"{prefix}.{sc.MESSAGE_ROLE}": str(message.get("role", ""))}
    if message.get("name"):
        flat[f"{prefix}.{sc.MESSAGE_NAME}"] = str(message["name"])
    parts: list[dict[str, Any]] = message.get("parts", [])
    for part in parts:
        if part.get("type") == "tool_call_response":
            if part.get("id"):
                flat[f"{prefix}.{sc.MESSAGE_TOOL_CALL_ID}"] = str(part["id"])
            flat[f"{prefix}.{sc.MESSAGE_CONTENT}"] = _as_json_text(part.get("response", ""))
            return flat
    contents = [p for p in parts if p.get("type") in ("text", "reasoning", "uri", "blob")]
    texts = [p for p in contents if p.get("type") == "text"]
    if contents and (len(texts) != len(contents) or len(texts) > 1):
        for index, part in enumerate(contents):
            base = f"{prefix}.{sc.MESSAGE_CONTENTS}.{index}"
            kind = part.get("type")
            if kind in ("text", "reasoning"):
                flat[f"{base}.{sc.MESSAGE_CONTENT_TYPE}"] = kind
                flat[f"{base}.{sc.MESSAGE_CONTENT_TEXT}"] = str(part.get("content", ""))
            else:
                flat[f"{base}.{sc.MESSAGE_CONTENT_TYPE}"] = "image"
                url = part.get("uri")
                if kind == "blob":
                    url = f"data:{part.get('mime_type') or 'application/octet-stream'};base64,{part.get('content', '')}"
                if url:
                    flat[f"{base}.{sc.MESSAGE_CONTENT_IMAGE_URL}"] = str(url)
    elif texts:
        flat[f"{prefix}.{sc.MESSAGE_CONTENT}"] = str(texts[0].get("content", ""))
    calls = [p for p in parts if p.get("type") == "tool_call"]
    for index, call in enumerate(calls):
        base = f"{prefix}.{sc.MESSAGE_TOOL_CALLS}.{index}"
        if call.get("id"):
            flat[f"{base}.{sc.TOOL_CALL_ID}"] = str(call["id"])
        flat[f"{base}.{sc.TOOL_CALL_FUNCTION_NAME}"] = str(call.get("name", ""))
        if call.get("arguments") is not None:
            flat[f"{base}.{sc.TOOL_CALL_FUNCTION_ARGUMENTS}"] = _as_json_text(call["arguments"])
    return flat


def messages_attributes(span: Any, *, input: Any = None, output: Any = None, system: Any = None) -> dict[str, Any]:  # noqa: A002
    """The attributes ``set_messages`` sets (nothing when content capture is off)."""
    if not RUNTIME.capture_content:
        return {}
    dialects = RUNTIME.settings.semconv
    budget = RUNTIME.payload_budget
    out: dict[str, Any] = {}
    dropped = 0
    system_parts = _system_parts(system)
    oi_system: list[dict[str, Any]] = []
    input_budget = budget
    if system_parts:  # system instructions and input messages share one budget (at most half for the system)
        kept, text, dropped_parts = fit_list(system_parts, budget // 2 if input is not None else budget, keep="first")
        dropped += dropped_parts
        input_budget = max(2, budget - byte_size(text))
        if "genai" in dialects:
            out[sc.GEN_AI_SYSTEM_INSTRUCTIONS] = text
        oi_system = [{"role": "system", "parts": kept}] if kept else []
    room = _attribute_room(span) if "openinference" in dialects else 0
    for which, value, oi_prefix, genai_key in (
        ("input", input, sc.LLM_INPUT_MESSAGES, sc.GEN_AI_INPUT_MESSAGES),
        ("output", output, sc.LLM_OUTPUT_MESSAGES, sc.GEN_AI_OUTPUT_MESSAGES),
    ):
        if value is None and not (which == "input" and oi_system):
            continue
        messages = to_genai_messages(value, "user" if which == "input" else "assistant", which == "output")
        limit = input_budget if which == "input" else budget
        kept, text, dropped_messages = fit_list(messages, limit, keep="last" if which == "input" else "first")
        dropped += dropped_messages
        if "genai" in dialects and value is not None:
            out[genai_key] = text
        if "openinference" in dialects:
            oi_items = (oi_system + kept) if which == "input" else kept
            flat, left_out = _flatten_within(
                oi_prefix, oi_items, _oi_message, room, "last" if which == "input" else "first"
            )
            room -= len(flat)
            dropped += left_out
            out.update(flat)
    if dropped:
        out[sc.AGENTEL_MESSAGES_DROPPED] = dropped
    return out


# --------------------------------------------------------------------------------------------------
# tools, documents, embeddings, agents


def tool_attributes(
    *,
    name: Any = None,
    description: Any = None,
    call_id: Any = None,
    arguments: Any = None,
    result: Any = None,
    parameters: Any = None,
) -> dict[str, Any]:
    """The attributes ``set_tool`` sets (arguments and result only with content capture on)."""
    dialects = RUNTIME.settings.semconv
    budget = RUNTIME.payload_budget
    capture = RUNTIME.capture_content
    out: dict[str, Any] = {}
    name_text, description_text, id_text = _text(name), _text(description), _text(call_id)
    if "genai" in dialects:
        for key, value in (
            (sc.GEN_AI_TOOL_NAME, name_text),
            (sc.GEN_AI_TOOL_DESCRIPTION, description_text),
            (sc.GEN_AI_TOOL_CALL_ID, id_text),
        ):
            if value is not None:
                out[key] = value
        if capture and arguments is not None:
            out[sc.GEN_AI_TOOL_CALL_ARGUMENTS] = to_json(_json_value(arguments), budget)
        if capture and result is not None:
            out[sc.GEN_AI_TOOL_CALL_RESULT] = to_json(_json_value(result), budget)
    if "openinference" in dialects:
        for key, value in ((sc.TOOL_NAME, name_text), (sc.TOOL_DESCRIPTION, description_text), (sc.TOOL_ID, id_text)):
            if value is not None:
                out[key] = value
        if parameters is not None:
            out[sc.TOOL_PARAMETERS] = to_json(_json_value(parameters), budget)
    return out


def _document(item: Any) -> dict[str, Any]:
    if isinstance(item, str):
        return {"content": item}
    doc: dict[str, Any] = {}
    doc_id = _first(item, "id", "doc_id", "document_id")
    if doc_id is None:
        doc_id = _field(_field(item, "metadata"), "id")
    if doc_id is not None:
        doc["id"] = str(doc_id)
    score = _number(_first(item, "score", "relevance_score", "similarity"))
    if score is not None:
        doc["score"] = score
    content = _first(item, "content", "page_content", "text")
    if content is not None:
        doc["content"] = content if isinstance(content, str) else _as_json_text(_json_value(content))
    metadata = _field(item, "metadata")
    if isinstance(metadata, Mapping) and metadata:
        doc["metadata"] = _json_value(dict(metadata))
    return doc


def _oi_document(prefix: str, doc: dict[str, Any]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    if "id" in doc:
        flat[f"{prefix}.{sc.DOCUMENT_ID}"] = doc["id"]
    if "score" in doc:
        flat[f"{prefix}.{sc.DOCUMENT_SCORE}"] = doc["score"]
    if "content" in doc:
        flat[f"{prefix}.{sc.DOCUMENT_CONTENT}"] = doc["content"]
    if "metadata" in doc:
        flat[f"{prefix}.{sc.DOCUMENT_METADATA}"] = _as_json_text(doc["metadata"])
    return flat


def documents_attributes(span: Any, documents: Any, *, query: Any = None, data_source_id: Any = None) -> dict[str, Any]:
    """The attributes ``set_retrieved_documents`` sets (ids and scores always; content when captured)."""
    dialects = RUNTIME.settings.semconv
    budget = RUNTIME.payload_budget
    capture = RUNTIME.capture_content
    items = [] if documents is None else [documents] if isinstance(documents, (str, Mapping)) else list(documents)
    docs = [_document(item) for item in items]
    if not capture:
        docs = [{k: v for k, v in doc.items() if k in ("id", "score")} for doc in docs]
    kept, text, dropped = fit_list(docs, budget, keep="first")
    out: dict[str, Any] = {}
    if "genai" in dialects:
        out[sc.GEN_AI_RETRIEVAL_DOCUMENTS] = text
        if capture and query is not None:
            out[sc.GEN_AI_RETRIEVAL_QUERY_TEXT] = bounded_text(str(query), budget)
        if data_source_id is not None:
            out[sc.GEN_AI_DATA_SOURCE_ID] = str(data_source_id)
    if "openinference" in dialects:
        flat, left_out = _flatten_within(sc.RETRIEVAL_DOCUMENTS, kept, _oi_document, _attribute_room(span), "first")
        out.update(flat)
        dropped += left_out
    if dropped:
        out["agentel.documents_dropped"] = dropped
    return out


def embeddings_attributes(
    span: Any,
    texts: Any = None,
    vectors: Any = None,
    *,
    model: Any = None,
    provider: Any = None,
    dimensions: Any = None,
) -> dict[str, Any]:
    """The attributes ``set_embeddings`` sets (texts and vectors only with content capture on)."""
    dialects = RUNTIME.settings.semconv
    budget = RUNTIME.payload_budget
    text_list = _strings(texts)
    vector_list: list[list[float]] = []
    for vector in () if vectors is None else vectors:  # lists, tuples or numpy arrays
        try:
            vector_list.append([float(x) for x in vector])
        except (TypeError, ValueError):
            vector_list.append([])
    dimension = _count(dimensions)
    if dimension is None and vector_list and vector_list[0]:
        dimension = len(vector_list[0])
    out: dict[str, Any] = {}
    model_name = _text(model)
    if "genai" in dialects:
        if model_name is not None:
            out[sc.GEN_AI_REQUEST_MODEL] = model_name
        if provider is not None:
            out[sc.GEN_AI_PROVIDER_NAME] = _provider_names(str(provider))[0]
        if dimension is not None:
            out[sc.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] = dimension
    if "mlflow" in dialects and model_name is not None:
        out[sc.MLFLOW_LLM_MODEL] = json.dumps(model_name)
    if "openinference" in dialects:
        if model_name is not None:
            out[sc.EMBEDDING_MODEL_NAME] = model_name
        if RUNTIME.capture_content and (text_list or vector_list):
            kept_texts, _, _ = fit_list(text_list, budget, keep="first")
            room_bytes = budget
            items: list[dict[str, Any]] = []
            for index in range(max(len(text_list), len(vector_list))):
                item: dict[str, Any] = {}
                if index < len(kept_texts):
                    item["text"] = kept_texts[index]
                if index < len(vector_list) and vector_list[index] and len(vector_list[index]) * 8 <= room_bytes:
                    item["vector"] = vector_list[index]
                    room_bytes -= len(vector_list[index]) * 8
                if item:
                    items.append(item)

            def flatten(prefix: str, item: dict[str, Any]) -> dict[str, Any]:
                keys = {f"{prefix}.{sc.EMBEDDING_TEXT}": item["text"]} if "text" in item else {}
                if "vector" in item:
                    keys[f"{prefix}.{sc.EMBEDDING_VECTOR}"] = item["vector"]
                return keys

            flat, _ = _flatten_within(sc.EMBEDDING_EMBEDDINGS, items, flatten, _attribute_room(span), "first")
            out.update(flat)
    return out


def agent_attributes(*, name: Any = None, agent_id: Any = None, description: Any = None) -> dict[str, Any]:
    """The attributes ``set_agent`` sets."""
    dialects = RUNTIME.settings.semconv
    out: dict[str, Any] = {}
    name_text = _text(name)
    if "genai" in dialects:
        for key, value in (
            (sc.GEN_AI_AGENT_NAME, name_text),
            (sc.GEN_AI_AGENT_ID, _text(agent_id)),
            (sc.GEN_AI_AGENT_DESCRIPTION, _text(description)),
        ):
            if value is not None:
                out[key] = value
    if "openinference" in dialects and name_text is not None:
        out[sc.AGENT_NAME] = name_text
    return out


# --------------------------------------------------------------------------------------------------
# shape-aware capture of model responses (OpenAI chat completions / Responses, Anthropic messages)


def _response_shape(value: Any) -> Optional[str]:
    """``"openai_chat"``, ``"openai_responses"``, ``"anthropic"`` or ``None``; cheap and never raises."""
    if value is None or isinstance(value, (str, bytes, int, float, bool, list, tuple)):
        return None
    choices = _field(value, "choices")
    if isinstance(choices, (list, tuple)) and (_field(value, "usage") is not None or _field(value, "model")):
        return "openai_chat"
    kind = _field(value, "type")
    if kind == "message" and isinstance(_field(value, "content"), (list, tuple)):
        return "anthropic"
    if _field(value, "object") == "response" and isinstance(_field(value, "output"), (list, tuple)):
        return "openai_responses"
    return None


def _openai_usage(usage: Any) -> dict[str, Any]:
    input_details = _first(usage, "prompt_tokens_details", "input_tokens_details")
    output_details = _first(usage, "completion_tokens_details", "output_tokens_details")
    return {
        "input": _first(usage, "prompt_tokens", "input_tokens"),
        "output": _first(usage, "completion_tokens", "output_tokens"),
        "total": _field(usage, "total_tokens"),
        "cached_input": _field(input_details, "cached_tokens"),
        "reasoning": _field(output_details, "reasoning_tokens"),
    }


def _anthropic_usage(usage: Any) -> dict[str, Any]:
    base = _count(_field(usage, "input_tokens"))
    cache_read = _count(_field(usage, "cache_read_input_tokens"))
    cache_write = _count(_field(usage, "cache_creation_input_tokens"))
    # GenAI: input_tokens SHOULD include cached tokens; Anthropic reports them apart.
    total_input = None if base is None else base + (cache_read or 0) + (cache_write or 0)
    return {
        "input": total_input,
        "output": _field(usage, "output_tokens"),
        "cached_input": cache_read,
        "cache_creation": cache_write,
    }


def response_attributes(span: Any, value: Any) -> dict[str, Any]:
    """Model, response id, finish reasons, token usage and output messages read from a model response."""
    shape = _response_shape(value)
    if shape is None:
        return {}
    usage: dict[str, Any] = {}
    output: Any = None
    reasons: list[str] = []
    if shape == "openai_chat":
        choices = _field(value, "choices") or ()
        reasons = [str(r) for r in (_field(c, "finish_reason") for c in choices) if r is not None]
        output = list(choices)
        usage = _openai_usage(_field(value, "usage"))
    elif shape == "anthropic":
        reason = _field(value, "stop_reason")
        reasons = [str(reason)] if reason is not None else []
        output = [value]
        usage = _anthropic_usage(_field(value, "usage"))
    else:
        status = _field(value, "status")
        reasons = [str(status)] if status is not None else []
        items = list(_field(value, "output") or ())
        output = items
        usage = _openai_usage(_field(value, "usage"))
    out = llm_attributes(
        span,
        response_model=_field(value, "model"),
        response_id=_field(value, "id"),
        finish_reasons=reasons or None,
    )
    usage_values = {k: v for k, v in usage.items() if _count(v) is not None}
    if usage_values:
        out.update(usage_attributes(span, **usage_values))
    if RUNTIME.capture_content and output:
        if shape == "openai_responses":
            output = _responses_messages(output, reasons[0] if reasons else None)
        out.update(messages_attributes(span, output=output))
    return out


def _responses_messages(items: list[Any], status: Optional[str]) -> list[dict[str, Any]]:
    """Responses API output items as one assistant message (its parts: text, tool calls, reasoning)."""
    parts: list[dict[str, Any]] = []
    for item in items:
        kind = _field(item, "type")
        if kind == "message":
            parts.extend(_content_parts(_field(item, "content")))
        else:
            part = _block_part(item)
            if part is not None:
                parts.append(part)
    finish = "tool_call" if any(p.get("type") == "tool_call" for p in parts) else status
    return [{"role": "assistant", "parts": parts, "finish_reason": finish}]


# --------------------------------------------------------------------------------------------------
# the helpers, on any OTel span; each one never raises


def _guarded(where: str, span: Any, build: Any, *args: Any, **kwargs: Any) -> None:
    try:
        if span is None or not span.is_recording():
            return
        _apply(span, build(*args, **kwargs))
    except Exception as exc:  # noqa: BLE001
        report_internal_error(where, exc)


def set_llm(span: Any, **kwargs: Any) -> None:
    """Record the model call's parameters on ``span`` (see ``LiveSpan.set_llm``)."""
    _guarded("set_llm", span, llm_attributes, span, **kwargs)
    refresh_cost(span)


def set_token_usage(span: Any, **kwargs: Any) -> None:
    """Record token usage on ``span`` and refresh the trace total on the local root."""
    _guarded("set_token_usage", span, usage_attributes, span, **kwargs)
    refresh_cost(span)
    try:
        RUNTIME.processor.refresh_root_usage(span)
    except Exception as exc:  # noqa: BLE001
        report_internal_error("set_token_usage: trace total", exc)


def set_messages(span: Any, **kwargs: Any) -> None:
    """Record chat messages on ``span`` (see ``LiveSpan.set_messages``)."""
    _guarded("set_messages", span, messages_attributes, span, **kwargs)


def set_tool(span: Any, **kwargs: Any) -> None:
    """Record a tool call on ``span`` (see ``LiveSpan.set_tool``)."""
    _guarded("set_tool", span, tool_attributes, **kwargs)


def set_retrieved_documents(span: Any, documents: Any, **kwargs: Any) -> None:
    """Record retrieved documents on ``span`` (see ``LiveSpan.set_retrieved_documents``)."""
    _guarded("set_retrieved_documents", span, documents_attributes, span, documents, **kwargs)


def set_embeddings(span: Any, texts: Any = None, vectors: Any = None, **kwargs: Any) -> None:
    """Record an embeddings call on ``span`` (see ``LiveSpan.set_embeddings``)."""
    _guarded("set_embeddings", span, embeddings_attributes, span, texts, vectors, **kwargs)


def set_agent(span: Any, **kwargs: Any) -> None:
    """Record the agent's identity on ``span`` (see ``LiveSpan.set_agent``)."""
    _guarded("set_agent", span, agent_attributes, **kwargs)


def refresh_cost(span: Any) -> None:
    """Write the call's cost on ``span`` when its provider, model and usage are known and priced."""
    prices = RUNTIME.prices
    if prices is None:
        return
    try:
        attributes = getattr(span, "attributes", None)
        if attributes and span.is_recording() and has_usage(attributes):
            cost = call_cost(prices, attributes)
            if cost is not None:
                span.set_attributes(cost_attributes(cost, RUNTIME.settings.semconv))
    except Exception as exc:  # noqa: BLE001
        report_internal_error("pricing a model call", exc)


def capture_model_response(span: Any, value: Any) -> None:
    """If ``value`` looks like a model response, record what it says on ``span``; never raises.

    Example: a ``@trace(span_type=SpanType.CHAT_MODEL)`` function returning ``client.chat.completions.
    create(...)`` gets ``gen_ai.response.model``, token usage, finish reasons and output messages.
    """
    try:
        if span.is_recording() and _response_shape(value) is not None:
            _apply(span, response_attributes(span, value))
            refresh_cost(span)
            RUNTIME.processor.refresh_root_usage(span)
    except Exception as exc:  # noqa: BLE001
        report_internal_error("capturing a model response", exc)


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
            kind = _field(item, "type")
            if kind == "message_start":
                message = _field(item, "message")
                self._take(_anthropic_usage(_field(message, "usage")), _field(message, "model"))
            elif kind == "message_delta":
                self._take({"output": _field(_field(item, "usage"), "output_tokens")}, None)
            else:
                usage = _field(item, "usage")
                self._take(_openai_usage(usage) if usage is not None else {}, _field(item, "model"))
        except Exception:  # noqa: BLE001 - a chunk we do not understand is simply not usage
            pass

    def _take(self, usage: dict[str, Any], model: Any) -> None:
        for name in ("input", "output", "cached_input"):
            value = _count(usage.get(name))
            if value is not None:
                setattr(self, name, value)
        if isinstance(model, str) and model:
            self.model = model

    def apply(self, span: Any) -> None:
        """Record what was read on ``span`` (nothing when the stream carried no usage)."""
        if self.model is not None:
            set_llm(span, response_model=self.model)
        if self.input is not None or self.output is not None:
            set_token_usage(span, input=self.input, output=self.output, cached_input=self.cached_input)
