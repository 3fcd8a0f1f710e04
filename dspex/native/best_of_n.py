"""Native ``BestOfN``: run a module up to N times and keep the best-rewarded prediction, as DSPy 3.4.1 does.

Attempt ``i`` runs a deep copy of ``module`` on ``lm.copy(rollout_id=start + i, temperature=1.0)`` (see
``_rollouts``), in a fresh trace; ``reward_fn(kwargs, prediction)`` scores it; the first attempt scoring at or
above ``threshold`` stops the loop, else the highest score so far is kept (ties keep the earlier one). An attempt
that raises (the module, the reward function, or comparing a reward that is not a number) is printed and
counted; see ``_rollouts.report_failure`` for DSPy's rule. All attempts failing returns ``None``, as in DSPy.
The attributes are DSPy's (``module``, ``reward_fn``, ``threshold``, ``N``, ``fail_count``), so
``named_predictors()`` says ``module.<name>`` on both sides.
"""

from __future__ import annotations

from typing import Any, Callable

from ._module import Module, no_aforward
from ._rollouts import attempt_module, attempt_trace, keep_trace, report_failure, rollout_lm

__all__ = ["BestOfN"]


class BestOfN(Module):
    """``BestOfN(module, N, reward_fn, threshold, fail_count=None)``."""

    def __init__(self, module: Any, N: int, reward_fn: Callable[[dict, Any], float],  # noqa: N803
                 threshold: float, fail_count: int | None = None) -> None:
        self.module = module
        self.reward_fn = lambda *args: reward_fn(*args)  # a plain function: never walked as a parameter
        self.threshold = threshold
        self.N = N
        self.fail_count = fail_count or N

    def forward(self, **kwargs: Any) -> Any:
        lm, start = rollout_lm(self.module)
        best_pred, best_trace, best_reward = None, None, -float("inf")
        for idx, rid in enumerate([start + i for i in range(self.N)]):
            mod = attempt_module(self.module, lm, rid)
            try:
                with attempt_trace() as scope:
                    pred = mod(**kwargs)
                    trace = scope.copy()
                    reward = self.reward_fn(kwargs, pred)
                if reward > best_reward:
                    best_reward, best_pred, best_trace = reward, pred, trace
                if reward >= self.threshold:
                    break
            except Exception as e:  # noqa: BLE001 - DSPy's rule for failed attempts
                report_failure(self, idx, f"BestOfN: Attempt {idx + 1} failed with rollout id {rid}: {e}", e)
        keep_trace(best_trace)
        return best_pred

    aforward = no_aforward()   # DSPy's BestOfN has none: ``acall`` fails with DSPy's AttributeError
