"""``update_current_trace``: trace-level tags, metadata, session and user ids."""

from __future__ import annotations

from typing import Any, Mapping, Optional, Sequence, Union

from agentel._conventions import names as sc
from agentel._conventions.builders import session_attributes
from agentel._internal_errors import contained
from agentel._payload.serialize import safe_text
from agentel._runtime.foreign_context import current_span
from agentel._runtime.provider import RUNTIME
from agentel._runtime.state import current_state
from agentel._tracing.span import parsed_json
from agentel._tracing.write import normalized_attributes, tag_attributes

_UPDATING = contained("update_current_trace")


def update_current_trace(
    *,
    tags: Union[Mapping[str, Any], Sequence[str], None] = None,
    metadata: Optional[Mapping[str, Any]] = None,
    session_id: Optional[str] = None,
    user_id: Optional[str] = None,
) -> None:
    """Attach tags, metadata, a session id and a user id to the current trace.

    They are set on the trace's local root span and on every span of the trace started afterwards
    (``session.id``/``user.id`` for Phoenix sessions, ``gen_ai.conversation.id``, ``tag.tags``,
    ``metadata``, and ``agentel.tag.<key>`` per tag). Outside a span this does nothing.

    Example: ``agentel.update_current_trace(session_id="chat-42", tags={"env": "prod"})``.
    """
    update_trace_of(current_span(), tags=tags, metadata=metadata, session_id=session_id, user_id=user_id)


def update_trace_of(
    current: Any,
    *,
    tags: Union[Mapping[str, Any], Sequence[str], None] = None,
    metadata: Optional[Mapping[str, Any]] = None,
    session_id: Optional[str] = None,
    user_id: Optional[str] = None,
    root_only: Optional[Mapping[str, Any]] = None,
) -> None:
    """``update_current_trace`` for the trace of ``current`` (an OTel span); ``root_only`` attributes
    go on the local root alone. Never raises."""
    with _UPDATING:
        context = current.get_span_context()
        if not context.is_valid or not current.is_recording():
            return
        processor = RUNTIME.processor
        root = processor.local_root(context.trace_id)
        attributes: dict[str, Any] = {}
        if session_id is not None:
            attributes.update(session_attributes(current_state().policy.dialects, safe_text(session_id)))
        if user_id is not None:
            attributes[sc.USER_ID] = safe_text(user_id)
        if metadata:
            attributes[sc.METADATA] = {**_earlier_metadata(root or current), **dict(metadata)}
        if tags:
            if isinstance(tags, Mapping):
                attributes.update(tag_attributes(dict(tags)))
            else:
                attributes[sc.TAG_TAGS] = [safe_text(tag) for tag in tags]
        attributes = normalized_attributes(attributes)  # budget, UTF-8 and redaction, as every value
        if root_only:
            target = root if root is not None and root.is_recording() else current
            target.set_attributes(normalized_attributes(dict(root_only)))
        if not attributes:
            return
        processor.add_trace_attributes(context.trace_id, attributes)
        for span in (root, current):
            if span is not None and span.is_recording():
                span.set_attributes(attributes)


def _earlier_metadata(span: Any) -> dict[str, Any]:
    """Metadata set by an earlier call (later calls add keys, as in MLflow)."""
    value = parsed_json((getattr(span, "attributes", None) or {}).get(sc.METADATA))
    return value if isinstance(value, dict) else {}
