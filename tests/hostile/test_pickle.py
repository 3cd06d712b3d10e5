"""Traced functions go wherever plain functions go: pickled to process pools (spawn and fork), and
their generator and coroutine objects carry the plain function's names (issue 12, item 10 and the
wrapped objects' identity)."""

from __future__ import annotations

from _program import run_all

POOLS = """
    import multiprocessing, pickle, sys
    from concurrent.futures import ProcessPoolExecutor
    import agentel

    @agentel.trace(span_type="TOOL")
    def double(x):
        return x * 2

    class Worker:
        def __init__(self, k):
            self.k = k
        @agentel.trace
        def scale(self, x):
            return x * self.k

    if __name__ == "__main__":
        method = sys.argv[1]
        ctx = multiprocessing.get_context(method)
        with ProcessPoolExecutor(2, mp_context=ctx) as pool:
            submitted = pool.submit(double, 21).result(timeout=60)
            mapped = list(pool.map(double, range(5), timeout=60))
            bound = pool.submit(Worker(3).scale, 5).result(timeout=60)
            wrapped = pool.submit(agentel.trace(Worker(4).scale, name="wrapped-scale"), 2).result(timeout=60)
        with ctx.Pool(2) as mp_pool:
            pool_map = mp_pool.map(double, [10, 20], chunksize=1)
        same = pickle.loads(pickle.dumps(double)) is double
        report(submitted=submitted, mapped=mapped, bound=bound, wrapped=wrapped, pool_map=pool_map, same=same)
"""


def test_traced_functions_run_in_process_pools_with_spawn_and_fork() -> None:
    outcomes = run_all([{"source": POOLS, "args": [method], "timeout": 120} for method in ("spawn", "fork")])
    for method, out in zip(("spawn", "fork"), outcomes):
        assert out.returncode == 0, (method, out.explain())
        assert "Traceback" not in out.stderr, (method, out.explain())
        assert out.result == {
            "submitted": 42,
            "mapped": [0, 2, 4, 6, 8],
            "bound": 15,
            "wrapped": 8,
            "pool_map": [20, 40],
            "same": True,
        }, method
        names = out.names()
        # every call in a worker made its span there, and the worker exported it
        assert names.count("double") == 1 + 5 + 2, (method, names)
        assert names.count("scale") == 2, (method, names)  # bound, and inside wrapped-scale
        assert names.count("wrapped-scale") == 1, (method, names)
        tool = next(s for s in out.spans() if s.name == "double" and s.attributes.get("input.value") == '{"x": 21}')
        assert tool.attributes["agentel.span.type"] == "TOOL"


IDENTITY = """
    import asyncio, inspect, pickle
    import agentel

    @agentel.trace
    def numbers(n):
        yield from range(n)

    @agentel.trace
    async def answer():
        return 42

    @agentel.trace
    async def ticks(n):
        for i in range(n):
            yield i

    class Agent:
        @agentel.trace
        def stream(self):
            yield "a"

    gen, coro, agen, method_gen = numbers(2), answer(), ticks(2), Agent().stream()
    names = {
        "generator": [gen.__name__, gen.__qualname__],
        "coroutine": [coro.__name__, coro.__qualname__],
        "async_generator": [agen.__name__, agen.__qualname__],
        "method_generator": [method_gen.__name__, method_gen.__qualname__],
        "functions": [numbers.__name__, answer.__qualname__, ticks.__name__],
        "coroutine_repr": repr(coro).split(" at ")[0],
        "kinds": [inspect.isgeneratorfunction(numbers), inspect.iscoroutinefunction(answer),
                  inspect.isasyncgenfunction(ticks), inspect.iscoroutine(coro)],
    }
    values = [list(gen), asyncio.run(coro), list(method_gen)]
    async def drain():
        return [i async for i in agen]
    values.append(asyncio.run(drain()))
    report(names=names, values=values)
"""


def test_generators_and_coroutines_carry_the_plain_functions_names() -> None:
    (out,) = run_all([{"source": IDENTITY}])
    assert out.returncode == 0, out.explain()
    names = out.result["names"]
    assert names["generator"] == ["numbers", "numbers"]
    assert names["coroutine"] == ["answer", "answer"]
    assert names["async_generator"] == ["ticks", "ticks"]
    assert names["method_generator"] == ["stream", "Agent.stream"]
    assert names["functions"] == ["numbers", "answer", "ticks"]
    assert names["coroutine_repr"] == "<coroutine object answer"
    assert names["kinds"] == [True, True, True, True]
    assert out.result["values"] == [[0, 1], 42, ["a"], [0, 1]]
    assert out.names() == ["answer", "numbers", "stream", "ticks"]  # spans are named func.__name__
