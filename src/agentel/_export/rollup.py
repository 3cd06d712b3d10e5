"""The trace's total token usage and cost, summed over its spans and written on its open local root.

The SDK hands ``on_end`` a read-only copy, and a span's attributes are frozen before any processor
hook runs at its end, so the root cannot be written when it ends. Instead, each time a descendant
carrying token usage ends, its counts are added to a small per-trace counter and the totals are
written to the still-open local root (``agentel.trace.usage.*``, ``agentel.trace.cost.*``). Memory:
one counter per trace with an open local root, dropped when the root ends (and at most
``MAX_TRACKED_TRACES`` of them).
"""

from __future__ import annotations

from typing import Any, Callable, Optional

from agentel._conventions import names as sc
from agentel._conventions.cost import AGENTEL_COST_TOTAL, Prices, call_cost, recorded_cost, trace_cost_attributes
from agentel._conventions.usage import FIELDS as _USAGE_FIELDS
from agentel._conventions.usage import read_usage
from agentel._forksafe import new_lock
from agentel._otel_internals import attribute_dict, set_plain_attributes

MAX_TRACKED_TRACES = 10000

_ROLLUP_KEYS = (
    ("input", sc.AGENTEL_TRACE_INPUT_TOKENS),
    ("output", sc.AGENTEL_TRACE_OUTPUT_TOKENS),
    ("total", sc.AGENTEL_TRACE_TOTAL_TOKENS),
    ("cache_read", sc.AGENTEL_TRACE_CACHE_READ_TOKENS),
    ("reasoning", sc.AGENTEL_TRACE_REASONING_TOKENS),
)
_REQUIRED_KEYS = (sc.AGENTEL_TRACE_INPUT_TOKENS, sc.AGENTEL_TRACE_OUTPUT_TOKENS, sc.AGENTEL_TRACE_TOTAL_TOKENS)
_FIELD_INDEX = {name: index for index, name in enumerate(_USAGE_FIELDS)}
_ROLLUP = tuple((_FIELD_INDEX[name], name, key) for name, key in _ROLLUP_KEYS)  # (index in the totals, field, key)
# where the totals keep the three counts always written (_REQUIRED_KEYS), and the ones written when non-zero
_INPUT, _OUTPUT, _TOTAL = _FIELD_INDEX["input"], _FIELD_INDEX["output"], _FIELD_INDEX["total"]
_WRITTEN_WHEN_COUNTED = tuple((index, key) for index, _, key in _ROLLUP if key not in _REQUIRED_KEYS)


def _no_prices() -> Optional[Prices]:
    return None


def _never(span_id: int) -> bool:
    return False


class TraceTotals:
    """Per trace with an open local root: the summed usage (plus the number of spans counted) and
    cost of its ended descendants.

    ``prices`` reads the price data in use (``None``: nothing is priced here); ``delegates(span_id)``
    says whether an agentel model span's call is measured by another instrumentation's child span.
    """

    def __init__(
        self, prices: Callable[[], Optional[Prices]] = _no_prices, delegates: Callable[[int], bool] = _never
    ) -> None:
        self._prices = prices
        self.delegates = delegates
        self.usage: dict[int, list[int]] = {}  # trace id -> summed usage fields + [count]
        self.costs: dict[int, list[float]] = {}  # trace id -> [summed cost in USD, priced calls]
        self._lock = new_lock()

    def add(self, trace_id: int, root: Any, attributes: Any, span_id: int) -> None:
        """Add an ended descendant's usage (and cost) and rewrite the total on the open ``root``."""
        usage = read_usage(attributes)
        if not usage:
            return
        cost = self._span_cost(attributes, span_id)
        with self._lock:
            totals = self.usage.get(trace_id)
            if totals is None:
                if len(self.usage) >= MAX_TRACKED_TRACES:
                    self.usage.pop(next(iter(self.usage)))
                totals = self.usage[trace_id] = [0] * (len(_USAGE_FIELDS) + 1)
            for name, count in usage.items():
                totals[_FIELD_INDEX[name]] += count
            totals[-1] += 1
            costs = self.costs.get(trace_id)
            if cost is not None:
                if costs is None:
                    costs = self.costs[trace_id] = [0.0, 0.0]
                costs[0] += cost
                costs[1] += 1
            _write(root, totals, costs)

    def refresh(self, trace_id: int, root: Any) -> None:
        """Rewrite the total on ``root`` (its own usage changed), if the trace has a running total."""
        with self._lock:
            totals = self.usage.get(trace_id)
            if totals is not None:
                _write(root, totals, self.costs.get(trace_id))

    def drop(self, trace_id: int) -> None:
        """The trace's local root ended: forget its totals."""
        if self.usage:
            self.usage.pop(trace_id, None)
            self.costs.pop(trace_id, None)

    def forget_after_fork(self) -> None:
        """In a forked child: a fresh lock, no totals."""
        self._lock = new_lock()
        self.usage.clear()
        self.costs.clear()

    def _span_cost(self, attributes: Any, span_id: int) -> Optional[float]:
        """A model call's cost: what agentel wrote on it, else priced from its usage (another
        instrumentation's span), else ``None``. An agentel model span with a model-call child of
        another instrumentation counts nothing: the child is priced (one call, one cost)."""
        if self.delegates(span_id):
            return None
        recorded = recorded_cost(attributes)
        prices = self._prices()
        if recorded is not None or prices is None or sc.AGENTEL_SPAN_TYPE in attributes:
            return recorded
        cost = call_cost(prices, attributes)
        return None if cost is None else cost[0] + cost[1]


def _write(root: Any, totals: list[int], costs: Optional[list[float]]) -> None:
    """Write the trace total (the descendants' sums plus the root's own usage) on the open root."""
    if root.end_time is not None:
        return
    attributes_now = attribute_dict(root)
    own = None if attributes_now.get(sc.AGENTEL_USAGE_RECORDED_BY) else read_usage(attributes_now)
    attributes: dict[str, Any]
    if own:
        attributes = {}
        for index, name, key in _ROLLUP:
            value = totals[index] + own.get(name, 0)
            if value or name in own:
                attributes[key] = value
        for required in _REQUIRED_KEYS:
            attributes.setdefault(required, 0)
        attributes[sc.AGENTEL_TRACE_USAGE_SPANS] = totals[-1] + 1
    else:  # the usual root (an agent or a request span): the descendants' sums alone
        attributes = {
            sc.AGENTEL_TRACE_INPUT_TOKENS: totals[_INPUT],
            sc.AGENTEL_TRACE_OUTPUT_TOKENS: totals[_OUTPUT],
            sc.AGENTEL_TRACE_TOTAL_TOKENS: totals[_TOTAL],
        }
        for index, key in _WRITTEN_WHEN_COUNTED:
            if totals[index]:
                attributes[key] = totals[index]
        attributes[sc.AGENTEL_TRACE_USAGE_SPANS] = totals[-1]
    if costs or AGENTEL_COST_TOTAL in attributes_now:  # else there is no cost to write
        attributes.update(trace_cost_attributes(attributes_now, costs))
    changed = {key: value for key, value in attributes.items() if attributes_now.get(key, _ABSENT) != value}
    if changed:
        set_plain_attributes(root, changed)


_ABSENT = object()
