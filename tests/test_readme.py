"""The README's runnable examples run, and do what the README says."""

from __future__ import annotations

import re
from pathlib import Path

import agentel
from agentel.testing import SpanCapture

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def _block_after(heading: str) -> str:
    section = README.split(heading, 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, f"no python block after {heading!r}"
    return match.group(1)


def test_readme_quickstart_runs(captured_spans: SpanCapture) -> None:
    namespace: dict[str, object] = {}
    exec(compile(_block_after("## Quickstart"), "README quickstart", "exec"), namespace)  # noqa: S102
    captured_spans.assert_tree(
        """
        my-agent [AGENT]
          search [TOOL]
          answer [CHAT_MODEL]
        """
    )
    assert captured_spans.find("search").inputs == {"query": "what is agentel?", "k": 3}
    assert captured_spans.find("my-agent").trace_id == agentel.get_last_trace_id()


def test_readme_client_api_example_runs(captured_spans: SpanCapture) -> None:
    exec(compile(_block_after("### Client API"), "README client API", "exec"), {"agentel": agentel})  # noqa: S102
    captured_spans.assert_tree(
        """
        rag-agent [AGENT]
          search [RETRIEVER]
        """
    )
    assert captured_spans.find("search").outputs == ["doc-1"]
    assert captured_spans.find("rag-agent").status_code == "OK"


def test_readme_configuration_table_is_the_settings_table() -> None:
    from agentel._runtime.settings import readme_table

    begin = (
        "<!-- settings table: written from agentel/_runtime/settings.py (readme_table()); "
        "tests/test_readme.py keeps it in sync -->\n"
    )
    end = "<!-- end of settings table -->"
    assert begin in README and end in README
    shown = README.split(begin, 1)[1].split(end, 1)[0]
    assert shown == readme_table(), (
        "README's configuration table differs from the settings table: paste the output of "
        "python -c 'from agentel._runtime.settings import readme_table; print(readme_table(), end=\"\")'"
    )
