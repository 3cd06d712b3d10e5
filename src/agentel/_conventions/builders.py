"""The attribute builders: one helper call (``set_llm``, ``set_messages``, …) in, the attributes of every
dialect the ``Policy`` enables out. Pure: nothing is set, nothing of the runtime is read.

Each builder reads the forgiving inputs once into one dialect-free record (``dialects``), cutting any
message, document or embedding list once to the byte budget (long strings shortened, then the oldest
messages or the last documents left out) — and every enabled dialect writes its keys from that record,
so each dialect's copy fits too. With ``capture_content`` off, message, document, query, text and tool
argument/result content is left out; models, token counts, ids, names and types are kept.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, Callable

from agentel._conventions import names as sc
from agentel._conventions import readers as read
from agentel._conventions.dialects import Agent, Cut, Dialect, Documents, Embeddings, Llm, Messages, Tool
from agentel._conventions.dialects.registry import enabled, written
from agentel._conventions.messages import system_parts, to_genai_messages
from agentel._conventions.policy import Policy
from agentel._conventions.span_types import convention_for
from agentel._payload.serialize import byte_size
from agentel._payload.truncate import clip_text, fit_list

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


def provider_names(provider: str) -> tuple[str, str]:
    """A provider as the GenAI registry and as OpenInference spell it (``"google"`` -> ``gcp.gen_ai``, ``google``)."""
    name = provider.strip().lower()
    genai = _OI_TO_GENAI_PROVIDER.get(name, name)
    return genai, _GENAI_TO_OI_PROVIDER.get(genai, name)


@functools.lru_cache(maxsize=256)
def _start_attributes(span_type: str, dialects: frozenset[str]) -> tuple[tuple[str, Any], ...]:
    row = convention_for(span_type)
    return tuple(written(dialects, lambda dialect: dialect.start(row), {sc.AGENTEL_SPAN_TYPE: span_type}).items())


def start_attributes(span_type: str, dialects: frozenset[str]) -> dict[str, Any]:
    """The attributes every span of ``span_type`` carries from its start (a fresh dict).

    Example: ``start_attributes("TOOL", frozenset({"genai"}))`` has ``gen_ai.operation.name``
    ``execute_tool``.
    """
    return dict(_start_attributes(span_type, dialects))


def function_attributes(dialects: frozenset[str], function_name: str) -> dict[str, Any]:
    """The attributes naming the traced function of a decorated span, in each enabled dialect."""
    return written(dialects, lambda dialect: dialect.function(function_name))


def session_attributes(dialects: frozenset[str], session_id: str) -> dict[str, Any]:
    """The attributes of a trace's session id: ``session.id`` always, plus each enabled dialect's."""
    return written(dialects, lambda dialect: dialect.session(session_id), {sc.SESSION_ID: session_id})


def payload_attributes(dialects: frozenset[str], which: str, text: str) -> dict[str, Any]:
    """The attributes of a span's inputs (``which="input"``) or outputs given as JSON ``text``:
    ``input.value`` / ``output.value`` with their MIME type always, plus each enabled dialect's keys."""
    value_key, mime_key, dialect_keys = _payload_keys(dialects, which)
    out: dict[str, Any] = {value_key: text, mime_key: sc.JSON_MIME}
    for key in dialect_keys:
        out[key] = text
    return out


@functools.lru_cache(maxsize=64)
def _payload_keys(dialects: frozenset[str], which: str) -> tuple[str, str, tuple[str, ...]]:
    """The keys of a span's inputs or outputs: (``input.value``, ``input.mime_type``, the enabled
    dialects' own keys for the same JSON text), or the same for ``output``."""
    if which == "input":
        value_key, mime_key = sc.INPUT_VALUE, sc.INPUT_MIME_TYPE
    else:
        value_key, mime_key = sc.OUTPUT_VALUE, sc.OUTPUT_MIME_TYPE
    return value_key, mime_key, tuple(key for dialect in enabled(dialects) for key in dialect.payload_keys(which))


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(read.strings(value))


