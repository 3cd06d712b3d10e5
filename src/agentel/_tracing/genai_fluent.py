"""Fluent shortcuts: the agent-convention helpers applied to the current span.

Each acts on the span current in this context (agentel's or any OTel span) and does nothing outside a
span. Example::

    @agentel.trace(span_type=agentel.SpanType.CHAT_MODEL)
    def ask(question: str) -> str:
        agentel.set_llm(model="gpt-4o", provider="openai")
        reply = client.chat.completions.create(model="gpt-4o", messages=[...])
        agentel.set_token_usage(input=reply.usage.prompt_tokens, output=reply.usage.completion_tokens)
        return reply.choices[0].message.content
"""

from __future__ import annotations

from typing import Any, Optional, Sequence, Union

from opentelemetry import trace

from agentel._conventions import genai as _genai


def set_llm(
    *,
    model: Optional[str] = None,
    provider: Optional[str] = None,
    temperature: Optional[float] = None,
    max_tokens: Optional[int] = None,
    top_p: Optional[float] = None,
    stop: Union[str, Sequence[str], None] = None,
    response_model: Optional[str] = None,
    finish_reasons: Union[str, Sequence[str], None] = None,
    response_id: Optional[str] = None,
) -> None:
    """Record the model call on the current span (see ``LiveSpan.set_llm``).

    Example: ``agentel.set_llm(model="claude-sonnet-4", provider="anthropic", max_tokens=1024)``.
    """
    _genai.set_llm(
        trace.get_current_span(),
        model=model,
        provider=provider,
        temperature=temperature,
        max_tokens=max_tokens,
        top_p=top_p,
        stop=stop,
        response_model=response_model,
        finish_reasons=finish_reasons,
        response_id=response_id,
    )


def set_token_usage(
    *,
    input: Optional[int] = None,  # noqa: A002 - the natural name
    output: Optional[int] = None,
    total: Optional[int] = None,
    cached_input: Optional[int] = None,
    reasoning: Optional[int] = None,
    cache_creation: Optional[int] = None,
) -> None:
    """Record token usage on the current span (see ``LiveSpan.set_token_usage``).

    Example: ``agentel.set_token_usage(input=812, output=64)``.
    """
    _genai.set_token_usage(
        trace.get_current_span(),
        input=input,
        output=output,
        total=total,
        cached_input=cached_input,
        reasoning=reasoning,
        cache_creation=cache_creation,
    )


def set_messages(*, input: Any = None, output: Any = None, system: Any = None) -> None:  # noqa: A002
    """Record chat messages on the current span (see ``LiveSpan.set_messages``).

    Example: ``agentel.set_messages(input=messages, output=reply.choices[0].message)``.
    """
    _genai.set_messages(trace.get_current_span(), input=input, output=output, system=system)


def set_tool(
    *,
    name: Optional[str] = None,
    description: Optional[str] = None,
    call_id: Optional[str] = None,
    arguments: Any = None,
    result: Any = None,
    parameters: Any = None,
) -> None:
    """Record a tool call on the current span (see ``LiveSpan.set_tool``).

    Example: ``agentel.set_tool(name="get_weather", call_id=call.id, arguments=call.function.arguments)``.
    """
    _genai.set_tool(
        trace.get_current_span(),
        name=name,
        description=description,
        call_id=call_id,
        arguments=arguments,
        result=result,
        parameters=parameters,
    )


def set_retrieved_documents(
    documents: Any, *, query: Optional[str] = None, data_source_id: Optional[str] = None
) -> None:
    """Record retrieved documents on the current span (see ``LiveSpan.set_retrieved_documents``).

    Example: ``agentel.set_retrieved_documents(hits, query=question, data_source_id="kb-prod")``.
    """
    _genai.set_retrieved_documents(trace.get_current_span(), documents, query=query, data_source_id=data_source_id)


def set_embeddings(
    texts: Union[str, Sequence[str], None] = None,
    vectors: Optional[Sequence[Sequence[float]]] = None,
    *,
    model: Optional[str] = None,
    provider: Optional[str] = None,
    dimensions: Optional[int] = None,
) -> None:
    """Record an embeddings call on the current span (see ``LiveSpan.set_embeddings``).

    Example: ``agentel.set_embeddings(texts, vectors, model="text-embedding-3-small")``.
    """
    _genai.set_embeddings(
        trace.get_current_span(), texts, vectors, model=model, provider=provider, dimensions=dimensions
    )


def set_agent(
    *,
    name: Optional[str] = None,
    id: Optional[str] = None,
    description: Optional[str] = None,  # noqa: A002
) -> None:
    """Record the agent's identity on the current span (see ``LiveSpan.set_agent``).

    Example: ``agentel.set_agent(name="support-bot", id="agent-7")``.
    """
    _genai.set_agent(trace.get_current_span(), name=name, agent_id=id, description=description)
