"""Cost of model calls: genai-prices data, cached and reasoning tokens, unknown models, user prices,
the trace total on the local root, and the cost counter."""

from __future__ import annotations

import json
import logging
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator

import genai_prices
import pytest
from opentelemetry import trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

import agentel
from agentel._export.metrics import METRICS
from agentel.testing import SpanCapture, capture_spans

COST_KEYS = ("llm.cost.prompt", "llm.cost.completion", "llm.cost.total", "agentel.cost.total_usd")


@pytest.fixture
def spans() -> Iterator[SpanCapture]:
    with capture_spans() as capture:
        yield capture


def _expected(model: str, provider: str, **usage: int) -> tuple[float, float]:
    """What genai-prices itself says (the reference), as (input, output) USD."""
    price = genai_prices.calc_price(genai_prices.Usage(**usage), model, provider_id=provider)
    return float(price.input_price), float(price.output_price)


def _chat(model: str, provider: str, **usage: Any) -> None:
    with agentel.start_span("call", span_type=agentel.SpanType.CHAT_MODEL) as span:
        span.set_llm(model=model, provider=provider)
        span.set_token_usage(**usage)


def test_known_model_gets_cost_attributes_from_genai_prices(spans: SpanCapture) -> None:
    _chat("gpt-4o", "openai", input=1000, output=500)
    attributes = spans.find("call").attributes
    input_cost, output_cost = _expected("gpt-4o", "openai", input_tokens=1000, output_tokens=500)
    assert input_cost == pytest.approx(1000 * 2.5e-6)  # sanity: the data's $2.5 / M input tokens
    assert attributes["llm.cost.prompt"] == pytest.approx(input_cost)
    assert attributes["llm.cost.completion"] == pytest.approx(output_cost)
    assert attributes["llm.cost.total"] == pytest.approx(input_cost + output_cost)
    assert attributes["agentel.cost.total_usd"] == pytest.approx(input_cost + output_cost)


def test_cached_input_tokens_are_priced_at_the_cache_rate(spans: SpanCapture) -> None:
    _chat("gpt-4o", "openai", input=1000, output=0, cached_input=400)
    attributes = spans.find("call").attributes
    expected, _ = _expected("gpt-4o", "openai", input_tokens=1000, output_tokens=0, cache_read_tokens=400)
    assert attributes["llm.cost.prompt"] == pytest.approx(expected)
    uncached, _ = _expected("gpt-4o", "openai", input_tokens=1000, output_tokens=0)
    assert attributes["llm.cost.prompt"] < uncached  # the cached part is cheaper


def test_anthropic_cache_writes_and_reads_are_priced_as_the_data_says(spans: SpanCapture) -> None:
    response = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5",
        "content": [{"type": "text", "text": "hi"}],
        "stop_reason": "end_turn",
        "usage": {
            "input_tokens": 100,
            "output_tokens": 50,
            "cache_read_input_tokens": 1000,
            "cache_creation_input_tokens": 200,
        },
    }
    with agentel.start_span("call", span_type=agentel.SpanType.CHAT_MODEL) as span:
        span.set_llm(provider="anthropic", model="claude-sonnet-4-5")
        span.set_outputs(response)
    attributes = spans.find("call").attributes
    expected = _expected(
        "claude-sonnet-4-5",
        "anthropic",
        input_tokens=1300,
        output_tokens=50,
        cache_read_tokens=1000,
        cache_write_tokens=200,
    )
    assert attributes["llm.cost.prompt"] == pytest.approx(expected[0])
    assert attributes["llm.cost.completion"] == pytest.approx(expected[1])


def test_reasoning_tokens_are_passed_to_the_price_data(spans: SpanCapture) -> None:
    _chat("o3", "openai", input=100, output=1000, reasoning=800)
    attributes = spans.find("call").attributes
    expected = _expected("o3", "openai", input_tokens=100, output_tokens=1000, output_reasoning_tokens=800)
    assert attributes["llm.cost.completion"] == pytest.approx(expected[1])


def test_unknown_model_gets_no_cost_and_one_debug_line(spans: SpanCapture, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="agentel")
    for _ in range(3):
        _chat("my-private-model-xyz", "openai", input=10, output=5)
    for span in spans.find_all("call"):
        assert not any(key in span.attributes for key in COST_KEYS)
    lines = [r for r in caplog.records if "my-private-model-xyz" in r.getMessage()]
    assert len(lines) == 1 and lines[0].levelno == logging.DEBUG


def test_no_provider_means_no_guess(spans: SpanCapture) -> None:
    with agentel.start_span("call", span_type=agentel.SpanType.CHAT_MODEL) as span:
        span.set_llm(model="gpt-4o")
        span.set_token_usage(input=10, output=5)
    assert not any(key in spans.find("call").attributes for key in COST_KEYS)


def test_model_set_after_usage_is_still_priced(spans: SpanCapture) -> None:
    with agentel.start_span("call", span_type=agentel.SpanType.CHAT_MODEL) as span:
        span.set_token_usage(input=1000, output=0)
        span.set_llm(model="gpt-4o", provider="openai")
    assert spans.find("call").attributes["llm.cost.prompt"] == pytest.approx(1000 * 2.5e-6)


