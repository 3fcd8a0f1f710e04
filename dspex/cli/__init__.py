"""The ``dspex`` command: one subcommand per step of a migration (demo, parity, flags, shadow, status)."""

from __future__ import annotations

import os
import sys
from typing import Sequence

from ._errors import report_error
from ._text import cell, plain_text, shown

__all__ = ["main", "plain_text", "cell", "shown", "report_error"]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status (also used by ``python -m dspex``)."""
    # DSPy imports litellm, which otherwise fetches its model-cost table from GitHub on import: the dspex command
    # sends nothing anywhere but the LM endpoint the user configured (litellm's bundled table is used instead).
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "true")
    from ._app import build_app

    app = build_app()
    try:
        rv = app.main(args=list(argv) if argv is not None else None, prog_name="dspex", standalone_mode=False)
    except SystemExit as exc:
        return int(exc.code or 0) if not isinstance(exc.code, str) else 2
    except Exception as exc:  # noqa: BLE001 - one clear line, no traceback (see _errors)
        return report_error(exc)
    return rv if isinstance(rv, int) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
