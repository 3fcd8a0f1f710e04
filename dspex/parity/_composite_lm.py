"""Scripted LMs for the composite modules (BestOfN, Refine, Parallel): copies that share one tape, and an LM
that answers by request.

BestOfN and Refine call ``lm.copy(rollout_id=..., temperature=1.0)`` once per attempt. A :class:`TapeLM` copy
shares its original's script and call log (one tape, in call order) and records, with every call, the LM's own
``kwargs`` as the copy holds them: the rollout ids and temperatures DSPy gives its copies are compared with the
messages. A deep copy (DSPy deep-copies the wrapped module, LM attribute included) shares the tape too.

``Parallel`` with more than one thread calls the LM in no fixed order, so :class:`RequestLM` answers each call
by what it is asked (the last user message picks the scripted answer) and the harness compares the calls as a
multiset.
"""

from __future__ import annotations

import hashlib
from typing import Any, Iterable

from .scripted_lm import LMCall, Raise, ScriptedLM, ScriptExhausted, _copy

__all__ = ["TapeLM", "RequestLM"]


class TapeLM(ScriptedLM):
    """A ScriptedLM whose copies answer from, and record into, the same tape."""

    def _answer(self, prompt: Any, messages: Any, kwargs: dict[str, Any], mode: str) -> Any:
        recorded = {**_copy(kwargs), "lm.kwargs": _copy(dict(self.kwargs))}
        self.calls.append(LMCall(messages=_copy(messages), kwargs=recorded, prompt=_copy(prompt), mode=mode))
        index = len(self.calls) - 1
        if index >= len(self.script):
            raise ScriptExhausted(
                f"ScriptedLM has {len(self.script)} scripted answer(s) but was called {index + 1} time(s)."
            )
        entry = self.script[index]
        if isinstance(entry, Raise):
            raise entry.build()
        return _copy(entry)

    def copy(self, **kwargs: Any) -> "TapeLM":
        import dspy

        return dspy.BaseLM.copy(self, **kwargs)  # a shallow copy: ``calls`` and ``script`` stay shared

    def __deepcopy__(self, memo: dict[int, Any]) -> "TapeLM":
        import copy

        new = copy.copy(self)
        new.kwargs = dict(self.kwargs)
        new.history = []
        return new


class RequestLM(ScriptedLM):
    """Answers ``script[h % len(script)]`` where ``h`` hashes the call's last user message: the same request gets
    the same answer whatever order threads call in."""

    def __init__(self, script: Iterable[Any] = (), **options: Any) -> None:
        super().__init__(script, **options)

    def _answer(self, prompt: Any, messages: Any, kwargs: dict[str, Any], mode: str) -> Any:
        self.calls.append(LMCall(messages=_copy(messages), kwargs=_copy(kwargs), prompt=_copy(prompt), mode=mode))
        if not self.script:
            raise ScriptExhausted("RequestLM has no scripted answers.")
        last = messages[-1]["content"] if messages else ""
        digest = hashlib.sha256(repr(last).encode("utf-8", "backslashreplace")).digest()
        entry = self.script[int.from_bytes(digest[:4], "big") % len(self.script)]
        if isinstance(entry, Raise):
            raise entry.build()
        return _copy(entry)
