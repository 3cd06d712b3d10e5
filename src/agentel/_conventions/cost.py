"""What a model call cost in USD, from its provider, model and token usage, and the attributes that say so.

Prices come from the user (``configure(prices=...)`` / ``AGENTEL_PRICES_FILE``: USD per million tokens)
and then from the ``genai-prices`` package (the ``agentel[prices]`` extra: maintained price data, used
offline). A call is priced only when its provider, model and token usage are all known; an unknown
model gets no cost attribute and one debug line (once per provider and model), never a guess.

Token semantics are the GenAI conventions': input tokens include cached input tokens (cache reads and
writes are subsets of input, priced at their own rate when the data has one); reasoning tokens are a
subset of output tokens.
"""

from __future__ import annotations

import logging
import math
from typing import Any, Mapping, Optional

from agentel._conventions import names as sc
from agentel._conventions.dialects.registry import written
from agentel._conventions.policy import PriceLookup
from agentel._conventions.usage import read_usage
from agentel._forksafe import new_lock

logger = logging.getLogger("agentel")

# agentel's own cost key, in every configuration (each dialect adds its own: see dialects/)
AGENTEL_COST_TOTAL = "agentel.cost.total_usd"
# The trace's cost (each priced model call once), on the trace's local root.
AGENTEL_TRACE_COST_TOTAL = "agentel.trace.cost.total_usd"
AGENTEL_TRACE_COST_CALLS = "agentel.trace.cost.calls"

# keys of a user price entry, in USD per million tokens
PRICE_KEYS = ("input", "output", "cache_read", "cache_write")

# GenAI provider names (gen_ai.provider.name) -> genai-prices provider ids, where they differ
_PROVIDER_IDS = {
    "aws.bedrock": "aws",
    "azure.ai.openai": "azure",
    "azure.ai.inference": "azure",
    "gcp.gemini": "google",
    "gcp.vertex_ai": "google",
    "gcp.gen_ai": "google",
    "google": "google",
    "mistral_ai": "mistral",
    "x_ai": "x-ai",
    "xai": "x-ai",
    "moonshot_ai": "moonshotai",
}

_MAX_REMEMBERED = 1000
_UNKNOWN = object()


def parse_prices(value: Any) -> tuple[dict[str, dict[str, float]], Optional[str]]:
    """Validate user prices: ``{"model" or "provider/model": {"input": 0.5, "output": 1.5, ...}}``.

    Returns the clean table and an error message (``None`` when valid). Prices are USD per million
    tokens, non-negative finite numbers; ``input`` and ``output`` are required.
    """
    if not isinstance(value, Mapping):
        return {}, "expected a mapping of model name to prices"
    table: dict[str, dict[str, float]] = {}
    for model, entry in value.items():
        if not isinstance(model, str) or not model.strip():
            return {}, f"model names must be non-empty strings, got {model!r}"
        if not isinstance(entry, Mapping):
            return {}, f"prices of {model!r} must be a mapping like {{'input': 0.5, 'output': 1.5}}"
        unknown = set(entry) - set(PRICE_KEYS)
        if unknown:
            return {}, f"unknown price key(s) {sorted(map(str, unknown))} for {model!r}; use {list(PRICE_KEYS)}"
        clean: dict[str, float] = {}
        for key in PRICE_KEYS:
            if key not in entry:
                continue
            number = entry[key]
            if isinstance(number, bool) or not isinstance(number, (int, float)) or not math.isfinite(number):
                return {}, f"price {key!r} of {model!r} must be a number, got {number!r}"
            if number < 0:
                return {}, f"price {key!r} of {model!r} must be >= 0, got {number!r}"
            clean[key] = float(number)
        if "input" not in clean or "output" not in clean:
            return {}, f"prices of {model!r} need at least 'input' and 'output' (USD per million tokens)"
        table[model.strip().lower()] = clean
    return table, None


def _genai_prices() -> Any:
    try:
        import genai_prices
    except ImportError:
        return None
    return genai_prices


def _genai_prices_installed() -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec("genai_prices") is not None
    except (ImportError, ValueError):
        return False


