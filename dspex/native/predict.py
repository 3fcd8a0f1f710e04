"""Native ``Predict``: DSPy's ``Predict`` call path (``_forward_preprocess`` step by step) without DSPy.

The call path is DSPy's, in DSPy's order: positional-argument check, per-call ``signature=`` / ``demos=`` /
``config=`` / ``lm=`` / ``prediction=``, LM resolution, the ``n > 1`` temperature rule, input defaults, the
three input warnings, then ``ChatAdapter()(lm, config, signature, demos, inputs)`` and
``Prediction.from_completions``. What differs, on purpose:

* construction never touches the global ``random`` (DSPy's draws ``stage`` from it); ``stage`` comes from
  ``os.urandom`` instead, so building a module cannot change a seeded program's random stream;
* per-signature facts are computed once and cached, the default adapter is built once: a call costs a few
  microseconds on top of the LM; sync and async share one pipeline (prepare, the adapter's format / call /
  parse, build), and the commonest call (exactly the signature's inputs, maybe ``lm=``; no demos, configured
  adapter or multi-sample LM; a config only for the LM) is the default ChatAdapter's plain round trip, bound once
  per signature on its cached plan, with the steps that would have nothing to do skipped
  (tests/unit/test_native_plain_path.py holds it to DSPy);
* any callable ``lm(messages=[...], **kwargs)`` is accepted (DSPy insists on ``dspy.BaseLM``), and a missing
  LM is a :class:`~dspex.errors.ConfigError` (a ``ValueError``, like DSPy's) that names ``lm=`` and
  ``dspex.configure``;
* there is no usage tracker, streaming or global callback list; instance ``callbacks`` get
  ``on_module_start`` / ``on_module_end``; the trace is native (``_trace``: kept only while BestOfN or Refine
  hold a scope open; DSPy's own trace is the bridge's business).
"""

from __future__ import annotations

import copy
import os
import sys
from typing import Any

from .. import hooks
from ..signature import check_signature, ensure_signature
from . import _trace
from ._callbacks import awith_callbacks, with_callbacks
from ._callers import CALLERS
from ._inputs import InputPlan, check_postprocess, plan_for, warn_about_inputs
from ._module import Module, Parameter
from ._prediction import Prediction, from_parsed
from ._preprocess import (ABSENT, LOGGER_NAME, PLAIN_CONFIG_EXCLUDES, _adapter, _bind_round_trips, _chat_adapter,
                          LM_FOR_GET, _check_lm, _dspy_leaves_plain, _plain_sampling, preprocess)
from ._settings import GLOBAL, LOCAL_GET, settings

__all__ = ["Predict"]

_TRACE = _trace.TRACE
_module_named = sys.modules.get
_NO_DEMOS: list[Any] = []   # what ``demos`` is compared with (never changed): no empty list made per call