# set_llm's keywords (but ``provider``, spelled for two registries) and how each is read into ``Llm``
_LLM_READERS: dict[str, Callable[[Any], Any]] = {
    "model": read.text,
    "temperature": read.number,
    "max_tokens": read.count,
    "top_p": read.number,
    "stop": _strings,
    "response_model": read.text,
    "finish_reasons": _strings,
    "response_id": read.text,
}


def _read_keywords(call: str, readers: Mapping[str, Callable[[Any], Any]], given: Mapping[str, Any]) -> dict[str, Any]:
    """Each keyword argument read by its reader; ``TypeError`` for a keyword ``call`` does not take."""
    out: dict[str, Any] = {}
    for name, value in given.items():
        reader = readers.get(name)
        if reader is None:
            raise TypeError(f"{call}() got an unexpected keyword argument {name!r}")
        out[name] = reader(value)
    return out


def llm_attributes(span: Any, policy: Policy, *, provider: Any = None, **given: Any) -> dict[str, Any]:
    """The attributes ``set_llm`` sets on ``span`` (its keywords: ``_LLM_READERS`` and ``provider``);
    existing invocation parameters are merged."""
    genai_provider = oi_provider = None
    if provider is not None:
        genai_provider, oi_provider = provider_names(str(provider))
    call = Llm(genai_provider=genai_provider, oi_provider=oi_provider, **_read_keywords("set_llm", _LLM_READERS, given))
    return written(policy.dialects, lambda dialect: dialect.llm(call, span, policy.max_payload_bytes))


def _written_cut(
    dialects: frozenset[str], write: Callable[[Dialect], tuple[dict[str, Any], int]], dropped: int, dropped_key: str
) -> dict[str, Any]:
    """What each enabled dialect writes of a cut list (``write(dialect)``: its attributes and how many
    more items it left out), and under ``dropped_key`` the items left out in all, ``dropped`` included."""
    out: dict[str, Any] = {}
    for dialect in enabled(dialects):
        attributes, left_out = write(dialect)
        out.update(attributes)
        dropped += left_out
    if dropped:
        out[dropped_key] = dropped
    return out


