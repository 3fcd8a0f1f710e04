"""Shadow's recorder in front of every LM a control's predictors use, where DSPy's books do not see it.

A shadow control records each LM call it makes. The default LM is easy: the recorder becomes the default for the
call (``dspy.context``). But DSPy's Predict reads ``kwargs.pop("lm", self.lm) or settings.lm``: an LM the caller
passed as ``lm=``, or one a predictor holds (``set_lm``, a loaded state, the rollout copy DSPy's BestOfN and
Refine set on each attempt), wins over the default. Putting the recorder among the call's keywords would show it to
DSPy's callbacks (``on_module_start`` sees them), and DSPy's callbacks, trace and history must see what the
program wrote.

So the recorder goes in one layer lower, behind ``Module.__call__`` (callbacks, caller modules, usage) and before
DSPy's ``Predict.forward`` (which reads the LM and pops ``lm`` before the trace entry is made): while a shadow
control runs (:func:`tapping`: its extent in this context, and in the workers a ``dspy.Parallel``, ``Evaluate`` or
``batch`` starts within it, ``_carry``), each predictor that would take an LM of its own gets that LM's stand-in
(``standing_for``: a recorder in front of it, writing to the control's transcript) in place of it. A routed
Predict's own ``forward`` does that itself (``_variants.NativeForward``); a plain ``dspy.Predict`` (ChainOfThought's
inner one, ReAct's two, one in a routed Parallel's pairs: ``_arg_modules``) gets a ``forward`` / ``aforward`` on
the instance for the extent, the way DSPy's own ``bootstrap_trace`` patches a program's. A routed module run
natively inside the extent gets them per context, never on its shared engine (``_lm_scope``,
``dspex.native.lm_stand_in``). Controls nest (a routed module inside a shadowed BestOfN): each one's recorder
stands in front of the next, so every transcript gets the call once. A shadow candidate that runs plain DSPy
predictors (its copies of a routed Parallel's pairs) taps them too; there they take its replayer's stand-ins.

What a program could still notice: while the control runs, the tapped predictor's ``__dict__`` holds the
``forward``/``aforward`` (DSPy's own code never reads them there). A deep copy made meanwhile (DSPy's BestOfN
copies its module per attempt) carries them, and records inside the extent as its original does; outside any
control it takes them off at its first call.
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
from typing import Any, Callable, Iterator

from . import _carry
from ._engine import _predictors, own_attr

__all__ = ["tapping", "stand_in_kwargs", "stand_in", "active", "plain"]

# The recorders of the shadow controls running in this context, outermost first.
_ACTIVE: contextvars.ContextVar[tuple[Any, ...]] = contextvars.ContextVar("dspex_shadow_controls", default=())
_NAMES = ("forward", "aforward")
_lock = threading.Lock()
_installed: dict[int, list[Any]] = {}   # id(predictor) -> [predictor, controls tapping it now]


def _candidate_lm_for() -> Callable[[Any], Any] | None:
    """Inside a shadow candidate, its replayer's ``standing_for`` (``dspex.native.lm_stand_in``, set by
    ``_lm_scope``): a plain DSPy predictor the candidate runs (one of a routed Parallel's pairs, its own copy)
    replays rather than call the LM it holds. Other contexts: None (a native call inside controls sets the controls'
    own stand-ins there, which :func:`active` gives the same way)."""
    from dspex.shadow import in_candidate   # (a tap exists only once a shadow call ran: shadow is loaded)

    if not in_candidate():
        return None
    from dspex.native import lm_stand_in

    return lm_stand_in.get()


def active() -> tuple[Any, ...]:
    """The shadow controls running in this context, outermost first: this context's own, else (in a worker
    thread DSPy started inside a control) the ones DSPy's settings carried there (``_carry``)."""
    # (``extents``: nothing is carried anywhere, the common case, and the look-up is skipped)
    return _ACTIVE.get() or (_carry.carried(_ACTIVE, ()) if _carry.extents else ())


def stand_in(lm: Any, controls: tuple[Any, ...]) -> Any:
    """``lm`` behind the stand-in of each running control, outermost first (each records the call once)."""
    for recorder in controls:
        lm = recorder.standing_for(lm)
    return lm


def stand_in_kwargs(predictor: Any, kwargs: dict[str, Any], controls: tuple[Any, ...]) -> dict[str, Any]:
    """The keywords DSPy's ``Predict.forward`` of ``predictor`` gets inside running controls: the LM it would read
    before the default one (the call's ``lm=``, else its own), replaced by its stand-in; the default LM is the
    controls' already."""
    return _replaced(predictor, kwargs, lambda lm: stand_in(lm, controls))


