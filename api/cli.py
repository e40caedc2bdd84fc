"""Console entry point ``patrol``: the library's commands plus ``serve`` and ``keys``."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from optimizer.cli import main as optimizer_main

SERVICE_COMMAND_MODULES: tuple[str, ...] = ("api.cli_service",)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``patrol`` with the service commands available."""
    return optimizer_main(argv, extra_modules=SERVICE_COMMAND_MODULES)


if __name__ == "__main__":
    sys.exit(main())
