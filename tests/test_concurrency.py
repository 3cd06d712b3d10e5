"""Concurrency: 32 threads x 1,000 nested traces and 1,000 concurrent asyncio tasks at the same time,
mixing the fluent API (``@agentel.trace``, ``start_span``), the client API (``TraceClient``, spans ended
from another thread) and raw OpenTelemetry spans, with generators consumed on a thread other than the
one that created them.

Each code path records, as it runs, the span it made and the parent and trace it must have; at the end
every captured span is checked against that: zero mis-parented spans, zero spans with a foreign trace
id, no span missing or unexpected, no current span left on any thread, ``spans_open`` back where it
started. Plus the export accounting under a race: a queue-full drop is counted only if it happens.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Optional

from opentelemetry import trace as otel_trace
from opentelemetry.sdk.trace import TracerProvider

import agentel
from agentel.testing import SpanCapture

THREADS = 32
TRACES_PER_THREAD = 1000
TASKS = 1000
GENERATOR_EVERY = 10  # every 10th trace of a thread hands a generator to another thread


@dataclass(frozen=True)
class Expect:
    """What one span must look like: its id, its parent's id (None for a root), its trace id."""

    name: str
    span_id: str
    parent_id: Optional[str]
    trace_id: str


def _hex_span(span: Any) -> str:
    return format(span.get_span_context().span_id, "016x")


def _hex_trace(span: Any) -> str:
    return format(span.get_span_context().trace_id, "032x")


class Recorder:
    """Expectations and problems, appended from any thread (list.append is atomic)."""

    def __init__(self) -> None:
        self.expected: list[Expect] = []
        self.problems: list[str] = []

    def live(self, name: str, span: Optional[agentel.LiveSpan], parent: Optional[str], trace_id: str) -> str:
        """Expect the agentel span ``span`` under ``parent`` in ``trace_id``; its span id."""
        if span is None:
            self.problems.append(f"{name}: no current span")
            return "0" * 16
        self.expected.append(Expect(name, span.span_id, parent, trace_id))
        return span.span_id

    def raw(self, name: str, span: Any, parent: Optional[str], trace_id: str) -> str:
        span_id = _hex_span(span)
        self.expected.append(Expect(name, span_id, parent, trace_id))
        return span_id


# --- the threads -----------------------------------------------------------------------------------


def _thread_work(
    index: int, rec: Recorder, client: agentel.TraceClient, helpers: ThreadPoolExecutor, raw: otel_trace.Tracer
) -> None:
    @agentel.trace(name="t-leaf", span_type=agentel.SpanType.TOOL)
    def leaf(parent: str, trace_id: str) -> int:
        rec.live("t-leaf", agentel.get_current_span(), parent, trace_id)
        return 1

    @agentel.trace(name="t-gen")
    def numbers(n: int, parent: str, trace_id: str) -> Iterator[int]:
        rec.live("t-gen", agentel.get_current_span(), parent, trace_id)  # current while the body runs
        yield from range(n)

    @agentel.trace(name="t-root", span_type=agentel.SpanType.AGENT)
    def root(i: int) -> None:
        me = agentel.get_current_span()
        assert me is not None
        trace_id = me.trace_id
        root_id = rec.live("t-root", me, None, trace_id)
        with agentel.start_span("t-child", span_type=agentel.SpanType.CHAIN) as child:
            child_id = rec.live("t-child", child, root_id, trace_id)
            with raw.start_as_current_span("t-raw") as raw_span:
                raw_id = rec.raw("t-raw", raw_span, child_id, trace_id)
                leaf(raw_id, trace_id)
            # the client API joins the active span's trace; its child is ended from another thread
            client_root = client.start_trace("t-client", span_type=agentel.SpanType.AGENT)
            client_id = rec.live("t-client", client_root, child_id, trace_id)
            step = client.start_span("t-client-step", request_id=client_root.request_id, parent_id=client_id)
            rec.live("t-client-step", step, client_id, trace_id)
            helpers.submit(client.end_span, client_root.request_id, step.span_id).result()
            client.end_trace(client_root.request_id)
            if i % GENERATOR_EVERY == 0:  # created here (under t-child), consumed on a helper thread
                items = numbers(3, child_id, trace_id)
                if helpers.submit(list, items).result() != [0, 1, 2]:
                    rec.problems.append("t-gen yielded the wrong items")
            if agentel.get_current_span() is None or agentel.get_current_span().span_id != child_id:  # type: ignore[union-attr]
                rec.problems.append("t-child is not current after its nested spans ended")

    try:
        for i in range(TRACES_PER_THREAD):
            root(i)
            if agentel.get_current_span() is not None:
                rec.problems.append(f"thread {index}: a current span leaked after trace {i}")
    except Exception as exc:  # noqa: BLE001 - reported by the test
        rec.problems.append(f"thread {index}: {type(exc).__name__}: {exc}")
    if agentel.get_current_span() is not None or otel_trace.get_current_span().get_span_context().is_valid:
        rec.problems.append(f"thread {index}: a current span leaked at the end")


