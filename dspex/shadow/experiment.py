"""The experiment: one shadow-routed call. DSPy (the control) answers the caller; the native candidate is queued.

Scientist's ``Experiment``. The router hands each shadow-routed call over as a :class:`ShadowCall`. On the
caller's thread this file does all the caller pays for: a sampling decision, a recorder in front of the LM (a list
append per LM call), the control's observation and a non-blocking hand-off to the worker pool. The caller gets
exactly what the control gives, result or exception. Off the request path a worker observes the candidate
(``observation``), compares the two (``result``) and logs what differs (``_job`` -> ``_record`` -> ``_log``).
``control(lm)`` and ``candidate(lm)`` take the LM to use, so the recorder and the replayer can stand in front.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Mapping

from ._runtime import runtime
from .observation import IN_CANDIDATE

__all__ = ["ShadowCall", "run_shadow", "arun_shadow", "in_candidate"]

@dataclass(frozen=True, slots=True)
class ShadowCall:
    module_type: str                                   # "predict", "chain_of_thought", "my_rag", ...
    module_name: str | None                            # the instance's name= (may be None)
    inputs: Mapping[str, Any]                          # the call's input kwargs (before redaction)
    lm: Any                                            # the LM the control would have used (None: module's own)
    control: Callable[[Any], Any]                      # control(lm) -> result; DSPy
    candidate: Callable[[Any], Any]                    # candidate(lm) -> result; native
    acontrol: Callable[[Any], Awaitable[Any]] | None = None    # async twins, for acall
    acandidate: Callable[[Any], Awaitable[Any]] | None = None
    signature: Any = None                              # native Signature class when known (per-field comparators)
    variant: str | None = None                         # the flag variant that chose shadow
    reason: str = ""                                   # the router's reason for the decision
    targeting_key: str | None = None                   # for sticky sampling
    flag_key: str | None = None
    attributes: Mapping[str, Any] = field(default_factory=dict)   # the evaluation context's extra attributes
    demos: Any = None                                  # the module's demos for this call (logged for promote)
    config: Mapping[str, Any] | None = None            # the call's LM config (logged for promote)
    notes: Callable[[Any, Any], Mapping[str, Any]] | None = None   # (control, candidate) -> extra record fields


def in_candidate() -> bool:
    """True inside a candidate run: a routed module nested in it should run its candidate, not shadow again."""
    return IN_CANDIDATE.get()


def run_shadow(call: ShadowCall) -> Any:
    """Run the control for the caller (result or exception unchanged); queue the candidate for comparison."""
    if IN_CANDIDATE.get():
        return call.candidate(call.lm) if call.candidate is not None else asyncio.run(call.acandidate(call.lm))
    rt = runtime()
    s, transcript, lm = rt.prepare(call)
    if transcript is None:
        return call.control(lm)
    t0 = time.perf_counter()
    try:
        result = call.control(lm)
    except Exception as exc:
        rt.enqueue(call, s, transcript, None, exc, time.perf_counter() - t0)
        raise
    rt.enqueue(call, s, transcript, result, None, time.perf_counter() - t0)
    return result


async def _control_async(call: ShadowCall, lm: Any) -> Any:
    if call.acontrol is not None:
        return await call.acontrol(lm)
    return await asyncio.to_thread(call.control, lm)


async def arun_shadow(call: ShadowCall) -> Any:
    """``run_shadow`` for ``acall``: the control is awaited; the candidate goes to the worker pool."""
    if IN_CANDIDATE.get():
        if call.acandidate is not None:
            return await call.acandidate(call.lm)
        return await asyncio.to_thread(call.candidate, call.lm)
    rt = runtime()
    s, transcript, lm = rt.prepare(call)
    if transcript is None:
        return await _control_async(call, lm)
    t0 = time.perf_counter()
    try:
        result = await _control_async(call, lm)
    except Exception as exc:
        rt.enqueue(call, s, transcript, None, exc, time.perf_counter() - t0)
        raise
    rt.enqueue(call, s, transcript, result, None, time.perf_counter() - t0)
    return result
