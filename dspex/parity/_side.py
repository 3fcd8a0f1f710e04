"""Running one implementation on one case: build the module, call it with its own scripted LM, and record
everything observable (LM calls, result snapshot, exception, warnings, input mutation, ``random`` state)."""

from __future__ import annotations

import asyncio
import copy
import logging
import random
import sys
import time
import warnings
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from ._case import run_with_names
from ._snapshot import ExcInfo, snapshot_result, typed, unaddress
from .scripted_lm import LMCall

__all__ = ["SideRun", "Invoke", "default_invoke", "default_ainvoke", "run_side", "CallbackRecorder", "BrokenCallback"]

_RANDOM_SEED = 20261125
_CALLBACK_LOGGER = logging.getLogger("dspex.parity.callbacks")


def _canonical(value: Any) -> Any:
    """``typed`` for callback inputs, where a per-call ``signature=`` is each library's own class: compare those
    by what they describe (name, fields, instructions), not by their library-specific repr."""
    if isinstance(value, type) and hasattr(value, "input_fields") and hasattr(value, "instructions"):
        return ("signature", value.__name__, list(value.input_fields), list(value.output_fields), value.instructions)
    if isinstance(value, dict):
        return ("dict", [(k, _canonical(v)) for k, v in value.items()])
    if isinstance(value, tuple):
        return ("tuple", [_canonical(v) for v in value])
    return typed(value)


class CallbackRecorder:
    """A module callback (DSPy's ``on_module_start`` / ``on_module_end`` protocol) that reports each event as a
    warning-level log line in canonical form, so the harness's log comparison compares the event sequences.

    It does not subclass ``dspy.utils.callback.BaseCallback``: DSPy calls only the hooks that exist for the event,
    and native modules get the very same object. Call ids become ordinals (they are random on both sides).
    """

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}

    def _ordinal(self, call_id: str) -> int:
        return self._ids.setdefault(call_id, len(self._ids))

    def on_module_start(self, call_id: str, instance: Any, inputs: dict[str, Any]) -> None:
        shown = [(k, _canonical(v)) for k, v in inputs.items()]
        _CALLBACK_LOGGER.warning("callback module_start #%d %s %r", self._ordinal(call_id), type(instance).__name__, shown)

    def on_module_end(self, call_id: str, outputs: Any, exception: Exception | None = None) -> None:
        shown = snapshot_result(outputs) if outputs is not None else None
        error = None if exception is None else f"{type(exception).__name__}: {exception}"
        _CALLBACK_LOGGER.warning("callback module_end #%d %r error=%r", self._ordinal(call_id), shown, error)

    def __repr__(self) -> str:  # DSPy and native may name the callback in their warnings: make that stable
        return f"{type(self).__name__}()"

    def __getattr__(self, name: str) -> Any:  # any other hook DSPy may call: record that it was called
        if name.startswith("on_"):
            return lambda **kw: _CALLBACK_LOGGER.warning("callback %s %s", name, sorted(kw))
        raise AttributeError(name)


@dataclass
class SideRun:
    """Everything one implementation did for one case."""

    name: str
    construct_error: ExcInfo | None = None
    error: ExcInfo | None = None
    result: Any = None
    snapshot: dict[str, Any] | None = None
    calls: list[LMCall] = field(default_factory=list)
    logs: list[str] = field(default_factory=list)
    random_draw: float | None = None
    inputs_before: Any = None
    inputs_after: Any = None
    seconds: float = 0.0


class BrokenCallback(CallbackRecorder):
    """A callback whose hooks raise: both implementations must survive it and report it the same way."""

    def on_module_start(self, call_id: str, instance: Any, inputs: dict[str, Any]) -> None:
        raise ValueError("broken callback on start «x»")

    def on_module_end(self, call_id: str, outputs: Any, exception: Exception | None = None) -> None:
        raise RuntimeError("broken callback on end")


# --- running one side ----------------------------------------------------------------------------------------------
Invoke = Callable[[Any, Any, dict[str, Any], dict[str, Any]], Any]


