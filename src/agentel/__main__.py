"""``python -m agentel``: the same as the ``agentel`` command."""

import sys

from agentel._cli import main

sys.exit(main())
