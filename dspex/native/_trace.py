"""The native trace: ``(predictor, inputs, prediction)`` per native Predict call, while a scope asks for it.

DSPy keeps such a trace in its settings for its optimizers and for ``BestOfN`` / ``Refine``, which run each
attempt in a fresh trace, keep the best attempt's entries, and (Refine) show the LM each predictor's inputs and
outputs. Native modules need the same for themselves without DSPy: a contextvar that is ``None`` (nothing
recorded, one lookup per call) until :func:`scope` opens a list. The inputs are what DSPy records: the call's
keywords after ``lm`` / ``config`` / ``demos`` / ``signature`` were taken out and input defaults filled in.
"""

from __future__ import annotations

import contextlib
import contextvars
from typing import Any, Iterator

__all__ = ["TRACE", "scope", "record", "current"]

TRACE: contextvars.ContextVar[list[Any] | None] = contextvars.ContextVar("dspex_native_trace", default=None)


def current() -> list[Any] | None:
    """The open trace list of this thread / task, or None."""
    return TRACE.get()


def record(predictor: Any, inputs: dict[str, Any], prediction: Any) -> None:
    trace = TRACE.get()
    if trace is not None:
        trace.append((predictor, {**inputs}, prediction))


@contextlib.contextmanager
def scope() -> Iterator[list[Any]]:
    """A fresh, empty trace until the block ends (the enclosing one, if any, is untouched)."""
    trace: list[Any] = []
    token = TRACE.set(trace)
    try:
        yield trace
    finally:
        TRACE.reset(token)
