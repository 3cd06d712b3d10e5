"""Current-span bookkeeping survives unusual nesting: nested captures, a ``start_span`` object entered
twice, Ctrl-C while agentel records a call's inputs (issue 12, item 17)."""

from __future__ import annotations

from _program import run_all

NESTED_CAPTURES = """
    import sys, agentel
    from agentel.testing import capture_spans
    if sys.argv[1] == "app-provider":
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        trace.set_tracer_provider(TracerProvider())
    with capture_spans() as outer:
        with agentel.start_span("before"):
            pass
        with capture_spans() as inner:
            with agentel.start_span("inside"):
                pass
        with agentel.start_span("after"):
            pass
    report(outer=[s.name for s in outer.spans], inner=[s.name for s in inner.spans])
"""


def test_nested_captures_keep_the_outer_captures_spans() -> None:
    outcomes = run_all([{"source": NESTED_CAPTURES, "args": [mode]} for mode in ("app-provider", "no-provider")])
    for out in outcomes:
        assert out.returncode == 0, out.explain()
        assert out.result == {"outer": ["before", "inside", "after"], "inner": ["inside"]}, out.result


ENTERED_TWICE = """
    import agentel
    block = agentel.start_span("reused")
    with block as outer:
        with block as inner:
            inner_is_child = inner.parent_id == outer.span_id
    after = agentel.get_current_span()
    with agentel.start_span("later") as later:
        later_parent = later.parent_id
    report(inner_is_child=inner_is_child, current_after=after is None, later_parent=later_parent,
           open=agentel.stats()["spans_open"])
"""


def test_a_start_span_object_entered_twice_nests_and_leaves_nothing_current() -> None:
    (out,) = run_all([{"source": ENTERED_TWICE}])
    assert out.returncode == 0, out.explain()
    assert out.result == {"inner_is_child": True, "current_after": True, "later_parent": None, "open": 0}
    assert out.names() == ["later", "reused", "reused"]


CTRL_C_IN_INPUTS = """
    import os, signal, time, agentel

    class Slow:                                  # Ctrl-C arrives while agentel serializes it
        def model_dump(self):
            os.kill(os.getpid(), signal.SIGINT)  # may reach another thread: the main one sees it soon after
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:   # so wait for it here, however loaded the machine
                pass
            return {"ok": True}

    @agentel.trace
    def tool(arg):
        return "ran"

    @agentel.trace
    def stream(arg):
        yield 1

    interrupted = []
    for attempt in ("decorated", "start_span", "generator"):
        try:
            if attempt == "decorated":
                tool(Slow())
            elif attempt == "start_span":
                with agentel.start_span("block", inputs=Slow()):
                    pass
            else:
                list(stream(Slow()))
        except KeyboardInterrupt:
            interrupted.append(attempt)
        interrupted.append(agentel.get_current_span() is None)

    @agentel.trace
    def unrelated():
        return agentel.get_current_span().parent_id

    report(interrupted=interrupted, unrelated_parent=unrelated(), open=agentel.stats()["spans_open"])
"""


def test_ctrl_c_while_inputs_are_recorded_leaves_no_zombie_current_span() -> None:
    (out,) = run_all([{"source": CTRL_C_IN_INPUTS}])
    assert out.returncode == 0, out.explain()
    assert out.result == {
        "interrupted": ["decorated", True, "start_span", True, "generator", True],
        "unrelated_parent": None,  # a later call is a root, not a child of the interrupted one
        "open": 0,
    }, out.result
    spans = {s.name: s for s in out.spans()}
    for name in ("tool", "block", "stream"):
        assert spans[name].status_message.startswith("KeyboardInterrupt"), spans[name]
