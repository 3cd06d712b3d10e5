"""Fluent shortcuts: ``LiveSpan``'s convention setters, applied to the current span.

Each shortcut is made from the ``LiveSpan`` method of the same name (same signature, same docstring),
so a setter is written once. It acts on the span current in this context (agentel's or any OTel span)
and does nothing outside a span. Example::

    @agentel.trace(span_type=agentel.SpanType.CHAT_MODEL)
    def ask(question: str) -> str:
        agentel.set_llm(model="gpt-4o", provider="openai")
        reply = client.chat.completions.create(model="gpt-4o", messages=[...])
        agentel.set_token_usage(input=reply.usage.prompt_tokens, output=reply.usage.completion_tokens)
        return reply.choices[0].message.content
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Callable, TypeVar

from opentelemetry import trace

from agentel._tracing.span import LiveSpan

if TYPE_CHECKING:
    from typing_extensions import Concatenate, ParamSpec

    P = ParamSpec("P")
R = TypeVar("R")

ON_CURRENT_SPAN = (
    "As a top-level shortcut (``agentel.{name}(...)``) it acts on the current span (agentel's or any "
    "OTel span), and does nothing outside a span."
)


def on_current_span(method: Callable[Concatenate[LiveSpan, P], R]) -> Callable[P, R]:
    """``method`` of ``LiveSpan`` as a function acting on the current span, with its signature (minus
    ``self``), its annotations and its docstring (plus a line saying so)."""

    def shortcut(*args: P.args, **kwargs: P.kwargs) -> R:
        return method(LiveSpan(trace.get_current_span()), *args, **kwargs)

    signature = inspect.signature(method)
    name = method.__name__
    shortcut.__name__ = shortcut.__qualname__ = name
    shortcut.__doc__ = f"{inspect.cleandoc(method.__doc__ or '')}\n\n{ON_CURRENT_SPAN.format(name=name)}"
    shortcut.__annotations__ = {key: value for key, value in method.__annotations__.items() if key != "self"}
    shortcut.__wrapped__ = method  # type: ignore[attr-defined]  # typing.get_type_hints: span.py's names
    shortcut.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=list(signature.parameters.values())[1:]
    )
    return shortcut


set_llm = on_current_span(LiveSpan.set_llm)
set_token_usage = on_current_span(LiveSpan.set_token_usage)
set_messages = on_current_span(LiveSpan.set_messages)
set_tool = on_current_span(LiveSpan.set_tool)
set_retrieved_documents = on_current_span(LiveSpan.set_retrieved_documents)
set_embeddings = on_current_span(LiveSpan.set_embeddings)
set_agent = on_current_span(LiveSpan.set_agent)
