"""What ``import agentel`` loads: the collector checks behind ``agentel.doctor`` and the instrumentor table
behind ``agentel.instrument`` wait for their first use, and so does wrapt for the first callable that needs
a proxy (bench case 9 measures the time)."""

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


_WRAPT_PROGRAM = """
import pickle, sys
import agentel
after_import = "wrapt" in sys.modules

@agentel.trace
def plain(x):
    return x + 1

after_plain = "wrapt" in sys.modules
assert plain(1) == 2

class Shop:
    @agentel.trace
    def price(self, item):
        return len(item)

    @agentel.trace
    def stock(self):
        yield from (1, 2)

after_method = "wrapt" in sys.modules
assert Shop().price("tea") == 3 and list(Shop().stock()) == [1, 2]
copied = pickle.loads(pickle.dumps(agentel.trace(len)))  # a proxy pickles as "trace len again"
assert copied("abc") == 3 and type(copied).__name__ == "TracedFunction"
print(after_import, after_plain, after_method)
"""


def test_wrapt_waits_for_the_first_callable_that_needs_a_proxy() -> None:
    # tracing plain functions never needs wrapt (they get a plain wrapper); methods, generators,
    # coroutines and callable objects get wrapt proxies, which import it when the first one is made
    env = {"PATH": "/usr/bin:/bin", "OTEL_TRACES_EXPORTER": "none"}
    out = subprocess.run([sys.executable, "-c", _WRAPT_PROGRAM], capture_output=True, text=True, env=env, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "False", "True"], out.stdout + out.stderr
