"""The native trace: ``(predictor, inputs, prediction)`` per native Predict call, while a scope asks for it.

DSPy keeps such a trace in its settings for its optimizers and for ``BestOfN`` / ``Refine``, which run each
attempt in a fresh trace, keep the best attempt's entries, and (Refine) show the LM each predictor's inputs and
outputs. Native modules need the same for themselves without DSPy: a contextvar that is ``None`` (nothing
recorded, one lookup per call) until :func:`scope` opens a list. The inputs are what DSPy records: the call's
keywords after ``lm`` / ``config`` / ``demos`` / ``signature`` were taken out and input defaults filled in.
"""

from __future__ import annotations

import contextvars
from typing import Any

__all__ = ["TRACE", "scope", "record", "current"]

TRACE: contextvars.ContextVar[list[Any] | None] = contextvars.ContextVar("dspex_native_trace", default=None)


def current() -> list[Any] | None:
    """The open trace list of this thread / task, or None."""
    return TRACE.get()


def record(predictor: Any, inputs: dict[str, Any], prediction: Any) -> None:
    trace = TRACE.get()
    if trace is not None:
        trace.append((predictor, {**inputs}, prediction))


class scope:  # noqa: N801 - used as ``with scope() as trace``
    """A fresh, empty trace until the block ends (the enclosing one, if any, is untouched). A class rather than a
    generator context manager: BestOfN and Refine open one per attempt."""

    __slots__ = ("_token",)

    def __enter__(self) -> list[Any]:
        trace: list[Any] = []
        self._token = TRACE.set(trace)
        return trace

    def __exit__(self, *exc: Any) -> None:
        TRACE.reset(self._token)
