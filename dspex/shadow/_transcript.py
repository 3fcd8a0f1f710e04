"""What a shadow recorder keeps: each LM request and its response, in call order."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

__all__ = ["LMCall", "Transcript"]


@dataclass(slots=True)
class LMCall:
    """One LM request and what came back (or the error it raised)."""

    messages: Any
    kwargs: dict[str, Any]
    outputs: Any = None
    error: BaseException | None = None
    prompt: Any = None


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
