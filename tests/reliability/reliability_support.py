"""Helpers for the reliability tests: the router tests' echo LM and flag builder, flag documents, route probes."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "routing"))   # share routing_helpers, not a copy

from routing_helpers import VARIANTS, EchoLM, flag, wait_for  # noqa: E402

__all__ = ["EchoLM", "VARIANTS", "flag", "wait_for", "flag_doc", "route_of", "write_with_mtime"]


def flag_doc(**flags: dict[str, Any]) -> str:
    """A flagd document; keyword names use ``__`` for the dot (``dspex__predict``)."""
    return json.dumps({"flags": {k.replace("__", "."): v for k, v in flags.items()}}, indent=2) + "\n"


def route_of(events: list[tuple[str, dict, dict]], call: Callable[[], Any]) -> str:
    """Make one routed call and return the implementation the router chose for it."""
    call()
    return events[-1][2]["implementation"]


def write_with_mtime(path: Path, text: str, mtime: float) -> None:
    path.write_text(text, encoding="utf-8")
    os.utime(path, (mtime, mtime))
