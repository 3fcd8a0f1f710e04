"""Shadow's running controls, carried into the worker threads DSPy starts.

``dspy.Parallel``, ``dspy.Evaluate(num_threads=...)`` and ``Module.batch(num_threads=...)`` run their items on
DSPy's ``ParallelExecutor`` (``dspy/utils/parallelizer.py``), whose workers get a copy of the caller's
``dspy.settings`` overrides and nothing else of its context. The shadow controls running in a context (``_taps``)
are a contextvar, so a control whose DSPy side fans out there (a registered module calling ``dspy.Parallel``, a
routed ``Parallel``) lost them in its workers: the calls its predictors made there with an LM they hold went
unrecorded (only the default LM, which rides in DSPy's settings, was), and the candidate, replaying a transcript
without them, failed or diverged where nothing differed.

So while a control runs, its controls also ride in DSPy's own overrides (as ``dspex.request`` does,
``_context.py``), which DSPy copies into its workers; a context whose contextvar holds none reads them there
(:func:`carried`). A process-wide count of the controls carried keeps that read off every call made while no
control runs anywhere (the native route's common case). Imports no dspy: it is read from ``sys.modules``, and is
loaded whenever a control runs (the control is DSPy).
"""

from __future__ import annotations

import contextlib
import sys
import threading
from typing import Any, Iterator

__all__ = ["carried", "carrying"]

_KEY = "dspex_shadow_controls"   # the key in DSPy's overrides
_SETTINGS = "dspy.dsp.utils.settings"
_lock = threading.Lock()
_count = 0                       # controls carried right now, in any thread


def carried() -> tuple[Any, ...]:
    """The controls a DSPy worker's caller had running, found in DSPy's overrides (``()`` when none is carried
    anywhere, or outside such a worker)."""
    if not _count:
        return ()
    settings = sys.modules.get(_SETTINGS)
    if settings is None:
        return ()
    return settings.thread_local_overrides.get().get(_KEY, ())


@contextlib.contextmanager
def carrying(controls: tuple[Any, ...]) -> Iterator[None]:
    """Inside the block, ``controls`` also ride in DSPy's overrides, where DSPy's workers find them."""
    global _count
    settings = sys.modules.get(_SETTINGS)
    if settings is None:
        yield
        return
    with _lock:
        _count += 1
    overrides = settings.thread_local_overrides
    current = overrides.get()
    token = overrides.set(type(current)({**current, _KEY: controls}))   # (DSPy's own dict type: a dotdict)
    try:
        yield
    finally:
        overrides.reset(token)
        with _lock:
            _count -= 1