def _replaced(predictor: Any, kwargs: dict[str, Any], lm_for: Callable[[Any], Any]) -> dict[str, Any]:
    """``kwargs`` with the LM ``predictor`` would read first (the call's ``lm=``, else its own) as ``lm_for(lm)``."""
    lm = kwargs["lm"] if "lm" in kwargs else own_attr(predictor, "__dict__").get("lm")
    if not lm:
        return kwargs
    return {**kwargs, "lm": lm_for(lm)}


class _Tap:
    """A plain predictor's ``forward`` (or ``aforward``) while tapped: the predictor's own, with the LM it reads
    first replaced by its stand-in inside running controls. ``previous``: what the instance had there before (a
    ``forward`` an optimizer patched on), else None. A deep copy of the predictor copies this along, pointing at
    the copy."""

    __slots__ = ("predictor", "name", "previous")

    def __init__(self, predictor: Any, name: str, previous: Any) -> None:
        self.predictor, self.name, self.previous = predictor, name, previous

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        tokens = _carry.restore()   # in a DSPy worker: the state of the control or candidate that started it
        try:
            return self._call(args, kwargs)
        finally:
            _carry.reset(tokens)

    def _call(self, args: tuple, kwargs: dict[str, Any]) -> Any:
        p = self.predictor
        candidate = _candidate_lm_for()
        controls = active() if candidate is None else ()
        if candidate is not None:
            kwargs = _replaced(p, kwargs, candidate)
        elif controls:
            kwargs = stand_in_kwargs(p, kwargs, controls)
        elif id(p) not in _installed:
            _untap(p)   # a copy made while a control ran, called after it: back to what it was
        original = self.previous if self.previous is not None else getattr(type(p), self.name).__get__(p, type(p))
        return original(*args, **kwargs)


def _tap(predictors: list[Any]) -> None:
    with _lock:
        for p in predictors:
            entry = _installed.get(id(p))
            if entry is None:
                own = own_attr(p, "__dict__")
                for name in _NAMES:
                    if not hasattr(type(p), name):
                        continue
                    present = own.get(name)
                    if not (isinstance(present, _Tap) and present.predictor is p):   # (a copy's is kept as is)
                        own[name] = _Tap(p, name, present)
                entry = _installed[id(p)] = [p, 0]
            entry[1] += 1


def _release(predictors: list[Any]) -> None:
    with _lock:
        for p in predictors:
            entry = _installed[id(p)]
            entry[1] -= 1
            if entry[1] == 0:
                del _installed[id(p)]
                _restore(p)


def _untap(p: Any) -> None:
    with _lock:
        if id(p) not in _installed:
            _restore(p)


def _restore(p: Any) -> None:
    own = own_attr(p, "__dict__")
    for name in _NAMES:
        present = own.get(name)
        if isinstance(present, _Tap) and present.predictor is p:   # (not if something replaced it meanwhile)
            if present.previous is None:
                del own[name]
            else:
                own[name] = present.previous


def plain(predictor: Any) -> bool:
    """A predictor that needs an instance tap: not a routed one (its ``forward`` taps itself)."""
    return getattr(type(predictor), "_shape", None) is None


@contextlib.contextmanager
def tapping(target: Any, recorder: Any, given_lm: bool, extra: tuple[Any, ...] = ()) -> Iterator[None]:
    """The extent of one call of ``target`` on the dspy route: a shadow control's with its ``recorder``, or (None)
    a call made inside running controls. The plain predictors of ``target`` that would read an LM of their own (all
    of them when the call passes ``lm=``) are tapped meanwhile, and so are those of ``extra`` (predictors of the
    modules the call was given, a Parallel's pairs: ``_arg_modules``) that hold one."""
    predictors = [p for p in _predictors(target).values()
                  if plain(p) and (given_lm or own_attr(p, "__dict__").get("lm") is not None)]
    predictors += [p for p in extra if plain(p) and own_attr(p, "__dict__").get("lm") is not None
                   and all(p is not q for q in predictors)]
    if predictors:
        _tap(predictors)
    controls = (*active(), recorder) if recorder is not None else None
    token = _ACTIVE.set(controls) if controls is not None else None
    try:
        if controls is None:
            yield
        else:
            with _carry.carrying(_ACTIVE):   # into the workers of a dspy.Parallel / Evaluate / batch it runs
                yield
    finally:
        if token is not None:
            _ACTIVE.reset(token)
        if predictors:
            _release(predictors)
