"""Running one call on one side: DSPy's implementation or the native one, sync and async twins side by side.

A routed module of shape ``dspy`` runs DSPy by calling its own implementation class; it runs native through its
engine, inside the books DSPy keeps for a module call (``dspy_backend.run_root``). A module of shape ``native``
does the opposite. Either way the LM is chosen as DSPy would, with dspex's settings ranked in (docs/inside-dspy.md):
a call's ``lm=`` (for modules that take it, else it becomes the call's default), the predictor's own ``lm``, the
innermost context (``dspex.native.settings.context`` / ``dspy.context``), ``dspex.configure``, ``dspy.configure``.
``lm`` arguments here replace the call's LM (shadow's recorder and replayer), each standing in for every LM the call
uses: DSPy's side places the recorder here and in ``_taps``, the native side's LMs are placed by ``_lm_scope``.
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

from . import _carry, _taps
from ._arg_modules import argument_predictors
from ._engine import _predictors, own_attr
from ._lm_scope import default_lm, is_stand_in, lm_scope
from ._routed import _backend

__all__ = ["dspy_call", "adspy_call", "native_call", "anative_call", "effective_lm", "default_lm", "call_instance",
           "acall_instance", "settle_failed"]


def _own_lm(module: Any, spec: Any = None) -> Any:
    """The LM a Predict-shaped module (Predict, ChainOfThought's inner predict) carries itself; ``spec`` for an
    engine instance, which has no routing of its own."""
    if (spec or own_attr(module, "_dspex").spec).module_type == "predict":
        return getattr(module, "lm", None)
    return getattr(getattr(module, "predict", None), "lm", None)


def _held_lm(module: Any) -> Any:
    """The first LM one of the module's predictors holds (nested ones too: ReAct's, a wrapped module's), if any."""
    for predictor in _predictors(module).values():
        lm = getattr(predictor, "lm", None)
        if lm is not None:
            return lm
    return None


def effective_lm(module: Any, kwargs: dict[str, Any]) -> Any:
    """The LM this call would use (shadow records and replays it; the call's other LMs, if it uses several, get
    stand-ins of their own): the call's ``lm=``, else one its predictors hold, else the default one."""
    lm = kwargs.get("lm")
    if lm is None:
        lm = _held_lm(module)
    return default_lm() if lm is None else lm


# --- DSPy --------------------------------------------------------------------------------------------------
@contextlib.contextmanager
def _dspy_lm(module: Any, target: Any, kwargs: dict[str, Any], lm: Any, args: tuple = ()) -> Iterator[dict[str, Any]]:
    """Put the chosen LM where DSPy reads it, wrapped as a ``dspy.BaseLM`` when it is not one; yields the call's
    keyword arguments (a copy when they change: a fallback may still need the caller's).

    ``lm``: shadow's recorder, for a control (else the LM shadow would have recorded, for a call it did not
    sample: the call then runs as on the dspy route). The recorder never joins the keywords, which DSPy's
    callbacks see: it stands in for the default LM through ``dspy.context``, and for the LM a predictor reads
    first (the call's ``lm=``, one it holds) behind ``Module.__call__`` (``_taps``): the call's own predictors' and
    those of the modules it was given in ``args`` (a Parallel's pairs, ``_arg_modules``)."""
    import dspy

    as_dspy_lm = _backend().as_dspy_lm
    spec = own_attr(module, "_dspex").spec
    recorder = lm if lm is not None and is_stand_in(lm) else None
    given = "lm" in kwargs
    chosen = kwargs.get("lm")
    if given:
        kwargs = {k: v for k, v in kwargs.items() if k != "lm"}
    if spec.lm_kwarg:
        own = _own_lm(target, spec)
        if chosen is None:
            chosen = own if own is not None and not isinstance(own, dspy.BaseLM) else None
        # The call's own ``lm=`` goes where DSPy reads it first; so does a held LM DSPy would refuse (wrapped).
        if chosen is not None and (given or own is not None):
            kwargs = {**kwargs, "lm": as_dspy_lm(chosen)}
            chosen = None
    if chosen is None:
        chosen = default_lm()
    if recorder is not None and chosen is not None:
        chosen = recorder.standing_for(chosen)
    # Inside a shadow control (this call's, or one this call is nested in), the LMs the module's predictors read
    # before the default one are recorded too.
    taps = (_taps.tapping(target, recorder, "lm" in kwargs, argument_predictors(args, kwargs))
            if recorder is not None or _taps.active() else None)
    with taps if taps is not None else contextlib.nullcontext():
        if chosen is None or chosen is dspy.settings.lm:
            yield kwargs
            return
        with dspy.context(lm=as_dspy_lm(chosen)):
            yield kwargs


def dspy_call(module: Any, args: tuple, kwargs: dict[str, Any], lm: Any = None) -> Any:
    if type(module)._shape == "dspy":
        with _dspy_lm(module, module, kwargs, lm, args) as kw:
            return type(module)._impl.__call__(module, *args, **kw)
    engine = own_attr(module, "_dspex").engine(module)
    instance = engine.sync(module)
    try:
        with _dspy_lm(module, instance, kwargs, lm, args) as kw:
            return instance(*args, **kw)
    finally:
        # What the call spent goes onto the module, unless this is a shadow control (``lm`` given): its candidate
        # is the native-shaped module itself, which spends on itself.
        if engine.spends and lm is None:
            engine.settle(module)


async def adspy_call(module: Any, args: tuple, kwargs: dict[str, Any], lm: Any = None) -> Any:
    if type(module)._shape == "dspy":
        with _dspy_lm(module, module, kwargs, lm, args) as kw:
            return await type(module)._impl.acall(module, *args, **kw)
    engine = own_attr(module, "_dspex").engine(module)
    instance = engine.sync(module)
    try:
        with _dspy_lm(module, instance, kwargs, lm, args) as kw:
            return await instance.acall(*args, **kw)
    finally:
        if engine.spends and lm is None:
            engine.settle(module)


# --- native ------------------------------------------------------------------------------------------------
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
    kw, scope = lm_scope(module, kwargs, lm, books)
    if books:
        return _scoped(scope, _native_run, module, args, kw, books, state)
    with _candidate_extent():
        return _scoped(scope, _native_run, module, args, kw, books, state)


async def anative_call(module: Any, args: tuple, kwargs: dict[str, Any], lm: Any = None, books: bool = True,
                       state: Any = None) -> Any:
    kw, scope = lm_scope(module, kwargs, lm, books)
    if books:
        return await _ascoped(scope, _anative_run, module, args, kw, books, state)
    with _candidate_extent():
        return await _ascoped(scope, _anative_run, module, args, kw, books, state)


def _scoped(scope: Any, fn: Any, *args: Any) -> Any:
    """``fn(*args)`` inside ``scope`` (``lm_scope``'s context), if any."""
    if scope is None:
        return fn(*args)
    with scope:
        return fn(*args)


async def _ascoped(scope: Any, fn: Any, *args: Any) -> Any:
    """Await ``fn(*args)`` inside ``scope``, if any (the coroutine is made there, so a scope failing to open
    leaves none unawaited)."""
    if scope is None:
        return await fn(*args)
    with scope:
        return await fn(*args)


@contextlib.contextmanager
def _candidate_extent() -> Iterator[None]:
    """A shadow candidate's native run: native instance callbacks stay silent (``dspex.native.callbacks_muted``),
    and that, with its being a candidate, rides into the workers DSPy code it runs may start (``_carry``): a routed
    module there runs its candidate, muted, not a shadow call of its own."""
    from dspex.native import callbacks_muted
    from dspex.shadow import observation   # (a candidate runs: shadow is loaded)

    token = callbacks_muted.set(True)
    try:
        with _carry.carrying(callbacks_muted, observation.IN_CANDIDATE):
            yield
    finally:
        callbacks_muted.reset(token)


def _native_run(module: Any, args: tuple, kw: dict[str, Any], books: bool, state: Any) -> Any:
    if type(module)._shape == "native":
        return type(module)._impl.__call__(module, *args, **kw)
    routing = own_attr(module, "_dspex")
    engine = routing.engine(module) if books else routing.candidate_engine(module)   # a candidate: its own
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
    routing = own_attr(module, "_dspex")
    engine = routing.engine(module) if books else routing.candidate_engine(module)   # a candidate: its own
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
    kw, scope = lm_scope(module, kwargs, lm, False)
    with _candidate_extent():
        return _scoped(scope, lambda: instance(*args, **kw))


async def acall_instance(module: Any, instance: Any, args: tuple, kwargs: dict[str, Any], lm: Any) -> Any:
    kw, scope = lm_scope(module, kwargs, lm, False)
    with _candidate_extent():
        return await _ascoped(scope, lambda: instance.acall(*args, **kw))
