"""What a shadow recorder keeps: each LM request and its response, in call order."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

__all__ = ["LMCall", "Transcript", "lm_cost"]


@dataclass(slots=True)
class LMCall:
    """One LM request and what came back (or the error it raised)."""

    messages: Any
    kwargs: dict[str, Any]
    outputs: Any = None
    error: BaseException | None = None
    prompt: Any = None
    seconds: float = 0.0          # how long the LM took to answer (the caller's LM wait for this call)
    usage: dict[str, Any] | None = None   # token usage, when the LM's history reports it


@dataclass(slots=True)
class Transcript:
    """The ordered LM calls of one module call; appended to from any thread the module uses."""

    calls: list[LMCall] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, call: LMCall) -> None:
        with self.lock:
            self.calls.append(call)

    def snapshot(self) -> list[LMCall]:
        with self.lock:
            return list(self.calls)


def lm_cost(calls: list[LMCall]) -> tuple[float, int, int | None]:
    """``(LM wait in ms, LM calls, total tokens or None when no call reported usage)`` of a transcript."""
    tokens = [c.usage.get("total_tokens") for c in calls if c.usage and c.usage.get("total_tokens") is not None]
    return sum(c.seconds for c in calls) * 1000, len(calls), (sum(tokens) if tokens else None)
