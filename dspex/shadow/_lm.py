"""LM stand-ins for shadow mode: a recorder in front of the control, a replayer in front of the candidate.

Real DSPy refuses any LM that is not a ``dspy.BaseLM``; so when dspy is already imported each stand-in is built
as a ``dspy.BaseLM`` subclass (made once, lazily) that overrides ``__call__``/``acall`` and forwards the
attributes adapters read (``kwargs``, ``supported_params``, ``supports_response_schema``, ``model``). Without
dspy they are plain callables, so the native path never imports it. A call may use several LMs (the default one, a
call's ``lm=``, one a predictor holds, a rollout copy): ``standing_for`` gives a stand-in in front of each, all
writing to (or replaying from) the call's one transcript; the router places them (``router/_taps``, ``_lm_scope``).
"""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from typing import Any, Callable

from .. import hooks
from ..errors import DspexError
from ._forwarding import _Forwarding
from ._transcript import LMCall, Transcript

__all__ = ["LMCall", "Transcript", "ShadowReplayError", "make_recorder", "make_replayer", "TranscriptReplay",
           "is_stand_in"]


class ShadowReplayError(DspexError):
    """The candidate asked the replayed LM for more calls than the control made; shadow logs it as a divergence."""


class _RecorderCore(_Forwarding):
    """Forwards each call to the real LM and appends request and response to the transcript."""

    def __init__(self, inner: Any, transcript: Transcript) -> None:
        self._inner = inner
        self._attrs = {}
        self.transcript = transcript
        self._init_base()
        self._stand_ins = {id(inner): (inner, self)}

    def _records_here(self, lm: Any) -> bool:
        """``lm`` already writes to this transcript (a rollout copy of this recorder, held by an attempt)."""
        return isinstance(lm, _RecorderCore) and lm.transcript is self.transcript

    def copy(self, **kwargs: Any) -> Any:
        """A recorder in front of ``inner.copy(**kwargs)``, writing to the same transcript: the control's rollout
        copies call the real LM with the copy's own defaults, as without shadow."""
        new = self._copied(kwargs)
        new._inner = self._inner.copy(**kwargs)
        new._attrs.pop("kwargs")   # forwarded from the copied LM
        return new

    def _add(self, entry: LMCall) -> None:
        self.transcript.add(entry)

    def __call__(self, prompt: Any = None, messages: Any = None, **kwargs: Any) -> Any:
        entry = LMCall(messages=list(messages) if messages is not None else None, kwargs=dict(kwargs), prompt=prompt)
        before = _last_history(self._inner)
        start = time.perf_counter()
        try:
            bridge = hooks.current()   # loads the bridge if this is the process's first call after dspy's import
            if prompt is not None:
                outputs = self._inner(prompt, messages=messages, **kwargs)
            elif bridge is not None:   # the adapter's call, passed on as the adapter would make it
                outputs = bridge.call_lm(self._inner, messages, kwargs)
            else:
                outputs = self._inner(messages=messages, **kwargs)
        except BaseException as exc:
            entry.error, entry.seconds = exc, time.perf_counter() - start
            self._add(entry)
            raise
        entry.outputs, entry.seconds, entry.usage = outputs, time.perf_counter() - start, _usage(self._inner, before)
        self._add(entry)
        return outputs

    async def acall(self, prompt: Any = None, messages: Any = None, **kwargs: Any) -> Any:
        entry = LMCall(messages=list(messages) if messages is not None else None, kwargs=dict(kwargs), prompt=prompt)
        args = (prompt,) if prompt is not None else ()
        before = _last_history(self._inner)
        start = time.perf_counter()
        try:
            inner_acall, bridge = getattr(self._inner, "acall", None), hooks.current()
            if not args and bridge is not None:
                outputs = await bridge.acall_lm(self._inner, messages, kwargs)
            elif inner_acall is not None:
                outputs = await inner_acall(*args, messages=messages, **kwargs)
            else:
                outputs = await asyncio.to_thread(self._inner, *args, messages=messages, **kwargs)
        except BaseException as exc:
            entry.error, entry.seconds = exc, time.perf_counter() - start
            self._add(entry)
            raise
        entry.outputs, entry.seconds, entry.usage = outputs, time.perf_counter() - start, _usage(self._inner, before)
        self._add(entry)
        return outputs


def _last_history(lm: Any) -> Any:
    history = getattr(lm, "history", None)
    return history[-1] if isinstance(history, list) and history else None


def _usage(lm: Any, before: Any) -> dict[str, Any] | None:
    """The usage the LM's own history (dspy.LM, dspex.LM) recorded for the call just made, if it recorded one.
    Under concurrency another call may land in between; the report treats tokens as an estimate."""
    last = _last_history(lm)
    if last is None or last is before or not isinstance(last, dict):
        return None
    usage = last.get("usage")
    return dict(usage) if isinstance(usage, dict) and usage else None


