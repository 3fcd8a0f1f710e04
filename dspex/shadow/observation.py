"""An observation: what one side did for one call (its result or error, its own time, the LM calls it made).

Scientist's ``Observation``. The control's is taken on the caller's thread (``experiment``); the candidate's,
and a live-mode noise rerun of the control, on a shadow worker. Observing never raises: an exception is data.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

from dspex import hooks

from .result import positional_mismatches
from ._lm import make_recorder, make_replayer
from ._transcript import LMCall, Transcript

__all__ = ["Observation", "observe", "observe_candidate", "observe_control_again", "IN_CANDIDATE"]

# Set while a candidate (or noise rerun) runs, so a routed module nested inside it does not shadow again.
IN_CANDIDATE: contextvars.ContextVar[bool] = contextvars.ContextVar("dspex_shadow_in_candidate", default=False)


class _QuietCandidate(logging.Filter):
    """A candidate's input warnings repeat what the control already logged for the same call: kept out of the
    program's log (they would arrive later, from a worker thread, looking like another call's)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not IN_CANDIDATE.get()


for _name in ("dspy.predict.predict", "dspex.native.callbacks"):   # (native Predict warns on DSPy's logger)
    logging.getLogger(_name).addFilter(_QuietCandidate())


@dataclass
class Observation:
    """One side of one call. ``requests`` are the LM calls it made; for a replayed candidate, ``mismatches``
    (candidate index, control index or None), ``unused`` control calls and ``extra_calls`` say where its requests
    left the control's transcript."""

    result: Any = None
    error: BaseException | None = None
    seconds: float = 0.0
    requests: list[LMCall] = field(default_factory=list)
    mismatches: list[tuple[int, int | None]] = field(default_factory=list)
    unused: list[int] = field(default_factory=list)
    extra_calls: int = 0


def _invoke(fn: Callable[[Any], Any] | None, afn: Callable[[Any], Awaitable[Any]] | None,
            lm: Any) -> tuple[Any, BaseException | None, float]:
    t0 = time.perf_counter()
    try:
        result = fn(lm) if fn is not None else asyncio.run(afn(lm))  # type: ignore[misc]
        return result, None, time.perf_counter() - t0
    except Exception as exc:  # noqa: BLE001 - a side's errors are data here
        return None, exc, time.perf_counter() - t0


def observe(result: Any, error: BaseException | None, seconds: float, transcript: Transcript) -> Observation:
    """The control's observation, from what the request path saw (it ran the control itself)."""
    return Observation(result, error, seconds, transcript.snapshot())


def observe_candidate(call: Any, mode: str, control: Observation) -> Observation:
    """Run the candidate: in ``replay`` mode against the control's LM transcript (no LM call of its own), in
    ``live`` mode against the real LM, recorded so its requests can still be compared by position.

    It runs in a copy of the caller's context (the job's): a candidate started inside a routed module's native run
    must not keep that run's DSPy books (its trace entries would join the caller's trace, from the worker)."""
    IN_CANDIDATE.set(True)
    hooks.native_root.set(None)
    if mode == "replay":
        replayer = make_replayer(control.requests, inner=call.lm)
        result, error, seconds = _invoke(call.candidate, call.acandidate, replayer)
        return Observation(result, error, seconds, list(replayer.requests), list(replayer.mismatches),
                           replayer.unused(), replayer.extra_calls)
    own = Transcript()
    lm = make_recorder(call.lm, own) if call.lm is not None else None
    result, error, seconds = _invoke(call.candidate, call.acandidate, lm)
    requests = own.snapshot()
    if call.lm is None:
        return Observation(result, error, seconds, requests)
    return Observation(result, error, seconds, requests, positional_mismatches(control.requests, requests),
                       list(range(len(requests), len(control.requests))))


def observe_control_again(call: Any) -> Observation:
    """Live mode's noise check: the control once more, to learn what differs between two runs of DSPy itself."""
    own = Transcript()
    lm = make_recorder(call.lm, own) if call.lm is not None else None
    result, error, seconds = _invoke(call.control, call.acontrol, lm)
    return Observation(result, error, seconds, own.snapshot())
