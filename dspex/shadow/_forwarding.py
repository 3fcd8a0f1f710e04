"""What shadow's LM stand-ins forward from the LM they stand for, and how they copy (shared by the recorder in
front of the control and the replayer in front of the candidate, ``_lm``)."""

from __future__ import annotations

import copy
from typing import Any

__all__ = ["_Forwarding"]


class _Forwarding:
    """The attributes adapters read, taken from the wrapped LM (or from a recorded transcript's description)."""

    _inner: Any
    _attrs: dict[str, Any]

    def _get(self, name: str, default: Any) -> Any:
        if name in self._attrs:
            return self._attrs[name]
        return getattr(self._inner, name, default) if self._inner is not None else default

    @property
    def kwargs(self) -> dict[str, Any]:  # type: ignore[override]
        return self._get("kwargs", {}) or {}

    @property
    def supported_params(self) -> set[str]:
        return set(self._get("supported_params", set()) or ())

    @property
    def supports_response_schema(self) -> bool:
        return bool(self._get("supports_response_schema", False))

    @property
    def supports_function_calling(self) -> bool:
        return bool(self._get("supports_function_calling", False))

    @property
    def supports_reasoning(self) -> bool:
        return bool(self._get("supports_reasoning", False))

    @property
    def model(self) -> Any:  # type: ignore[override]
        return self._get("model", None)

    @model.setter
    def model(self, value: Any) -> None:
        self._attrs["model"] = value

    @property
    def model_type(self) -> str:
        return self._get("model_type", "chat")

    @model_type.setter
    def model_type(self, value: str) -> None:
        self._attrs["model_type"] = value

    def _init_base(self) -> None:
        # What BaseLM.__init__ would have set and DSPy code may touch; kwargs/model stay forwarded.
        self.history: list[Any] = []
        self.callbacks: list[Any] = []
        self.cache = False
        self.num_retries = 0

    # One call's stand-ins, by the LM each stands for: ``{id(lm): (lm, stand_in)}``, shared by the whole family
    # (rollout copies and stand-ins alike), so an LM two predictors hold gets one stand-in (``get_lm`` needs one).
    _stand_ins: dict[int, tuple[Any, Any]]

    def _records_here(self, lm: Any) -> bool:
        raise NotImplementedError

    def standing_for(self, lm: Any) -> Any:
        """A stand-in like this one, writing to (or replaying from) the same transcript, in front of ``lm``: one of
        the other LMs the same call uses (a predictor's own LM, the default one). Its adapter-visible attributes
        are ``lm``'s. ``lm`` itself when it already is one of this call's stand-ins."""
        if lm is None or lm is self or self._records_here(lm):
            return lm
        hit = self._stand_ins.get(id(lm))
        if hit is not None and hit[0] is lm:
            return hit[1]
        new = copy.copy(self)
        new._inner, new._attrs = lm, {}
        new.history, new.callbacks = [], []
        self._stand_ins[id(lm)] = (lm, new)
        return new

    def _copied(self, kwargs: dict[str, Any]) -> Any:
        """A shallow copy whose ``kwargs`` are updated as ``BaseLM.copy`` updates them (BestOfN and Refine copy the
        LM per rollout: ``lm.copy(rollout_id=i, temperature=1.0)``); what the stand-in records or replays from is
        shared with the original."""
        new = copy.copy(self)
        new._attrs = dict(self._attrs)
        new.history, new.callbacks = [], list(self.callbacks)
        merged = dict(self.kwargs)
        for key, value in kwargs.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
        new._attrs["kwargs"] = merged
        return new
