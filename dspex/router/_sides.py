"""Running one call on one side: DSPy's implementation or the native one, sync and async twins side by side.

A routed module of shape ``dspy`` runs DSPy by calling its own implementation class; it runs native through its
engine, inside the books DSPy keeps for a module call (``dspy_backend.run_root``). A module of shape ``native``
does the opposite. Either way the LM is chosen as DSPy would, with dspex's settings ranked in (docs/inside-dspy.md):
a call's ``lm=`` (for modules that take it, else it becomes the call's default), the predictor's own ``lm``, the
innermost context (``dspex.native.settings.context`` / ``dspy.context``), ``dspex.configure``, ``dspy.configure``.
``lm`` arguments here replace the call's LM (shadow's recorder and replayer).
"""

from __future__ import annotations

import contextlib
import sys
from typing import Any, Iterator

from ._engine import own_attr
from ._routed import _backend
from ._variants import forward_lm

__all__ = ["dspy_call", "adspy_call", "native_call", "anative_call", "effective_lm", "default_lm", "call_instance",
           "acall_instance", "settle_failed"]


def _native_settings() -> Any:
    from dspex.native import settings

    return settings



def _own_lm(module: Any, spec: Any = None) -> Any:
    """The LM a Predict-shaped module (Predict, ChainOfThought's inner predict) carries itself; ``spec`` for an
    engine instance, which has no routing of its own."""
    if (spec or own_attr(module, "_dspex").spec).module_type == "predict":
        return getattr(module, "lm", None)
    return getattr(getattr(module, "predict", None), "lm", None)


def effective_lm(module: Any, kwargs: dict[str, Any]) -> Any:
    """The LM this call would use (shadow records and replays it)."""
    lm = kwargs.get("lm")
    if lm is None and own_attr(module, "_dspex").spec.lm_kwarg:
        lm = _own_lm(module)
    return default_lm() if lm is None else lm


def default_lm() -> Any:
    """The innermost default LM (no call or module LM): DSPy's settings ranked in when DSPy is loaded."""
    glob, local = _native_settings().layers()
    if sys.modules.get("dspy") is not None:
        return _backend().default_lm(glob["lm"], local)
    return local["lm"] if local is not None and local.get("lm") is not None else glob["lm"]


# --- DSPy --------------------------------------------------------------------------------------------------
@contextlib.contextmanager
def _dspy_lm(module: Any, target: Any, kwargs: dict[str, Any], lm: Any) -> Iterator[dict[str, Any]]:
    """Put the chosen LM where DSPy reads it, wrapped as a ``dspy.BaseLM`` when it is not one; yields the call's
    keyword arguments (a copy when they change: a fallback may still need the caller's)."""
    import dspy

    as_dspy_lm = _backend().as_dspy_lm
    spec = own_attr(module, "_dspex").spec
    in_place = None
    if lm is not None and spec.lm_kwarg:
        own = kwargs["lm"] if "lm" in kwargs else _own_lm(target, spec)
        if own is not None:
            if lm is own and isinstance(own, dspy.BaseLM):
                lm = None   # what DSPy reads already (shadow did not sample the call): nothing to replace
            else:
                in_place = _in_place_of(module, target, spec, lm, own)
                if in_place is not None:
                    lm = None
    given = "lm" in kwargs
    chosen = lm if lm is not None else kwargs.get("lm")
    if given or lm is not None:
        kwargs = {k: v for k, v in kwargs.items() if k != "lm"}
    if spec.lm_kwarg:
        own = _own_lm(target, spec)
        if chosen is None:
            chosen = own if own is not None and not isinstance(own, dspy.BaseLM) else None
        # The call's own ``lm=`` (or a replacement for the LM the module holds) goes where DSPy reads it first; a
        # replacement for the default LM (shadow's recorder) goes to the default, so callbacks see the call's
        # keywords as the caller wrote them.
        if chosen is not None and (given or own is not None):
            kwargs = {**kwargs, "lm": as_dspy_lm(chosen)}
            chosen = None
    if chosen is None:
        chosen = default_lm()
    with in_place if in_place is not None else contextlib.nullcontext():
        if chosen is None or chosen is dspy.settings.lm:
            yield kwargs
            return
        with dspy.context(lm=as_dspy_lm(chosen)):
            yield kwargs


def _in_place_of(module: Any, target: Any, spec: Any, lm: Any, own: Any) -> Any:
    """A context in which ``lm`` (shadow's recorder) stands in for ``own`` (the call's ``lm=`` or the module's own
    LM) without being passed among the call's keywords, which DSPy's callbacks see: DSPy's forward of a routed
    Predict takes it past ``Module.__call__`` (``forward_lm``); a recorder the module holds (BestOfN's and Refine's
    attempts hold a copy of the enclosing control's) records into ``lm``'s transcript too. None when neither
    applies: then ``lm`` goes in as ``lm=``."""
    if (spec.module_type == "predict" and target is module and type(module)._shape == "dspy"
            and "forward" not in own_attr(module, "__dict__")):
        return forward_lm(module, _backend().as_dspy_lm(lm))
    shadow = sys.modules.get("dspex.shadow")
    return None if shadow is None else shadow.recording_through(lm, own)


def dspy_call(module: Any, args: tuple, kwargs: dict[str, Any], lm: Any = None) -> Any:
    if type(module)._shape == "dspy":
        with _dspy_lm(module, module, kwargs, lm) as kw:
            return type(module)._impl.__call__(module, *args, **kw)
    engine = own_attr(module, "_dspex").engine(module)
    instance = engine.sync(module)
    try:
        with _dspy_lm(module, instance, kwargs, lm) as kw:
            return instance(*args, **kw)
    finally:
        # What the call spent goes onto the module, unless this is a shadow control (``lm`` given): its candidate
        # is the native-shaped module itself, which spends on itself.
        if engine.spends and lm is None:
            engine.settle(module)


