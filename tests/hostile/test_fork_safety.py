"""fork: a child forked from any thread, at any moment of the export thread's work, can trace and
flush; multiprocessing ``with Pool()`` (which SIGTERMs its workers on exit) loses no span; a signal
to a child is the child's alone (issue 12, items 4 and 17)."""

from __future__ import annotations

from _program import run_all

FORK_WHILE_EXPORTING = """
    import os, sys, threading, time
    import agentel
    sys.setswitchinterval(1e-6)          # switch threads as often as possible: forks land anywhere

    @agentel.trace
    def work(i):
        return "x" * 2000

    stop = False
    def churn():                          # the export thread is always writing a batch
        while not stop:
            for i in range(200):
                work(i)
            agentel.force_flush(1000)
    threading.Thread(target=churn, daemon=True).start()
    time.sleep(0.3)

    def fork_one(pids):
        pid = os.fork()
        if pid == 0:
            @agentel.trace(name="child-span")
            def child():
                return os.getpid()
            child()
            os._exit(0 if agentel.force_flush(3000) else 3)
        pids.append(pid)

    pids = []
    for n in range(30):
        forker = threading.Thread(target=fork_one, args=(pids,))   # os.fork() in a thread
        forker.start()
        forker.join()
        time.sleep(0.01)
    stop = True
    deadline, codes = time.time() + 20, {}
    while time.time() < deadline and len(codes) < len(pids):
        for pid in pids:
            if pid not in codes:
                done, status = os.waitpid(pid, os.WNOHANG)
                if done:
                    codes[pid] = os.waitstatus_to_exitcode(status)
        time.sleep(0.05)
    for pid in pids:
        if pid not in codes:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
    report(children=len(pids), exited=len(codes), flushed=sum(1 for c in codes.values() if c == 0))
"""


def test_children_forked_from_a_thread_while_the_exporter_writes_never_deadlock() -> None:
    (out,) = run_all([{"source": FORK_WHILE_EXPORTING, "timeout": 90}])
    assert out.returncode == 0, out.explain()
    assert out.result == {"children": 30, "exited": 30, "flushed": 30}, out.explain()
    assert out.names().count("child-span") == 30
    print(f"\n  fork from a thread while exporting: {out.result['flushed']}/30 children flushed")


POOL = """
    import multiprocessing, os, sys
    import agentel

    @agentel.trace(span_type="TOOL")
    def task(i):
        return i * i

    if __name__ == "__main__":
        ctx = multiprocessing.get_context(sys.argv[1])
        with agentel.start_span("parent"):
            pass                          # the parent traces before forking too
        with ctx.Pool(3) as pool:         # __exit__ is terminate(): SIGTERM to every worker
            squares = pool.map(task, range(9), chunksize=1)
        report(squares=squares)
"""


def test_with_pool_delivers_every_workers_span() -> None:
    methods = ["fork", "fork", "fork", "spawn", "forkserver"]
    outcomes = run_all([{"source": POOL, "args": [m], "timeout": 90} for m in methods])
    for method, out in zip(methods, outcomes):
        assert out.returncode == 0, (method, out.explain())
        assert out.result["squares"] == [i * i for i in range(9)]
        names = out.names()
        assert names.count("task") == 9, (method, names)  # 9/9, every time
        assert names.count("parent") == 1, (method, names)


TERMINATED_AT_ONCE = """
    import os, signal, time
    import agentel

    with agentel.start_span("parent"):
        pass
    codes = []
    for i in range(20):
        pid = os.fork()
        if pid == 0:
            time.sleep(30)
            os._exit(7)
        os.kill(pid, signal.SIGTERM)      # before the child has run its after-fork hooks (Pool.terminate)
        deadline = time.time() + 5
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                codes.append(os.waitstatus_to_exitcode(status))
                break
            if time.time() > deadline:    # the signal was lost: the child would sleep on
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                codes.append("alive")
                break
            time.sleep(0.01)
    report(codes=codes)
"""


def test_a_child_terminated_right_after_fork_dies_by_the_signal() -> None:
    # CPython drops a signal that reaches a child before its after-fork reset; with agentel's SIGTERM
    # handler installed (the default action no longer applies) such a child lived on, and a
    # ``with Pool()`` whose worker was still starting hung in terminate() (33 of 40 children before)
    (out,) = run_all([{"source": TERMINATED_AT_ONCE, "timeout": 150}])
    assert out.returncode == 0, out.explain()
    assert out.result["codes"] == [-15] * 20, out.explain()


EXECED_CHILDREN = """
    import os, signal, subprocess
    import agentel

    with agentel.start_span("parent"):   # agentel's SIGTERM handler is installed by now
        pass
    def blocked(text):
        return [line.split()[1] for line in text.splitlines() if line.startswith("SigBlk:")][0]
    preexec = subprocess.run(["cat", "/proc/self/status"], preexec_fn=lambda: None,
                             capture_output=True, text=True).stdout
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.dup2(write, 1)
        os.execvp("cat", ["cat", "/proc/self/status"])
    os.close(write)
    forked = os.read(read, 1 << 16).decode()
    os.waitpid(pid, 0)
    report(handler_installed=signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL,
           preexec=blocked(preexec), fork_exec=blocked(forked),
           parent=blocked(open("/proc/self/status").read()))
"""


def test_programs_exec_ed_after_a_fork_inherit_no_blocked_signal() -> None:
    # the forking thread blocks SIGTERM/SIGHUP across fork(); the child restores its mask in its
    # after-fork hook, before a preexec_fn or exec runs, so a program it runs can still be terminated
    (out,) = run_all([{"source": EXECED_CHILDREN}])
    assert out.returncode == 0, out.explain()
    assert out.result == {
        "handler_installed": True,
        "preexec": "0000000000000000",
        "fork_exec": "0000000000000000",
        "parent": "0000000000000000",
    }, out.explain()


SIGNALLED_CHILD = """
    import os, signal, time
    import agentel

    with agentel.start_span("parent-before"):
        pass
    pid = os.fork()
    if pid == 0:
        with agentel.start_span("child-open"):
            time.sleep(30)
        os._exit(0)
    time.sleep(0.5)
    os.kill(pid, signal.SIGTERM)
    _, status = os.waitpid(pid, 0)
    time.sleep(0.3)                       # the parent would be gone by now if the child's signal reached it
    with agentel.start_span("parent-after"):
        pass
    report(child=os.waitstatus_to_exitcode(status))
"""


def test_a_signal_to_a_forked_child_ends_the_child_only() -> None:
    (out,) = run_all([{"source": SIGNALLED_CHILD}])
    assert out.returncode == 0, out.explain()
    assert out.result == {"child": -15}
    spans = {span.name: span for span in out.spans()}
    assert set(spans) == {"parent-before", "child-open", "parent-after"}
    assert spans["child-open"].attributes["agentel.ended_by"] == "interrupted: SIGTERM"
