"""The dialect protocol: how one semantic-convention dialect writes (and reads back) what a helper records.

A helper call (``set_llm``, ``set_messages``, …) is first made into one dialect-free record here — values
read, normalised to the GenAI message schema and cut to the byte budget once — and every enabled
dialect then writes its own keys from that same record, so each dialect's copy fits the budget too.
A dialect is a module-level object with the methods of ``Dialect``; ``registry`` lists them.

To add a dialect: a module here with one such object, added to ``registry.ALL``, and its name to the
``semconv`` setting's choices.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Optional, Protocol

from agentel._conventions import names as sc
from agentel._conventions import readers as read
from agentel._conventions.span_types import Convention

Attributes = dict[str, Any]

# Token usage: each field of a usage record, in order, and its key in each dialect that writes usage (the
# GenAI and OpenInference attributes, the keys inside MLflow's mlflow.chat.tokenUsage JSON); None: none.
USAGE_DIALECTS = ("genai", "openinference", "mlflow")
USAGE_KEYS: dict[str, tuple[Optional[str], Optional[str], Optional[str]]] = {
    "input": (sc.GEN_AI_USAGE_INPUT_TOKENS, sc.LLM_TOKEN_COUNT_PROMPT, "input_tokens"),
    "output": (sc.GEN_AI_USAGE_OUTPUT_TOKENS, sc.LLM_TOKEN_COUNT_COMPLETION, "output_tokens"),
    "total": (None, sc.LLM_TOKEN_COUNT_TOTAL, "total_tokens"),
    "cache_read": (sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, sc.LLM_TOKEN_COUNT_CACHE_READ, "cache_read_input_tokens"),
    "cache_write": (
        sc.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
        sc.LLM_TOKEN_COUNT_CACHE_WRITE,
        "cache_creation_input_tokens",
    ),
    "reasoning": (sc.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS, sc.LLM_TOKEN_COUNT_REASONING, None),
}


@dataclass(frozen=True)
class Llm:
    """A model call's parameters (``set_llm``), read and checked; ``None`` for what was not given."""

    model: Optional[str] = None
    genai_provider: Optional[str] = None  # the provider as the GenAI registry spells it
    oi_provider: Optional[str] = None  # ... and as OpenInference spells it
    temperature: Optional[float] = None
    max_tokens: Optional[int] = None
    top_p: Optional[float] = None
    stop: tuple[str, ...] = ()
    response_model: Optional[str] = None
    finish_reasons: tuple[str, ...] = ()
    response_id: Optional[str] = None


@dataclass(frozen=True)
class Cut:
    """Schema-shaped items cut to the byte budget: the items kept and their JSON text."""

    items: list[Any]
    text: str


@dataclass(frozen=True)
class Messages:
    """A call's messages (``set_messages``) in the GenAI schema, each list cut once; ``None``: not given."""

    system: Optional[Cut] = None  # the system instructions' parts
    input: Optional[Cut] = None
    output: Optional[Cut] = None


@dataclass(frozen=True)
class Tool:
    """A tool call (``set_tool``); arguments and result are ``None`` with content capture off."""

    name: Optional[str] = None
    description: Optional[str] = None
    call_id: Optional[str] = None
    arguments: Any = None
    result: Any = None
    parameters: Any = None  # the tool's JSON schema


@dataclass(frozen=True)
class Documents:
    """Retrieved documents (``set_retrieved_documents``), cut once; the query only with content capture."""

    documents: Cut
    query: Optional[str] = None
    data_source_id: Optional[str] = None


@dataclass(frozen=True)
class Embeddings:
    """An embeddings call (``set_embeddings``); texts and vectors are empty with content capture off."""

    model: Optional[str] = None
    genai_provider: Optional[str] = None
    dimension: Optional[int] = None
    texts: tuple[str, ...] = ()
    vectors: tuple[list[float], ...] = ()


@dataclass(frozen=True)
class Agent:
    """The agent's identity (``set_agent``)."""

    name: Optional[str] = None
    agent_id: Optional[str] = None
    description: Optional[str] = None


class Dialect(Protocol):
    """One dialect's keys. ``span`` is the OTel span written to (read for what it already carries and
    for the room left under its attribute-count limit); ``budget`` is the byte budget of one JSON value.
    ``messages`` and ``documents`` also answer how many whole items they left out beyond the cut;
    ``payload_keys`` names the keys that carry a span's inputs (``which="input"``) or outputs as JSON text;
    ``function`` names the traced function of a decorated span, ``session`` a trace's session id."""

    name: str
    usage_keys: tuple[str, ...]  # keys whose presence means "this span carries token usage"

    def start(self, row: Convention) -> Attributes: ...

    def function(self, name: str) -> Attributes: ...

    def session(self, session_id: str) -> Attributes: ...

    def payload_keys(self, which: str) -> tuple[str, ...]: ...

    def llm(self, call: Llm, span: Any, budget: int) -> Attributes: ...

    def usage(self, usage: Mapping[str, int]) -> Attributes: ...

    def read_usage(self, attributes: Mapping[str, Any]) -> dict[str, int]: ...

    def messages(self, messages: Messages, span: Any) -> tuple[Attributes, int]: ...

    def tool(self, tool: Tool, budget: int) -> Attributes: ...

    def documents(self, documents: Documents, span: Any) -> tuple[Attributes, int]: ...

    def embeddings(self, embeddings: Embeddings, span: Any, budget: int) -> Attributes: ...

    def agent(self, agent: Agent) -> Attributes: ...

    def cost(self, input_cost: float, output_cost: float) -> dict[str, float]: ...


class UsageTable:
    """One dialect's token-usage keys, ``(field, key)`` pairs (its column of ``USAGE_KEYS``): usage is
    written and read back with it."""

    __slots__ = ("pairs",)

    def __init__(self, dialect: str) -> None:
        column = USAGE_DIALECTS.index(dialect)
        keyed = ((name, keys[column]) for name, keys in USAGE_KEYS.items())
        self.pairs = tuple((name, key) for name, key in keyed if key is not None)

    def written(self, usage: Mapping[str, int]) -> dict[str, int]:
        """``usage`` under the dialect's keys; fields the dialect lacks are left out."""
        return {key: usage[name] for name, key in self.pairs if name in usage}

    def read(self, recorded: Mapping[str, Any]) -> dict[str, int]:
        """The counts ``recorded`` carries under the dialect's keys, as usage fields."""
        found: dict[str, int] = {}
        for name, key in self.pairs:
            value = recorded.get(key)
            if value is not None:  # most keys are absent: no reader call for them
                value = read.recorded_count(value)
                if value is not None:
                    found[name] = value
        return found


class UsageAttributes:
    """A base for a dialect whose token counts are attributes of their own, one per ``usage_table`` key."""

    usage_table: UsageTable

    def usage(self, usage: Mapping[str, int]) -> Attributes:
        return dict(self.usage_table.written(usage))

    def read_usage(self, attributes: Mapping[str, Any]) -> dict[str, int]:
        return self.usage_table.read(attributes)
