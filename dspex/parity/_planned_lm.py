"""A ``dspy.LM`` whose capabilities are DSPy's own and whose answers are scripted.

The JSONAdapter's request depends on what the LM says it supports, and a real ``dspy.LM`` answers from its model
string, its engine (``auto`` prefers lm15's catalogue, ``litellm`` asks LiteLLM) and the call's client options
(``extra_headers`` in a call's config sends an lm15 model through LiteLLM). :class:`PlannedLM` keeps all of that
real (the properties are ``dspy.LM``'s) and only replaces the network call with a :class:`ScriptedLM`'s answer, so
a parity case proves native asks for the same ``response_format`` for each model/engine/option combination.

DSPy reads its model metadata from the network on first use unless ``LITELLM_LOCAL_MODEL_COST_MAP=true``; the gate
talks to nothing but loopback, so building a PlannedLM sets it (the bundled snapshot is what every run sees).
"""

from __future__ import annotations

import os
from typing import Any

import dspy

from .scripted_lm import ScriptedLM

__all__ = ["PlannedLM", "PLANNED_MODELS"]

# Models whose capabilities differ between lm15 and LiteLLM, or with schema support, or unknown to both.
PLANNED_MODELS = ("openai/gpt-4o-mini", "openai/gpt-3.5-turbo", "anthropic/claude-3-5-sonnet-20240620",
                  "ollama_chat/llama3", "openai/my-local-model", "gemini/gemini-1.5-pro")


class PlannedLM(dspy.LM):
    """``dspy.LM(model, engine=...)`` with its call answered by a script (capability reads stay DSPy's)."""

    def __init__(self, model: str, engine: str, script: Any, kwargs: dict[str, Any] | None = None) -> None:
        os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "true")
        super().__init__(model, engine=engine, cache=False)
        if kwargs is not None:
            self.kwargs = dict(kwargs)
        self._scripted = ScriptedLM(script)

    @property
    def calls(self) -> list[Any]:
        return self._scripted.calls

    def __call__(self, prompt: Any = None, messages: Any = None, **kwargs: Any) -> Any:  # type: ignore[override]
        return self._scripted(prompt=prompt, messages=messages, **kwargs)

    async def acall(self, prompt: Any = None, messages: Any = None, **kwargs: Any) -> Any:  # type: ignore[override]
        return await self._scripted.acall(prompt=prompt, messages=messages, **kwargs)
