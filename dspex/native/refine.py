"""Native ``Refine``: BestOfN with advice between attempts, as DSPy 3.4.1 runs it.

Attempts run as in ``BestOfN`` (LM copies per rollout at temperature 1.0, a fresh trace each, DSPy's failure
rule). After an attempt below ``threshold`` (and not the last) the default LM is asked, through
``Predict(OfferFeedback)`` (``_feedback``), for advice per predictor name; the next attempts run with a
wrapper of the configured adapter (or a ChatAdapter) that gives each predictor a ``hint_`` input holding its
advice (``N/A`` when it has none). The advice step sits inside the attempt's ``try``: a failing feedback call
counts as a failed attempt, as in DSPy.

The feedback prompt shows ``inspect.getsource`` of the module's class and of the reward function; for a
native built-in module that is DSPy's class's source (``_source``), so the LM reads what DSPy would show.
"""

from __future__ import annotations

import inspect
import weakref
from typing import Any, Callable

from ..signature import InputField, SignatureMeta
from ._feedback import OfferFeedback, dump, inspect_modules
from ._module import Module, no_aforward
from ._rollouts import attempt_module, attempt_trace, bridge_hooks, keep_trace, report_failure, rollout_lm
from ._settings import settings
from ._source import module_source
from .predict import Predict

__all__ = ["Refine"]


_HINTED: "weakref.WeakKeyDictionary[Any, Any]" = weakref.WeakKeyDictionary()


def _with_hint(signature: Any) -> Any:
    """``signature.append("hint_", InputField(...))``, made once per signature class (signatures are immutable),
    so the adapter's per-signature prompt parts are built once instead of on every hinted call."""
    native = isinstance(signature, SignatureMeta)   # a dspy signature can change in place: never cached
    if native:
        hinted = _HINTED.get(signature)
        if hinted is not None:
            return hinted
    hinted = signature.append("hint_", InputField(desc="A hint to the module from an earlier run"))
    if native:
        _HINTED[signature] = hinted
    return hinted


_WRAPPERS: "weakref.WeakKeyDictionary[type, type]" = weakref.WeakKeyDictionary()


def _wrapper_class(base: type) -> type:
    """DSPy's ``WrapperAdapter`` subclass of ``base``, made once per adapter class (making a class costs more than
    the rest of a hinted attempt's set-up); what a call hints with lives in the instance's one slot, outside its
    ``__dict__``, so the instance's attributes are those of ``base()`` as in DSPy."""
    cls = _WRAPPERS.get(base)
    if cls is None:
        class WrapperAdapter(base):  # type: ignore[valid-type, misc]
            __slots__ = ("_dspex_hint",)

            def __call__(self, lm: Any, lm_kwargs: Any, signature: Any, demos: Any, inputs: Any) -> Any:
                adapter, advice, signature2name = self._dspex_hint
                inputs["hint_"] = advice.get(signature2name.get(signature), "N/A")
                return adapter(lm, lm_kwargs, _with_hint(signature), demos, inputs)

        cls = _WRAPPERS[base] = WrapperAdapter
    return cls


def _hinting_adapter(adapter: Any, advice: dict[str, Any], signature2name: dict[Any, str]) -> Any:
    """DSPy's ``WrapperAdapter``: a subclass of the adapter's class whose ``__call__`` adds the ``hint_`` input and
    hands the call to the original adapter (only ``__call__``: ``acall`` stays the class's own)."""
    wrapper = _wrapper_class(adapter.__class__)()
    wrapper._dspex_hint = (adapter, advice, signature2name)
    return wrapper


def _default_adapter() -> Any:
    adapter = settings.adapter
    if adapter:
        return adapter
    from ..adapters import ChatAdapter

    return ChatAdapter()


class Refine(Module):
    """``Refine(module, N, reward_fn, threshold, fail_count=None)``."""

    def __init__(self, module: Any, N: int, reward_fn: Callable[[dict, Any], float],  # noqa: N803
                 threshold: float, fail_count: int | None = None) -> None:
        self.module = module
        self.reward_fn = lambda *args: reward_fn(*args)  # a plain function: never walked as a parameter
        self.threshold = threshold
        self.N = N
        self.fail_count = fail_count or N
        self.module_code = module_source(module)
        try:
            self.reward_fn_code = inspect.getsource(reward_fn)
        except TypeError:
            self.reward_fn_code = inspect.getsource(reward_fn.__class__)

    def forward(self, **kwargs: Any) -> Any:
        lm, start = rollout_lm(self.module)
        best_pred, best_trace, best_reward = None, None, -float("inf")
        advice = None
        adapter = _default_adapter()
        for idx, rid in enumerate([start + i for i in range(self.N)]):
            mod = attempt_module(self.module, lm, rid)
            named = mod.named_predictors()
            predictor2name = {predictor: name for name, predictor in named}
            signature2name = {predictor.signature: name for name, predictor in named}
            module_names = [name for name, _ in named]
            try:
                with attempt_trace() as scope:
                    if not advice:
                        outputs = mod(**kwargs)
                    else:
                        with settings.context(adapter=_hinting_adapter(adapter, advice, signature2name)):
                            outputs = mod(**kwargs)
                    trace = scope.copy()
                    reward = self.reward_fn(kwargs, outputs)
                if reward > best_reward:
                    best_reward, best_pred, best_trace = reward, outputs, trace
                if self.threshold is not None and reward >= self.threshold:
                    break
                if idx == self.N - 1:
                    break
                advice = self._advice(mod, kwargs, outputs, trace.native, predictor2name, module_names, reward)
            except Exception as e:  # noqa: BLE001 - DSPy's rule for failed attempts
                report_failure(self, idx, f"Refine: Attempt failed with rollout id {rid}: {e}", e)
        keep_trace(best_trace)
        return best_pred

    def _advice(self, mod: Any, kwargs: dict[str, Any], outputs: Any, trace: list[Any],
                predictor2name: dict[Any, str], module_names: list[str], reward: Any) -> Any:
        """The feedback call: the default LM says, per predictor name, what to do differently."""
        modules_defn = inspect_modules(mod)   # DSPy's order of evaluation: the first failure is the same one
        trajectory = [{"module_name": predictor2name[p], "inputs": i, "outputs": dict(o)} for p, i, o in trace]
        program_outputs = dict(outputs)
        advise_kwargs = {
            "program_code": self.module_code,
            "modules_defn": modules_defn,
            "program_inputs": kwargs,
            "program_trajectory": trajectory,
            "program_outputs": program_outputs,
            "reward_code": self.reward_fn_code,
            "target_threshold": self.threshold,
            "reward_value": reward,
            "module_names": module_names,
        }
        feedback = Predict(OfferFeedback)
        twin = bridge_hooks()[3]   # (optional in the Bridge protocol)
        if twin is not None:   # inside a routed call in a DSPy program: DSPy's books for it (its trace entry)
            feedback._dspex_twin = twin(OfferFeedback)
        return feedback(**{k: dump(v) for k, v in advise_kwargs.items()}).advice

    aforward = no_aforward()   # DSPy's Refine has none: ``acall`` fails with DSPy's AttributeError