class Prices:
    """Price lookups with a small cache per (provider, model); thread-safe, never raises from ``cost``."""

    def __init__(self, user: Optional[Mapping[str, Mapping[str, float]]] = None) -> None:
        self.user = {key.lower(): dict(value) for key, value in (user or {}).items()}
        self._installed = _genai_prices_installed()
        self._library: Any = None  # imported on the first lookup (it is not cheap to import)
        self._cache: dict[tuple[str, str], Any] = {}
        self._lock = new_lock()

    @property
    def library_installed(self) -> bool:
        """True when the genai-prices package can be imported."""
        return self._installed

    @property
    def available(self) -> bool:
        """True when any price data is there (user prices or the genai-prices package)."""
        return bool(self.user) or self._installed

    def cost(self, provider: str, model: str, usage: Mapping[str, int]) -> Optional[tuple[float, float]]:
        """(input USD, output USD) of one call, or ``None`` when the model's price is not known."""
        key = (provider, model)
        price = self._cache.get(key, _UNKNOWN)
        if price is _UNKNOWN:
            price = self._find(provider, model)
            with self._lock:
                if len(self._cache) >= _MAX_REMEMBERED:
                    self._cache.pop(next(iter(self._cache)))
                self._cache[key] = price
            if price is None:
                logger.debug(
                    "agentel: no price known for model %r of provider %r; its calls get no cost attribute",
                    model,
                    provider,
                )
        if price is None:
            return None
        if isinstance(price, dict):
            return _user_cost(price, usage)
        if isinstance(price, _Rates):
            if price.limit is None or usage.get("input", 0) < price.limit:
                return price.cost(usage)
            price = price.model_price  # a tier applies: the library's own calculation
        return _library_cost(self._library, price, usage)

    def _find(self, provider: str, model: str) -> Any:
        lowered = model.lower()
        for name in (f"{provider}/{lowered}", lowered):
            if name in self.user:
                return self.user[name]
        if not self._installed:
            return None
        if self._library is None:
            self._library = _genai_prices()
            if self._library is None:
                self._installed = False
                return None
        try:
            calculation = self._library.calc_price(
                self._library.Usage(input_tokens=0, output_tokens=0),
                model,
                provider_id=_PROVIDER_IDS.get(provider, provider),
            )
        except LookupError:
            return None
        return _linear_rates(self._library, calculation.model_price)


def _user_cost(price: Mapping[str, float], usage: Mapping[str, int]) -> tuple[float, float]:
    input_tokens = usage.get("input", 0)
    cache_read = min(usage.get("cache_read", 0), input_tokens) if "cache_read" in price else 0
    cache_write = min(usage.get("cache_write", 0), input_tokens - cache_read) if "cache_write" in price else 0
    uncached = input_tokens - cache_read - cache_write
    input_cost = uncached * price["input"]
    input_cost += cache_read * price.get("cache_read", 0.0) + cache_write * price.get("cache_write", 0.0)
    input_cost /= 1e6
    return input_cost, usage.get("output", 0) * price["output"] / 1e6


class _Rates:
    """USD per token of each kind, read once from the price data (for prices without tiers)."""

    __slots__ = ("input", "cache_read", "cache_write", "output", "reasoning", "limit", "model_price")

    def __init__(self, input: float, cache_read: float, cache_write: float, output: float, reasoning: float) -> None:  # noqa: A002
        self.input, self.cache_read, self.cache_write = input, cache_read, cache_write
        self.output, self.reasoning = output, reasoning
        self.limit: Optional[int] = None  # input tokens from which a tiered price applies
        self.model_price: Any = None

    def cost(self, usage: Mapping[str, int]) -> tuple[float, float]:
        input_tokens, output_tokens = usage.get("input", 0), usage.get("output", 0)
        cache_read = min(usage.get("cache_read", 0), input_tokens)
        cache_write = min(usage.get("cache_write", 0), input_tokens - cache_read)
        reasoning = min(usage.get("reasoning", 0), output_tokens)
        input_cost = (input_tokens - cache_read - cache_write) * self.input
        input_cost += cache_read * self.cache_read + cache_write * self.cache_write
        output_cost = (output_tokens - reasoning) * self.output + reasoning * self.reasoning
        return input_cost, output_cost


_PROBE = 1000  # tokens per probe: below any tier threshold (those start at 32k tokens and more)


