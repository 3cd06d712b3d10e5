"""agentel.testing.reset: agentel as just imported for a test, and everything put back afterwards."""

from __future__ import annotations

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

import agentel
import agentel.testing
from agentel.testing import SpanCapture


def test_reset_forgets_the_provider_and_restores_it_afterwards() -> None:
    before = agentel.get_tracer_provider()
    with agentel.testing.reset():
        assert agentel.stats()["provider"].startswith("none yet")
        assert isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)  # OTel's global uninstalled
        mine = TracerProvider()
        trace.set_tracer_provider(mine)  # a test may install its own
        assert agentel.get_tracer_provider() is mine
    assert agentel.get_tracer_provider() is before
    assert trace.get_tracer_provider() is not mine


def test_reset_inside_a_capture_changes_one_setting_for_the_rest_of_the_capture() -> None:
    # the README's example, with a traced function standing in for the agent
    @agentel.trace(span_type=agentel.SpanType.TOOL)
    def search(query: str) -> list[str]:
        return [query]

    with agentel.testing.capture_spans() as captured_spans:
        agentel.testing.reset(provider=False, settings=False, capture_content=False)
        search("hi")
        assert captured_spans.find("search").inputs is None
        assert captured_spans.find("search").span_type == "TOOL"
    with agentel.testing.capture_spans() as captured_spans:
        search("hi")
        assert captured_spans.find("search").inputs == {"query": "hi"}  # the capture restored it


def test_reset_keeps_earlier_changes_with_settings_false(captured_spans: SpanCapture) -> None:
    agentel.testing.reset(provider=False, settings=False, max_payload_bytes=100)
    agentel.testing.reset(provider=False, settings=False, capture_content=False)
    with agentel.start_span("s", inputs={"text": "x" * 500}) as span:
        pass
    assert span is not None
    assert captured_spans.find("s").inputs is None  # capture_content=False
    agentel.testing.reset(provider=False, settings=False, capture_content=True)
    with agentel.start_span("t", inputs={"text": "x" * 500}):
        pass
    assert len(captured_spans.find("t").attributes["input.value"].encode()) <= 100  # still max_payload_bytes=100


def test_reset_checks_settings_as_configure_does() -> None:
    with pytest.raises(agentel.ConfigurationError, match="max_open_traces"):
        agentel.testing.reset(max_open_traces=0)
    with pytest.raises(agentel.ConfigurationError, match="bogus"):
        agentel.testing.reset(bogus=None)
    assert agentel.stats()["enabled"] is True  # a refused reset changed nothing


def test_reset_none_restores_a_default_and_undo_runs_once(captured_spans: SpanCapture) -> None:
    agentel.testing.reset(provider=False, settings=False, max_payload_bytes=100)
    agentel.testing.reset(provider=False, settings=False, max_payload_bytes=None)  # the default, 8192
    with agentel.start_span("s", inputs={"text": "x" * 500}):
        pass
    assert captured_spans.find("s").inputs == {"text": "x" * 500}
    undo = agentel.testing.reset(provider=False, settings=False, capture_content=False)
    undo()
    undo()  # a second undo does nothing
    with agentel.start_span("t", inputs={"n": 1}):
        pass
    assert captured_spans.find("t").inputs == {"n": 1}
