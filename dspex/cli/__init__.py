"""The ``dspex`` command: one subcommand per step of a migration (demo, parity, flags, shadow, status)."""

from __future__ import annotations

import sys
from typing import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:  # noqa: C901 - one place that turns errors into exit codes
    """Entry point; returns the exit status (also used by ``python -m dspex``)."""
    from ._app import build_app

    app = build_app()
    try:
        rv = app.main(args=list(argv) if argv is not None else None, prog_name="dspex", standalone_mode=False)
    except SystemExit as exc:
        return int(exc.code or 0)
    except Exception as exc:  # noqa: BLE001 - the CLI's last line of defence: one clear line, no traceback
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            return exc.exit_code
        if isinstance(exc, click.exceptions.Abort):
            print("Aborted.", file=sys.stderr)
            return 1
        from ..errors import DspexError

        if isinstance(exc, DspexError):
            print(f"error: {exc}", file=sys.stderr)
            return 2
        raise
    return rv if isinstance(rv, int) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
