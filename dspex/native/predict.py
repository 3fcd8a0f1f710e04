"""Native ``Predict``: DSPy's ``Predict`` call path (``_forward_preprocess`` step by step) without DSPy.

The call path is DSPy's, in DSPy's order: positional-argument check, per-call ``signature=`` / ``demos=`` /
``config=`` / ``lm=`` / ``prediction=``, LM resolution, the ``n > 1`` temperature rule, input defaults, the
three input warnings, then ``ChatAdapter()(lm, config, signature, demos, inputs)`` and
``Prediction.from_completions``. What differs, on purpose:

* construction never touches the global ``random`` (DSPy's draws ``stage`` from it); ``stage`` comes from
  ``os.urandom`` instead, so building a module cannot change a seeded program's random stream;
* per-signature facts are computed once and cached, the default adapter is built once: a call costs a few
  microseconds on top of the adapter and the LM; sync and async share one pipeline (prepare, the adapter's
  format / call / parse, build), and the commonest call (exactly the signature's inputs, maybe ``lm=``; no
  demos, config, configured adapter or multi-sample LM) is prepared with the steps that would have nothing to
  do skipped (tests/unit/test_native_plain_path.py holds it to DSPy);
* any callable ``lm(messages=[...], **kwargs)`` is accepted (DSPy insists on ``dspy.BaseLM``), and a missing
  LM is a :class:`~dspex.errors.ConfigError` (a ``ValueError``, like DSPy's) that names ``lm=`` and
  ``dspex.configure``;
* there is no usage tracker, streaming or global callback list; instance ``callbacks`` get
  ``on_module_start`` / ``on_module_end``; the trace is native (``_trace``: kept only while BestOfN or Refine
  hold a scope open; DSPy's own trace is the bridge's business).
"""

from __future__ import annotations

import os
from typing import Any

from .. import hooks
from ..errors import ConfigError
from ..signature import SignatureMeta, check_signature, ensure_signature, is_dspy_signature
from . import _trace
from ._inputs import InputPlan, _logger, check_postprocess, plan_for, warn_about_inputs
from ._module import Module, Parameter
from ._prediction import Prediction
from ._settings import settings

__all__ = ["Predict"]

LOGGER_NAME = __name__  # "dspex.native.predict"; logging itself is imported only when a warning is due
CALLBACK_LOGGER = "dspex.native.callbacks"

_default_adapter: Any = None
_TRACE = _trace.TRACE
_EMPTY: dict[str, Any] = {}  # read-only stand-in for "no per-call config" (saves a dict per call)


def _adapter(current: dict[str, Any]) -> Any:
    """The configured adapter, else one shared ChatAdapter (stateless, so building it per call is waste)."""
    configured = current["adapter"]
    if configured is not None:
        return configured
    return _chat_adapter()


def _chat_adapter() -> Any:
    global _default_adapter
    if _default_adapter is None:
        from ..adapters import ChatAdapter

        _default_adapter = ChatAdapter()
    return _default_adapter


def _samples(lm: Any) -> bool:
    """Whether the LM's own kwargs ask for several samples (then DSPy's temperature rule may add a kwarg)."""
    defaults = getattr(lm, "kwargs", None)
    if not defaults:
        return False
    n = defaults.get("n") or defaults.get("num_generations") or 1
    return not (type(n) is int and n <= 1)  # anything unusual takes the general path and its exact errors


