"""Helpers for the reliability tests: an echo LM, flag documents, polling, a route recorder."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any, Callable

import dspy

_QUESTION = re.compile(r"\[\[ ## question ## \]\]\n(.*?)(?:\n\n|$)", re.S)
VARIANTS = {"native": "native", "dspy": "dspy", "shadow": "shadow"}


class EchoLM(dspy.BaseLM):
    """Answers ``A:<question>`` read from the last user message (a crossed answer shows at once)."""

    def __init__(self) -> None:
        super().__init__(model="echo/reliability", cache=False)

    def __call__(self, prompt: Any = None, messages: Any = None, **kwargs: Any) -> list[str]:
        user = [m for m in messages if m["role"] == "user"][-1]["content"]
        match = _QUESTION.search(user)
        question = match.group(1) if match else "?"
        return [f"[[ ## reasoning ## ]]\nthinking\n\n[[ ## answer ## ]]\nA:{question}\n\n[[ ## completed ## ]]"]

    async def acall(self, prompt: Any = None, messages: Any = None, **kwargs: Any) -> list[str]:
        return self(prompt, messages, **kwargs)


def flag(default: str, *, state: str = "ENABLED") -> dict[str, Any]:
    return {"state": state, "variants": dict(VARIANTS), "defaultVariant": default}


def flag_doc(**flags: dict[str, Any]) -> str:
    """A flagd document; keyword names use ``__`` for the dot (``dspex__predict``)."""
    return json.dumps({"flags": {k.replace("__", "."): v for k, v in flags.items()}}, indent=2) + "\n"


def wait_for(predicate: Callable[[], bool], timeout: float = 4.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def route_of(events: list[tuple[str, dict, dict]], call: Callable[[], Any]) -> str:
    """Make one routed call and return the implementation the router chose for it."""
    call()
    return events[-1][2]["implementation"]


def write_with_mtime(path: Path, text: str, mtime: float) -> None:
    path.write_text(text, encoding="utf-8")
    import os

    os.utime(path, (mtime, mtime))
