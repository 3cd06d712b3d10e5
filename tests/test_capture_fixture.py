"""The ``captured_spans`` fixture captures other instrumentations' spans in every test of a file, not only
the first: instrumentations cache the first real tracer they get, so the global provider is never
swapped per capture. Run in a subprocess (pytester) since the global provider is set once per process."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

_TESTS = '''
from opentelemetry import trace
import agentel

INSTRUMENTATION_TRACER = trace.get_tracer("some.instrumentation")  # obtained at import, cached forever


@agentel.trace(span_type=agentel.SpanType.TOOL)
def tool(n):
    with INSTRUMENTATION_TRACER.start_as_current_span(f"http GET {n}"):
        return n


def _check(captured_spans, n):
    assert tool(n) == n
    captured_spans.assert_tree(f"""
        tool [TOOL]
          http GET {n} [UNKNOWN]
    """)
    assert len(captured_spans) == 2
    foreign = captured_spans.find(f"http GET {n}")
    assert foreign.parent_id == captured_spans.find("tool").span_id


def test_one(captured_spans):
    _check(captured_spans, 1)


def test_two(captured_spans):
    _check(captured_spans, 2)


def test_three(captured_spans):
    _check(captured_spans, 3)
'''

_APP_CONFTEST = '''
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

APP_EXPORTER = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(APP_EXPORTER))
trace.set_tracer_provider(provider)


def pytest_sessionfinish(session):
    names = sorted(s.name for s in APP_EXPORTER.get_finished_spans())
    assert names == ["http GET 1", "http GET 2", "http GET 3", "tool", "tool", "tool"], names
    print("APP-EXPORTER-OK")
'''


@pytest.mark.parametrize("setup", ["agentel_own_provider", "application_provider"])
def test_three_tests_each_capture_an_instrumentation_tracer_cached_at_import(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, setup: str
) -> None:
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "none")
    if setup == "application_provider":
        pytester.makeconftest(_APP_CONFTEST)
    pytester.makepyfile(test_agent=_TESTS)
    result = pytester.runpytest_subprocess("-q", "-s", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)
    if setup == "application_provider":
        result.stdout.fnmatch_lines(["*APP-EXPORTER-OK*"])