def _check_lm(lm: Any) -> Any:
    if lm is None:
        raise ConfigError(
            "No LM is configured for this native module. Pass one per call (module(..., lm=my_lm)), set it on the "
            "module (module.set_lm(my_lm)), or configure a default: "
            "dspex.configure(lm=dspex.LM('openai/gpt-4o-mini')). Any callable lm(messages=[...], **kwargs) works."
        )
    # DSPy's own ValueErrors, class and text (the parity contract): a string, or an object that cannot be called.
    if isinstance(lm, str):
        raise ValueError(
            f"LM must be an instance of `dspy.BaseLM`, not a string. Instead of using a string like "
            f"'dspy.configure(lm=\"{lm}\")', please configure the LM like 'dspy.configure(lm=dspy.LM(\"{lm}\"))'"
        )
    if not callable(lm):
        raise ValueError(f"LM must be a dspy.BaseLM or a decision-request client, not {type(lm)}.")
    return lm


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
        import copy

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
        if self.callbacks:
            return self._with_callbacks(kwargs)
        if self._own_forward:
            return self.forward(**kwargs)
        return self._run(kwargs)

    async def acall(self, *args: Any, **kwargs: Any) -> Prediction:
        if args:
            raise self._positional_error()
        if self.callbacks:
            return await self._awith_callbacks(kwargs)
        if self._own_aforward:
            return await self.aforward(**kwargs)
        return await self._arun(kwargs)

    def forward(self, **kwargs: Any) -> Prediction:
        return self._run(kwargs)

    async def aforward(self, **kwargs: Any) -> Prediction:
        return await self._arun(kwargs)

    # A routed module's native predictor points at its DSPy twin, so DSPy's books (trace, callbacks, history) are
    # kept for the object DSPy's optimizers know (see dspex.hooks); plain native modules never have one.
    _dspex_twin: Any = None

    # The native trace (``_trace``) records each call while BestOfN / Refine hold a scope open; ``kwargs`` is
    # consumed in place by the call, so afterwards it holds the inputs DSPy's trace records.
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
    def _run_here(self, kwargs: dict[str, Any]) -> Prediction:
        adapter, lm, config, signature, demos, inputs = self._prepare(kwargs)
        completions = adapter(lm, config, signature, demos, inputs)
        if "completions" in inputs:
            check_postprocess(inputs)
        if type(completions) is list and len(completions) == 1:
            return Prediction._from_parsed(completions[0], signature)
        return Prediction.from_completions(completions, signature=signature)

    async def _arun_here(self, kwargs: dict[str, Any]) -> Prediction:
        adapter, lm, config, signature, demos, inputs = self._prepare(kwargs)
        completions = await adapter.acall(lm, config, signature, demos, inputs)
        if "completions" in inputs:
            check_postprocess(inputs)
        if type(completions) is list and len(completions) == 1:
            return Prediction._from_parsed(completions[0], signature)
        return Prediction.from_completions(completions, signature=signature)

    def _prepare(self, kwargs: dict[str, Any]) -> tuple[Any, Any, dict[str, Any], Any, Any, dict[str, Any]]:
        """DSPy's ``_forward_preprocess``: ``(adapter, lm, config, signature, demos, inputs)`` for this call."""
        plan = self._plan
        if self._plan_source is not self.signature:  # module.signature was reassigned (an optimizer, an engine sync)
            plan = self._plan = plan_for(self.signature)
            self._plan_source = self.signature
        current = settings.current()
        # The commonest call (exactly the signature's inputs, maybe lm=; no demos, config, configured adapter or
        # multi-sample LM) leaves most of the preprocessing nothing to do; the plan knows when (``plan.plain``).
        if (
            plan.plain
            and not self.config
            and self.demos == []
            and (kwargs.keys() == plan.name_set or kwargs.keys() == plan.name_set_lm)
            and current["adapter"] is None
            and current["plain"]
        ):
            lm = _check_lm(kwargs.get("lm", self.lm) or current["lm"])
            if not _samples(lm):   # (several samples: DSPy's temperature rule may apply, so the general steps)
                kwargs.pop("lm", None)
                if plan.typed:
                    warn_about_inputs(LOGGER_NAME, plan, kwargs, bool(current["warn_on_type_mismatch"]))
                return _chat_adapter(), lm, {}, plan.signature, [], kwargs
        lm, config, signature, demos, inputs = self._preprocess(kwargs, current)
        return _adapter(current), lm, config, signature, demos, inputs

    def _preprocess(
        self, kwargs: dict[str, Any], current: dict[str, Any]
    ) -> tuple[Any, dict[str, Any], Any, Any, dict[str, Any]]:
        """DSPy's ``_forward_preprocess``; ``kwargs`` is this call's own dict, so it is consumed in place."""
        if "new_signature" in kwargs:
            raise AssertionError("new_signature is no longer a valid keyword argument.")
        plan = self._plan
        given: Any = None
        if "signature" in kwargs:
            given = kwargs.pop("signature")
            # DSPy only reads a per-call signature's fields after resolving the LM: anything that is not a
            # signature (None included) fails there, with Python's AttributeError, after the LM errors.
            plan = plan_for(given) if isinstance(given, (str, SignatureMeta)) or is_dspy_signature(given) else None
        elif self._plan_source is not self.signature:  # module.signature was reassigned since the last call
            plan = self._plan = plan_for(self.signature)
            self._plan_source = self.signature
        demos = kwargs.pop("demos", self.demos)
        config = {**self.config, **kwargs.pop("config", _EMPTY)}
        lm = _check_lm(kwargs.pop("lm", self.lm) or current["lm"])

        # With n > 1 and an unset or near-zero temperature, sample at 0.7 so the completions differ (DSPy's rule;
        # note ``or``: an explicit 0.0 counts as unset).
        defaults = getattr(lm, "kwargs", _EMPTY)
        temperature = config.get("temperature") or defaults.get("temperature")
        n = config.get("n") or defaults.get("n") or defaults.get("num_generations") or 1
        if (temperature is None or temperature <= 0.15) and n > 1:
            config["temperature"] = 0.7

        if plan is None:
            given.input_fields  # noqa: B018 - raises DSPy's AttributeError for a non-signature
        signature = plan.signature

        prediction = kwargs.get("prediction")
        if isinstance(prediction, dict) and prediction.get("type") == "content" and "content" in prediction:
            config["prediction"] = kwargs.pop("prediction")  # OpenAI "predicted outputs": an LM kwarg, not an input

        for name, default in plan.defaults:
            if name not in kwargs:
                kwargs[name] = default
        if plan.typed or kwargs.keys() != plan.name_set:  # else there is nothing to warn about
            warn_about_inputs(LOGGER_NAME, plan, kwargs, bool(current["warn_on_type_mismatch"]))
        return lm, config, signature, demos, kwargs

    # --- instance callbacks ---------------------------------------------------------------------------------
    # DSPy wraps ``Module.__call__(self, *args, **kwargs)`` / ``acall``: callbacks see its bound arguments,
    # ``{"args": (), "kwargs": {...}}``, and a failing callback is logged with DSPy's texts, then ignored.
    def _with_callbacks(self, kwargs: dict[str, Any]) -> Prediction:
        call_id = self._start(kwargs)
        try:
            result = self.forward(**kwargs) if self._own_forward else self._run(kwargs)
        except BaseException as exc:
            self._end(call_id, None, exc, "__call__")
            raise
        self._end(call_id, result, None, "__call__")
        return result

    async def _awith_callbacks(self, kwargs: dict[str, Any]) -> Prediction:
        call_id = self._start(kwargs)
        try:
            result = await (self.aforward(**kwargs) if self._own_aforward else self._arun(kwargs))
        except BaseException as exc:
            self._end(call_id, None, exc, "acall")
            raise
        self._end(call_id, result, None, "acall")
        return result

    def _start(self, kwargs: dict[str, Any]) -> str:
        call_id = os.urandom(16).hex()
        inputs = {"args": (), "kwargs": dict(kwargs)}
        for cb in self.callbacks:
            try:
                cb.on_module_start(call_id=call_id, instance=self, inputs=inputs)
            except Exception as e:  # a broken callback must not break the call (DSPy logs and goes on too)
                _logger(CALLBACK_LOGGER).warning(f"Error when calling callback {cb}: {e}")
        return call_id

    def _end(self, call_id: str, outputs: Any, exception: BaseException | None, fn_name: str) -> None:
        for cb in self.callbacks:
            try:
                cb.on_module_end(call_id=call_id, outputs=outputs, exception=exception)
            except Exception as e:
                _logger(CALLBACK_LOGGER).warning(
                    f"Error when applying callback {cb}'s end handler on function {fn_name}: {e}."
                )
