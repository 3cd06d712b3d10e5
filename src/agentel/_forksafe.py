"""Locks that survive ``os.fork()``: re-created in the child, whichever thread held them at the fork.

A child of ``fork`` has only the forking thread; a lock another thread held at that moment (the
exporter writing a batch, a counter being bumped) would stay locked forever, and the child's first
span or flush would deadlock. Every lock agentel's span and export paths take is made here and reset
in the child, before anything else of agentel's runs there.
"""

from __future__ import annotations

import os
import threading
import weakref
from typing import Any, Callable

_LOCKS: "weakref.WeakSet[Any]" = weakref.WeakSet()
_CHILD_RESETS: list[Callable[[], None]] = []


def new_lock() -> threading.Lock:
    """A ``threading.Lock`` that a forked child gets back unlocked."""
    lock = threading.Lock()
    _LOCKS.add(lock)
    return lock


def new_rlock() -> Any:
    """A ``threading.RLock`` that a forked child gets back unlocked."""
    lock = threading.RLock()
    _LOCKS.add(lock)
    return lock


def forget_in_child(reset: Callable[[], None]) -> None:
    """Have ``reset`` run in a forked child when agentel forgets the parent's state (its open spans and
    traces), so a module that keeps such state registers itself instead of being reached into."""
    _CHILD_RESETS.append(reset)


def child_resets() -> tuple[Callable[[], None], ...]:
    """The resets registered with ``forget_in_child``, in registration order."""
    return tuple(_CHILD_RESETS)


def _reinit_in_child() -> None:
    for lock in list(_LOCKS):
        try:
            lock._at_fork_reinit()
        except Exception:  # noqa: BLE001 - an exotic lock type: leave it
            pass


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reinit_in_child)
