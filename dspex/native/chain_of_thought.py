"""Native ``ChainOfThought``: a ``Predict`` whose signature gains a leading ``reasoning`` output, as in DSPy."""

from __future__ import annotations

from typing import Any

from .. import hooks
from ..errors import SignatureError
from ..signature import Field, OutputField, ensure_signature
from ._module import Module
from ._prediction import Prediction
from ._trace import TRACE as _TRACE
from .predict import Predict

__all__ = ["ChainOfThought"]


def _native_field(field: Any) -> Field:
    """Accept a native field or a ``dspy.OutputField()`` (read by duck typing: dspy is never imported here)."""
    if isinstance(field, Field):
        return field
    extra = getattr(field, "json_schema_extra", None)
    if isinstance(extra, dict) and "__dspy_field_type" in extra and hasattr(field, "annotation"):
        kind = extra["__dspy_field_type"]
        if kind not in ("input", "output"):
            raise SignatureError(f"rationale_field has an unknown DSPy field type {kind!r}; use OutputField().")
        from ..signature import field_from_dspy  # desc=None, defaults, constraints: read as DSPy has them

        return field_from_dspy(field)
    raise SignatureError(
        f"rationale_field must be made by dspex.native.OutputField(...) or dspy.OutputField(...), not {field!r}."
    )


class ChainOfThought(Module):
    """Reason step by step, then answer: ``ChainOfThought("question -> answer")`` adds ``reasoning``."""

    def __init__(
        self,
        signature: Any,
        rationale_field: Any = None,
        rationale_field_type: Any = str,
        **config: Any,
    ) -> None:
        signature = ensure_signature(signature)
        if rationale_field:
            field = _native_field(rationale_field)
            rationale_field_type = field.annotation
        else:
            field = OutputField(desc="${reasoning}")
        extended = signature.prepend(name="reasoning", field=field, type_=rationale_field_type)
        self.callbacks: list[Any] = []
        self.history: list[Any] = []
        self.predict = Predict(extended, **config)

    # Called through Module.__call__, as in DSPy, so that binding errors name the same function (an input named
    # ``self`` is "Module.__call__() got multiple values for argument 'self'"). Keyword-only, like DSPy's: a
    # positional argument is a TypeError naming ``ChainOfThought.forward()``. Module.__call__ hands its own dict of
    # keywords straight to ``_forward_dict`` (no second dict per call) unless a subclass writes its own ``forward``.
    def forward(self, **kwargs: Any) -> Prediction:
        return self._forward(kwargs)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.forward is not ChainOfThought.forward or cls._forward is not ChainOfThought._forward:
            cls._forward_dict = None   # its own forward: called as DSPy calls it

    def _forward(self, kwargs: dict[str, Any]) -> Prediction:
        predict = self.predict
        # ``Predict.__call__``'s steps on this call's own dict (no second dict of keywords): the books it keeps (the
        # chain of calling modules whose history the LM call reaches, callbacks, a twin's, the trace), if any.
        if type(predict) is Predict:
            if predict.callbacks or hooks.lm_history or predict._dspex_twin is not None or _TRACE.get() is not None:
                return predict._call_with_books(kwargs)
            return predict._run_here(kwargs)
        return predict(**kwargs)

    _forward_dict = _forward

    async def aforward(self, **kwargs: Any) -> Prediction:
        return await self.predict.acall(**kwargs)
