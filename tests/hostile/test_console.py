"""The embedded default (the trace tree on stderr) never blocks the application and never lets user data
drive the terminal or forge a line of the tree (issue 12, items 2 and 20)."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import threading

from _program import Program, run

# console on (no exporter configured: the embedded default), no traces file
CONSOLE = {"traces": False}

MANY_TRACES = """
    import time, agentel
    @agentel.trace
    def answer(i):
        return "word " * 400           # ~2 KB of output per trace: the 64 KB pipe fills at once
    t0 = time.perf_counter()
    for i in range(3000):
        answer(i)
    seconds = time.perf_counter() - t0
    report(calls=3000, seconds=seconds, dropped=agentel.stats()["console_traces_dropped"])
"""


def test_stderr_a_pipe_nobody_reads_never_blocks_the_traced_calls() -> None:
    program = Program(MANY_TRACES, stderr=subprocess.PIPE, drain=False, **CONSOLE)
    outcome = program.finish(timeout=60)
    assert outcome.returncode == 0, outcome.explain()  # before: blocked forever on the first full pipe
    figures = outcome.result
    assert figures["calls"] == 3000
    assert figures["dropped"] > 0  # the queue is bounded; what did not fit is counted
    # exit waits a bounded time for the tree writer (EXIT_DRAIN_SECONDS = 2 s), not for the reader
    assert outcome.seconds < figures["seconds"] + 8.0, outcome.explain()
    print(
        f"\n  stderr undrained: 3000 traced calls in {figures['seconds']:.2f} s, "
        f"{figures['dropped']} trees dropped (counted), exit after {outcome.seconds:.2f} s"
    )


HOSTILE_TEXT = """
    import agentel
    evil = "\\x1b]0;pwned\\x07\\x1b[2J\\rcleared\\n└─ forged [TOOL] 0.1 ms ok\\u202eevil\\u2028next"
    @agentel.trace(name="agent" + evil, span_type="AGENT" + evil)
    def agent(text):
        agentel.set_llm(model="gpt" + evil)
        with agentel.start_span("step" + evil):
            pass
        raise ValueError(evil)
    try:
        agent(evil)
    except ValueError:
        pass
    print("done", flush=True)
"""

_TREE_LINE = re.compile(r"^[│ ]*[├└]─ ")


def test_control_characters_and_escape_sequences_are_shown_escaped_in_the_tree() -> None:
    outcome = run(HOSTILE_TEXT, **CONSOLE)
    assert outcome.returncode == 0, outcome.explain()
    err = outcome.stderr
    assert "\x1b" not in err and "\r" not in err and "\x07" not in err and "\u202e" not in err
    assert "\u2028" not in err
    assert "\\x1b]0;pwned\\x07" in err  # shown, not executed
    # exactly two tree lines (agent and step): the forged one is inside an escaped string
    tree_lines = [line for line in err.splitlines() if _TREE_LINE.match(line)]
    assert len(tree_lines) == 2, err
    assert not any(line.startswith("└─ forged") for line in err.splitlines()), err


def test_on_a_terminal_only_agentels_own_colours_reach_it() -> None:
    leader, follower = pty.openpty()
    received = bytearray()

    def read() -> None:
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                return
            if not chunk:
                return
            received.extend(chunk)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        program = Program(HOSTILE_TEXT, stderr=follower, **CONSOLE)
        outcome = program.finish(timeout=30)
    finally:
        os.close(follower)
        reader.join(timeout=5)
        os.close(leader)
    assert outcome.returncode == 0, outcome.explain()
    text = received.decode("utf-8", "replace")
    assert "trace " in text  # the tree reached the terminal, coloured (it is a TTY)
    sequences = re.findall(r"\x1b[^a-zA-Z]*[a-zA-Z]?", text)
    assert sequences, text
    assert all(re.fullmatch(r"\x1b\[\d+m", seq) for seq in sequences), sequences  # SGR colours only
    assert "\x07" not in text and "\x1b]" not in text and "\x1b[2J" not in text
