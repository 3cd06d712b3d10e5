"""The convention helpers on any OTel span: build the attributes (``builders``, ``usage``) under the
caller's ``Policy`` and set them, made exportable (``_budget.apply``); each one never raises.

The trace's token total on its local root is not written here: the caller refreshes it after
``set_token_usage`` (it belongs to the span processor).
"""

from __future__ import annotations

from typing import Any, Callable

from agentel._conventions._budget import apply
from agentel._conventions.builders import (
    agent_attributes,
    documents_attributes,
    embeddings_attributes,
    llm_attributes,
    messages_attributes,
    tool_attributes,
)
from agentel._conventions.cost import call_cost, cost_attributes
from agentel._conventions.policy import Policy
from agentel._conventions.usage import has_usage, span_attributes, usage_attributes
from agentel._internal_errors import contained

_PRICING = contained("pricing a model call")
_GUARDS: dict[str, contained] = {}  # one guard per setter name (a guard holds no state)


def _guarded(
    where: str, span: Any, policy: Policy, build: Callable[..., dict[str, Any]], *args: Any, **kwargs: Any
) -> None:
    guard = _GUARDS.get(where)
    if guard is None:
        guard = _GUARDS[where] = contained(where)
    with guard:
        if span is None or not span.is_recording():
            return
        apply(span, build(*args, **kwargs), policy)


def set_llm(span: Any, policy: Policy, **kwargs: Any) -> None:
    """Record the model call's parameters on ``span`` (see ``LiveSpan.set_llm``)."""
    _guarded("set_llm", span, policy, llm_attributes, span, policy, **kwargs)
    refresh_cost(span, policy)


def set_token_usage(span: Any, policy: Policy, **kwargs: Any) -> None:
    """Record token usage on ``span`` (the caller then refreshes the trace total on the local root)."""
    _guarded("set_token_usage", span, policy, usage_attributes, span, policy, **kwargs)
    refresh_cost(span, policy)


def set_messages(span: Any, policy: Policy, **kwargs: Any) -> None:
    """Record chat messages on ``span`` (see ``LiveSpan.set_messages``)."""
    _guarded("set_messages", span, policy, messages_attributes, span, policy, **kwargs)


def set_tool(span: Any, policy: Policy, **kwargs: Any) -> None:
    """Record a tool call on ``span`` (see ``LiveSpan.set_tool``)."""
    _guarded("set_tool", span, policy, tool_attributes, policy, **kwargs)


def set_retrieved_documents(span: Any, policy: Policy, documents: Any, **kwargs: Any) -> None:
    """Record retrieved documents on ``span`` (see ``LiveSpan.set_retrieved_documents``)."""
    _guarded("set_retrieved_documents", span, policy, documents_attributes, span, policy, documents, **kwargs)


def set_embeddings(span: Any, policy: Policy, texts: Any = None, vectors: Any = None, **kwargs: Any) -> None:
    """Record an embeddings call on ``span`` (see ``LiveSpan.set_embeddings``)."""
    _guarded("set_embeddings", span, policy, embeddings_attributes, span, policy, texts, vectors, **kwargs)


def set_agent(span: Any, policy: Policy, **kwargs: Any) -> None:
    """Record the agent's identity on ``span`` (see ``LiveSpan.set_agent``)."""
    _guarded("set_agent", span, policy, agent_attributes, policy, **kwargs)


def refresh_cost(span: Any, policy: Policy) -> None:
    """Write the call's cost on ``span`` when its provider, model and usage are known and priced."""
    prices = policy.prices
    if prices is None:
        return
    with _PRICING:
        attributes = span_attributes(span)
        if attributes and span.is_recording() and has_usage(attributes):
            cost = call_cost(prices, attributes)
            if cost is not None:
                span.set_attributes(cost_attributes(cost, policy.dialects))
