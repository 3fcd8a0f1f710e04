"""Native ``MultiChainComparison``: compare M earlier attempts and answer once more, as DSPy 3.4.1 does.

The signature gains one ``reasoning_attempt_i`` input per attempt (prefix ``Student Attempt #i:``) and a leading
``rationale`` output; each attempt is shown as ``«I'm trying to <first line of its rationale> I'm not sure but my
prediction is <first line of its last output>»``. The attribute names are DSPy's (``M``, ``last_key``,
``predict``), so ``named_predictors()`` says ``predict`` on both sides and a routed module shares its state.
"""

from __future__ import annotations

from typing import Any

from ..signature import InputField, OutputField, ensure_signature
from ._module import Module, no_aforward
from ._prediction import Prediction
from .predict import Predict

__all__ = ["MultiChainComparison"]


def _attempt(completion: Any, last_key: str) -> str:
    """One attempt's line. ``get`` on a dict or a Prediction; the ``reasoning`` default is looked up first, as
    DSPy's eager ``c.get("rationale", c.get("reasoning"))`` does (a missing one is then ``None.strip()``).
    For a string (``str.strip`` always returns one), ``partition`` gives ``split("\n")[0]`` without splitting
    the rest; anything else that has ``strip`` keeps DSPy's ``split``."""
    rationale = completion.get("rationale", completion.get("reasoning")).strip()
    rationale = (rationale.partition("\n") if type(rationale) is str else rationale.split("\n"))[0].strip()
    answer = str(completion[last_key]).strip().partition("\n")[0].strip()
    return f"«I'm trying to {rationale} I'm not sure but my prediction is {answer}»"


# ``reasoning_attempt_1`` ... made once; a longer run of names replaces the tuple whole (safe between threads).
_NAMES: tuple[str, ...] = ()


def _names(m: int) -> tuple[str, ...]:
    global _NAMES
    names = _NAMES
    if len(names) < m:
        names = _NAMES = tuple(f"reasoning_attempt_{i + 1}" for i in range(max(m, 8)))
    return names


class MultiChainComparison(Module):
    """``MultiChainComparison(signature, M=3, temperature=0.7, **config)``; call with ``completions=`` (M of them)."""

    def __init__(self, signature: Any, M: int = 3, temperature: float = 0.7, **config: Any) -> None:  # noqa: N803
        self.callbacks: list[Any] = []
        self.history: list[Any] = []
        self.M = M
        signature = ensure_signature(signature)
        *_, self.last_key = signature.output_fields.keys()
        for idx in range(M):
            field = InputField(prefix=f"Student Attempt #{idx + 1}:", desc="${reasoning attempt}")
            signature = signature.append(f"reasoning_attempt_{idx + 1}", field)
        rationale = OutputField(
            prefix="Accurate Reasoning: Thank you everyone. Let's now holistically",
            desc="${corrected reasoning}",
        )
        signature = signature.prepend("rationale", rationale)
        self.predict = Predict(signature, temperature=temperature, **config)

    def forward(self, completions: Any, **kwargs: Any) -> Prediction:
        attempts = [_attempt(c, self.last_key) for c in completions]
        # DSPy's ``assert`` (gone under ``python -O``, as here); raised explicitly so that pytest's assertion
        # rewriting of installed plugins' packages cannot change the message.
        if __debug__ and len(attempts) != self.M:
            raise AssertionError(
                f"The number of attempts ({len(attempts)}) doesn't match the expected number M ({self.M}). Please "
                "set the correct value for M when initializing MultiChainComparison."
            )
        inputs = dict(zip(_names(len(attempts)), attempts))   # DSPy's ``{**attempts, **kwargs}``: same keys, order
        inputs.update(kwargs)
        return self.predict(**inputs)

    aforward = no_aforward()   # DSPy's has none: ``acall`` fails with DSPy's AttributeError
