"""The native modules running the current call, so each LM call's history entry reaches every one of them: what
DSPy's ``caller_modules`` does for ``module.history`` and ``inspect_history``. Kept only while no DSPy bridge is
installed; in a DSPy program DSPy keeps those books (for its own modules).

A context variable, so threads and asyncio tasks each see their own chain (Parallel and batch copy the caller's
context into their workers, as DSPy copies its settings)."""

from __future__ import annotations

import contextvars
from typing import Any

from .. import hooks

__all__ = ["CALLERS", "record"]

MAX_HISTORY = 10_000   # DSPy's settings.max_history_size default
CALLERS: contextvars.ContextVar[tuple[Any, ...]] = contextvars.ContextVar("dspex_native_callers", default=())


def record(entry: dict[str, Any]) -> None:
    """Append one LM call's entry to the history of every module in the running chain (oldest entries dropped
    past DSPy's limit)."""
    for module in CALLERS.get():
        history = module.history
        if len(history) >= MAX_HISTORY:
            history.pop(0)
        history.append(entry)


hooks.history_sink = record
