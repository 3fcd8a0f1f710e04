"""Helpers for the router tests: an echoing scripted LM, flag files written to tmp_path, polling."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from typing import Any, Callable

import dspy

_QUESTION = re.compile(r"\[\[ ## question ## \]\]\n(.*?)(?:\n\n|$)", re.S)
VARIANTS = {"native": "native", "dspy": "dspy", "shadow": "shadow"}


class EchoLM(dspy.BaseLM):
    """Answers ``A:<question>`` (plus a reasoning field), read from the last user message: a wrong answer means a
    call saw another call's question. ``__call__`` is overridden, so DSPy and native call it identically."""

    def __init__(self, tag: str = "") -> None:
        super().__init__(model="echo/test", cache=False)
        self.tag = tag
        self.calls = 0

    def __call__(self, prompt: Any = None, messages: Any = None, **kwargs: Any) -> list[str]:
        self.calls += 1
        user = [m for m in messages if m["role"] == "user"][-1]["content"]
        match = _QUESTION.search(user)
        question = match.group(1) if match else "?"
        return [f"[[ ## reasoning ## ]]\nthinking\n\n[[ ## answer ## ]]\n{self.tag}A:{question}\n\n[[ ## completed ## ]]"]

    async def acall(self, prompt: Any = None, messages: Any = None, **kwargs: Any) -> list[str]:
        return self(prompt, messages, **kwargs)


def flag(default: str, *, state: str = "ENABLED", targeting: Any = None) -> dict[str, Any]:
    f: dict[str, Any] = {"state": state, "variants": dict(VARIANTS), "defaultVariant": default}
    if targeting is not None:
        f["targeting"] = targeting
    return f


class FlagFile:
    """A flagd file in tmp_path; ``write`` bumps the mtime forward so the FILE resolver always sees the change."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._mtime = time.time() - 100

    def write(self, flags: dict[str, Any] | None = None, raw: str | None = None) -> "FlagFile":
        text = raw if raw is not None else json.dumps({"$schema": "https://flagd.dev/schema/v0/flags.json", "flags": flags})
        self.path.write_text(text)
        self._mtime += 1
        os.utime(self.path, (self._mtime, self._mtime))
        return self

    def __str__(self) -> str:
        return str(self.path)


def wait_for(predicate: Callable[[], bool], timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()
