"""The runtime's state as one frozen value: settings, content policy, tracer and sampling shortcut.

``configure()``, adopting a provider, building agentel's own one and the test helpers each make a new
``State`` and publish it with one assignment; a reader calls ``current_state()`` once (a module global,
no lock) and uses that value for the whole call, so a concurrent ``configure()`` never changes the
settings in the middle of a span.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Optional

from opentelemetry import trace

from agentel._conventions.cost import Prices
from agentel._conventions.policy import Policy
from agentel._export import otel_sdk
from agentel._payload.redact import Redactor
from agentel._runtime import settings as _settings
from agentel._runtime.sampling import INACTIVE, SamplingShortcut

DISABLED_REDACTOR = Redactor(False)
"""What an exporter redacts with while redaction is off (``Policy.redactor`` is ``None`` then)."""


@dataclass(frozen=True)
class State:
    """Everything a span's recording depends on, consistent as one value.

    ``tracer`` is the final tracer (from the global provider); ``None`` while each span must look for
    a provider installed since (see ``Runtime.tracer``). ``length_limit`` is the SDK's attribute length
    limit of the provider in use, which caps ``policy.max_payload_bytes``. ``enabled`` repeats
    ``settings.enabled`` for the hot path (``False`` whatever the settings when the OpenTelemetry SDK
    cannot be imported).
    """

    settings: _settings.Settings
    policy: Policy
    tracer: Optional[trace.Tracer] = None
    sampling: SamplingShortcut = INACTIVE
    length_limit: Optional[int] = None
    enabled: bool = field(init=False)

    def __post_init__(self) -> None:  # off for good when the SDK cannot be imported (warned at import)
        object.__setattr__(self, "enabled", self.settings.enabled and otel_sdk.UNAVAILABLE is None)

    @property
    def redactor(self) -> Redactor:
        """The redactor in use (a disabled one when redaction is off)."""
        return self.policy.redactor or DISABLED_REDACTOR

    def with_settings(self, settings: _settings.Settings) -> State:
        """This state under new settings (a new policy: redactor and prices built again)."""
        return replace(self, settings=settings, policy=_policy(settings, self.length_limit))

    def with_provider(
        self, tracer: Optional[trace.Tracer], sampling: SamplingShortcut, length_limit: Optional[int]
    ) -> State:
        """This state on another provider: its tracer (``None``: not final), sampler and length limit."""
        policy = self.policy
        if length_limit != self.length_limit:
            policy = replace(policy, max_payload_bytes=_budget(self.settings, length_limit))
        return replace(self, tracer=tracer, sampling=sampling, length_limit=length_limit, policy=policy)


def _budget(settings: _settings.Settings, length_limit: Optional[int]) -> int:
    """Payloads are JSON: cut by agentel within budget they stay valid, cut by the SDK's
    ``OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT`` they would not — so the budget never exceeds that limit
    (a limit in characters; a text of N bytes has at most N characters)."""
    budget = settings.max_payload_bytes
    return length_limit if length_limit is not None and length_limit < budget else budget


def _policy(settings: _settings.Settings, length_limit: Optional[int]) -> Policy:
    prices = Prices(settings.prices)
    return Policy.of(
        capture_content=settings.capture_content,
        dialects=settings.semconv,
        max_payload_bytes=_budget(settings, length_limit),
        redactor=Redactor(settings.redact, settings.redact_patterns),
        prices=prices if prices.available else None,
    )


def state_for(settings: _settings.Settings) -> State:
    """A state with ``settings`` and no provider resolved yet."""
    return State(settings, _policy(settings, None))


_current: State = state_for(_settings.from_environment())


def current_state() -> State:
    """The state now: read it once per call and use that value throughout."""
    return _current


def publish(state: State) -> None:
    """Make ``state`` the current one (callers serialize their read-modify-publish under their lock)."""
    global _current
    _current = state
