"""What the attribute builders need to know from the configuration, as one frozen value.

The builders of ``_conventions`` never read the runtime: the caller hands them a ``Policy``, made once
per configuration (``configure()``, or a provider with a smaller attribute length limit), so one call
sees one consistent set of settings even while another thread reconfigures.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional, Protocol

from agentel._payload.redact import Redactor


class PriceLookup(Protocol):
    """Price data (``cost.Prices``): the (input, output) USD cost of a call's usage, ``None`` if unknown."""

    def cost(self, provider: str, model: str, usage: Mapping[str, int]) -> Optional[tuple[float, float]]: ...


@dataclass(frozen=True)
class Policy:
    """The content policy of one configuration.

    ``capture_content``: keep message, document, query, text and tool argument/result content.
    ``dialects``: the semantic-convention dialects written (``AGENTEL_SEMCONV``: a subset of
    ``genai``, ``openinference``, ``mlflow``). ``max_payload_bytes``: the byte budget of one JSON
    attribute (``max_payload_bytes``, or the SDK's attribute length limit when that is smaller).
    ``redactor``: the redactor applied to every value, ``None`` when redaction is off. ``prices``:
    the price data for cost attributes, ``None`` when there is none.
    """

    capture_content: bool = True
    dialects: frozenset[str] = frozenset({"genai", "openinference"})
    max_payload_bytes: int = 8192
    redactor: Optional[Redactor] = None
    prices: Optional[PriceLookup] = None

    @classmethod
    def of(
        cls,
        *,
        capture_content: bool,
        dialects: frozenset[str],
        max_payload_bytes: int,
        redactor: Optional[Redactor],
        prices: Optional[PriceLookup],
    ) -> Policy:
        """A policy from a configuration's values; a redactor that is switched off is kept as ``None``."""
        return cls(
            capture_content=capture_content,
            dialects=frozenset(dialects),
            max_payload_bytes=max_payload_bytes,
            redactor=redactor if redactor is not None and redactor.enabled else None,
            prices=prices,
        )