def _linear_rates(library: Any, model_price: Any) -> Any:
    """Per-token rates of ``model_price`` computed by the library itself from one probe per token kind,
    when no price of it is tiered (then cost is linear and this is exact); else ``model_price``."""
    tiered = getattr(getattr(library, "types", None), "TieredPrices", None)
    if tiered is None:
        return model_price
    starts = [tier.start for value in vars(model_price).values() if isinstance(value, tiered) for tier in value.tiers]
    limit = min(starts) if starts else None
    if limit is not None and limit <= _PROBE:
        return model_price

    def side(direction: str, **fields: int) -> float:
        return _library_cost(library, model_price, fields)[0 if direction == "input" else 1] / _PROBE

    rates = _Rates(
        input=side("input", input=_PROBE),
        cache_read=side("input", input=_PROBE, cache_read=_PROBE),
        cache_write=side("input", input=_PROBE, cache_write=_PROBE),
        output=side("output", output=_PROBE),
        reasoning=side("output", output=_PROBE, reasoning=_PROBE),
    )
    rates.limit, rates.model_price = limit, model_price
    return rates


def _library_cost(library: Any, model_price: Any, usage: Mapping[str, int]) -> tuple[float, float]:
    fields = {"input_tokens": usage.get("input", 0), "output_tokens": usage.get("output", 0)}
    for ours, theirs in (
        ("cache_read", "cache_read_tokens"),
        ("cache_write", "cache_write_tokens"),
        ("reasoning", "output_reasoning_tokens"),
    ):
        if usage.get(ours):
            fields[theirs] = usage[ours]
    result = model_price.calc_price(library.Usage(**fields))
    return float(result["input_price"]), float(result["output_price"])


# the keys naming a span's model, most specific first
_MODEL_KEYS = (sc.GEN_AI_RESPONSE_MODEL, sc.GEN_AI_REQUEST_MODEL, sc.LLM_MODEL_NAME, sc.EMBEDDING_MODEL_NAME)
_MODEL_KEY_SET = frozenset(_MODEL_KEYS)


def provider_and_model(attributes: Mapping[str, Any]) -> tuple[Optional[str], Optional[str]]:
    """The provider (GenAI name) and the most specific model name a span's attributes give."""
    provider = attributes.get(sc.GEN_AI_PROVIDER_NAME) or attributes.get(sc.LLM_PROVIDER)
    if not isinstance(provider, str) or not provider:
        provider = None
    else:
        provider = provider.strip().lower()
    model = None
    for key in _MODEL_KEYS:
        value = attributes.get(key)
        if isinstance(value, str) and value:
            model = value
            break
    return provider, model


def call_cost(prices: Optional[PriceLookup], attributes: Mapping[str, Any]) -> Optional[tuple[float, float]]:
    """The (input, output) USD cost of the model call these attributes describe, or ``None``."""
    if prices is None or _MODEL_KEY_SET.isdisjoint(attributes):  # most spans name no model: one C call
        return None
    provider, model = provider_and_model(attributes)
    if provider is None or model is None:
        return None
    usage = read_usage(attributes)
    if not usage or ("input" not in usage and "output" not in usage):
        return None
    return prices.cost(provider, model, usage)


def cost_attributes(cost: tuple[float, float], dialects: frozenset[str]) -> dict[str, float]:
    """The span attributes of a call's (input, output) cost: agentel's total, and each enabled dialect's."""
    input_cost, output_cost = cost
    total = {AGENTEL_COST_TOTAL: input_cost + output_cost}
    return written(dialects, lambda dialect: dialect.cost(input_cost, output_cost), total)


def recorded_cost(attributes: Mapping[str, Any]) -> Optional[float]:
    """The cost (USD) agentel already wrote on a span, if any."""
    total = attributes.get(AGENTEL_COST_TOTAL)
    return float(total) if isinstance(total, (int, float)) and not isinstance(total, bool) else None


def trace_cost_attributes(root_attributes: Any, costs: Optional[list[float]]) -> dict[str, Any]:
    """The trace's cost on its local root: the descendants' sum plus the root's own priced call."""
    own = recorded_cost(root_attributes) if root_attributes else None
    if not costs and own is None:
        return {}
    total = (costs[0] if costs else 0.0) + (own or 0.0)
    calls = int(costs[1] if costs else 0) + (1 if own is not None else 0)
    return {AGENTEL_TRACE_COST_TOTAL: total, AGENTEL_TRACE_COST_CALLS: calls}
