"""DSPy's objects standing for a native agent's values in DSPy's books (trace entries, module callbacks' inputs,
the routed call's result): the ``dspy.Tool`` a native tool stands for, one ``dspy.History`` per native History
of a routed run. The native run goes on with its own values."""

from __future__ import annotations

from typing import Any

import dspy

from dspex import hooks
from dspex.types import Tool

__all__ = ["dspy_inputs", "native_inputs", "with_history_faces"]

_ROOT = hooks.native_root
_PLAIN = frozenset({str, int, float, bool, type(None)})


def dspy_inputs(inputs: dict[str, Any]) -> dict[str, Any]:
    """A call's inputs holding DSPy's objects where a native agent passed its own: the ``dspy.Tool`` each native
    tool stands for and DSPy's ``History``, as DSPy's agent passes them (the trace's entry, and what module
    callbacks see): a new dict, or ``inputs`` itself when no value needs a face (the common call). Optimizers turn
    trace entries into demos: a demo holding a ``dspex.types.Tool`` made ``program.save()`` fail."""
    for value in inputs.values():
        if type(value) not in _PLAIN:
            break
    else:
        return inputs
    from ._tools import dspy_tool_for
    from ._types import to_dspy_value

    active = _ROOT.get()
    out = {}
    for name, value in inputs.items():
        if type(value) is list and value and all(isinstance(t, Tool) for t in value):
            out[name] = [dspy_tool_for(t) for t in value]
        elif active is not None and is_dspex_history(value):
            out[name] = _history_face(value, active[2])
        else:
            out[name] = value if type(value) in _PLAIN else to_dspy_value(value)
    return out


def is_dspex_history(value: Any) -> bool:
    from ._types import _role, is_dspex_type

    return is_dspex_type(value) and _role(value) == "history"


def _history_face(history: Any, traced: dict[int, tuple[Any, Any]]) -> Any:
    """The one ``dspy.History`` standing for a native agent's History during a routed run. DSPy's ReActV2 passes
    the same History to every turn and appends each turn to it, so every trace entry of the run, and the result,
    hold one object that ends up with the whole run; its face is kept in step (here and when the run ends)."""
    hit = traced.get(id(history))
    if hit is not None and hit[0] is history:
        face = hit[1]
    else:
        face = dspy.History.model_construct(messages=[])
        traced[id(history)] = (history, face)
    _sync_history(history, face)
    return face


def _sync_history(history: Any, face: Any) -> None:
    from ._types import to_dspy_value

    face.messages[:] = [to_dspy_value(m) for m in history.messages]


def native_inputs(received: dict[str, Any], shown: dict[str, Any], native: dict[str, Any]) -> dict[str, Any]:
    """The keywords a call made through DSPy's callbacks wrapper runs with: what the wrapper hands over (its own
    copy, which the call may change), with each DSPy object shown in place of a native value swapped back."""
    if shown is native:   # (nothing was swapped)
        return received
    return {k: native[k] if k in shown and v is shown[k] and k in native else v for k, v in received.items()}


def sync_history_faces(traced: dict[int, tuple[Any, Any]]) -> bool:
    """Bring the run's History faces up to its last turn (the run ended, returning or raising: DSPy's trace
    entries hold a History that has every turn, the failed last one included); whether there were any."""
    histories = [entry for entry in traced.values() if isinstance(entry[1], dspy.History)]
    for history, face in histories:
        _sync_history(history, face)
    return bool(histories)


def with_history_faces(pred: Any, out: Any, traced: dict[int, tuple[Any, Any]]) -> Any:
    """The routed call's result ``out`` (DSPy's face of ``pred``) holding the run's History faces, brought up to
    the run's last turn, as DSPy's result holds the History its trace entries hold."""
    if not sync_history_faces(traced):
        return out
    store = getattr(pred, "_store", None)
    if isinstance(store, dict) and out is not pred:
        for key, value in store.items():
            hit = traced.get(id(value))
            if hit is not None and hit[0] is value:
                out._store[key] = hit[1]
    return out
