"""Runs the ported MLflow tests against the target chosen by ``AGENTEL_COMPAT_TARGET`` (see README.md).

- ``mlflow``: real MLflow (its own venv); a sqlite tracking store in a temporary directory, one
  experiment per test, traces read back with MLflow's own ``search_traces`` / ``get_trace``.
- ``agentel`` (default): ``agentel.compat.mlflow``; every test's finished spans are captured in memory
  (``agentel.testing.capture_spans``) with agentel's ``mlflow`` dialect on, and read back by
  ``_readback.py``. Tests listed in ``known_failures.txt`` are strict xfails in this mode only.
"""

from __future__ import annotations

import logging
import re
import uuid
from pathlib import Path
from typing import Iterator

import pytest

from . import _target

KNOWN_FAILURES = Path(__file__).with_name("known_failures.txt")
_LINE = re.compile(r"^(?P<test>\S+)\s+#\s*(?P<reason>.+)$")


def load_known_failures() -> dict[str, str]:
    """``test id -> reason`` from known_failures.txt (ids relative to tests/compat/)."""
    known: dict[str, str] = {}
    for number, line in enumerate(KNOWN_FAILURES.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = _LINE.match(line)
        if match is None:
            raise pytest.UsageError(
                f"{KNOWN_FAILURES.name}:{number}: expected '<test id>  # item N: why', got {line!r}"
            )
        known[match["test"]] = match["reason"].strip()
    return known


def _compat_id(item: pytest.Item) -> str:
    return item.nodeid.replace("\\", "/").split("compat/", 1)[-1]


def pytest_report_header(config: pytest.Config) -> str:
    return f"tests/compat target: {_target.TARGET}"


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    compat_items = [item for item in items if "compat/" in item.nodeid.replace("\\", "/")]
    if _target.IS_REAL_MLFLOW or not compat_items:
        return
    known = load_known_failures()
    collected = {_compat_id(item) for item in compat_items}
    files = {test_id.split("::", 1)[0] for test_id in collected}
    if not config.option.keyword and not config.option.markexpr:
        stale = sorted(t for t in known if t.split("::", 1)[0] in files and t not in collected)
        if stale:
            raise pytest.UsageError(f"{KNOWN_FAILURES.name} lists tests that do not exist: {stale}")
    for item in compat_items:
        reason = known.get(_compat_id(item))
        if reason is not None:
            item.add_marker(pytest.mark.xfail(reason=f"issue 13 {reason}", strict=True))


if _target.IS_REAL_MLFLOW:

    @pytest.fixture(scope="session")
    def _tracking_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
        import mlflow

        uri = f"sqlite:///{tmp_path_factory.mktemp('mlflow')}/mlflow.db"
        mlflow.tracing.disable()
        mlflow.set_tracking_uri(uri)
        mlflow.tracing.enable()
        yield uri

    @pytest.fixture(autouse=True)
    def _target_state(_tracking_store: str) -> Iterator[None]:
        import mlflow

        mlflow.set_experiment(f"compat-{uuid.uuid4().hex}")
        _target.reset_state()
        yield
        mlflow.tracing.enable()
        _target.reset_state()

else:

    @pytest.fixture(autouse=True)
    def _target_state() -> Iterator[None]:
        import agentel
        from agentel.testing import capture_spans

        with capture_spans() as capture:
            agentel.configure(semconv="genai,openinference,mlflow")
            _target.RECORDER.capture = capture
            _target.reset_state()
            try:
                yield
            finally:
                _target.RECORDER.capture = None
                _target.reset_state()


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def target_warnings() -> Iterator[list[logging.LogRecord]]:
    """WARNING-or-worse records of the target's own logger during the test (``mlflow`` or ``agentel``)."""
    logger = logging.getLogger(_target.LOGGER_NAME)
    collector = _Collector()
    logger.addHandler(collector)
    try:
        yield collector.records
    finally:
        logger.removeHandler(collector)
