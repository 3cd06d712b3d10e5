"""Threads of agentel's leave the application's signals to the application's threads.

A signal sent to the process (``kill``, a container's SIGTERM, Ctrl-C's SIGINT) is taken by whichever of
its threads the kernel picks among those not blocking it. Python runs the handler on the main thread
only, between bytecodes: when another thread takes the signal, its C-level handler merely sets a flag,
and a main thread asleep in ``time.sleep``, ``select`` or a lock wait sleeps on — an application's
SIGTERM handler runs late, or never. agentel's threads (its batch exporters', the console printer's, its
exit and signal threads) and the ones they make libraries start (gRPC's) therefore block the
asynchronous signals, so they never take one: the main thread, or a thread of the application's, does.

Not held: the signals a thread raises on itself by what it does (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP,
SIGSYS, SIGABRT, and SIGPIPE/SIGXFSZ from a write), whose behaviour must not change.

A thread inherits the signal mask of the thread that starts it, so agentel holds the signals around
starting one (``start_daemon``) and around building what starts threads of its own (``built_quietly``:
batch processors, metric readers, exporters). The SDK re-creates a batch processor's thread in a forked
child from an at-fork hook, and gRPC its timer thread from its own: agentel's before-fork hook holds the
signals in the forking thread until its first after-fork hooks, and ``built_quietly`` registers a hook
before and one after the build, so the hooks registered during it run in the child between a hold and a
release.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Callable, TypeVar

T = TypeVar("T")

_RAISED_BY_THE_THREAD = ("SIGSEGV", "SIGBUS", "SIGFPE", "SIGILL", "SIGTRAP", "SIGSYS", "SIGABRT", "SIGPIPE", "SIGXFSZ")
_UNBLOCKABLE = ("SIGKILL", "SIGSTOP")


def _application_signals() -> frozenset[int]:
    if not hasattr(signal, "pthread_sigmask"):
        return frozenset()
    excluded = {getattr(signal, name) for name in _RAISED_BY_THE_THREAD + _UNBLOCKABLE if hasattr(signal, name)}
    return frozenset(int(signum) for signum in signal.valid_signals() if signum not in excluded)


APPLICATION_SIGNALS = _application_signals()
"""The signals agentel's threads block: every asynchronous one (empty where there are no signal masks)."""


@contextmanager
def signals_held() -> Iterator[None]:
    """Block the application's signals in this thread for the block (threads started inside keep them
    blocked); a signal sent meanwhile stays pending and is delivered when the block ends."""
    hold = SignalHold()
    hold.hold()
    try:
        yield
    finally:
        hold.release()


def start_daemon(target: Callable[..., Any], name: str, args: tuple[Any, ...] = ()) -> threading.Thread:
    """Start a daemon thread that never takes the application's signals."""
    thread = threading.Thread(target=target, name=name, args=args, daemon=True)
    with signals_held():
        thread.start()
    return thread


def built_quietly(build: Callable[[], T]) -> T:
    """``build()`` with the application's signals held, so the threads it starts (now, and again in a
    forked child through the at-fork hooks it registers) never take them."""
    if not APPLICATION_SIGNALS:
        return build()
    if not hasattr(os, "register_at_fork"):
        with signals_held():
            return build()
    hold = SignalHold(armed=False)  # armed only if the build started a thread (hooks stay registered)
    os.register_at_fork(after_in_child=hold.hold)
    running = {thread.ident for thread in threading.enumerate()}
    try:
        with signals_held():
            return build()
    finally:
        if any(thread.ident not in running for thread in threading.enumerate()):
            hold.armed = True
            os.register_at_fork(after_in_child=hold.release)


class SignalHold:
    """Hold the application's signals this thread did not already block, then release just those.

    Releasing only what it added (not restoring a saved mask) leaves alone what another at-fork hook
    changed in between, where several change one thread's mask in turn."""

    def __init__(self, armed: bool = True) -> None:
        self.armed = armed
        self._added: frozenset[int] = frozenset()

    def hold(self) -> None:
        """Block the application's signals in this thread, noting which were not blocked already."""
        if not APPLICATION_SIGNALS or not self.armed:
            return
        before = signal.pthread_sigmask(signal.SIG_BLOCK, APPLICATION_SIGNALS)
        self._added = APPLICATION_SIGNALS - frozenset(int(signum) for signum in before)

    def release(self) -> None:
        """Unblock the signals ``hold`` blocked (a signal sent meanwhile is delivered now)."""
        added, self._added = self._added, frozenset()
        if added:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, added)
