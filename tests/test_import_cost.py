"""What ``import agentel`` loads: the collector checks behind ``agentel.doctor`` and the instrumentor table
behind ``agentel.instrument`` wait for their first use (bench case 9 measures the time)."""

from __future__ import annotations

import subprocess
import sys

_PROGRAM = """
import sys
import agentel
loaded_at_import = sorted(m for m in ("agentel._cli.doctor", "agentel._runtime.instrument", "urllib.request")
                          if m in sys.modules)
assert callable(agentel.doctor) and callable(agentel.instrument)
from agentel import doctor, instrument
print(loaded_at_import, "agentel._cli.doctor" in sys.modules, "agentel._runtime.instrument" in sys.modules,
      "doctor" in dir(agentel))
"""


def test_doctor_and_instrument_load_on_first_use_only() -> None:
    env = {"PATH": "/usr/bin:/bin", "OTEL_TRACES_EXPORTER": "none"}
    out = subprocess.run([sys.executable, "-c", _PROGRAM], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.split() == ["[]", "True", "True", "True"], out.stdout + out.stderr


def test_agentel_instrument_variable_still_applies_at_import() -> None:
    env = {"PATH": "/usr/bin:/bin", "OTEL_TRACES_EXPORTER": "none", "AGENTEL_INSTRUMENT": "no-such-thing"}
    program = "import sys, agentel; print('agentel._runtime.instrument' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "True"
    assert "no_such_thing" in out.stderr and "AGENTEL_INSTRUMENT" in out.stderr
