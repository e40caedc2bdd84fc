"""The ``patrol`` command line (library commands; ``api.cli`` adds ``serve`` and ``keys``).

Each subcommand group lives in its own module with ``register(subparsers)``; add the module
to ``COMMAND_MODULES``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from optimizer.errors import PatrolError

COMMAND_MODULES: tuple[str, ...] = (
    "optimizer.cli.plan_cmd",
    "optimizer.cli.district_cmd",
    "optimizer.cli.hotspots_cmd",
    "optimizer.cli.roster_cmd",
    "optimizer.cli.tracks_cmd",
    "optimizer.cli.alert_cmd",
    "optimizer.cli.reports_cmd",
    "optimizer.cli.week_cmd",
    "optimizer.cli.ledger_cmd",
    "optimizer.cli.stats_cmd",
)


def build_parser(extra_modules: Sequence[str] = ()) -> argparse.ArgumentParser:
    """Build the ``patrol`` argument parser from the command modules."""
    parser = argparse.ArgumentParser(
        prog="patrol", description="Plan joint police / volunteer patrols on OpenStreetMap streets."
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in (*COMMAND_MODULES, *extra_modules):
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue  # command group not written yet
            raise
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None, extra_modules: Sequence[str] = ()) -> int:
    """Run the ``patrol`` command; return the exit code."""
    parser = build_parser(extra_modules)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except PatrolError as exc:
        print(f"patrol: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