async def adspy_call(module: Any, args: tuple, kwargs: dict[str, Any], lm: Any = None) -> Any:
    if type(module)._shape == "dspy":
        with _dspy_lm(module, module, kwargs, lm) as kw:
            return await type(module)._impl.acall(module, *args, **kw)
    engine = own_attr(module, "_dspex").engine(module)
    instance = engine.sync(module)
    try:
        with _dspy_lm(module, instance, kwargs, lm) as kw:
            return await instance.acall(*args, **kw)
    finally:
        if engine.spends and lm is None:
            engine.settle(module)


# --- native ------------------------------------------------------------------------------------------------
def _lm_scope(module: Any, kwargs: dict[str, Any], lm: Any) -> tuple[dict[str, Any], Any]:
    """``(kwargs for native, a settings context to enter or None)``: where a replacement LM goes. Native modules
    that take ``lm=`` like DSPy's Predict get it there; others get it as the native default for the call. Most
    calls have no LM to place, and pay for no context manager."""
    if own_attr(module, "_dspex").spec.lm_kwarg:
        return (kwargs if lm is None else {**kwargs, "lm": lm}), None
    chosen = lm if lm is not None else kwargs.get("lm")
    if chosen is None:
        return kwargs, None
    return {k: v for k, v in kwargs.items() if k != "lm"}, _native_settings().context(lm=chosen)


def _positional_check(instance: Any, args: tuple) -> None:
    """DSPy's Predict refuses positional arguments before any callback sees the call."""
    error = getattr(instance, "_positional_error", None)
    if args and error is not None:
        raise error()


def native_call(module: Any, args: tuple, kwargs: dict[str, Any], lm: Any = None, books: bool = True,
                state: Any = None) -> Any:
    """Native runs the call; ``books=False`` (a shadow candidate) keeps no DSPy books and fires no callbacks, not
    even the module's own (``callbacks=`` given to its constructor): the program never made this call. It leaves
    the module's state alone, running the engine with ``state`` (an ``Engine.snapshot``: the module as its control
    found it) when given."""
    kw, scope = _lm_scope(module, kwargs, lm)
    token = None if books else _muted().set(True)
    try:
        if scope is None:
            return _native_run(module, args, kw, books, state)
        with scope:
            return _native_run(module, args, kw, books, state)
    finally:
        if token is not None:
            _muted().reset(token)


async def anative_call(module: Any, args: tuple, kwargs: dict[str, Any], lm: Any = None, books: bool = True,
                       state: Any = None) -> Any:
    kw, scope = _lm_scope(module, kwargs, lm)
    token = None if books else _muted().set(True)
    try:
        if scope is None:
            return await _anative_run(module, args, kw, books, state)
        with scope:
            return await _anative_run(module, args, kw, books, state)
    finally:
        if token is not None:
            _muted().reset(token)


def _muted() -> Any:
    """The switch that keeps native instance callbacks silent (``dspex.native.callbacks_muted``)."""
    from dspex.native import callbacks_muted

    return callbacks_muted


def _native_run(module: Any, args: tuple, kw: dict[str, Any], books: bool, state: Any) -> Any:
    if type(module)._shape == "native":
        return type(module)._impl.__call__(module, *args, **kw)
    engine = own_attr(module, "_dspex").engine(module)
    instance = engine.sync(module) if state is None else engine.restore(state)
    _positional_check(instance, args)
    if not books:
        return instance(*args, **kw)
    result = _backend().run_root(module, args, kw, instance)
    if engine.spends:
        engine.settle(module)
    return result


async def _anative_run(module: Any, args: tuple, kw: dict[str, Any], books: bool, state: Any) -> Any:
    if type(module)._shape == "native":
        return await type(module)._impl.acall(module, *args, **kw)
    engine = own_attr(module, "_dspex").engine(module)
    instance = engine.sync(module) if state is None else engine.restore(state)
    _positional_check(instance, args)
    if not books:
        return await instance.acall(*args, **kw)
    result = await _backend().arun_root(module, args, kw, instance.acall)
    if engine.spends:
        engine.settle(module)
    return result


def settle_failed(module: Any) -> None:
    """A native call raised and no fallback follows: what it spent stays spent, on the module, as in DSPy. (When
    DSPy answers instead, the module is left as the call found it, and DSPy's call spends from there.)"""
    engine = own_attr(module, "_dspex")._engine if type(module)._shape == "dspy" else None
    if engine is not None and engine.spends:
        engine.settle(module)


def call_instance(module: Any, instance: Any, args: tuple, kwargs: dict[str, Any], lm: Any) -> Any:
    """A native ``instance`` standing in for ``module``'s (an agent replaying tools), with ``lm``, no books and no
    callbacks (a shadow candidate)."""
    kw, scope = _lm_scope(module, kwargs, lm)
    token = _muted().set(True)
    try:
        if scope is None:
            return instance(*args, **kw)
        with scope:
            return instance(*args, **kw)
    finally:
        _muted().reset(token)


async def acall_instance(module: Any, instance: Any, args: tuple, kwargs: dict[str, Any], lm: Any) -> Any:
    kw, scope = _lm_scope(module, kwargs, lm)
    token = _muted().set(True)
    try:
        if scope is None:
            return await instance.acall(*args, **kw)
        with scope:
            return await instance.acall(*args, **kw)
    finally:
        _muted().reset(token)
