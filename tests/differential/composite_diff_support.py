"""Held-out runs of the composite modules (MultiChainComparison, BestOfN, Refine, Parallel, majority) through real
DSPy 3.4.1 and dspex.native, independent of ``dspex.parity``'s composite harness.

The LM here is this folder's ``RecLM`` extended to record, with every call, the LM object's own ``kwargs`` (the
rollout id and temperature of BestOfN / Refine's copies; ``BaseLM.copy`` is shallow, so copies share the call
log). The module is built by ``build(ns)`` with ``ns`` either ``dspy`` or ``dspex.native`` and called by
``call(module, ns)``; the default LM is set in each library's own settings. Compared: every LM call (mode,
messages, call kwargs, LM kwargs), the result, the error, the warnings logged and what was printed.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
from dataclasses import dataclass, field
from typing import Any, Callable

import dspy
from diff_support import RecLM, _deep, _kwargs, _prediction, typed

import dspex.native as native

__all__ = ["CopyLM", "Run", "run", "assert_same", "observe"]


class CopyLM(RecLM):
    def _answer(self, mode: str, messages: Any, kwargs: dict[str, Any]) -> Any:
        answer_kwargs = {**kwargs, "<lm.kwargs>": dict(self.kwargs)}
        return super()._answer(mode, messages, answer_kwargs)


def observe(value: Any) -> Any:
    """A Prediction as the differential kit snapshots one; lists and tuples of them element by element."""
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [observe(v) for v in value])
    if isinstance(value, BaseException):
        return ("exception", type(value).__name__, str(value))
    if hasattr(value, "_store") and hasattr(value, "completions"):
        return _prediction(value)
    if hasattr(value, "_store"):
        return ("record", typed(dict(value._store)))
    return typed(value)


@dataclass
class Run:
    calls: list[Any] = field(default_factory=list)
    result: Any = None
    error: tuple[str, str] | None = None
    warnings: list[str] = field(default_factory=list)
    printed: str = ""


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(("dspy", "dspex")):
            self.messages.append(record.getMessage())


def run(build: Callable[[Any], Any], call: Callable[[Any, Any], Any], script: list[Any], ns: Any,
        lm_kwargs: dict[str, Any] | None = None, mode: str = "sync", sort: bool = False,
        redact: Callable[[str], str] | None = None) -> Run:
    lm = CopyLM(script, lm_kwargs)
    out = Run()
    cap = _Capture()
    loggers = [logging.getLogger(), logging.getLogger("dspy")]
    for logger in loggers:
        logger.addHandler(cap)
    printed = io.StringIO()
    context = dspy.context(lm=lm) if ns is dspy else native.settings.context(lm=lm)
    try:
        with context, contextlib.redirect_stdout(printed):
            module = build(ns)
            if mode == "async":
                out.result = observe(asyncio.run(module.acall()))
            else:
                out.result = observe(call(module, ns))
    except Exception as e:  # noqa: BLE001 - errors are compared
        out.error = (type(e).__name__, str(e))
    finally:
        for logger in loggers:
            logger.removeHandler(cap)
    out.calls = [(m, _deep(msgs), _kwargs(kw)) for m, msgs, kw in lm.calls]
    out.warnings = [redact(w) for w in cap.messages] if redact is not None else cap.messages
    out.printed = printed.getvalue()
    if sort:   # several threads: the same calls in another order
        out.calls.sort(key=repr)
        out.warnings.sort()
    return out


def assert_same(build: Callable[[Any], Any], call: Callable[[Any, Any], Any], script: list[Any],
                lm_kwargs: dict[str, Any] | None = None, mode: str = "sync", sort: bool = False,
                redact: Callable[[str], str] | None = None) -> tuple[Run, Run]:
    """``redact`` rewrites each warning first (a module's repr differs between the libraries by design)."""
    a = run(build, call, script, dspy, lm_kwargs, mode, sort, redact)
    b = run(build, call, script, native, lm_kwargs, mode, sort, redact)
    problems = []
    if a.error != b.error:
        problems.append(f"error: dspy={a.error!r}\n  native={b.error!r}")
    if len(a.calls) != len(b.calls):
        problems.append(f"call count: dspy={len(a.calls)} native={len(b.calls)}")
    for i, (x, y) in enumerate(zip(a.calls, b.calls)):
        if x != y:
            problems.append(f"call {i}: dspy={x!r}\n  native={y!r}"[:4000])
            break
    for name in ("result", "warnings", "printed"):
        if getattr(a, name) != getattr(b, name):
            problems.append(f"{name}: dspy={getattr(a, name)!r}\n  native={getattr(b, name)!r}"[:4000])
    assert not problems, "native differs from DSPy:\n" + "\n".join(problems)
    return a, b
