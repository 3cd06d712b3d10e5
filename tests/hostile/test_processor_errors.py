"""An application span processor that raises never escapes an agentel call and never leaves spans in
agentel's open table; hostile tags get a safe fallback (issue 12 item 9, issue 13 item 12)."""

from __future__ import annotations

from pathlib import Path

import pytest
from _run import run_program

PROGRAM = r"""
import json, sys, agentel
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

WHERE = sys.argv[1]      # on_start / on_end / both
SETUP = sys.argv[2]      # app_provider: the app's own global provider; configure: configure(span_processors=)

class Broken:
    def on_start(self, span, parent_context=None):
        if WHERE in ("on_start", "both"):
            raise RuntimeError("the app's processor fails in on_start")
    def on_end(self, span):
        if WHERE in ("on_end", "both"):
            raise RuntimeError("the app's processor fails in on_end")
    def shutdown(self): pass
    def force_flush(self, timeout_millis=30000): return True

memory = InMemorySpanExporter()
if SETUP == "app_provider":
    provider = TracerProvider()
    provider.add_span_processor(Broken())            # the application's processors, before agentel's
    provider.add_span_processor(SimpleSpanProcessor(memory))
    trace.set_tracer_provider(provider)
else:
    agentel.configure(span_processors=[Broken(), SimpleSpanProcessor(memory)])

class Hostile:
    def __str__(self): raise RuntimeError("no str for you")
    __repr__ = __str__

escaped = []
def call(what, fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except Exception as exc:
        escaped.append(f"{what}: {type(exc).__name__}: {exc}")

client = agentel.TraceClient()
for i in range(5):
    root = call("start_trace", client.start_trace, "run", inputs={"i": i}, tags={"env": Hostile(), Hostile(): "x"})
    if root is None:
        continue
    child = call("start_span", client.start_span, "step", request_id=root.request_id, parent_id=root.span_id)
    if child is not None:
        call("get_span", client.get_span, root.request_id, child.span_id)
        call("end_span", client.end_span, root.request_id, child.span_id, outputs=[1])
    call("set_trace_tag", client.set_trace_tag, root.request_id, Hostile(), Hostile())
    call("end_trace", client.end_trace, root.request_id, outputs="done")

@agentel.trace
def tool(x):
    return x

@agentel.trace
def stream():
    yield 1

for i in range(3):
    assert call("trace", tool, i) == i
    assert call("generator", lambda: list(stream())) == [1]
    with agentel.start_span("block") as span:
        span.set_attribute("k", "v")

print(json.dumps({"escaped": escaped, "stats": agentel.stats(), "exported": [s.name for s in memory.get_finished_spans()]}))
"""


@pytest.mark.parametrize("setup", ["app_provider", "configure"])
@pytest.mark.parametrize("where", ["on_start", "on_end", "both"])
def test_a_raising_processor_never_escapes_and_never_leaves_open_spans(where: str, setup: str, tmp_path: Path) -> None:
    result = run_program(PROGRAM, args=[where, setup], env={"OTEL_TRACES_EXPORTER": "none"}, timeout=60)
    assert result.returncode == 0, result.stderr
    found = result.last_json_line()
    assert found["escaped"] == [], found["escaped"]
    stats = found["stats"]
    assert stats["spans_open"] == 0, stats  # nothing left in agentel's open table
    assert stats["internal_errors"] > 0  # counted (and logged once per cause)
    if setup == "configure":  # on agentel's own provider, the processors after the broken one see everything
        assert sorted(found["exported"]) == sorted(["run", "step"] * 5 + ["tool", "stream", "block"] * 3)
    lines = [line for line in result.stderr.splitlines() if "internal error" in line]
    assert len(lines) <= 6, result.stderr  # once per cause, not once per call


def test_hostile_tags_get_a_printable_fallback(tmp_path: Path) -> None:
    program = """
    import agentel
    class Hostile:
        def __str__(self): raise RuntimeError("boom")
        __repr__ = __str__
    client = agentel.TraceClient()
    root = client.start_trace("run", tags={"env": Hostile(), "team": "core"})
    client.set_trace_tag(root.request_id, "owner", Hostile())
    client.end_trace(root.request_id)
    """
    result = run_program(program, traces_file=tmp_path / "t.jsonl")
    assert result.returncode == 0, result.stderr
    from _run import attributes_of

    attributes = attributes_of(result.span("run"))
    assert attributes["agentel.tag.team"] == "core"
    assert attributes["agentel.tag.env"] == "<unprintable Hostile>"
    assert attributes["agentel.tag.owner"] == "<unprintable Hostile>"
