"""Helpers for the shadow tests: a scripted DSPy LM, log readers, ShadowCall builders."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import dspy

import dspex.shadow as shadow


class ScriptedLM(dspy.BaseLM):
    """Answers ``[[ ## answer ## ]]`` with a function of the question; counts calls; optional latency."""

    def __init__(self, delay_s: float = 0.0, answer: Any = None, **kwargs: Any) -> None:
        super().__init__(model="scripted/test", **kwargs)
        self.delay_s = delay_s
        self.answer = answer or (lambda q: f"echo {q}")
        self.calls = 0
        self.requests: list[list[dict[str, Any]]] = []
        self._lock = threading.Lock()

    def __call__(self, prompt: Any = None, messages: Any = None, **kwargs: Any) -> list[str]:
        with self._lock:
            self.calls += 1
            self.requests.append(messages)
        if self.delay_s:
            time.sleep(self.delay_s)
        question = messages[-1]["content"].split("[[ ## question ## ]]\n", 1)[-1].split("\n", 1)[0]
        return [f"[[ ## answer ## ]]\n{self.answer(question)}\n\n[[ ## completed ## ]]"]

    async def acall(self, prompt: Any = None, messages: Any = None, **kwargs: Any) -> list[str]:
        return self(prompt, messages=messages, **kwargs)


def read_lines(path: Path) -> list[dict[str, Any]]:
    """Every line of the log as JSON (raises on a torn line)."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def divergence_lines(path: Path) -> list[dict[str, Any]]:
    return [r for r in read_lines(path) if r["kind"] != "stats"]


def predict_call(module: Any, candidate: Any, lm: Any, question: str, **extra: Any) -> shadow.ShadowCall:
    """A ShadowCall whose control is ``module`` (DSPy) and candidate ``candidate`` (a callable(lm, question))."""
    return shadow.ShadowCall(
        module_type=extra.pop("module_type", "predict"),
        module_name=extra.pop("module_name", None),
        inputs={"question": question},
        lm=lm,
        control=lambda l: module(question=question, lm=l),
        candidate=lambda l: candidate(l, question),
        signature=module.signature,
        **extra,
    )
