"""The CLI's last line of defence: any exception becomes one clear line on stderr and an exit status."""

from __future__ import annotations

import os
import sys

from ._text import plain_text

__all__ = ["report_error"]


def report_error(exc: BaseException) -> int:
    """Print one line for ``exc`` and return its exit status (2: bad input or usage); ``DSPEX_DEBUG=1`` re-raises."""
    import click

    if isinstance(exc, click.exceptions.ClickException):
        exc.show()
        return exc.exit_code
    if isinstance(exc, click.exceptions.Abort):
        print("Aborted.", file=sys.stderr)
        return 1
    from ..errors import DspexError

    if isinstance(exc, DspexError):
        print(f"error: {plain_text(exc)}", file=sys.stderr)
        return 2
    if os.environ.get("DSPEX_DEBUG"):
        raise exc
    if isinstance(exc, RecursionError):
        print("error: the input is nested too deeply to read; check the file you passed.", file=sys.stderr)
    elif isinstance(exc, OSError):
        where = f" {plain_text(exc.filename)}" if getattr(exc, "filename", None) else ""
        print(f"error: cannot read or write{where} ({exc.strerror or exc}); check the path and permissions.",
              file=sys.stderr)
    else:
        print(f"error: unexpected {type(exc).__name__}: {plain_text(exc)}. This is a dspex bug: please report it "
              "(set DSPEX_DEBUG=1 to see the traceback).", file=sys.stderr)
    return 2
