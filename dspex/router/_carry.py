"""dspex's per-context state, carried into the worker threads DSPy starts.

``dspy.Parallel``, ``dspy.Evaluate(num_threads=...)`` and ``Module.batch(num_threads=...)`` run their items on
DSPy's ``ParallelExecutor`` (``dspy/utils/parallelizer.py``), whose workers get a copy of the caller's
``dspy.settings`` overrides and nothing else of its context. Shadow keeps its state in contextvars, lost there:

* a control's running controls (``_taps``): the calls its predictors made in DSPy's workers with an LM they hold
  went unrecorded, and the candidate, replaying a transcript without them, failed or diverged;
* a candidate's own state: that it is one (``dspex.shadow.in_candidate``), its replayer's stand-ins for the LMs
  a predictor is given or holds (``dspex.native.lm_stand_in``) and its muted callbacks. DSPy code the candidate
  runs (its copies of a routed Parallel's plain programs) that fans routed modules out on DSPy's executor ran
  them, in the workers, as shadow calls of their own: on the real LMs, in the program's history, comparing two
  fresh LM answers (a false divergence). (The default LM's stand-in is in DSPy's settings already:
  ``_arg_modules``.)

So where shadow sets that state it also puts the values in DSPy's own overrides (:func:`carrying`, as
``dspex.request`` does in ``_context.py``), which DSPy copies into its workers; dspex's entry points there (a routed
module's call, a tapped predictor) give the contextvars this context has not set the carried values for the call's
extent (:func:`restore`, :func:`reset`). Only unset ones: in the carrying context itself, and in contexts copied
from it (asyncio tasks, shadow's jobs), the contextvars are the truth, perhaps set anew deeper down. A
process-wide count of the carrying extents keeps the overrides unread while none runs anywhere (the native
route's common case). Imports no dspy: it is read from ``sys.modules``, and is loaded whenever shadow runs DSPy.
"""

from __future__ import annotations

import contextlib
import contextvars
import sys
import threading
from typing import Any, Iterator

__all__ = ["carried", "carrying", "restore", "reset", "extents"]

_KEY = "dspex_carried"   # the key in DSPy's overrides: {contextvar: value}
_SETTINGS = "dspy.dsp.utils.settings"
_UNSET: Any = object()
_lock = threading.Lock()
extents = 0   # carrying extents open right now, in any thread (0: nothing carried anywhere, nothing to restore)

Tokens = list[tuple[contextvars.ContextVar[Any], contextvars.Token[Any]]]


def _overrides() -> contextvars.ContextVar[Any] | None:
    settings = sys.modules.get(_SETTINGS)
    return None if settings is None else settings.thread_local_overrides


def _values() -> dict[contextvars.ContextVar[Any], Any]:
    """What DSPy's overrides carry here (empty when nothing is carried anywhere)."""
    overrides = _overrides() if extents else None
    return {} if overrides is None else overrides.get().get(_KEY) or {}


def carried(var: contextvars.ContextVar[Any], default: Any = None) -> Any:
    """The value of ``var`` DSPy's overrides carry here (``default`` when none)."""
    return _values().get(var, default)


@contextlib.contextmanager
def carrying(*variables: contextvars.ContextVar[Any]) -> Iterator[None]:
    """Inside the block, the values ``variables`` have here also ride in DSPy's overrides (with those carried
    already), where DSPy's workers find them."""
    global extents
    overrides = _overrides()
    if overrides is None:
        yield
        return
    current = overrides.get()
    values = {**(current.get(_KEY) or {}), **{var: var.get() for var in variables}}
    with _lock:
        extents += 1
    token = overrides.set(type(current)({**current, _KEY: values}))   # (DSPy's own dict type: a dotdict)
    try:
        yield
    finally:
        overrides.reset(token)
        with _lock:
            extents -= 1


def restore() -> Tokens:
    """In a DSPy worker: the contextvars this context has not set take the carried values; give the tokens to
    :func:`reset` when the call ends. Elsewhere: nothing to do, ``[]``."""
    values = _values()
    if not values:
        return []
    return [(var, var.set(value)) for var, value in values.items() if var.get(_UNSET) is _UNSET]


def reset(tokens: Tokens) -> None:
    """Undo :func:`restore`."""
    for var, token in reversed(tokens):
        var.reset(token)