class TranscriptReplay(_Forwarding):
    """Serves a recorded transcript back; every request is checked against the recording.

    A request matching the next recorded one is served it. Otherwise an unconsumed identical recording is
    served (modules that call the LM from several threads may reorder), else the next one is served anyway
    and the mismatch noted, so the candidate's parsing is still compared. More calls than recorded raise.
    """

    def __init__(self, calls: list[LMCall], attrs: dict[str, Any] | None = None, inner: Any = None,
                 normalize: Callable[[Any], Any] | None = None) -> None:
        self._inner = inner
        self._normalize = normalize     # applied to requests before matching (recordings read back from JSON)
        self._attrs = dict(attrs or {})
        self._calls = calls
        self._used = [False] * len(calls)
        self._lock = threading.Lock()
        self.requests: list[LMCall] = []          # what the candidate asked, in order
        self.mismatches: list[tuple[int, int | None]] = []   # (candidate request index, recorded index served)
        self._init_base()
        self._stand_ins = {id(inner): (inner, self)} if inner is not None else {}

    def _records_here(self, lm: Any) -> bool:
        """``lm`` already replays this recording (a rollout copy of this replayer, held by an attempt)."""
        return isinstance(lm, TranscriptReplay) and lm._calls is self._calls

    def _serve(self, messages: Any, kwargs: dict[str, Any], prompt: Any) -> Any:
        start = time.perf_counter()
        with self._lock:
            index = len(self.requests)
            asked = LMCall(messages=list(messages) if messages is not None else None, kwargs=dict(kwargs), prompt=prompt)
            self.requests.append(asked)
            chosen = self._match(index, messages, kwargs, prompt)
            if chosen is None:
                self.mismatches.append((index, None))
                raise ShadowReplayError(
                    f"The candidate made LM call #{index + 1}, but the control made only {len(self._calls)}; "
                    "nothing recorded is left to replay."
                )
            self._used[chosen] = True
            recorded = self._calls[chosen]
        asked.seconds = time.perf_counter() - start   # the replayed "LM wait": serving from memory
        if recorded.error is not None:
            raise recorded.error
        return recorded.outputs

    def _match(self, index: int, messages: Any, kwargs: dict[str, Any], prompt: Any) -> int | None:
        if self._normalize is not None:
            messages, kwargs, prompt = self._normalize(messages), self._normalize(kwargs), self._normalize(prompt)

        def same(i: int) -> bool:
            c = self._calls[i]
            return c.messages == messages and c.kwargs == kwargs and c.prompt == prompt

        if index < len(self._calls) and not self._used[index] and same(index):
            return index
        for i in range(len(self._calls)):
            if not self._used[i] and same(i):
                return i
        nxt = next((i for i in range(len(self._calls)) if not self._used[i]), None)
        if nxt is not None:
            self.mismatches.append((index, nxt))
        return nxt

    def unused(self) -> list[int]:
        with self._lock:
            return [i for i, used in enumerate(self._used) if not used]

    @property
    def extra_calls(self) -> int:
        """Requests beyond the recording (each noted as a mismatch served nothing)."""
        return sum(1 for _, served in self.mismatches if served is None)

    def copy(self, **kwargs: Any) -> Any:
        """A copy with its own ``kwargs`` (the candidate's rollout copies read them: DSPy's sampling rule) that
        replays from, and notes its requests in, the same recording as the original."""
        return self._copied(kwargs)

    def __call__(self, prompt: Any = None, messages: Any = None, **kwargs: Any) -> Any:
        return self._serve(messages, kwargs, prompt)

    async def acall(self, prompt: Any = None, messages: Any = None, **kwargs: Any) -> Any:
        return self._serve(messages, kwargs, prompt)


_dspy_classes: dict[type, type] = {}
_class_lock = threading.Lock()


def _as_dspy_lm(core: type) -> type:
    """``core`` mixed into ``dspy.BaseLM`` (made once per core class), for when dspy is in use."""
    with _class_lock:
        cls = _dspy_classes.get(core)
        if cls is None:
            import dspy

            cls = type(core.__name__ + "DSPy", (core, dspy.BaseLM), {"__module__": __name__})
            _dspy_classes[core] = cls
        return cls


def _wants_dspy(inner: Any) -> bool:
    """For the replayer: a BaseLM only when dspy is already loaded (a native candidate takes any callable)."""
    return "dspy" in sys.modules


_dspy_importable: bool | None = None


def _dspy_available() -> bool:
    """For the recorder: the control is DSPy, which may not be imported yet (the backend loads it lazily)."""
    global _dspy_importable
    if "dspy" in sys.modules:
        return True
    if _dspy_importable is None:
        try:
            import dspy  # noqa: F401
            _dspy_importable = True
        except ImportError:
            _dspy_importable = False
    return _dspy_importable


def make_recorder(inner: Any, transcript: Transcript) -> Any:
    cls = _as_dspy_lm(_RecorderCore) if _dspy_available() else _RecorderCore
    return cls(inner, transcript)


def make_replayer(calls: list[LMCall], attrs: dict[str, Any] | None = None, inner: Any = None,
                  normalize: Callable[[Any], Any] | None = None) -> TranscriptReplay:
    cls = _as_dspy_lm(TranscriptReplay) if _wants_dspy(inner) else TranscriptReplay
    return cls(calls, attrs, inner, normalize)


def is_stand_in(lm: Any) -> bool:
    """Whether ``lm`` is one of shadow's stand-ins (a recorder or a replayer), which can stand for other LMs."""
    return isinstance(lm, _Forwarding)


def lm_attributes(lm: Any) -> dict[str, Any]:
    """The adapter-visible description of an LM, JSON-safe, logged so a replay later can reproduce it."""
    if lm is None:
        return {}
    kwargs = getattr(lm, "kwargs", None)
    return {
        "model": getattr(lm, "model", None),
        "kwargs": dict(kwargs) if isinstance(kwargs, dict) else {},
        "supported_params": sorted(getattr(lm, "supported_params", ()) or ()),
        "supports_response_schema": bool(getattr(lm, "supports_response_schema", False)),
    }
