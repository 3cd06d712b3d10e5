"""Memory agentel holds is bounded: spans the application drops without ending are freed (and counted),
and a generator span keeps no more of its items than its outputs' budget can show (issue 12, item 24)."""

from __future__ import annotations

from _program import run_all

DROPPED_SPANS = """
    import gc, agentel
    tracer = agentel.get_tracer_provider().get_tracer("app")

    def handle(i):
        span = tracer.start_span(f"request-{i}")          # never ended: a bug of the application's
        span.set_attribute("payload", "x" * 8000)
        with agentel.start_span("step"):                 # a normal span next to it
            pass

    handle(0)
    gc.collect()
    before = rss_kb()
    for i in range(20_000):
        handle(i)
    gc.collect()
    growth = rss_kb() - before
    stats = agentel.stats()
    report(growth_kb=growth, never_ended=stats["spans_never_ended"], open=stats["spans_open"])
"""


def test_spans_dropped_without_ending_are_freed_and_counted() -> None:
    (out,) = run_all([{"source": DROPPED_SPANS, "timeout": 120, "env": {"OTEL_BSP_MAX_QUEUE_SIZE": "50000"}}])
    assert out.returncode == 0, out.explain()
    figures = out.result
    assert figures["growth_kb"] < 40_000, figures  # before: +253 MB for 20,000 such spans
    assert figures["never_ended"] >= 19_000, figures
    assert figures["open"] <= 10, figures
    assert sum(1 for s in out.spans() if s.name == "step") == 20_001  # the ended ones all exported
    print(
        f"\n  20,000 spans dropped unended: RSS +{figures['growth_kb'] / 1024:.1f} MB, "
        f"{figures['never_ended']} counted as never ended"
    )


OPEN_STREAMS = """
    import gc, agentel

    @agentel.trace
    def chunks(tag):
        for i in range(100):
            yield (tag + str(i)) * 250_000               # a fresh 1 MB chunk each time

    gc.collect()
    before = rss_kb()
    streams = [chunks(tag) for tag in "abc"]
    for _ in range(100):                                 # three streams in flight, all items consumed
        for stream in streams:
            next(stream)
    gc.collect()
    growth = rss_kb() - before
    for stream in streams:
        for _ in stream:
            pass
    report(growth_kb=growth)
"""


def test_open_streams_of_large_chunks_keep_only_what_their_outputs_can_show() -> None:
    (out,) = run_all([{"source": OPEN_STREAMS, "timeout": 120}])
    assert out.returncode == 0, out.explain()
    assert out.result["growth_kb"] < 30_000, out.result  # before: +293 MB (100 chunks kept per stream)
    spans = out.spans()
    assert len(spans) == 3
    for span in spans:
        outputs = span.attributes["output.value"]
        assert len(outputs.encode()) <= 8192
        assert "items not kept" in outputs and span.attributes["agentel.generator.items"] == 100
    print(f"\n  three open streams of 1 MB chunks: RSS +{out.result['growth_kb'] / 1024:.1f} MB")
