"""Errors inside agentel never reach user code: one guard (``contained`` / ``never_raises``) reports each
cause once and counts it here; ``report_internal_error`` for places that must do more than swallow."""

from __future__ import annotations

import functools
import logging
import time
from typing import Any, Callable, Optional, TypeVar, cast

from agentel._forksafe import new_lock

logger = logging.getLogger("agentel")
F = TypeVar("F", bound=Callable[..., Any])


class Stats:
    """Process-wide counters; reads are approximate under concurrency, increments are guarded."""

    _FIELDS = (
        "spans_started",
        "spans_ended",
        "spans_exported",
        "spans_dropped",
        "export_failures",
        "internal_errors",
        "console_traces_dropped",
    )

    def __init__(self) -> None:
        self._lock = new_lock()
        self._counts = dict.fromkeys(self._FIELDS, 0)
        self._sources: list[Callable[[], dict[str, int]]] = []

    def add(self, name: str, amount: int = 1) -> None:
        with self._lock:
            self._counts[name] = self._counts.get(name, 0) + amount

    def add_source(self, source: Callable[[], dict[str, int]]) -> None:
        """Counts computed on demand (e.g. queue drops of a live processor), added to every snapshot."""
        with self._lock:
            self._sources.append(source)

    def remove_source(self, source: Callable[[], dict[str, int]]) -> None:
        """Stop adding ``source`` (fold its last counts in with ``add`` first, to keep counters monotonic)."""
        with self._lock:
            self._sources = [s for s in self._sources if s != source]

    def snapshot(self) -> dict[str, int]:
        """Current counters."""
        with self._lock:
            counts = dict(self._counts)
            sources = list(self._sources)
        for source in sources:
            for name, value in source().items():
                counts[name] = counts.get(name, 0) + value
        return counts

    def reset(self) -> None:
        """Zero every counter (a forked child starts afresh)."""
        self._lock = new_lock()
        self._counts = dict.fromkeys(self._FIELDS, 0)
        self._sources = []


STATS = Stats()
_reported: set[tuple[str, str]] = set()
_reported_lock = new_lock()


def report_internal_error(where: str, exc: BaseException) -> None:
    """Count an internal error and log it once per (place, exception type); never raises."""
    try:
        STATS.add("internal_errors")
        key = (where, type(exc).__name__)
        with _reported_lock:
            if key in _reported:
                return
            _reported.add(key)
        logger.warning(
            "agentel: internal error in %s (the traced code was not affected; further errors "
            "of this kind are counted in agentel.stats() but not logged)",
            where,
            exc_info=(type(exc), exc, exc.__traceback__),
        )
    except Exception:  # noqa: BLE001 - logging itself failed; nothing else to do
        pass


class contained:  # noqa: N801 - used like a function: ``with contained("where"):``
    """The never-raise guard: an ``Exception`` raised inside the block is reported once and swallowed.

    ``BaseException`` (KeyboardInterrupt, SystemExit, GeneratorExit) passes through untouched, as
    does anything raised outside the block, and the types in ``passes`` (a typed misuse error the
    caller must see, e.g. ``InvalidStatusError``). Instances hold no state, so one per place can be
    made at import and reused from every thread::

        _ENDING = contained("trace: ending a span")
        ...
        with _ENDING:
            span.end()
    """

    __slots__ = ("where", "passes")

    def __init__(self, where: str, *, passes: tuple[type[BaseException], ...] = ()) -> None:
        self.where = where
        self.passes = passes

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Optional[type[BaseException]], exc: Optional[BaseException], tb: object) -> bool:
        if exc is None or not isinstance(exc, Exception) or isinstance(exc, self.passes):
            return False
        try:
            report_internal_error(self.where, exc)
        except RecursionError:  # reporting needs stack; at the recursion limit the count is all we keep
            pass
        return True


def never_raises(where: str, default: Any = None) -> Callable[[F], F]:
    """Decorate a function of agentel's own so that an ``Exception`` it raises is reported and
    ``default`` returned instead; ``BaseException`` passes through."""

    def decorate(function: F) -> F:
        @functools.wraps(function)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            try:
                return function(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - the one place the policy is written out
                try:
                    report_internal_error(where, exc)
                except RecursionError:
                    pass
                return default

        return cast(F, guarded)

    return decorate


_warned_keys: set[object] = set()


def warn_once(key: object, message: str, *args: object) -> None:
    """Log a warning the first time ``key`` is seen in this process; never raises."""
    try:
        with _reported_lock:
            if key in _warned_keys:
                return
            _warned_keys.add(key)
        logger.warning(message, *args)
    except Exception:  # noqa: BLE001 - a hostile argument's repr, a broken handler
        pass


class RateLimitedWarning:
    """One warning per ``interval_s`` for a cause; the ones in between are counted and summarised.

    Example: the client sweep evicting 90,000 abandoned traces writes one line, then one line a minute
    saying how many more were evicted meanwhile — not 90,000 lines.
    """

    def __init__(self, interval_s: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval_s = interval_s
        self.clock = clock
        self._lock = new_lock()
        self._last: dict[str, float] = {}
        self._suppressed: dict[str, int] = {}

    def warn(self, cause: str, message: str, *args: object, count: int = 1) -> None:
        """Log ``message`` now, or count it (``count`` occurrences) until the interval has passed."""
        try:
            now = self.clock()
            with self._lock:
                last = self._last.get(cause)
                if last is not None and now - last < self.interval_s:
                    self._suppressed[cause] = self._suppressed.get(cause, 0) + count
                    return
                self._last[cause] = now
                suppressed = self._suppressed.pop(cause, 0)
            if suppressed:
                message += " (%d more like this since the last such warning were not logged)"
                args = (*args, suppressed)
            logger.warning(message, *args)
        except Exception:  # noqa: BLE001
            pass


RATE_LIMITED = RateLimitedWarning()
