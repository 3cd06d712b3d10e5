"""The ``agentel`` command: ``demo``, ``doctor``, ``send-test``, ``version``."""

from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence


def _demo(_: argparse.Namespace) -> int:
    from agentel._cli import demo
    from agentel._runtime.lifecycle import force_flush, stats
    from agentel._tracing.fluent import get_last_trace_id

    answer = demo.main()
    force_flush()
    print(f"answer: {answer}")
    print(f"trace id: {get_last_trace_id()}")
    print(f"spans went to: {stats()['destination']}")
    return 0


def _doctor(_: argparse.Namespace) -> int:
    from agentel._cli.doctor import print_report

    return print_report()


def _send_test(_: argparse.Namespace) -> int:
    from agentel._cli.doctor import send_test

    return send_test()


def _version(_: argparse.Namespace) -> int:
    from agentel.version import __version__

    print(__version__)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``agentel`` command."""
    parser = argparse.ArgumentParser(prog="agentel", description="Trace LLM agents with OpenTelemetry.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("demo", help="run a small offline agent and show its trace").set_defaults(run=_demo)
    commands.add_parser(
        "doctor", help="show the effective configuration and check the collector can be reached"
    ).set_defaults(run=_doctor)
    commands.add_parser("send-test", help="send a small test trace and print its trace id").set_defaults(run=_send_test)
    commands.add_parser("version", help="print the version").set_defaults(run=_version)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of the ``agentel`` console script and ``python -m agentel``."""
    args = build_parser().parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
