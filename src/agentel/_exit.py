"""Process lifecycle: nothing lost at exit, on SIGTERM, or in forked workers; exit never hangs.

At exit (normal, ``sys.exit``, uncaught exception) spans still open — an agent interrupted mid-step —
are ended, marked ``agentel.ended_by=interrupted: ...`` with status ERROR, and everything buffered is
exported within ``AGENTEL_EXIT_TIMEOUT_MILLIS`` (the flush runs on a daemon thread, so an unreachable
collector cannot delay exit longer). On SIGTERM, when the application has no handler of its own, the
same happens before the signal's default action. In a forked child the parent's open spans and client
traces are forgotten (the SDK's batch processor drops the parent's queue itself) and multiprocessing
workers, which leave through ``os._exit``, flush on their way out.
"""

from __future__ import annotations

import os
import signal
import threading
from typing import Any, Callable, Optional

from ._safety import report_internal_error

INTERRUPTED_AT_EXIT = "interrupted: process exiting"
INTERRUPTED_BY_SIGTERM = "interrupted: SIGTERM"


def run_bounded(work: Callable[[], Any], timeout_s: float) -> bool:
    """Run ``work`` on a daemon thread; wait at most ``timeout_s``. True when it finished."""
    done = threading.Event()

    def target() -> None:
        try:
            work()
        except Exception as exc:  # noqa: BLE001
            report_internal_error("exit flush", exc)
        finally:
            done.set()

    thread = threading.Thread(target=target, name="agentel-exit-flush", daemon=True)
    thread.start()
    return done.wait(timeout_s)


class ExitHooks:
    """Installs the exit, SIGTERM and fork hooks once; ``finish`` is what they run."""

    def __init__(self, finish: Callable[[str], None], after_fork: Callable[[], None]) -> None:
        self._finish = finish
        self._after_fork = after_fork
        self._installed = False
        self._finished = False
        self._lock = threading.Lock()

    def install(self) -> None:
        """Register the hooks (idempotent); the SIGTERM hook only from the main thread."""
        with self._lock:
            if self._installed:
                return
            self._installed = True
        import atexit

        atexit.register(self.at_exit)
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=self._in_forked_child)
        self._install_sigterm()
        try:  # multiprocessing workers leave via os._exit: flush them through multiprocessing's finalizers
            import multiprocessing.util as mp_util

            mp_util.register_after_fork(self, ExitHooks._finalize_worker_at_exit)
        except Exception as exc:  # noqa: BLE001
            report_internal_error("multiprocessing hook", exc)

    def _install_sigterm(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        try:
            if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
                signal.signal(signal.SIGTERM, self._on_sigterm)
        except (ValueError, OSError, AttributeError):  # not the main interpreter, or no SIGTERM here
            pass

    def at_exit(self) -> None:
        """End open spans and export what is buffered (bounded); runs once."""
        self._run(INTERRUPTED_AT_EXIT)

    def _run(self, reason: str) -> None:
        with self._lock:
            if self._finished:
                return
            self._finished = True
        try:
            self._finish(reason)
        except Exception as exc:  # noqa: BLE001
            report_internal_error("exit", exc)

    def _on_sigterm(self, signum: int, frame: Optional[Any]) -> None:
        self._run(INTERRUPTED_BY_SIGTERM)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)

    def _in_forked_child(self) -> None:
        self._lock = threading.Lock()
        self._finished = False
        try:
            self._after_fork()
        except Exception as exc:  # noqa: BLE001
            report_internal_error("fork", exc)

    @staticmethod
    def _finalize_worker_at_exit(hooks: "ExitHooks") -> None:
        """Run by multiprocessing in a new worker, after it clears inherited finalizers."""
        import multiprocessing.util as mp_util

        mp_util.Finalize(None, hooks.at_exit, exitpriority=100)
