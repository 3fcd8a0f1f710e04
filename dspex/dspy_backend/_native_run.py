"""DSPy's books around native calls inside a DSPy program, and a routed module's native run (``run_root``).

While a routed module runs natively (:func:`running_natively`), each native predictor call keeps DSPy's books for
its DSPy twin: module callbacks, ``caller_modules`` (module history), the trace optimizers bootstrap from, and
DSPy's Prediction and error types. Outside such a call nothing is recorded.
"""

from __future__ import annotations

import contextlib
from typing import Any, Callable, Iterator

import dspy
from dspy.dsp.utils.settings import thread_local_overrides
from dspy.dsp.utils.utils import dotdict
from dspy.utils.callback import with_callbacks

from dspex import hooks

from ._faces import dspy_inputs, native_inputs, sync_history_faces, with_history_faces
from ._precedence import _callbacks, _seen, _settings_module, own_attr
from ._values import to_dspy_error, to_dspy_prediction

__all__ = ["run_root", "arun_root", "running_natively", "trace_scope", "extend_trace", "twin_predictor"]

_ROOT = hooks.native_root


def _root() -> Any:
    active = _ROOT.get()
    return None if active is None else active[0]


def _root_callbacks() -> bool:
    root = _root()
    return root is not None and bool(own_attr(root, "callbacks"))


def _traced(twin: Any, inputs: dict[str, Any], pred: Any) -> Any:
    """DSPy's trace entry ``(predictor, inputs, prediction)``, with DSPy's Prediction and types, when tracing is on.

    The native module itself goes on with its own prediction (a native agent reads its ToolCalls, History...);
    the routed call's result is converted once, at the end (``run_root``)."""
    seen = _seen()
    trace = seen.get("trace")
    size = seen.get("max_trace_size", 10_000)
    if trace is not None and size > 0:
        if len(trace) >= size:
            trace.pop(0)
        face = to_dspy_prediction(pred, own_attr(twin, "signature"))
        shown = dspy_inputs(inputs)
        trace.append((twin, {**inputs} if shown is inputs else shown, face))
        active = _ROOT.get()
        if active is not None:
            active[2][id(pred)] = (pred, face)
    return pred


@contextlib.contextmanager
def trace_scope() -> Iterator[list[Any] | None]:
    """One BestOfN / Refine attempt in DSPy's fresh trace (DSPy's ``with dspy.context(trace=[])``), yielding that
    list, inside a routed module's native call; elsewhere no DSPy books are kept, and it yields None."""
    if _ROOT.get() is None:
        yield None
        return
    with dspy.context(trace=[]):
        yield dspy.settings.trace


def twin_predictor(native_signature: Any) -> Any:
    """A ``dspy.Predict`` standing for a native predictor no DSPy module holds (Refine's feedback step, which DSPy
    builds per call as ``dspy.Predict(OfferFeedback)``), so its call inside a routed native call keeps DSPy's
    books: callbacks, caller modules, the trace entry; None elsewhere (nothing is recorded there)."""
    if _ROOT.get() is None:
        return None
    from ._signature import to_dspy_signature

    return dspy.Predict(to_dspy_signature(native_signature))


def extend_trace(entries: list[Any]) -> None:
    """The best attempt's entries join the caller's trace (DSPy's ``dspy.settings.trace.extend(best_trace)``)."""
    dspy.settings.trace.extend(entries)


def _face(pred: Any, traced: dict[int, tuple[Any, Any]]) -> Any:
    """The routed call's result as DSPy's Prediction: the very object its trace entry holds when the call returns
    a prediction it traced (DSPy's trace holds the object its Predict returns: a program's changes to the result,
    BestOfN's best attempt, show in the trace), else a new one."""
    hit = traced.get(id(pred))
    if hit is not None and hit[0] is pred and hit[1]._store is getattr(pred, "_store", None):
        return hit[1]
    return with_history_faces(pred, to_dspy_prediction(pred), traced)


def _with_caller(module: Any, run: Callable[[dict[str, Any]], Any], kwargs: dict[str, Any]) -> Any:
    """``run(kwargs)`` with ``module`` appended to DSPy's ``caller_modules`` (what ``dspy.context`` would do,
    without a context manager: this wraps every native call inside a DSPy program)."""
    overrides = thread_local_overrides.get()
    main = _settings_module.main_thread_config
    callers = list((overrides if "caller_modules" in overrides else main).get("caller_modules") or [])
    callers.append(module)
    token = thread_local_overrides.set(dotdict({**main, **overrides, "caller_modules": callers}))
    try:
        return run(kwargs)
    finally:
        thread_local_overrides.reset(token)


