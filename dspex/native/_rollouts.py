"""What BestOfN and Refine share: the LM copies per rollout, the fresh trace per attempt, DSPy's failure rule.

Each attempt runs a deep copy of the wrapped module whose predictors all use ``lm.copy(rollout_id=start + i,
temperature=1.0)``, where ``lm`` is the module's own LM (``get_lm()``) or the default one and ``start`` its
``rollout_id`` kwarg (0 when unset); the attempt runs in a fresh trace. A failed attempt is printed (DSPy
prints, it does not log) and counted against ``fail_count``, which DSPy decrements on the module itself, so the
budget shrinks across calls; the attempt that finds ``idx > fail_count`` re-raises.

DSPy's trace: inside a routed module's native call, DSPy's optimizers read ``dspy.settings.trace``. The DSPy
bridge's ``trace_scope()`` (a context manager yielding DSPy's fresh trace list, or None outside a routed call)
and ``extend_trace(entries)`` give each attempt a fresh DSPy trace too and keep only the best attempt's entries,
as in DSPy (``tests/program/test_optimizers.py::test_a_wrappers_trace_is_dspys``). A bridge without them (a
test double) leaves DSPy's trace seeing every attempt.
"""

from __future__ import annotations

from typing import Any

from .. import hooks
from . import _trace
from ._callbacks import MUTED
from ._settings import settings

__all__ = ["rollout_lm", "attempt_module", "Attempt", "attempt_trace", "keep_trace", "report_failure",
           "bridge_hooks"]


def rollout_lm(module: Any) -> tuple[Any, int]:
    """``(lm, first rollout id)``: the module's LM or the default one, as DSPy's ``get_lm() or settings.lm``."""
    lm = module.get_lm() or settings.lm
    return lm, lm.kwargs.get("rollout_id", 0)


def attempt_module(module: Any, lm: Any, rollout_id: int) -> Any:
    copy_lm = lm.copy(rollout_id=rollout_id, temperature=1.0)
    mod = module.deepcopy()
    mod.set_lm(copy_lm)
    return mod


class Attempt:
    """One attempt's traces: native entries (``native``) and, through the bridge, DSPy's (``dspy``)."""

    __slots__ = ("native", "dspy")

    def __init__(self, native: list[Any], dspy: list[Any] | None) -> None:
        self.native = native
        self.dspy = dspy

    def copy(self) -> "Attempt":
        return Attempt(list(self.native), None if self.dspy is None else list(self.dspy))

    def __bool__(self) -> bool:
        return bool(self.native) or bool(self.dspy)


_hooks: tuple[Any, Any, Any, Any] = (None, None, None, None)   # (bridge, trace_scope, extend_trace, twin_predictor)


def bridge_hooks() -> tuple[Any, Any, Any, Any]:
    """The installed bridge's optional hooks for BestOfN / Refine (``hooks.Bridge``: ``trace_scope``,
    ``extend_trace``, ``twin_predictor``), looked up once per installed bridge (a missing attribute is an
    AttributeError raised and swallowed: each attempt asked twice)."""
    global _hooks
    cached = _hooks
    bridge = hooks.bridge
    if cached[0] is not bridge:
        if bridge is None:
            cached = (None, None, None, None)
        else:
            cached = (bridge, getattr(bridge, "trace_scope", None), getattr(bridge, "extend_trace", None),
                      getattr(bridge, "twin_predictor", None))
        _hooks = cached
    return cached


class attempt_trace:  # noqa: N801 - used as ``with attempt_trace() as scope``, like the function it replaced
    """A fresh native trace (and DSPy's, when the bridge can scope it) for one attempt, yielding its ``Attempt``.

    A class rather than a generator context manager: each attempt opened three nested generator managers before,
    about as many instructions as the rest of the attempt's bookkeeping together."""

    __slots__ = ("_native", "_dspy_scope")

    def __enter__(self) -> Attempt:
        scope = bridge_hooks()[1]
        self._native = _trace.scope()
        native = self._native.__enter__()
        self._dspy_scope = None
        dspy = None
        if scope is not None:
            try:
                manager = scope()
                dspy = manager.__enter__()
            except BaseException:
                self._native.__exit__(None, None, None)
                raise
            self._dspy_scope = manager
        return Attempt(native, dspy)

    def __exit__(self, *exc: Any) -> bool:
        try:
            manager = self._dspy_scope
            return bool(manager.__exit__(*exc)) if manager is not None else False
        finally:
            self._native.__exit__(*exc)


def keep_trace(best: Attempt | None) -> None:
    """The best attempt's entries join the enclosing traces (DSPy's ``settings.trace.extend(best_trace)``)."""
    if not best:
        return
    outer = _trace.current()
    if outer is not None:
        outer.extend(best.native)
    extend = bridge_hooks()[2]
    if extend is not None and best.dspy:
        extend(best.dspy)


def report_failure(owner: Any, idx: int, message: str, exc: Exception) -> None:
    """DSPy's handling of a failed attempt: print it, re-raise once ``idx > fail_count``, else spend one. A shadow
    candidate (``MUTED``) prints nothing: the program's output shows what its DSPy control printed, once."""
    if not MUTED.get():
        print(message)
    if idx > owner.fail_count:
        raise exc
    owner.fail_count -= 1
