"""Helpers for the native module tests: a scripted LM usable by both dspy and native modules."""

from __future__ import annotations

import copy
from typing import Any

import dspy


def chat_answer(**fields: Any) -> str:
    """A ChatAdapter-formatted completion with the given output fields."""
    parts = [f"[[ ## {k} ## ]]\n{v}" for k, v in fields.items()]
    return "\n\n".join(parts) + "\n\n[[ ## completed ## ]]"


class Scripted(dspy.BaseLM):
    """Answers every call with ``outputs`` (a list of completions) and records messages and kwargs.

    Overriding ``__call__`` skips DSPy's LM layer and cache, so DSPy and native modules see the same object.
    """

    def __init__(self, outputs: list[Any] | None = None, **defaults: Any) -> None:
        super().__init__(model="scripted/test", **defaults)
        self.outputs = outputs if outputs is not None else [chat_answer(answer="Paris")]
        self.calls: list[dict[str, Any]] = []

    def __call__(self, prompt: Any = None, messages: Any = None, **kwargs: Any) -> Any:  # type: ignore[override]
        self.calls.append({"messages": copy.deepcopy(messages), "kwargs": dict(kwargs)})
        return copy.deepcopy(self.outputs)


class AsyncScripted(Scripted):
    """Also has ``acall`` (awaited by the adapters' async path); records which path ran."""

    async def acall(self, prompt: Any = None, messages: Any = None, **kwargs: Any) -> Any:  # type: ignore[override]
        self.calls.append({"messages": copy.deepcopy(messages), "kwargs": dict(kwargs), "async": True})
        return copy.deepcopy(self.outputs)


def run_both(make_module: Any, call_kwargs: dict[str, Any], outputs: list[Any] | None = None,
             lm_defaults: dict[str, Any] | None = None) -> tuple[Any, Any, Scripted, Scripted]:
    """Build the module with dspy and native, call both with fresh scripted LMs; return results and LMs."""
    import dspex.native as native

    results = []
    lms = []
    for ns in (dspy, native):
        lm = Scripted(outputs, **(lm_defaults or {}))
        module = make_module(ns)
        results.append(module(**call_kwargs, lm=lm))
        lms.append(lm)
    return results[0], results[1], lms[0], lms[1]