def messages_attributes(
    span: Any,
    policy: Policy,
    *,
    input: Any = None,  # noqa: A002
    output: Any = None,
    system: Any = None,
) -> dict[str, Any]:
    """The attributes ``set_messages`` sets (nothing when content capture is off)."""
    if not policy.capture_content:
        return {}
    budget = policy.max_payload_bytes
    dropped = 0
    system_cut = None
    input_budget = budget
    parts = system_parts(system, budget)
    if parts:  # system instructions and input messages share one budget (at most half for the system)
        kept, text, dropped_parts = fit_list(parts, budget // 2 if input is not None else budget, keep="first")
        dropped += dropped_parts
        input_budget = max(2, budget - byte_size(text))
        system_cut = Cut(kept, text)
    cuts: dict[str, Cut] = {}
    for which, value, limit, keep in (("input", input, input_budget, "last"), ("output", output, budget, "first")):
        if value is not None:
            messages = to_genai_messages(
                value, "user" if which == "input" else "assistant", which == "output", budget=budget
            )
            kept, text, dropped_messages = fit_list(messages, limit, keep=keep)
            dropped += dropped_messages
            cuts[which] = Cut(kept, text)
    record = Messages(system=system_cut, input=cuts.get("input"), output=cuts.get("output"))
    return _written_cut(
        policy.dialects, lambda dialect: dialect.messages(record, span), dropped, sc.AGENTEL_MESSAGES_DROPPED
    )


def _as_given(value: Any) -> Any:
    return value


# set_tool's keywords and how each is read into ``Tool``; arguments and result are content
_TOOL_READERS: dict[str, Callable[[Any], Any]] = {
    "name": read.text,
    "description": read.text,
    "call_id": read.text,
    "arguments": _as_given,
    "result": _as_given,
    "parameters": _as_given,
}


def tool_attributes(policy: Policy, **given: Any) -> dict[str, Any]:
    """The attributes ``set_tool`` sets (its keywords: ``_TOOL_READERS``; arguments and result only
    with content capture on)."""
    fields = _read_keywords("set_tool", _TOOL_READERS, given)
    if not policy.capture_content:
        fields.pop("arguments", None)
        fields.pop("result", None)
    tool = Tool(**fields)
    return written(policy.dialects, lambda dialect: dialect.tool(tool, policy.max_payload_bytes))


def _document(item: Any, budget: int) -> dict[str, Any]:
    if isinstance(item, str):
        return {"content": item}
    doc: dict[str, Any] = {}
    doc_id = read.first(item, "id", "doc_id", "document_id")
    if doc_id is None:
        doc_id = read.field(read.field(item, "metadata"), "id")
    if doc_id is not None:
        doc["id"] = str(doc_id)
    score = read.number(read.first(item, "score", "relevance_score", "similarity"))
    if score is not None:
        doc["score"] = score
    content = read.first(item, "content", "page_content", "text")
    if content is not None:
        doc["content"] = content if isinstance(content, str) else read.as_json_text(read.json_value(content, budget))
    metadata = read.field(item, "metadata")
    if isinstance(metadata, Mapping) and metadata:
        doc["metadata"] = read.json_value(dict(metadata), budget)
    return doc


def documents_attributes(
    span: Any, policy: Policy, documents: Any, *, query: Any = None, data_source_id: Any = None
) -> dict[str, Any]:
    """The attributes ``set_retrieved_documents`` sets (ids and scores always; content when captured)."""
    budget = policy.max_payload_bytes
    capture = policy.capture_content
    items = [] if documents is None else [documents] if isinstance(documents, (str, Mapping)) else list(documents)
    docs = [_document(item, budget) for item in items]
    if not capture:
        docs = [{k: v for k, v in doc.items() if k in ("id", "score")} for doc in docs]
    kept, text, dropped = fit_list(docs, budget, keep="first")
    record = Documents(
        documents=Cut(kept, text),
        query=clip_text(str(query), budget) if capture and query is not None else None,
        data_source_id=str(data_source_id) if data_source_id is not None else None,
    )
    return _written_cut(
        policy.dialects, lambda dialect: dialect.documents(record, span), dropped, sc.AGENTEL_DOCUMENTS_DROPPED
    )


def embeddings_attributes(
    span: Any,
    policy: Policy,
    texts: Any = None,
    vectors: Any = None,
    *,
    model: Any = None,
    provider: Any = None,
    dimensions: Any = None,
) -> dict[str, Any]:
    """The attributes ``set_embeddings`` sets (texts and vectors only with content capture on)."""
    vector_list: list[list[float]] = []
    for vector in () if vectors is None else vectors:  # lists, tuples or numpy arrays
        try:
            vector_list.append([float(x) for x in vector])
        except (TypeError, ValueError):
            vector_list.append([])
    dimension = read.count(dimensions)
    if dimension is None and vector_list and vector_list[0]:
        dimension = len(vector_list[0])
    capture = policy.capture_content
    record = Embeddings(
        model=read.text(model),
        genai_provider=provider_names(str(provider))[0] if provider is not None else None,
        dimension=dimension,
        texts=tuple(read.strings(texts)) if capture else (),
        vectors=tuple(vector_list) if capture else (),
    )
    return written(policy.dialects, lambda dialect: dialect.embeddings(record, span, policy.max_payload_bytes))


def agent_attributes(
    policy: Policy, *, name: Any = None, agent_id: Any = None, description: Any = None
) -> dict[str, Any]:
    """The attributes ``set_agent`` sets."""
    agent = Agent(name=read.text(name), agent_id=read.text(agent_id), description=read.text(description))
    return written(policy.dialects, lambda dialect: dialect.agent(agent))
