"""A scripted LM for differential tests: a real ``dspy.BaseLM`` that records every call and answers from a script.

Why a ``BaseLM`` subclass that overrides ``__call__``: DSPy's ``Predict`` only accepts ``BaseLM`` instances, and an
overridden ``__call__`` skips DSPy's whole execution layer (cache, history, cost estimation, retries), so DSPy and
the native modules see exactly the same callable: ``lm(messages=[...], **kwargs) -> list[str | dict]``. The native
side receives the very same kind of object and never needs to know it came from dspy.

This module imports dspy at import time on purpose. It lives in ``dspex.parity``, never on the native import path.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import dspy

__all__ = [
    "LMCall",
    "ScriptedLM",
    "ScriptExhausted",
    "RaisingLM",
    "GarbageLM",
    "Raise",
]


class ScriptExhausted(RuntimeError):
    """The module made more LM calls than the script has answers for (a difference the harness reports)."""


@dataclass(frozen=True)
class Raise:
    """A script entry that makes this call raise ``exc_type(*args)`` (a fresh exception per side, same text)."""

    exc_type: type[BaseException]
    args: tuple[Any, ...] = ()

    def build(self) -> BaseException:
        return self.exc_type(*self.args)


@dataclass
class LMCall:
    """One recorded call: deep copies, so later mutation by the caller cannot rewrite history."""

    messages: Any
    kwargs: dict[str, Any]
    prompt: Any = None
    mode: str = "sync"  # "sync" (``__call__``) or "async" (``acall``)


def _copy(value: Any) -> Any:
    try:
        return copy.deepcopy(value)
    except Exception:  # an uncopyable object in kwargs: keep the reference rather than fail the call
        return value


class ScriptedLM(dspy.BaseLM):
    """Answers call i with ``script[i]``; records ``messages`` and ``kwargs`` of every call.

    A script entry is whatever the LM should return (normally ``list[str | dict]``, but any object is allowed so
    that garbage can be scripted) or a :class:`Raise` to raise instead. ``kwargs`` replaces ``lm.kwargs`` wholesale
    (DSPy's Predict reads temperature / n defaults from it); ``supported_params`` and ``supports_response_schema``
    are what DSPy's JSONAdapter reads to choose a ``response_format``.
    """

    def __init__(
        self,
        script: Iterable[Any] = (),
        *,
        kwargs: dict[str, Any] | None = None,
        supported_params: Iterable[str] = (),
        supports_response_schema: bool = False,
        model: str = "scripted/parity-lm",
        copy_outputs: bool = True,
    ) -> None:
        super().__init__(model=model, cache=False)
        if kwargs is not None:
            self.kwargs = dict(kwargs)
        self.script: list[Any] = list(script)
        self.calls: list[LMCall] = []
        self._supported_params = set(supported_params)
        self._supports_response_schema = bool(supports_response_schema)
        self._copy_outputs = copy_outputs

    # --- what DSPy's adapters read -------------------------------------------------------------------------------
    @property
    def supported_params(self) -> set[str]:  # type: ignore[override]
        return set(self._supported_params)

    @property
    def supports_response_schema(self) -> bool:  # type: ignore[override]
        return self._supports_response_schema

    # --- the call convention -------------------------------------------------------------------------------------
    def _answer(self, prompt: Any, messages: Any, kwargs: dict[str, Any], mode: str) -> Any:
        self.calls.append(LMCall(messages=_copy(messages), kwargs=_copy(kwargs), prompt=_copy(prompt), mode=mode))
        index = len(self.calls) - 1
        if index >= len(self.script):
            raise ScriptExhausted(
                f"ScriptedLM has {len(self.script)} scripted answer(s) but was called {index + 1} time(s)."
            )
        entry = self.script[index]
        if isinstance(entry, Raise):
            raise entry.build()
        # A fresh copy per call so that a module mutating the returned list cannot affect the other side's run.
        return _copy(entry) if self._copy_outputs else entry

    def __call__(self, prompt: Any = None, messages: Any = None, **kwargs: Any) -> Any:  # type: ignore[override]
        return self._answer(prompt, messages, kwargs, "sync")

    async def acall(self, prompt: Any = None, messages: Any = None, **kwargs: Any) -> Any:  # type: ignore[override]
        return self._answer(prompt, messages, kwargs, "async")

    def forward(self, prompt: Any = None, messages: Any = None, **kwargs: Any) -> Any:
        raise AssertionError("ScriptedLM.forward must never run: __call__ is overridden to bypass DSPy's LM layer.")

    def copy(self, **kwargs: Any) -> "ScriptedLM":
        new = super().copy(**kwargs)
        new.calls = []
        new.script = list(self.script)
        return new

    @property
    def call_count(self) -> int:
        return len(self.calls)

    def __repr__(self) -> str:
        return f"ScriptedLM(script={self.script!r}, kwargs={self.kwargs!r})"


class RaisingLM(ScriptedLM):
    """An LM whose every call raises ``exc_type(*args)`` (after recording the call)."""

    def __init__(self, exc_type: type[BaseException], *args: Any, **lm_options: Any) -> None:
        super().__init__((), **lm_options)
        self._raise = Raise(exc_type, tuple(args))

    def _answer(self, prompt: Any, messages: Any, kwargs: dict[str, Any], mode: str) -> Any:
        self.calls.append(LMCall(messages=_copy(messages), kwargs=_copy(kwargs), prompt=_copy(prompt), mode=mode))
        raise self._raise.build()


class GarbageLM(ScriptedLM):
    """An LM that returns the same (usually ill-typed) object on every call: ``None``, ``42``, ``"text"``, ..."""

    def __init__(self, garbage: Any, **lm_options: Any) -> None:
        super().__init__((), **lm_options)
        self.garbage = garbage

    def _answer(self, prompt: Any, messages: Any, kwargs: dict[str, Any], mode: str) -> Any:
        self.calls.append(LMCall(messages=_copy(messages), kwargs=_copy(kwargs), prompt=_copy(prompt), mode=mode))
        return _copy(self.garbage)


def scripted_pair(script: Sequence[Any], **lm_options: Any) -> tuple[ScriptedLM, ScriptedLM]:
    """Two independent LMs with the same script and options: one per implementation under comparison."""
    return ScriptedLM(script, **lm_options), ScriptedLM(script, **lm_options)
