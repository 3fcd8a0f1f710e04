"""``Module``: the native counterpart of ``dspy.Module``, a base for composite native programs.

``__call__`` / ``acall`` live here (as in DSPy) so that errors raised while binding the call name the same
function DSPy's do (``Module.acall() got multiple values for argument 'self'`` for an input named ``self``).
A user's own native module subclasses this, sets ``Predict`` / ``ChainOfThought`` attributes and writes
``forward`` (and ``aforward``), exactly as with DSPy.
"""

from __future__ import annotations

from typing import Any, Iterator

__all__ = ["Module"]


class Module:
    """Base class for native programs: ``forward(**inputs)`` does the work, calling the module runs it."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    async def acall(self, *args: Any, **kwargs: Any) -> Any:
        return await self.aforward(*args, **kwargs)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward(**inputs).")

    async def aforward(self, *args: Any, **kwargs: Any) -> Any:
        """Default: run ``forward`` (subclasses that call LMs should await ``predictor.acall`` instead)."""
        return self.forward(*args, **kwargs)

    # --- the predictors inside (DSPy's named_parameters walk, restricted to Predict) ------------------------
    def named_predictors(self) -> list[tuple[str, Any]]:
        return list(_walk(self, "", set()))

    def predictors(self) -> list[Any]:
        return [p for _, p in self.named_predictors()]

    def set_lm(self, lm: Any) -> None:
        for _, predictor in self.named_predictors():
            predictor.lm = lm

    def get_lm(self) -> Any:
        lms = [p.lm for _, p in self.named_predictors()]
        if len(set(map(id, lms))) == 1:
            return lms[0]
        raise ValueError("Multiple LMs are being used in the module. There's no unique LM to return.")

    def dump_state(self, json_mode: bool = True) -> dict[str, Any]:
        return {name: p.dump_state(json_mode) for name, p in self.named_predictors()}

    def load_state(self, state: dict[str, Any], *, allow_unsafe_lm_state: bool = False) -> "Module":
        for name, p in self.named_predictors():
            p.load_state(state[name], allow_unsafe_lm_state=allow_unsafe_lm_state)
        return self

    def __repr__(self) -> str:
        return "\n".join(f"{name} = {p}" for name, p in self.named_predictors())


def _walk(obj: Any, prefix: str, seen: set[int]) -> Iterator[tuple[str, Any]]:
    from .predict import Predict

    for name, value in vars(obj).items():
        if id(value) in seen or name.startswith("_"):
            continue
        path = f"{prefix}{name}"
        if isinstance(value, Predict):
            seen.add(id(value))
            yield path, value
        elif isinstance(value, Module):
            seen.add(id(value))
            yield from _walk(value, f"{path}.", seen)
        elif isinstance(value, (list, tuple)):
            for i, item in enumerate(value):
                if isinstance(item, Predict) and id(item) not in seen:
                    seen.add(id(item))
                    yield f"{path}[{i}]", item
                elif isinstance(item, Module) and id(item) not in seen:
                    seen.add(id(item))
                    yield from _walk(item, f"{path}[{i}].", seen)
        elif isinstance(value, dict):
            for key, item in value.items():
                if isinstance(item, Predict) and id(item) not in seen:
                    seen.add(id(item))
                    yield f"{path}['{key}']", item
