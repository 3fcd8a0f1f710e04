"""``Module``: the native counterpart of ``dspy.Module``, a base for composite native programs.

``__call__`` / ``acall`` live here (as in DSPy) so that errors raised while binding the call name the same
function DSPy's do (``Module.acall() got multiple values for argument 'self'`` for an input named ``self``).
A user's own native module subclasses this, sets ``Predict`` / ``ChainOfThought`` attributes and writes
``forward`` (and ``aforward``), exactly as with DSPy.

The program API (``named_parameters``, ``named_predictors``, ``deepcopy``, ``reset_copy``, ``save``/``load``,
``batch``...) follows DSPy's names, walk order and saved format, so an optimizer-shaped script, a saved state or
a test written against ``dspy.Module`` works on a native program, and states move between the two.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator, TextIO

from .. import hooks
from ._callers import CALLERS
from ._copying import copy_or_share, deep_copy

__all__ = ["Module", "Parameter", "no_aforward"]


def no_aforward() -> property:
    """For modules DSPy gives no ``aforward`` (BestOfN, Refine, MultiChainComparison): the attribute is absent,
    so ``acall`` fails with the AttributeError DSPy raises, and ``hasattr(module, "aforward")`` is False."""
    def missing(self: Any) -> Any:
        raise AttributeError(f"'{type(self).__name__}' object has no attribute 'aforward'")

    return property(missing)


class Parameter:
    """Marker of what an optimizer tunes (``Predict``), as ``dspy.Parameter`` is in DSPy."""


# Exact types whose instances are never a parameter nor hold one (an empty list or dict holds none either, but
# is told by its length, not its type).
_NO_PARAMETERS = frozenset({str, int, float, bool, type(None), type(lambda: None)})


def _add(found: list[tuple[str, Any]], seen: set[int], name: str, value: Any) -> None:
    """One attribute (or item) in DSPy's walk: a parameter once, a sub-module (not compiled) by its own walk."""
    if isinstance(value, Parameter):
        if id(value) not in seen:
            seen.add(id(value))
            found.append((name, value))
    elif isinstance(value, Module) and not getattr(value, "_compiled", False):
        for sub_name, param in value.named_parameters():
            _add(found, seen, f"{name}.{sub_name}", param)


_PREDICT: list[type] = []


def _predict_class() -> type:
    """``Predict``, imported once (predict.py imports this module, so not at the top)."""
    if not _PREDICT:
        from .predict import Predict

        _PREDICT.append(Predict)
    return _PREDICT[0]