class Predict(Module, Parameter):
    """Map inputs to outputs with one LM call: ``Predict("question -> answer")(question=...)``."""

    def __init__(self, signature: Any, callbacks: list[Any] | None = None, **config: Any) -> None:
        self.stage = os.urandom(8).hex()
        self.callbacks = list(callbacks or [])
        self.history: list[Any] = []
        self.signature = ensure_signature(signature)
        check_signature(self.signature)  # UnsupportedTypeError now, not a wrong prompt later
        self.fields: dict[str, Any] = {}
        self.config = config
        self._plan: InputPlan = plan_for(self.signature)
        self._plan_source: Any = self.signature
        self.reset()

    # --- DSPy's module API ----------------------------------------------------------------------------------
    def reset(self) -> None:
        self.lm: Any = None
        self.traces: list[Any] = []
        self.train: list[Any] = []
        self.demos: list[Any] = []

    def update_config(self, **kwargs: Any) -> None:
        self.config = {**self.config, **kwargs}

    def get_config(self) -> dict[str, Any]:
        return self.config

    def set_lm(self, lm: Any) -> None:
        self.lm = lm

    def get_lm(self) -> Any:
        return self.lm

    def dump_state(self, json_mode: bool = True) -> dict[str, Any]:
        """DSPy's state layout (traces, train, demos, signature, lm), so saved programs stay interchangeable."""
        from ._state import dump_predict_state

        return dump_predict_state(self, json_mode)

    def load_state(self, state: dict[str, Any], *, allow_unsafe_lm_state: bool = False) -> "Predict":
        """Restore a state saved by this class or by ``dspy.Predict``; a saved LM comes back as ``dspex.LM``."""
        from ._state import load_predict_state

        return load_predict_state(self, state, allow_unsafe_lm_state)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.signature})"

    # Copies share what is derived from the signature (its cached input plan; a signature class is never
    # copied anyway) and deep-copy the rest, as ``copy.deepcopy`` would: BestOfN and Refine copy the module on
    # every attempt, and deep-copying a plan's tuples of slots was most of an attempt's cost.
    _SHARED_ON_COPY = frozenset({"_plan", "_plan_source", "signature"})

    def __deepcopy__(self, memo: dict[int, Any]) -> "Predict":
        cls = type(self)
        new = cls.__new__(cls)
        memo[id(self)] = new
        shared = cls._SHARED_ON_COPY
        state = new.__dict__
        for key, value in self.__dict__.items():
            t = type(value)
            if key in shared or value is None or t is str:
                state[key] = value
            elif (t is list or t is dict) and not value:   # most of a Predict's state: empty lists and dicts
                state[key] = t()
            else:
                state[key] = copy.deepcopy(value, memo)
        return new

    # --- calling ----------------------------------------------------------------------------------------------
    def _positional_error(self) -> ValueError:
        names = list(self.signature.input_fields)
        return ValueError(
            "Positional arguments are not allowed when calling `dspy.Predict`, must use keyword arguments "
            f"that match your signature input fields: '{', '.join(names)}'. For example: "
            f"`predict({names[0]}=input_value, ...)`."
        )

    # A subclass that writes its own ``forward`` / ``aforward`` gets it called, as DSPy's ``Module.__call__`` does;
    # computed once per class so that the common call does not look it up.
    _own_forward = False
    _own_aforward = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._own_forward = cls.forward is not Predict.forward
        cls._own_aforward = cls.aforward is not Predict.aforward

    def __call__(self, *args: Any, **kwargs: Any) -> Prediction:
        if args:
            raise self._positional_error()
        if self.callbacks or self._own_forward or self._dspex_twin is not None or hooks.lm_history \
                or _TRACE.get() is not None:
            return self._call_with_books(kwargs)
        return self._run_here(kwargs)   # ``_run`` with nothing to keep books for

    def _call_with_books(self, kwargs: dict[str, Any]) -> Prediction:
        """Books to keep: calling modules (history), instance callbacks, own ``forward``, a twin's, the trace."""
        token = CALLERS.set(CALLERS.get() + (self,)) if hooks.lm_history and hooks.bridge is None else None
        try:
            if self.callbacks:
                return self._with_callbacks(kwargs)
            if self._own_forward:
                return self.forward(**kwargs)
            if self._dspex_twin is None and _TRACE.get() is None:
                return self._run_here(kwargs)
            return self._run(kwargs)
        finally:
            if token is not None:
                CALLERS.reset(token)

    async def acall(self, *args: Any, **kwargs: Any) -> Prediction:
        if args:
            raise self._positional_error()
        token = CALLERS.set(CALLERS.get() + (self,)) if hooks.lm_history and hooks.bridge is None else None
        try:
            if self.callbacks:
                return await self._awith_callbacks(kwargs)
            if self._own_aforward:
                return await self.aforward(**kwargs)
            return await self._arun(kwargs)
        finally:
            if token is not None:
                CALLERS.reset(token)

    def forward(self, **kwargs: Any) -> Prediction:
        return self._run(kwargs)

    async def aforward(self, **kwargs: Any) -> Prediction:
        return await self._arun(kwargs)

    # A routed module's native predictor points at its DSPy twin (``Module._dspex_twin``), so DSPy's books (trace,
    # callbacks, history) are kept for the object DSPy's optimizers know (see dspex.hooks); plain native modules
    # never have one. The native trace (``_trace``) records each call while BestOfN / Refine hold a scope open;
    # ``kwargs`` is consumed in place by the call, so afterwards it holds the inputs DSPy's trace records.
    def _run(self, kwargs: dict[str, Any]) -> Prediction:
        if self._dspex_twin is not None and hooks.bridge is not None:
            pred = hooks.bridge.run_predict(self, kwargs, self._run_here)
        else:
            pred = self._run_here(kwargs)
        if _TRACE.get() is not None:
            _trace.record(self, kwargs, pred)
        return pred

    async def _arun(self, kwargs: dict[str, Any]) -> Prediction:
        if self._dspex_twin is not None and hooks.bridge is not None:
            pred = await hooks.bridge.arun_predict(self, kwargs, self._arun_here)
        else:
            pred = await self._arun_here(kwargs)
        if _TRACE.get() is not None:
            _trace.record(self, kwargs, pred)
        return pred

    # --- the one pipeline: prepare, then the adapter (format, call the LM, parse), then build the Prediction ----
    # (Twins: the same steps, only the adapter call differs. One fresh dict from the adapter is used without a copy.)
    # The commonest call (see ``_plain_lm``) is the default ChatAdapter's plain round trip, read from the
    # signature's cached plan: the same steps, with none left to decide per call.
    def _run_here(self, kwargs: dict[str, Any]) -> Prediction:
        lm = self._plain_lm(kwargs)
        if lm is None:
            adapter, lm, config, signature, demos, inputs = self._prepare(kwargs)
            completions = adapter(lm, config, signature, demos, inputs)
            if "completions" in inputs:
                check_postprocess(inputs)
        else:
            plan = self._plan
            signature = plan._signature()   # (``plan.signature``, without the property's call)
            if plan.round_trip and (hooks.bridge is None or _dspy_leaves_plain(lm)):
                completions = plan.round_trip(plan.adapter, lm, kwargs, {**self.config} if self.config else None)
            else:   # agent roles, a dspy.LM (DSPy's capability planning) or adapter callbacks: adapters/_call.py
                completions = _chat_adapter()(lm, {**self.config}, signature, [], kwargs)
        if type(completions) is list and len(completions) == 1:
            return from_parsed(Prediction, completions[0], signature)
        return Prediction.from_completions(completions, signature=signature)

    async def _arun_here(self, kwargs: dict[str, Any]) -> Prediction:
        lm = self._plain_lm(kwargs)
        if lm is None:
            adapter, lm, config, signature, demos, inputs = self._prepare(kwargs)
            completions = await adapter.acall(lm, config, signature, demos, inputs)
            if "completions" in inputs:
                check_postprocess(inputs)
        else:
            plan = self._plan
            signature = plan._signature()
            if plan.around_trip and (hooks.bridge is None or _dspy_leaves_plain(lm)):
                completions = await plan.around_trip(plan.adapter, lm, kwargs, {**self.config} if self.config else None)
            else:
                completions = await _chat_adapter().acall(lm, {**self.config}, signature, [], kwargs)
        if type(completions) is list and len(completions) == 1:
            return from_parsed(Prediction, completions[0], signature)
        return Prediction.from_completions(completions, signature=signature)

    def _plain_lm(self, kwargs: dict[str, Any]) -> Any:
        """The LM of the commonest call, else None; ``kwargs`` is then left holding exactly the inputs.

        That call has exactly the signature's inputs (maybe ``lm=``), no demos or configured adapter, a config that
        only rides along to the LM, an LM that asks for one sample: most of DSPy's preprocessing has nothing to do.
        """
        plan = self._plan
        if self._plan_source is not self.signature:  # module.signature was reassigned (an optimizer, an engine sync)
            plan = self._plan = plan_for(self.signature)
            self._plan_source = self.signature
        config = self.config
        if not plan.plain or self.demos != _NO_DEMOS or type(config) is not dict or (
                config and not PLAIN_CONFIG_EXCLUDES.isdisjoint(config)):
            return None
        # The keywords are exactly the inputs, maybe with ``lm`` (which a plain plan's inputs are not named): counted,
        # then looked up one by one (cheaper than comparing ``kwargs.keys()`` with a set, for the few inputs a
        # signature has).
        names = plan.names
        given_lm = "lm" in kwargs
        if len(kwargs) != len(names) + given_lm:
            return None
        for name in names:
            if name not in kwargs:
                return None
        # ``settings.current()``, its common case inlined (no context override, no bridge, DSPy not loaded)
        current = GLOBAL if LOCAL_GET() is None and hooks.bridge is None and _module_named("dspy") is None \
            else settings.current()
        if current["adapter"] is not None or not current["plain"]:
            return None
        if plan.round_trip is None:
            _bind_round_trips(plan)
        given = kwargs.pop("lm") if given_lm else self.lm   # DSPy's ``kwargs.pop("lm", self.lm) or settings.lm``
        lm = given or current["lm"]
        if not callable(lm) or isinstance(lm, str):   # (None is not callable)
            _check_lm(lm)   # raises DSPy's error for it
        if (config or getattr(lm, "kwargs", ABSENT) is not ABSENT) and not _plain_sampling(lm, config):
            if given_lm:
                kwargs["lm"] = given   # back for the general steps, which take it again first
            return None
        if plan.typed:
            warn_about_inputs(LOGGER_NAME, plan, kwargs, bool(current["warn_on_type_mismatch"]))
        return lm if not given or (stand_in := LM_FOR_GET()) is None else stand_in(given)   # shadow's (_stand_ins)

    def _prepare(self, kwargs: dict[str, Any]) -> tuple[Any, Any, dict[str, Any], Any, Any, dict[str, Any]]:
        """DSPy's ``_forward_preprocess``: ``(adapter, lm, config, signature, demos, inputs)`` for this call."""
        current = settings.current()
        lm, config, signature, demos, inputs = self._preprocess(kwargs, current)
        return _adapter(current), lm, config, signature, demos, inputs

    # DSPy's general ``_forward_preprocess`` steps (native/_preprocess.py), as a method: subclasses and tests see
    # ``Predict._preprocess`` as before, and the call pays no extra layer for the function living elsewhere.
    _preprocess = preprocess

    # --- instance callbacks (native/_callbacks.py): only a call with ``self.callbacks`` set goes through them ----
    _with_callbacks = with_callbacks
    _awith_callbacks = awith_callbacks

