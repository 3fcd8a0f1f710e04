"""The modules a call is given as arguments (a routed ``Parallel``'s ``(module, example)`` pairs), for shadow.

A routed Parallel's work is the modules of its pairs, which are not its own predictors, so ``_taps`` (which finds
a routed module's predictors by ``named_predictors()``) never saw them. A plain DSPy module among them is DSPy code
on both sides of a shadow call, and was neither recorded nor replayed: the control's predictors holding an LM
(``set_lm``) called it unrecorded, and the candidate (the native Parallel, on its own deep copy of the pairs) ran the
copies for real: on the LMs they held (copies of them), and on DSPy's default LM, the program's, whose history got
the candidate's calls (and whose answers, asked again, could differ: a false divergence).

Now the control taps the predictors of the modules it is given that hold an LM, as it taps its own
(:func:`argument_predictors`), and the candidate runs its copies of them replaying (:func:`replaying_dspy`): DSPy's
default LM is the replayer's stand-in for it, an LM a predictor holds is replaced through its tap, and DSPy's books
the candidate would write (callbacks, trace) are its own, never the program's. Duck-typed: imports no dspy.
"""

from __future__ import annotations

import contextlib
import sys
from typing import Any, Callable, Iterator

from ._engine import _predictors

__all__ = ["argument_predictors", "replaying_dspy"]


def _modules(args: tuple, kwargs: dict[str, Any]) -> list[Any]:
    """Modules among the call's arguments: one given as is, or in a list of them or of ``(module, example)``
    pairs (DSPy's Parallel), one level deep."""
    found: list[Any] = []
    for value in (*args, *kwargs.values()):
        items = value if isinstance(value, (list, tuple)) else (value,)
        for item in items:
            if isinstance(item, (list, tuple)) and item:
                item = item[0]
            if callable(getattr(item, "named_predictors", None)) and all(item is not m for m in found):
                found.append(item)
    return found


def argument_predictors(args: tuple, kwargs: dict[str, Any]) -> tuple[Any, ...]:
    """The predictors of the modules the call was given (none for most calls: they are given values)."""
    seen: dict[int, Any] = {}
    for module in _modules(args, kwargs):
        for p in _predictors(module).values():
            seen.setdefault(id(p), p)
    return tuple(seen.values())


@contextlib.contextmanager
def replaying_dspy(args: tuple, kwargs: dict[str, Any], lm: Any, default_lm: Callable[[], Any]) -> Iterator[None]:
    """A shadow candidate's extent, when the modules it was given (its own copies) include plain DSPy predictors:
    they take ``lm.standing_for(default_lm())`` (the replayer's stand-in) as DSPy's default LM, their own LMs through
    their taps (``_taps``, which follow the candidate's ``lm_stand_in``), and callbacks and trace of their own."""
    from . import _taps

    dspy = sys.modules.get("dspy")
    predictors = argument_predictors(args, kwargs) if dspy is not None else ()
    plain = tuple(p for p in predictors if _taps.plain(p))
    if not plain:
        yield
        return
    from ._routed import _backend

    default = default_lm()
    stand_in = _backend().as_dspy_lm(lm.standing_for(default)) if default is not None else None
    settings = {"callbacks": [], "trace": []}
    if stand_in is not None:
        settings["lm"] = stand_in
    with dspy.context(**settings), _taps.tapping(None, None, False, plain):
        yield
