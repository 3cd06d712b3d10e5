"""Process lifecycle: nothing lost at exit, on SIGTERM/SIGHUP, or in forked workers; exit never hangs.

At exit (normal, ``sys.exit``, uncaught exception) spans still open — an agent interrupted mid-step —
are ended, marked ``agentel.ended_by=interrupted: ...`` with status ERROR, and everything buffered is
exported within ``AGENTEL_EXIT_TIMEOUT_MILLIS`` (the flush runs on a daemon thread, so an unreachable
collector cannot delay exit longer).

SIGTERM and SIGHUP (whose default action kills the process without running ``atexit``), when the
application has no handler of its own: nothing is done on the interrupted thread — it may be inside
an SDK span method holding that span's lock. A thread of agentel's ends the open spans, flushes
(bounded), then restores the default action and re-sends the signal, so the process ends the way it
would have without agentel (killed by that signal). The signal reaches that thread through the
interpreter's signal wakeup fd (set only when no one else uses it), so it is seen at once even while
the main thread is inside a long C call; the Python-level handler (which only starts that thread)
is the fallback. A second signal while flushing kills the process at once.

Forked children (``os.fork`` from any thread, multiprocessing ``fork``): the parent's open spans and
client traces are forgotten (the SDK's batch processor drops the parent's queue itself), every lock
agentel's export path holds is re-created (see ``_forksafe``), and workers — which leave through
``os._exit`` — flush through multiprocessing's finalizers. While our handler is installed, the forking
thread blocks SIGTERM/SIGHUP across the fork, and the child unblocks them once its hooks are in place:
CPython discards a signal that reaches a child before its after-fork reset, and such a child (a
``Pool`` worker terminated while still starting) would otherwise never die.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from typing import Any, Callable, Optional

from agentel._background_threads import SignalHold, start_daemon
from agentel._forksafe import new_lock
from agentel._internal_errors import contained, report_internal_error

INTERRUPTED_AT_EXIT = "interrupted: process exiting"
INTERRUPTED_BY_SIGTERM = "interrupted: SIGTERM"
_TERMINATING_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))

_EXIT_FLUSH = contained("exit flush")
_EXIT = contained("exit")
_FORK = contained("fork")
_MULTIPROCESSING_HOOK = contained("multiprocessing hook")


def interrupted_by(signum: int) -> str:
    """The ``agentel.ended_by`` marker for spans ended because of signal ``signum``."""
    try:
        return f"interrupted: {signal.Signals(signum).name}"
    except ValueError:
        return f"interrupted: signal {signum}"


def run_bounded(work: Callable[[], Any], timeout_s: float) -> bool:
    """Run ``work`` on a daemon thread; wait at most ``timeout_s``. True when it finished."""
    return _start_bounded(work).wait(timeout_s)


def run_all_bounded(works: list[Callable[[], Any]], timeout_s: float) -> bool:
    """Run each of ``works`` on its own daemon thread, at once; wait at most ``timeout_s`` for all."""
    deadline = time.monotonic() + timeout_s
    done = [_start_bounded(work) for work in works]
    return all(event.wait(max(0.0, deadline - time.monotonic())) for event in done)


def _start_bounded(work: Callable[[], Any]) -> threading.Event:
    done = threading.Event()

    def target() -> None:
        try:
            with _EXIT_FLUSH:
                work()
        finally:
            done.set()

    start_daemon(target, "agentel-exit-flush")
    return done


def _default_action(signum: int) -> bool:
    """Restore the default action of ``signum`` from any thread (the signal module allows only the main)."""
    if threading.current_thread() is threading.main_thread():
        try:
            signal.signal(signum, signal.SIG_DFL)
            return True
        except (ValueError, OSError):
            return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.signal.restype = ctypes.c_void_p
        libc.signal.argtypes = (ctypes.c_int, ctypes.c_void_p)
        return bool(libc.signal(signum, None) != ctypes.c_void_p(-1).value)  # None is SIG_DFL, -1 SIG_ERR
    except Exception:  # noqa: BLE001 - a probe, not an error: no libc signal() here means "cannot"
        return False


def _die_by(signum: int) -> None:
    """End the process as the signal's default action would (killed by it); ``os._exit`` as the fallback."""
    if _default_action(signum):
        try:
            if hasattr(signal, "pthread_sigmask"):  # agentel's threads hold it (_background_threads): take it here
                signal.pthread_sigmask(signal.SIG_UNBLOCK, {signum})
            os.kill(os.getpid(), signum)
            time.sleep(1.0)  # delivery is asynchronous; the process is gone before this returns
        except Exception:  # noqa: BLE001 - the process is ending: os._exit below is the fallback, nothing to report
            pass
    os._exit(128 + signum)


