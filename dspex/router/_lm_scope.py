"""Where a call's LM goes, and the stand-ins shadow puts in front of every LM a call uses.

The default LM is DSPy's innermost setting ranked with dspex's (``default_lm``, docs/inside-dspy.md). A native call
takes a replacement LM (``lm_scope``) as ``lm=`` when its module takes one like DSPy's Predict, else as its
default. Shadow's stand-ins go further, since a call may use several LMs (the default, a call's ``lm=``, one a
predictor holds, a rollout copy of it): a candidate's replayer stands in for each LM in the place its control's
recorder did, and a native call nested in a running control is recorded the same way, through the per-context
hook ``dspex.native.lm_stand_in`` (never through the module or its engine, which other calls share). The control's
side, DSPy's, is ``_taps``.
"""

from __future__ import annotations

import contextlib
import functools
import sys
from typing import Any, Iterator

from . import _carry, _taps
from ._engine import own_attr
from ._routed import _backend

__all__ = ["default_lm", "is_stand_in", "lm_scope", "native_settings"]


def native_settings() -> Any:
    from dspex.native import settings

    return settings


def default_lm() -> Any:
    """The innermost default LM (no call or module LM): DSPy's settings ranked in when DSPy is loaded."""
    glob, local = native_settings().layers()
    if sys.modules.get("dspy") is not None:
        return _backend().default_lm(glob["lm"], local)
    return local["lm"] if local is not None and local.get("lm") is not None else glob["lm"]


def is_stand_in(lm: Any) -> bool:
    """Whether ``lm`` is shadow's recorder or replayer (never loads shadow to find out)."""
    shadow = sys.modules.get("dspex.shadow")
    return shadow is not None and shadow.is_stand_in(lm)


_CONTROLS = _taps.active   # the shadow controls running in this context (``_taps``; ``_carry``)


def lm_scope(module: Any, kwargs: dict[str, Any], lm: Any, books: bool = True) -> tuple[dict[str, Any], Any]:
    """``(kwargs for native, a context to enter or None)``: where a replacement LM goes. Native modules that take
    ``lm=`` like DSPy's Predict get it there; others get it as the native default for the call. Inside a running
    shadow control (a routed module nested in a shadowed one), the call's LMs are recorded: the LM each predictor
    reads first goes behind the controls' stand-ins (``dspex.native.lm_stand_in``), and so does an ``lm=`` that
    becomes the default. Most calls have no LM to place, and pay for no context manager."""
    if lm is not None and is_stand_in(lm):
        return _candidate_scope(module, kwargs, lm)
    controls = _CONTROLS() if books else ()
    if own_attr(module, "_dspex").spec.lm_kwarg:
        kw, default = (kwargs if lm is None else {**kwargs, "lm": lm}), None
    else:
        default = lm if lm is not None else kwargs.get("lm")
        kw = kwargs if default is None else {k: v for k, v in kwargs.items() if k != "lm"}
    if controls:
        lm_for = functools.partial(_taps.stand_in, controls=controls)
        return kw, _stand_ins(lm_for, None if default is None else lm_for(default))
    return kw, None if default is None else native_settings().context(lm=default)


def _candidate_scope(module: Any, kwargs: dict[str, Any], lm: Any) -> tuple[dict[str, Any], Any]:
    """A shadow candidate's LMs: ``lm`` (its replayer, or its recorder in live mode) stands for the LM the control's
    recorder stood for, and its stand-ins for every other LM the control used, in the same places: the call's
    ``lm=`` or the default LM, and any LM a predictor holds (the module's own, the rollout copies BestOfN and Refine
    set on their attempts). None of them is set on the module or its engine, which other calls share."""
    given = "lm" in kwargs
    if given and own_attr(module, "_dspex").spec.lm_kwarg:
        return {**kwargs, "lm": lm}, _stand_ins(lm.standing_for, None)
    kw = {k: v for k, v in kwargs.items() if k != "lm"} if given else kwargs
    return kw, _stand_ins(lm.standing_for, lm if given else lm.standing_for(default_lm()))


@contextlib.contextmanager
def _stand_ins(lm_for: Any, default: Any) -> Iterator[None]:
    """Native predictors take ``lm_for(lm)`` for the LM they read first, and ``default`` (if any) as the default.
    ``lm_for`` rides into the workers DSPy code run meanwhile may start (``_carry``): a routed module there (in a
    candidate's copy of a plain program fanning out on ``dspy.Parallel``) replays the LMs it is given or holds.
    (The default LM's stand-in, for DSPy code a candidate runs, rides in DSPy's settings: ``_arg_modules``.)"""
    from dspex.native import lm_stand_in

    token = lm_stand_in.set(lm_for)
    try:
        with _carry.carrying(lm_stand_in):
            if default is None:
                yield
            else:
                with native_settings().context(lm=default):
                    yield
    finally:
        lm_stand_in.reset(token)
