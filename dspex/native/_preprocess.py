"""``Predict``'s per-call preparation: DSPy's ``_forward_preprocess`` steps, the LM and adapter checks, and the
plain call's round trip bound on the input plan (``_bind_round_trips``).

``Predict._prepare`` (native/predict.py) takes the plain call's short cut; everything else comes here,
through :func:`preprocess` (``Predict._preprocess``). The functions are imported into predict.py at module
level, so a call finds them as it always did: one global lookup, no extra layer.
"""

from __future__ import annotations

from typing import Any

from .. import hooks
from ..errors import ConfigError
from ..signature import SignatureMeta, is_dspy_signature
from ._inputs import InputPlan, plan_for, warn_about_inputs
from ._stand_ins import LM_FOR

__all__ = ["preprocess"]

LM_FOR_GET = LM_FOR.get   # (Predict's plain call reads it too)

# Predict's input warnings go to the logger DSPy's Predict warns on (``dspy.predict.predict``), so a program's
# logging set-up for DSPy (levels, handlers, DSPy's own format once it is loaded) applies to them alike (logging
# itself is imported only when a warning is due).
LOGGER_NAME = "dspy.predict.predict"

_default_adapter: Any = None
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


# A config holding none of these keys (a temperature, max_tokens...) only rides along to the LM, so the plain call
# passes a copy of it (DSPy's ``{**self.config}``); these ask for DSPy's sampling rule or the adapter's tool handling.
PLAIN_CONFIG_EXCLUDES = frozenset({"n", "num_generations", "tools", "tool_choice", "parallel_tool_calls"})
_NUMBERS = frozenset({int, float, type(None)})
_COUNTS = frozenset({int, type(None)})
ABSENT: Any = object()


def _plain_sampling(lm: Any, config: dict[str, Any]) -> bool:
    """Whether DSPy's sampling rule (``n > 1`` with an unset or low temperature samples at 0.7) has nothing to do
    for this call, and nothing to raise: one sample, and a temperature (the config's, else the LM's own) that is a
    plain number or unset. DSPy compares the temperature before it looks at ``n``, so ``"hot" <= 0.15`` fails a
    one-sample call too; anything unusual takes the general steps and their exact errors."""
    defaults = getattr(lm, "kwargs", ABSENT)
    if defaults is ABSENT:
        defaults = _EMPTY
    elif type(defaults) is not dict:
        return False
    temperature = config.get("temperature")
    if type(temperature) not in _NUMBERS:
        return False
    if not temperature and type(defaults.get("temperature")) not in _NUMBERS:
        return False
    n, generations = defaults.get("n"), defaults.get("num_generations")
    return type(n) in _COUNTS and type(generations) in _COUNTS and (n or generations or 1) <= 1


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


def _dspy_leaves_plain(lm: Any) -> bool:
    """With DSPy loaded, whether a plain call's round trip stays plain: no capability planning for the LM (a
    ``dspy.LM``) and no adapter callbacks to report format and parse to (the adapter's general steps do both)."""
    bridge = hooks.bridge
    return bridge is None or not (bridge.plans_capabilities(lm) or bridge.adapter_events())


def _bind_round_trips(plan: InputPlan) -> None:
    """Keep on the input plan the default ChatAdapter's plain round trips (sync, async) bound to its own plan for
    the signature, or ``False`` when that plan is not plain (agent roles: the adapter's general steps)."""
    adapter = _chat_adapter()
    chat = adapter.plan(plan.signature)
    if chat.plain:   # the plan's own round trips (_call.plain_trips), called with ``plan.adapter``
        plan.adapter = adapter
        plan.round_trip = chat.trip
        plan.around_trip = chat.atrip
    else:
        plan.round_trip = plan.around_trip = False


def preprocess(
    self: Any, kwargs: dict[str, Any], current: dict[str, Any]
) -> tuple[Any, dict[str, Any], Any, Any, dict[str, Any]]:
    """DSPy's ``_forward_preprocess`` (``Predict._preprocess``: ``self`` is the Predict); ``kwargs`` is this
    call's own dict, so it is consumed in place."""
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
    held = kwargs.pop("lm", self.lm)
    if held:   # shadow's stand-in for an LM given or held (``_stand_ins``); the default one needs none
        stand_in = LM_FOR_GET()
        if stand_in is not None:
            held = stand_in(held)
    lm = _check_lm(held or current["lm"])

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
