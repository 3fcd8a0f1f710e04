"""``python -m dspex.shadow report|replay|promote ...`` (the same commands ``dspex shadow`` offers)."""

from __future__ import annotations

import sys
from typing import Sequence

__all__ = ["main"]

_USAGE = "usage: python -m dspex.shadow {report,replay,promote} ARGS...  (add --help after a command)"


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(_USAGE)
        return 0 if args else 2
    command, rest = args[0], args[1:]
    if command == "report":
        from .report import main as run
    elif command == "replay":
        from .replay import main as run
    elif command == "promote":
        from .promote import main as run
    else:
        print(f"unknown command {command!r}\n{_USAGE}", file=sys.stderr)
        return 2
    try:
        return run(rest)
    except Exception as exc:  # noqa: BLE001 - the same contract as `dspex shadow ...`: one line, no traceback
        from ..cli import report_error

        return report_error(exc)


if __name__ == "__main__":
    sys.exit(main())
