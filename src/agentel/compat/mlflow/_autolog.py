"""``mlflow.autolog()`` and ``mlflow.<flavor>.autolog()`` mapped to ``agentel.instrument(...)``.

Flavors with an OpenTelemetry instrumentation agentel can turn on (``openai``, ``anthropic``,
``langchain``) call ``agentel.instrument(<name>)``; any other MLflow flavor logs one warning saying its
calls are not traced. Nothing here raises: a missing instrumentation package is a warning too.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Optional

logger = logging.getLogger("agentel")

SUPPORTED_FLAVORS = ("openai", "anthropic", "langchain")
# MLflow flavors with an autolog() that agentel has no counterpart for
UNSUPPORTED_FLAVORS = frozenset(
    {
        "ag2",
        "agno",
        "autogen",
        "bedrock",
        "crewai",
        "dspy",
        "gemini",
        "groq",
        "haystack",
        "keras",
        "lightgbm",
        "litellm",
        "llama_index",
        "mistral",
        "pydantic_ai",
        "pyspark",
        "pytorch",
        "semantic_kernel",
        "sentence_transformers",
        "sklearn",
        "smolagents",
        "spark",
        "statsmodels",
        "strands",
        "tensorflow",
        "transformers",
        "txtai",
        "xgboost",
    }
)
_warned: set[str] = set()
_turned_on: set[str] = set()


def _warn_once(key: str, message: str, *args: Any) -> None:
    if key not in _warned:
        _warned.add(key)
        logger.warning(message, *args)


def _instrument(label: str, names: tuple[str, ...], silent: bool) -> list[str]:
    import agentel

    instrument: Optional[Callable[..., Any]] = getattr(agentel, "instrument", None)
    if instrument is None:
        if not silent:
            _warn_once(
                "no-instrument",
                "agentel.compat.mlflow: %s() needs agentel.instrument(), which this agentel version does not "
                "have; nothing is instrumented",
                label,
            )
        return []
    try:
        enabled = list(instrument(*names) or ())
    except Exception as exc:  # noqa: BLE001 - e.g. the instrumentation package is not installed
        if not silent:
            _warn_once(f"failed:{label}", "agentel.compat.mlflow: %s() did not instrument anything: %s", label, exc)
        return []
    _turned_on.update(enabled or names)
    logger.debug("agentel.compat.mlflow: %s() -> agentel.instrument%r enabled %s", label, names, enabled)
    return enabled


def _autolog(label: str, names: tuple[str, ...], log_traces: bool, disable: bool, silent: bool, **options: Any) -> None:
    if options:
        logger.debug("agentel.compat.mlflow: %s() options %s ignored (no counterpart)", label, sorted(options))
    if disable or not log_traces:
        if not silent and (_turned_on.intersection(names) or (not names and _turned_on)):
            _warn_once(
                f"off:{label}",
                "agentel.compat.mlflow: %s(disable=True): an instrumentation already turned on stays on in "
                "this process",
                label,
            )
        return
    _instrument(label, names, silent)


# what mlflow.autolog() turns on: the GenAI libraries MLflow's own autolog covers (not HTTP clients)
AUTOLOG_ALL = ("openai", "anthropic", "langchain", "openai_agents")


def autolog(log_traces: bool = True, disable: bool = False, silent: bool = False, **options: Any) -> None:
    """``mlflow.autolog()``: ``agentel.instrument(name)`` for each of openai, anthropic, langchain and
    openai_agents whose instrumentation is installed (the others are skipped with a debug line)."""
    if options:
        logger.debug("agentel.compat.mlflow: mlflow.autolog() options %s ignored (no counterpart)", sorted(options))
    if disable or not log_traces:
        _autolog("mlflow.autolog", (), log_traces, disable, silent)
        return
    import agentel

    instrument: Optional[Callable[..., Any]] = getattr(agentel, "instrument", None)
    if instrument is None:
        _instrument("mlflow.autolog", (), silent)  # the one warning
        return
    for name in AUTOLOG_ALL:
        try:
            _turned_on.update(instrument(name) or ())
        except ImportError as exc:  # that library or its instrumentation is not installed
            logger.debug("agentel.compat.mlflow: mlflow.autolog(): %s skipped (%s)", name, exc)
        except Exception as exc:  # noqa: BLE001 - installed but failing: say so once
            if not silent:
                _warn_once(f"failed:autolog:{name}", "agentel.compat.mlflow: mlflow.autolog(): %s: %s", name, exc)


def flavor_autolog(flavor: str) -> Callable[..., None]:
    """The ``autolog`` of ``mlflow.<flavor>``: ``agentel.instrument(<flavor>)``."""

    def autolog(log_traces: bool = True, disable: bool = False, silent: bool = False, **options: Any) -> None:
        _autolog(f"mlflow.{flavor}.autolog", (flavor,), log_traces, disable, silent, **options)

    autolog.__doc__ = f"``mlflow.{flavor}.autolog()``: ``agentel.instrument({flavor!r})``."
    autolog.__qualname__ = autolog.__name__ = "autolog"
    return autolog


class UnsupportedFlavor:
    """``mlflow.<flavor>`` for a flavor agentel cannot instrument: ``autolog()`` warns once, traces nothing."""

    def __init__(self, name: str) -> None:
        self.name = name

    def autolog(self, *args: Any, silent: bool = False, **kwargs: Any) -> None:
        """Warn once: this flavor's calls are not traced (agentel has no instrumentation for it)."""
        if not silent:
            _warn_once(
                f"unsupported:{self.name}",
                "agentel.compat.mlflow: mlflow.%s.autolog() has no counterpart on agentel: %s calls are not "
                "traced (agentel.instrument supports %s; or trace your own calls with @mlflow.trace)",
                self.name,
                self.name,
                ", ".join(SUPPORTED_FLAVORS),
            )

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        raise AttributeError(
            f"mlflow.{self.name}.{attribute} is not part of agentel.compat.mlflow: only tracing is "
            f"(model logging, runs and experiments are out of scope)"
        )

    def __repr__(self) -> str:
        return f"<agentel.compat.mlflow.{self.name}: no counterpart on agentel>"


_flavors: dict[str, UnsupportedFlavor] = {}


def unsupported_flavor(name: str) -> Optional[UnsupportedFlavor]:
    """The stand-in for ``mlflow.<name>`` if it is an MLflow flavor agentel has no instrumentation for."""
    if name not in UNSUPPORTED_FLAVORS:
        return None
    return _flavors.setdefault(name, UnsupportedFlavor(name))