# --- the asyncio tasks -------------------------------------------------------------------------------


async def _task_work(i: int, rec: Recorder, client: agentel.TraceClient, raw: otel_trace.Tracer) -> None:
    @agentel.trace(name="a-leaf", span_type=agentel.SpanType.TOOL)
    async def leaf(parent: str, trace_id: str) -> int:
        await asyncio.sleep(0)
        rec.live("a-leaf", agentel.get_current_span(), parent, trace_id)
        await asyncio.sleep(0)
        return 1

    @agentel.trace(name="a-gen")
    async def stream(parent: str, trace_id: str) -> AsyncIterator[int]:
        rec.live("a-gen", agentel.get_current_span(), parent, trace_id)
        for k in range(2):
            await asyncio.sleep(0)
            yield k

    @agentel.trace(name="a-root", span_type=agentel.SpanType.AGENT)
    async def root() -> None:
        me = agentel.get_current_span()
        assert me is not None
        trace_id = me.trace_id
        root_id = rec.live("a-root", me, None, trace_id)
        await asyncio.sleep(0)
        async with agentel.start_span("a-child") as child:
            child_id = rec.live("a-child", child, root_id, trace_id)
            await asyncio.sleep(0)
            with raw.start_as_current_span("a-raw") as raw_span:
                raw_id = rec.raw("a-raw", raw_span, child_id, trace_id)
                await asyncio.sleep(0)
                await leaf(raw_id, trace_id)
            # two sibling tasks: each inherits the context (a-child) at creation
            await asyncio.gather(leaf(child_id, trace_id), leaf(child_id, trace_id))
            client_root = client.start_trace("a-client")
            client_id = rec.live("a-client", client_root, child_id, trace_id)
            await asyncio.sleep(0)
            step = client.start_span("a-client-step", request_id=client_root.request_id, parent_id=client_id)
            rec.live("a-client-step", step, client_id, trace_id)
            await asyncio.sleep(0)
            client.end_span(client_root.request_id, step.span_id)
            client.end_trace(client_root.request_id)
            if i % GENERATOR_EVERY == 0:
                got = [item async for item in stream(child_id, trace_id)]
                if got != [0, 1]:
                    rec.problems.append("a-gen yielded the wrong items")

    try:
        await root()
    except Exception as exc:  # noqa: BLE001
        rec.problems.append(f"task {i}: {type(exc).__name__}: {exc}")
    if agentel.get_current_span() is not None:
        rec.problems.append(f"task {i}: a current span leaked")


def _run_tasks(rec: Recorder, client: agentel.TraceClient, raw: otel_trace.Tracer) -> None:
    async def main() -> None:
        await asyncio.gather(*(_task_work(i, rec, client, raw) for i in range(TASKS)))
        if agentel.get_current_span() is not None:
            rec.problems.append("event loop: a current span leaked")

    asyncio.run(main())


# --- the test ------------------------------------------------------------------------------------------


def test_threads_and_tasks_never_mix_up_parents_or_traces(captured_spans: SpanCapture) -> None:
    rec = Recorder()
    client = agentel.TraceClient()
    raw = otel_trace.get_tracer("raw-otel-instrumentation")
    open_before = agentel.stats()["spans_open"]
    t0 = time.perf_counter()
    with ThreadPoolExecutor(4, thread_name_prefix="helper") as helpers:
        workers = [
            threading.Thread(target=_thread_work, args=(n, rec, client, helpers, raw), name=f"worker-{n}")
            for n in range(THREADS)
        ]
        workers.append(threading.Thread(target=_run_tasks, args=(rec, client, raw), name="event-loop"))
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(300)
            assert not worker.is_alive(), f"{worker.name} did not finish: deadlock?"
    seconds = time.perf_counter() - t0

    spans = captured_spans.spans
    by_id = {span.span_id: span for span in spans}
    expected = {e.span_id: e for e in rec.expected}
    per_thread = 6 + 1 / GENERATOR_EVERY
    per_task = 8 + 1 / GENERATOR_EVERY
    want = round(THREADS * TRACES_PER_THREAD * per_thread + TASKS * per_task)
    print(f"\n  {len(spans)} spans in {seconds:.1f} s ({THREADS} threads x {TRACES_PER_THREAD} traces + {TASKS} tasks)")

    assert rec.problems == [], rec.problems[:10]
    assert len(rec.expected) == want
    assert len(expected) == len(rec.expected), "two spans got the same span id"
    assert len(by_id) == len(spans), "a span was exported twice"
    missing = [e for e in rec.expected if e.span_id not in by_id]
    unexpected = [s.name for s in spans if s.span_id not in expected]
    misparented = (
        [
            (e.name, e.parent_id, by_id[e.span_id].parent_id)
            for e in rec.expected
            if by_id[e.span_id].parent_id != e.parent_id
        ]
        if not missing
        else []
    )
    foreign = (
        [
            (e.name, e.trace_id, by_id[e.span_id].trace_id)
            for e in rec.expected
            if by_id[e.span_id].trace_id != e.trace_id
        ]
        if not missing
        else []
    )
    assert missing == [], f"{len(missing)} spans not exported: {missing[:5]}"
    assert unexpected == [], f"{len(unexpected)} spans nobody expected: {unexpected[:5]}"
    assert misparented == [], f"{len(misparented)} mis-parented spans: {misparented[:5]}"
    assert foreign == [], f"{len(foreign)} spans with a foreign trace id: {foreign[:5]}"
    assert all(span.end_time_ns for span in spans)
    # nothing left open, nothing current
    assert agentel.stats()["spans_open"] == open_before
    assert agentel.get_current_span() is None
    generators = [s for s in spans if s.name == "t-gen"]
    assert len(generators) == THREADS * TRACES_PER_THREAD // GENERATOR_EVERY
    assert all(by_id[g.parent_id].name == "t-child" for g in generators if g.parent_id)