class Module:
    """Base class for native programs: ``forward(**inputs)`` does the work, calling the module runs it."""

    _compiled = False
    # A class whose ``forward(**kwargs)`` only hands its dict on names the function that takes the dict itself
    # (ChainOfThought): a call passes its own dict there, unless a positional argument or the instance's or a
    # subclass's own ``forward`` asks for ``forward`` (then called as DSPy calls it).
    _forward_dict: Any = None

    def __new__(cls, *args: Any, **kwargs: Any) -> "Module":
        # DSPy guarantees ``callbacks`` and ``history`` on every module, even when a subclass never calls
        # ``super().__init__()``; so does this (copies and unpickling then overwrite them with the saved ones).
        obj = super().__new__(cls)
        obj.callbacks = []
        obj.history = []
        return obj

    def __init__(self, callbacks: list[Any] | None = None) -> None:
        self.callbacks = list(callbacks or [])
        self.history = []

    def __deepcopy__(self, memo: dict[int, Any]) -> "Module":
        """What ``copy.deepcopy`` does for a plain instance, without the pickling protocol's detour (_copying.py)."""
        return deep_copy(self, memo, Module)

    # A routed module's native engine points its sub-modules (BestOfN's wrapped module, ReAct's extract) at their
    # DSPy twins, as it does its predictors: DSPy's books (module callbacks, caller_modules) are kept for them.
    _dspex_twin: Any = None

    # Without DSPy, each call joins the chain of calling modules whose history its LM calls reach (_callers.py).
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._dspex_twin is not None and hooks.bridge is not None:
            return hooks.bridge.run_module(self, args, kwargs, self.forward)
        token = CALLERS.set(CALLERS.get() + (self,)) if hooks.lm_history and hooks.bridge is None else None
        try:
            direct = type(self)._forward_dict
            if direct is None or args or "forward" in self.__dict__:
                return self.forward(*args, **kwargs)
            return direct(self, kwargs)
        finally:
            if token is not None:
                CALLERS.reset(token)

    async def acall(self, *args: Any, **kwargs: Any) -> Any:
        if self._dspex_twin is not None and hooks.bridge is not None:
            return await hooks.bridge.arun_module(self, args, kwargs, self.aforward)
        token = CALLERS.set(CALLERS.get() + (self,)) if hooks.lm_history and hooks.bridge is None else None
        try:
            return await self.aforward(*args, **kwargs)
        finally:
            if token is not None:
                CALLERS.reset(token)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward(**inputs).")

    async def aforward(self, *args: Any, **kwargs: Any) -> Any:
        """Default: run ``forward`` (subclasses that call LMs should await ``predictor.acall`` instead)."""
        return self.forward(*args, **kwargs)

    # --- what an optimizer sees: DSPy's walk, names and order ------------------------------------------------
    def named_parameters(self) -> list[tuple[str, Any]]:
        """Parameters (Predicts) by attribute path, as ``dspy.BaseModule.named_parameters`` names them.

        BestOfN and Refine walk every attempt's copy two or three times, so attributes that cannot hold a
        parameter (a plain string, number, function or ``None``, an empty list or dict) are passed over by their
        exact type before the isinstance tests (and an empty list or dict by its length)."""
        found: list[tuple[str, Any]] = []
        seen: set[int] = set()
        if isinstance(self, Parameter):
            _add(found, seen, "self", self)
        for name, value in self.__dict__.items():
            t = type(value)
            if t in _NO_PARAMETERS or ((t is list or t is dict) and not value):
                continue
            if t is list or t is tuple or isinstance(value, (list, tuple)):
                for i, item in enumerate(value):
                    _add(found, seen, f"{name}[{i}]", item)
            elif t is dict or isinstance(value, dict):
                for key, item in value.items():
                    _add(found, seen, f"{name}['{key}']", item)
            else:
                _add(found, seen, name, value)
        return found

    def parameters(self) -> list[Any]:
        return [p for _, p in self.named_parameters()]

    def named_predictors(self) -> list[tuple[str, Any]]:
        predict = _predict_class()
        return [(n, p) for n, p in self.named_parameters() if isinstance(p, predict)]

    def predictors(self) -> list[Any]:
        return [p for _, p in self.named_predictors()]

    def named_sub_modules(self, type_: type | None = None, skip_compiled: bool = False) -> Iterator[tuple[str, Any]]:
        """Every sub-module, breadth first, named by path (``self.a[0]['k']``), each once."""
        from ._walk import sub_modules

        return sub_modules(self, Module if type_ is None else type_, skip_compiled)

    def map_named_predictors(self, func: Callable[[Any], Any]) -> "Module":
        from ._walk import set_by_path

        for name, predictor in self.named_predictors():
            set_by_path(self, name, func(predictor))
        return self

    def set_lm(self, lm: Any) -> None:
        for _, param in self.named_parameters():
            param.lm = lm

    def get_lm(self) -> Any:
        lms = [p.lm for _, p in self.named_parameters()]
        if len(set(map(id, lms))) == 1:
            return lms[0]
        raise ValueError("Multiple LMs are being used in the module. There's no unique LM to return.")

    # --- copies ------------------------------------------------------------------------------------------------
    def deepcopy(self) -> "Module":
        """An independent copy; attributes that cannot be deep-copied are shallow-copied (or shared), as in DSPy."""
        return copy_or_share(self, Module)

    def reset_copy(self) -> "Module":
        new = self.deepcopy()
        for param in new.parameters():
            param.reset()
        return new

    # --- state: DSPy's layout, so states move between native and DSPy programs -------------------------------
    def dump_state(self, json_mode: bool = True) -> dict[str, Any]:
        return {name: p.dump_state(json_mode) for name, p in self.named_parameters()}

    def load_state(self, state: dict[str, Any], *, allow_unsafe_lm_state: bool = False) -> "Module":
        """All or nothing: a state that does not fit fails on a trial copy before this module is touched."""
        def apply(module: Module) -> None:
            for name, param in module.named_parameters():
                param.load_state(state[name], allow_unsafe_lm_state=allow_unsafe_lm_state)

        apply(self.deepcopy())
        apply(self)
        return self

    def save(self, path: Any, save_program: bool = False, modules_to_serialize: list[Any] | None = None) -> None:
        """``.json`` or ``.pkl`` state in DSPy's format, or the whole program (``save_program=True``)."""
        from ._saving import save

        save(self, path, save_program, modules_to_serialize)

    def load(self, path: Any, allow_pickle: bool = False, allow_unsafe_lm_state: bool = False) -> "Module":
        from ._saving import load

        load(self, path, allow_pickle, allow_unsafe_lm_state)
        return self

    # --- running many, and looking back ------------------------------------------------------------------------
    def batch(self, examples: list[Any], num_threads: int | None = None, max_errors: int | None = None,
              return_failed_examples: bool = False, provide_traceback: bool | None = None,
              disable_progress_bar: bool = False, timeout: int = 120, straggler_limit: int = 3) -> Any:
        """DSPy's ``batch``: ``Parallel`` over ``(self, example.inputs())``, results in the examples' order."""
        from ._batch import run_batch

        return run_batch(self, examples, num_threads, max_errors, return_failed_examples, provide_traceback,
                         disable_progress_bar, timeout, straggler_limit)

    def inspect_history(self, n: int = 1, file: TextIO | None = None) -> None:
        from ._history import print_history

        print_history(self.history, n, file)

    def __repr__(self) -> str:
        return "\n".join(f"{name} = {p}" for name, p in self.named_predictors())
