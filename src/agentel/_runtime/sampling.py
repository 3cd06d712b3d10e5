"""Skipping spans the sampler would drop, before any span object is made.

When the provider's sampler can drop root spans (``always_off``, ``traceidratio`` with ratio 0, or
those under ``parentbased_*``), a traced call first looks at the current span: a span that the sampler
is certain to drop (no parent and a root sampler that never samples, or an unsampled parent under a
parent-based sampler) is not created at all, so a sampled-out call costs about what a disabled one
does. Any other case goes through the SDK's sampler as usual.
"""

from __future__ import annotations

from typing import Any

from agentel import _otel_internals as _otel
from agentel._export.otel_sdk import ALWAYS_OFF, ALWAYS_ON, ParentBased, TraceIdRatioBased
from agentel._runtime.foreign_context import current_span


def _never_samples(sampler: Any) -> bool:
    if sampler is ALWAYS_OFF:
        return True
    return isinstance(sampler, TraceIdRatioBased) and sampler.bound == 0


class SamplingShortcut:
    """What can be decided about sampling from the current span alone, for one provider's sampler."""

    __slots__ = ("active", "roots_dropped", "all_dropped", "unsampled_parents_dropped")

    def __init__(self, sampler: Any = None) -> None:
        parent_based = isinstance(sampler, ParentBased)
        root = _otel.root_sampler(sampler) if parent_based else sampler
        self.roots_dropped = root is not None and _never_samples(root)
        self.all_dropped = self.roots_dropped and not parent_based
        self.unsampled_parents_dropped = parent_based and all(
            delegate is ALWAYS_OFF for delegate in _otel.unsampled_parent_samplers(sampler)
        )
        # only worth a look at the current span when roots may be dropped at all
        self.active = (
            sampler is not None
            and root is not ALWAYS_ON
            and (self.roots_dropped or self.unsampled_parents_dropped or self.all_dropped)
        )

    def certainly_dropped(self) -> bool:
        """True when a span started now would be dropped by the sampler."""
        if self.all_dropped:  # whatever the parent: no need to look at the current span
            return True
        context = current_span().get_span_context()
        if not context.is_valid:
            return self.roots_dropped
        return self.unsampled_parents_dropped and not context.trace_flags.sampled


INACTIVE = SamplingShortcut()