async def _awith_caller(module: Any, run: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
    overrides = thread_local_overrides.get()
    main = _settings_module.main_thread_config
    callers = list((overrides if "caller_modules" in overrides else main).get("caller_modules") or [])
    callers.append(module)
    token = thread_local_overrides.set(dotdict({**main, **overrides, "caller_modules": callers}))
    try:
        return await run(kwargs)
    finally:
        thread_local_overrides.reset(token)


def _books(module: Any, kwargs: dict[str, Any], run: Callable[[dict[str, Any]], Any]) -> Any:
    """What ``dspy.Module.__call__`` does around ``forward``: callbacks and ``caller_modules``."""
    if not _callbacks(module):
        return _with_caller(module, run, kwargs)

    native = kwargs
    shown = dspy_inputs(native)   # callbacks see DSPy's objects where a native agent passes its own

    # Named and shaped as dspy.Module.__call__: callbacks get {"args": ..., "kwargs": ...}, as from DSPy.
    def __call__(self: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N807
        return _with_caller(self, run, native_inputs(kwargs, shown, native))

    return with_callbacks(__call__)(module, **shown)


async def _abooks(module: Any, kwargs: dict[str, Any], run: Callable[..., Any]) -> Any:
    if not _callbacks(module):
        return await _awith_caller(module, run, kwargs)

    native = kwargs
    shown = dspy_inputs(native)

    async def acall(self: Any, *args: Any, **kwargs: Any) -> Any:
        return await _awith_caller(self, run, native_inputs(kwargs, shown, native))

    return await with_callbacks(acall)(module, **shown)


def _reraise(exc: Exception) -> None:
    converted = to_dspy_error(exc)
    if converted is exc:
        raise exc
    raise converted from exc.__cause__


def _needs_dspy_call(root: Any) -> bool:
    """Whether this native call must go through DSPy's own ``Module.__call__``: callbacks to call, usage to track,
    a ``forward`` patched onto the instance (GEPA's trace capture), or a subclass's own ``__call__``."""
    if not isinstance(root, dspy.Module):
        return False        # a factory-built module: its books are kept here
    state = own_attr(root, "__dict__")
    if "forward" in state or "aforward" in state or _callbacks(root):
        return True
    seen = _seen()
    if seen.get("track_usage"):
        return True
    impl = type(root)._impl
    return impl.__call__ is not _PREDICT_CALL and impl.__call__ is not dspy.Module.__call__


_PREDICT_CALL = dspy.Predict.__call__


def _keeps_books(root: Any) -> bool:
    """DSPy keeps module books (callbacks, ``caller_modules``, history) for a ``dspy.Module`` only: ``dspy.Parallel``
    is a plain class, and an LM call under it must not try to record history on it. A factory-built module's
    books are kept here."""
    return isinstance(root, dspy.Module) or "_dspex_hosted" in vars(root)


def run_root(root: Any, args: tuple, kwargs: dict[str, Any], instance: Any) -> Any:
    """A routed module's native call, inside DSPy's own ``Module.__call__`` (callbacks, history, usage, in DSPy's
    order, and any ``forward`` an optimizer patched onto the instance): its ``forward`` runs ``instance``, the
    native engine, and hands back DSPy's Prediction and error types."""
    traced: dict[int, tuple[Any, Any]] = {}   # what this call put in DSPy's trace: native prediction, its face

    def run(*a: Any, **kw: Any) -> Any:
        try:
            return _face(instance(*a, **kw), traced)
        except Exception as exc:  # noqa: BLE001 - re-raised, as DSPy's class where dspex has a twin of it
            sync_history_faces(traced)
            _reraise(exc)

    token = _ROOT.set((root, run, traced))
    try:
        if not _keeps_books(root):
            return run(*args, **kwargs)
        if _needs_dspy_call(root):
            return type(root)._impl.__call__(root, *args, **kwargs)
        # Nothing DSPy's __call__ would add beyond caller_modules (no callbacks, usage tracking or forward patch):
        # the same books, kept here for a fraction of the cost (a dspy.Module's callbacks were just found empty).
        if isinstance(root, dspy.Module):
            return _with_caller(root, lambda kw: run(*args, **kw), kwargs)
        return _books(root, kwargs, lambda kw: run(*args, **kw))
    finally:
        _ROOT.reset(token)


async def arun_root(root: Any, args: tuple, kwargs: dict[str, Any], instance_acall: Any) -> Any:
    traced: dict[int, tuple[Any, Any]] = {}

    async def run(*a: Any, **kw: Any) -> Any:
        try:
            return _face(await instance_acall(*a, **kw), traced)
        except Exception as exc:  # noqa: BLE001
            sync_history_faces(traced)
            _reraise(exc)

    token = _ROOT.set((root, run, traced))
    try:
        if not _keeps_books(root):
            return await run(*args, **kwargs)
        if _needs_dspy_call(root):
            return await type(root)._impl.acall(root, *args, **kwargs)

        async def body(kw: dict[str, Any]) -> Any:
            return await run(*args, **kw)

        if isinstance(root, dspy.Module):
            return await _awith_caller(root, body, kwargs)
        return await _abooks(root, kwargs, body)
    finally:
        _ROOT.reset(token)


def running_natively() -> Any:
    """The routed module whose native call is running in this context, if any."""
    return _root()