class ExitHooks:
    """Installs the exit, signal and fork hooks once; ``finish`` is what they run."""

    def __init__(
        self,
        finish: Callable[[str], None],
        after_fork: Callable[[], None],
        exit_timeout_s: Callable[[], float] = lambda: 5.0,
    ) -> None:
        self._finish = finish
        self._after_fork = after_fork
        self._exit_timeout_s = exit_timeout_s
        self._installed = False
        self._finished = False
        self._done = threading.Event()  # set when the (one) finish has returned
        self._signalled: Optional[int] = None
        self._lock = new_lock()
        self._handler = self._on_signal  # one bound method object: compared with signal.getsignal()
        self._wakeup: Optional[tuple[int, int]] = None  # (read fd, write fd) of our signal wakeup pipe
        self._watcher_seen = 0  # terminating signals the watcher read (it sees every delivery)
        self._paused_for_fork = False
        self._mask_before_fork: Optional[set[int]] = None  # the forking thread's mask, while blocked
        self._held_across_fork = SignalHold()  # threads a child's pthread_atfork hooks start (gRPC's) hold them
        if hasattr(os, "register_at_fork"):  # registered at import: before the SDK's own fork hooks
            os.register_at_fork(
                before=self._before_fork,
                after_in_parent=self._after_fork_in_parent,
                after_in_child=self._wakeup_in_child,
            )

    def install(self) -> None:
        """Register the hooks (idempotent); signal handlers only from the main thread."""
        with self._lock:
            if self._installed:
                return
            self._installed = True
        import atexit

        atexit.register(self.at_exit)
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=self._in_forked_child)
        self._install_signals()
        with _MULTIPROCESSING_HOOK:  # workers leave via os._exit: flush them through multiprocessing's finalizers
            import multiprocessing.util as mp_util

            mp_util.register_after_fork(self, ExitHooks._finalize_worker_at_exit)
            if _in_multiprocessing_child():
                mp_util.Finalize(None, self.at_exit, exitpriority=100)

    def _install_signals(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        installed = False
        for signum in _TERMINATING_SIGNALS:
            try:
                if signal.getsignal(signum) is signal.SIG_DFL:
                    signal.signal(signum, self._handler)
                    installed = True
            except (ValueError, OSError, AttributeError):  # not the main interpreter, or no such signal
                pass
        if installed:
            self._watch_signals()

    def _watch_signals(self) -> None:
        """Be told of signals at once, on a thread of ours, through the interpreter's wakeup fd."""
        if not hasattr(signal, "set_wakeup_fd"):
            return
        read_fd, write_fd = os.pipe()
        try:
            os.set_blocking(write_fd, False)
            previous = signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
            if previous != -1:  # the application (or asyncio, trio...) uses it: leave it theirs
                signal.set_wakeup_fd(previous)
                raise OSError("wakeup fd in use")
        except (ValueError, OSError):
            os.close(read_fd)
            os.close(write_fd)
            return
        self._wakeup = (read_fd, write_fd)
        start_daemon(self._watch, "agentel-signals", (read_fd,))

    def _watch(self, read_fd: int) -> None:
        while True:
            try:
                data = os.read(read_fd, 64)
            except InterruptedError:
                continue
            except OSError:
                return
            if not data:
                return
            for signum in data:
                if signum in _TERMINATING_SIGNALS and signal.getsignal(signum) == self._handler:
                    self._watcher_seen += 1
                    if not self._start_exit(signum) and self._watcher_seen > 1:
                        _die_by(signum)  # asked again while flushing: stop waiting

    # -- fork: a child's signals must never be written into the parent's wakeup pipe, nor lost
    def _before_fork(self) -> None:
        self._block_signals_for_fork()
        self._held_across_fork.hold()
        wakeup = self._wakeup
        if wakeup is not None and threading.current_thread() is threading.main_thread():
            if _current_wakeup_fd() == wakeup[1]:
                signal.set_wakeup_fd(-1)  # the child inherits none; the parent's handler covers the gap
                self._paused_for_fork = True

    def _block_signals_for_fork(self) -> None:
        """Hold our terminating signals pending across the fork (the forking thread only)."""
        ours = [signum for signum in _TERMINATING_SIGNALS if _handler_is(signum, self._handler)]
        if ours and hasattr(signal, "pthread_sigmask"):
            self._mask_before_fork = signal.pthread_sigmask(signal.SIG_BLOCK, ours)

    def _restore_signal_mask(self) -> None:
        """Deliver what arrived while blocked: in the parent at once, in the child once it is set up."""
        mask, self._mask_before_fork = self._mask_before_fork, None
        if mask is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)

    def _after_fork_in_parent(self) -> None:
        self._held_across_fork.release()
        self._restore_signal_mask()
        if self._paused_for_fork and self._wakeup is not None:
            self._paused_for_fork = False
            try:
                signal.set_wakeup_fd(self._wakeup[1], warn_on_full_buffer=False)
            except (ValueError, OSError):
                pass

    def _wakeup_in_child(self) -> None:
        self._held_across_fork.release()  # ours are still held until _in_forked_child
        inherited, self._wakeup = self._wakeup, None
        paused, self._paused_for_fork = self._paused_for_fork, False
        self._watcher_seen = 0
        if inherited is None:
            return
        try:
            current = _current_wakeup_fd()
            if current == inherited[1]:  # forked from another thread: still the parent's pipe
                signal.set_wakeup_fd(-1)
            if current == inherited[1] or paused:
                self._watch_signals()
            for fd in inherited:
                os.close(fd)
        except (ValueError, OSError) as exc:
            report_internal_error("fork: signal wakeup fd", exc)

    def at_exit(self) -> None:
        """End open spans and export what is buffered (bounded); runs once.

        If a signal's flush is already under way on another thread, wait for it (bounded): the
        process must not leave (multiprocessing workers leave through ``os._exit``) in its middle.
        """
        if not self._run(INTERRUPTED_AT_EXIT):
            self._done.wait(self._exit_timeout_s())

    def _run(self, reason: str) -> bool:
        """Run the finish once; False if it had already started (maybe still running elsewhere)."""
        with self._lock:
            if self._finished:
                return False
            self._finished = True
        try:
            with _EXIT:
                self._finish(reason)
        finally:
            self._done.set()
        return True

    def _on_signal(self, signum: int, frame: Optional[Any]) -> None:
        """The Python-level handler (main thread, between bytecodes): only hands over to a thread."""
        if not self._start_exit(signum) and not self._watched(signum):
            _die_by(signum)  # asked again, and no watcher counts the deliveries

    def _watched(self, signum: int) -> bool:
        wakeup = self._wakeup
        return wakeup is not None and signal.getsignal(signum) == self._handler and _current_wakeup_fd() == wakeup[1]

    def _start_exit(self, signum: int) -> bool:
        """Start the flush-then-exit thread for the first terminating signal; False if already started."""
        with self._lock:
            if self._signalled is not None:
                return False
            self._signalled = signum
        start_daemon(self._exit_on_signal, "agentel-signal-exit", (signum,))
        return True

    def _exit_on_signal(self, signum: int) -> None:
        try:
            if not self._run(interrupted_by(signum)):  # e.g. a worker's exit flush is under way: let it end
                self._done.wait(self._exit_timeout_s())
        finally:
            _die_by(signum)

    def _in_forked_child(self) -> None:
        self._lock = new_lock()
        self._finished = False
        self._done = threading.Event()
        self._signalled = None
        try:
            with _FORK:
                self._after_fork()
        finally:
            self._restore_signal_mask()  # a SIGTERM sent meanwhile (Pool.terminate) is handled now

    @staticmethod
    def _finalize_worker_at_exit(hooks: "ExitHooks") -> None:
        """Run by multiprocessing in a new worker, after it clears inherited finalizers."""
        import multiprocessing.util as mp_util

        mp_util.Finalize(None, hooks.at_exit, exitpriority=100)


def _handler_is(signum: int, handler: Any) -> bool:
    try:
        return bool(signal.getsignal(signum) == handler)
    except (ValueError, OSError):
        return False


def _current_wakeup_fd() -> int:
    """The interpreter's signal wakeup fd (main thread only; -1 when unset or unknown)."""
    try:
        current = signal.set_wakeup_fd(-1)
        signal.set_wakeup_fd(current)
        return current
    except (ValueError, OSError):
        return -1


def _in_multiprocessing_child() -> bool:
    """True in a multiprocessing worker (spawn or forkserver too), which may leave through ``os._exit``."""
    import multiprocessing

    try:
        return multiprocessing.parent_process() is not None
    except Exception:  # noqa: BLE001 - a probe: an interpreter without it is not a worker
        return False