def test_generator_consumed_on_another_thread_is_a_child_of_where_it_was_created(
    captured_spans: SpanCapture,
) -> None:
    """The span is current inside the body only, on the consuming thread; not between items."""
    seen: dict[str, Any] = {}

    @agentel.trace(name="gen")
    def numbers() -> Iterator[int]:
        seen["in_body"] = agentel.get_current_span()
        yield 1
        seen["in_body_later"] = agentel.get_current_span()
        yield 2

    def consume(items: Iterator[int]) -> list[int]:
        out = []
        for item in items:
            seen.setdefault("between_items", agentel.get_current_span())
            out.append(item)
        return out

    with agentel.start_span("creator") as creator:
        items = numbers()
    with agentel.start_span("consumer-side") as other, ThreadPoolExecutor(1) as pool:
        assert pool.submit(consume, items).result() == [1, 2]
    gen = captured_spans.find("gen")
    assert gen.parent_id == creator.span_id != other.span_id
    assert gen.trace_id == creator.trace_id
    assert seen["in_body"] is not None and seen["in_body"].span_id == gen.span_id
    assert seen["in_body_later"].span_id == gen.span_id
    assert seen["between_items"] is None  # the consumer thread has no current span between items


# --- export accounting under a race -----------------------------------------------------------------------


class _WorkerTakesABatchAfterTheCheck:
    """Stands in for the batch processor's queue: right after the first length check made once armed,
    the "export thread" takes the oldest span and exports it (what the real worker does when it wakes
    up at that instant)."""

    def __init__(self, queue: Any, export: Any) -> None:
        self.queue, self.export, self.armed = queue, export, False

    def __len__(self) -> int:
        size = len(self.queue)
        if self.armed:
            self.armed = False
            self.export([self.queue.pop()])
        return size

    def __getattr__(self, name: str) -> Any:
        return getattr(self.queue, name)


def test_queue_full_drop_count_is_exact_when_the_worker_takes_a_batch() -> None:
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from agentel._export.health import CountingBatchSpanProcessor, CountingExporter
    from agentel._internal_errors import STATS

    memory = InMemorySpanExporter()
    sink = CountingExporter(memory, "memory")
    processor = CountingBatchSpanProcessor(
        sink, max_queue_size=4, max_export_batch_size=4, schedule_delay_millis=600_000
    )
    batch = processor._batch_processor
    real_wakeup = batch._worker_awaken

    class _NoWakeup(threading.Event):  # keep the real worker asleep: this test plays the worker
        def set(self) -> None:
            pass

    batch._worker_awaken = _NoWakeup()
    provider = TracerProvider()
    provider.add_span_processor(processor)
    tracer = provider.get_tracer("race")
    before = STATS.snapshot()
    try:
        for i in range(4):
            tracer.start_span(f"s{i}").end()
        racing = _WorkerTakesABatchAfterTheCheck(batch._queue, sink.export)
        batch._queue = racing  # type: ignore[assignment]
        racing.armed = True
        tracer.start_span("s4").end()  # the queue looked full, then had room: nothing is dropped
        batch._queue = racing.queue
        processor.force_flush()
    finally:
        batch._worker_awaken = real_wakeup
        provider.shutdown()
    after = STATS.snapshot()
    exported = after["spans_exported"] - before["spans_exported"]
    dropped = after["spans_dropped"] - before["spans_dropped"]
    assert len(memory.get_finished_spans()) == 5  # every span reached the exporter...
    assert (exported, dropped) == (5, 0)  # ...and none was counted as dropped