def test_user_prices_from_configure_take_precedence(spans: SpanCapture) -> None:
    agentel.configure(prices={"acme/acme-large": {"input": 2.0, "output": 10.0, "cache_read": 0.5}})
    try:
        _chat("acme-large", "acme", input=1_000_000, output=100_000, cached_input=200_000)
    finally:
        agentel.configure(prices={})
    attributes = spans.find("call").attributes
    assert attributes["llm.cost.prompt"] == pytest.approx(800_000 * 2.0e-6 + 200_000 * 0.5e-6)
    assert attributes["llm.cost.completion"] == pytest.approx(1.0)


def test_prices_file_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spans: SpanCapture) -> None:
    path = tmp_path / "prices.json"
    path.write_text(json.dumps({"house-model": {"input": 1.0, "output": 3.0}}), encoding="utf-8")
    monkeypatch.setenv("AGENTEL_PRICES_FILE", str(path))
    agentel.configure()
    try:
        _chat("house-model", "self-hosted", input=1000, output=1000)
    finally:
        monkeypatch.delenv("AGENTEL_PRICES_FILE")
        agentel.configure()
    assert spans.find("call").attributes["agentel.cost.total_usd"] == pytest.approx(0.004)


def test_bad_prices_raise_a_configuration_error() -> None:
    for bad in ({"m": {"input": -1, "output": 1}}, {"m": {"input": 1}}, {"m": {"input": "x", "output": 1}}, [1]):
        with pytest.raises(agentel.ConfigurationError):
            agentel.configure(prices=bad)  # type: ignore[arg-type]


def test_malformed_prices_file_warns_and_is_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "prices.json"
    path.write_text("{not json", encoding="utf-8")
    monkeypatch.setenv("AGENTEL_PRICES_FILE", str(path))
    from agentel._runtime import settings as _config

    assert _config.from_environment().prices is None
    assert any("AGENTEL_PRICES_FILE" in r.getMessage() for r in caplog.records)


def test_trace_total_on_the_local_root_counts_each_call_once(spans: SpanCapture) -> None:
    with agentel.start_span("run", span_type=agentel.SpanType.AGENT):
        _chat("gpt-4o", "openai", input=1000, output=500)
        _chat("gpt-4o-mini", "openai", input=2000, output=100)
        _chat("unknown-model-abc", "openai", input=5, output=5)  # tokens counted, no cost
    root = spans.find("run").attributes
    first = _expected("gpt-4o", "openai", input_tokens=1000, output_tokens=500)
    second = _expected("gpt-4o-mini", "openai", input_tokens=2000, output_tokens=100)
    assert root["agentel.trace.cost.total_usd"] == pytest.approx(sum(first) + sum(second))
    assert root["agentel.trace.cost.calls"] == 2
    assert "llm.cost.total" not in root  # Phoenix sums llm.cost.* over spans: the root must not add to it


def test_foreign_model_span_under_agentel_is_priced_into_the_trace_total(spans: SpanCapture) -> None:
    """A model span of another instrumentation (never rewritten) still counts in the trace total."""
    other = trace.get_tracer("opentelemetry.instrumentation.openai_v2")
    with agentel.start_span("run", span_type=agentel.SpanType.AGENT):
        with other.start_as_current_span("chat gpt-4o") as span:
            span.set_attributes(
                {
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.model": "gpt-4o",
                    "gen_ai.usage.input_tokens": 1000,
                    "gen_ai.usage.output_tokens": 0,
                }
            )
    foreign = spans.find("chat gpt-4o").attributes
    assert not any(key in foreign for key in COST_KEYS)
    assert spans.find("run").attributes["agentel.trace.cost.total_usd"] == pytest.approx(1000 * 2.5e-6)


def test_cost_counter_by_model() -> None:
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    METRICS.use_meter_provider(provider)
    try:
        with capture_spans():
            _chat("gpt-4o", "openai", input=1000, output=500)
            _chat("gpt-4o", "openai", input=1000, output=500)
            _chat("unknown-model-abc", "openai", input=5, output=5)
    finally:
        METRICS.reset()
    data = reader.get_metrics_data()
    points = [
        (dict(p.attributes), p.value)
        for rm in data.resource_metrics
        for sm in rm.scope_metrics
        for m in sm.metrics
        if m.name == "agentel.gen_ai.client.cost"
        for p in m.data.data_points
    ]
    provider.shutdown()
    [(attributes, value)] = points  # the unknown model adds no series
    assert value == pytest.approx(2 * sum(_expected("gpt-4o", "openai", input_tokens=1000, output_tokens=500)))
    assert attributes == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o",
    }


def test_genai_prices_version_is_the_pinned_one() -> None:
    assert genai_prices.__version__ == "0.2.3"
    assert isinstance(genai_prices.calc_price(genai_prices.Usage(input_tokens=1), "gpt-4o").total_price, Decimal)


def test_tiered_prices_follow_the_data_above_the_threshold(spans: SpanCapture) -> None:
    """Claude Sonnet 4.5 has a long-context tier from 200k input tokens: below and above it the cost
    is what genai-prices computes."""
    for tokens in (1000, 300_000):
        _chat("claude-sonnet-4-5", "anthropic", input=tokens, output=100)
    small, large = spans.find_all("call")
    for span, tokens in ((small, 1000), (large, 300_000)):
        expected = _expected("claude-sonnet-4-5", "anthropic", input_tokens=tokens, output_tokens=100)
        assert span.attributes["llm.cost.prompt"] == pytest.approx(expected[0])
        assert span.attributes["llm.cost.completion"] == pytest.approx(expected[1])
    assert large.attributes["llm.cost.prompt"] / 300 > small.attributes["llm.cost.prompt"]  # the higher tier rate
