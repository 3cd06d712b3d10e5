"""The OpenTelemetry SDK itself cannot be imported: the application still starts and runs, untraced.

opentelemetry-sdk 1.4x raises ``ValueError`` while ``opentelemetry.sdk.trace`` is imported when
``OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT`` is negative or not an integer (no other ``OTEL_*`` variable does:
the other span limits raise only when a ``SpanLimits`` is built, and agentel builds its own with
checked values — see tests/test_config_env.py). Then ``import agentel`` works, every public API is a
no-op, one warning names the cause, and ``stats()``/``doctor()`` say tracing is off and why.
"""

from __future__ import annotations

from _program import run_all

BAD_VALUES = ("-1", "abc", "1.5")

APPLICATION = """
    import asyncio, json, os, sys
    before = dict(os.environ)
    import agentel, agentel.testing
    import agentel.compat.mlflow as mlflow

    @agentel.trace
    def add(a, b):
        return a + b

    @agentel.trace(span_type=agentel.SpanType.TOOL)
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
        def scale(self, x):
            return x * 2

    class Boom(Exception):
        pass

    boom = Boom("user error")

    @agentel.trace
    def fails():
        raise boom

    @mlflow.trace(name="compat")
    def compat(x):
        return x + 1

    async def drain():
        return [i async for i in ticks(3)]

    agentel.configure(service_name="shop", console=True)
    computed = {
        "add": add(1, 2), "numbers": list(numbers(3)), "answer": asyncio.run(answer()), "ticks": asyncio.run(drain()),
        "method": Agent().scale(4), "compat": compat(5), "traced_names": [add.__name__, numbers.__name__],
    }
    try:
        fails()
    except Boom as exc:
        computed["same_exception"] = exc is boom and exc.__context__ is None and exc.__cause__ is None
    with agentel.start_span("block", inputs={"q": 1}) as span:
        span.set_outputs(2)
        span.set_attribute("k", "v")
        computed["current"] = agentel.get_current_span() is None
    client = agentel.TraceClient()
    root = client.start_trace("request", inputs={"a": 1})
    child = client.start_span("step", request_id=root.request_id, parent_id=root.span_id)
    client.end_span(root.request_id, child.span_id, outputs=1)
    client.end_trace(root.request_id, outputs=2)
    try:
        with agentel.testing.capture_spans():
            pass
    except agentel.ConfigurationError as exc:
        computed["capture"] = str(exc)
    try:
        import opentelemetry.sdk.trace  # the application's own OTel setup still gets the SDK's error
        computed["sdk"] = "imported"
    except ValueError as exc:
        computed["sdk"] = str(exc)
    report_ = agentel.doctor()
    report(
        computed=computed, flushed=agentel.force_flush(1000), shutdown=agentel.shutdown(), stats=agentel.stats(),
        doctor=str(report_), doctor_ok=report_.ok, last_trace_id=agentel.get_last_trace_id(),
        environ_unchanged=dict(os.environ) == before,
    )
"""

UNDER_PYTEST = """
    import sys, pytest  # agentel.testing is a pytest plugin: pytest loads it at start
    # (langsmith's plugin, installed with LangChain, imports the SDK and fails with it: left out here)
    with open("test_app.py", "w") as f:
        f.write("import agentel\\n\\n@agentel.trace\\ndef add(a, b):\\n    return a + b\\n\\n"
                "def test_add():\\n    assert add(2, 3) == 5\\n")
    code = pytest.main(["-q", "-p", "no:cacheprovider", "-p", "no:langsmith_plugin", "test_app.py"])
    loaded = "agentel.testing" in sys.modules  # the test file imports agentel only: pytest loaded the plugin
    report(code=int(code), loaded=loaded)
    sys.exit(int(code))
"""

DOCTOR_CLI = """
    import subprocess, sys
    cli = subprocess.run([sys.executable, "-m", "agentel", "doctor"], capture_output=True, text=True, timeout=60)
    report(code=cli.returncode, out=cli.stdout, err=cli.stderr)
"""


def test_import_agentel_and_every_api_work_untraced_when_the_sdk_cannot_import() -> None:
    programs = [{"source": APPLICATION, "env": {"OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT": v}} for v in BAD_VALUES]
    outcomes = run_all(programs)
    for value, out in zip(BAD_VALUES, outcomes):
        assert out.returncode == 0, (value, out.explain())
        result = out.result
        computed = result["computed"]
        assert computed == {
            "add": 3,
            "numbers": [0, 1, 2],
            "answer": 42,
            "ticks": [0, 1, 2],
            "method": 8,
            "compat": 6,
            "traced_names": ["add", "numbers"],
            "same_exception": True,
            "current": True,  # no span is current inside start_span: nothing is traced
            "capture": computed["capture"],
            "sdk": f"OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT must be a non-negative integer but got {value}",
        }, value
        assert "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT" in computed["capture"]
        # one warning, naming the variable; no traceback
        lines = [line for line in out.stderr.splitlines() if line.strip()]
        assert len(lines) == 1, (value, out.stderr)
        assert "tracing is off" in lines[0] and "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT" in lines[0], lines
        stats = result["stats"]
        assert stats["enabled"] is False
        assert "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT" in stats["destination"], stats
        assert stats["spans_started"] == 0 and stats["internal_errors"] == 0, stats
        assert "NO (the OpenTelemetry SDK cannot be imported" in result["doctor"]
        assert "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT" in result["doctor"] and result["doctor_ok"] is False
        assert result["flushed"] is True and result["shutdown"] is None and result["last_trace_id"] is None
        assert result["environ_unchanged"] is True
        assert out.spans() == []  # nothing exported: the traces file is not even written


def test_pytest_with_agentel_installed_still_starts_and_the_cli_says_why_tracing_is_off() -> None:
    env = {"OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT": "-1"}
    under_pytest, doctor = run_all(
        [{"source": UNDER_PYTEST, "env": env, "timeout": 60}, {"source": DOCTOR_CLI, "env": env, "timeout": 90}]
    )
    assert under_pytest.returncode == 0, under_pytest.explain()
    assert "1 passed" in under_pytest.stdout, under_pytest.explain()
    assert under_pytest.result["loaded"] is True
    cli = doctor.result
    assert cli["code"] == 1, cli  # the verdict: nothing is traced
    assert "tracing enabled:   NO (the OpenTelemetry SDK cannot be imported: ValueError:" in cli["out"], cli
    assert "verdict:           PROBLEM" in cli["out"], cli
    assert "Traceback" not in cli["err"], cli