def _takes_lm(module: Any) -> bool:
    """Predict and ChainOfThought (DSPy's, native or routed) take ``lm=`` per call; a user's module as written
    (``forward(self, question)``) does not, and gets the LM as its default instead."""
    classes: list[type] = []
    dspy = sys.modules.get("dspy")
    if dspy is not None:
        classes += [dspy.Predict, dspy.ChainOfThought]
    from dspex.native import ChainOfThought, Predict

    return isinstance(module, (*classes, Predict, ChainOfThought))


@contextmanager
def _lm_for(module: Any, lm: Any) -> Iterator[dict[str, Any]]:
    """Where the LM goes: the ``lm=`` keyword, or the default LM of both DSPy and native for the call."""
    if lm is None or _takes_lm(module):
        yield {} if lm is None else {"lm": lm}
        return
    from dspex.native import settings

    dspy = sys.modules.get("dspy")
    with settings.context(lm=lm), (dspy.context(lm=lm) if dspy is not None else nullcontext()):
        yield {}


def default_invoke(module: Any, lm: Any, inputs: dict[str, Any], call_kwargs: dict[str, Any]) -> Any:
    positional = call_kwargs.pop("__positional__", ())
    with _lm_for(module, lm) as lm_kwarg:
        return module(*positional, **{**inputs, **call_kwargs, **lm_kwarg})


async def default_ainvoke(module: Any, lm: Any, inputs: dict[str, Any], call_kwargs: dict[str, Any]) -> Any:
    positional = call_kwargs.pop("__positional__", ())
    with _lm_for(module, lm) as lm_kwarg:
        return await module.acall(*positional, **{**inputs, **call_kwargs, **lm_kwarg})


@contextmanager
def _capture_warnings() -> Iterator[list[str]]:
    """Warning-level log records (root and DSPy's non-propagating logger) and Python warnings, in order."""
    seen: list[str] = []
    records: list[logging.LogRecord] = []  # kept alive so identity checks stay valid

    class _Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if not any(r is record for r in records):
                records.append(record)
                seen.append(unaddress(f"log {record.levelname}: {record.getMessage()}"))

    handler = _Collect(level=logging.WARNING)
    loggers = [logging.getLogger(), logging.getLogger("dspy")]
    for lg in loggers:
        lg.addHandler(handler)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield seen
        seen.extend(unaddress(f"warning {w.category.__name__}: {w.message}") for w in caught)
    finally:
        for lg in loggers:
            lg.removeHandler(handler)


def run_side(
    name: str,
    factory: Callable[[], Any],
    lm: Any,
    inputs: dict[str, Any],
    call_kwargs: dict[str, Any],
    mode: str,
    names: dict[str, Any],
    invoke: Invoke,
    ainvoke: Callable[..., Any],
) -> SideRun:
    side = SideRun(name)
    side.calls = getattr(lm, "calls", [])
    saved = random.getstate()
    random.seed(_RANDOM_SEED)
    try:
        module = run_with_names(names, factory)
    except Exception as exc:  # noqa: BLE001 - construction failures are compared, not propagated
        side.construct_error = ExcInfo.of(exc, "construct")
        return side
    finally:
        side.random_draw = random.random()
        random.setstate(saved)
    inputs = copy.deepcopy(inputs)
    call_kwargs = copy.deepcopy(call_kwargs)
    side.inputs_before = typed(inputs)
    start = time.perf_counter()
    with _capture_warnings() as logs:
        try:
            if mode == "async":
                side.result = asyncio.run(ainvoke(module, lm, inputs, call_kwargs))
            else:
                side.result = invoke(module, lm, inputs, call_kwargs)
        except Exception as exc:  # noqa: BLE001
            side.error = ExcInfo.of(exc, "call")
    side.seconds = time.perf_counter() - start
    side.logs = logs
    side.inputs_after = typed(inputs)
    if side.error is None:
        side.snapshot = snapshot_result(side.result)
    return side
