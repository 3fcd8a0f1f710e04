"""The demo's LM: deterministic, local, instant. It answers from the prompt, the way a model would.

It reads the last user message's fields and answers a few toy tasks (arithmetic questions, sentiment), written in
ChatAdapter's format. The same object serves DSPy (wrapped as a ``dspy.BaseLM``) and native, so any difference in
what the two implementations send or parse shows up as a difference in the demo's table.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["answer", "DemoLM", "make_dspy_lm"]

_FIELD = re.compile(r"\[\[ ## (\w+) ## \]\]\n(.*?)(?=\n\n\[\[ ## |\n\nRespond with|\Z)", re.S)
_WANTS = re.compile(r"`\[\[ ## (\w+) ## \]\]`")


def _solve(question: str) -> str:
    nums = [int(n) for n in re.findall(r"-?\d+", question)]
    if "times" in question or "*" in question:
        out = 1
        for n in nums:
            out *= n
        return str(out)
    return str(sum(nums))


def _sentiment(text: str) -> str:
    lowered = text.lower()
    if any(w in lowered for w in ("love", "great", "good", "happy")):
        return "positive"
    if any(w in lowered for w in ("hate", "bad", "awful", "sad")):
        return "negative"
    return "neutral"


def answer(messages: list[dict[str, Any]]) -> str:
    """One completion in ChatAdapter's format for the last user message (memoised: an instant LM)."""
    user = next(m["content"] for m in reversed(messages) if m["role"] == "user")
    cached = _ANSWERS.get(user)
    if cached is None:
        if len(_ANSWERS) >= _MAX_ANSWERS:   # bounded: a long-running use of the demo LM stays flat
            _ANSWERS.clear()
        cached = _ANSWERS[user] = _answer(user)
    return cached


_ANSWERS: dict[str, str] = {}
_MAX_ANSWERS = 4096


def _answer(user: str) -> str:
    fields = {k: v.strip() for k, v in _FIELD.findall(user)}
    wanted = [n for n in _WANTS.findall(user.split("Respond with", 1)[-1]) if n != "completed"] or ["answer"]
    values: dict[str, str] = {}
    for name in wanted:
        if name == "reasoning":
            values[name] = "Let me work through it step by step."
        elif name == "sentiment":
            values[name] = _sentiment(fields.get("text", ""))
        else:
            values[name] = _solve(fields.get("question", ""))
    body = "\n\n".join(f"[[ ## {k} ## ]]\n{v}" for k, v in values.items())
    return f"{body}\n\n[[ ## completed ## ]]"


class DemoLM:
    """The native side's view: any callable with DSPy's LM convention."""

    kwargs: dict[str, Any] = {}

    def __init__(self) -> None:
        self.calls = 0
        self.last: tuple[list[dict[str, Any]], dict[str, Any]] | None = None

    def __call__(self, prompt: str | None = None, messages: list[dict[str, Any]] | None = None, **kwargs: Any) -> list[str]:
        self.calls += 1
        messages = messages or [{"role": "user", "content": prompt or ""}]
        self.last = (messages, kwargs)
        return [answer(messages)]


def make_dspy_lm() -> Any:
    """The same LM as a ``dspy.BaseLM`` (DSPy insists on that base class); imports dspy."""
    import dspy

    class _DemoDSPyLM(dspy.BaseLM):
        def __init__(self) -> None:
            super().__init__(model="dspex-demo")
            self.calls = 0
            self.last = None

        def __call__(self, prompt=None, messages=None, **kwargs):  # type: ignore[override]
            self.calls += 1
            messages = messages or [{"role": "user", "content": prompt or ""}]
            self.last = (messages, kwargs)
            return [answer(messages)]

    return _DemoDSPyLM()
