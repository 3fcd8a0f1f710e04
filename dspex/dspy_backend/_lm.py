"""Any LM the docs accept, on DSPy's side: a ``dspex.LM`` or a plain ``lm(messages=..., **kwargs)`` callable.

DSPy's modules insist on a ``dspy.BaseLM``. :func:`as_dspy_lm` wraps anything else in :class:`CallableLM`, a
``BaseLM`` whose call goes straight to the wrapped LM (DSPy's own scripted-LM pattern: overriding ``__call__``
skips DSPy's execution layer), so the kill switch and every DSPy-routed call work whatever LM is configured.
The wrapper keeps DSPy's books (callbacks, history, usage) and reads ``kwargs`` / capabilities from the LM it
wraps; one wrapper per LM object, so DSPy sees a stable identity (history, ``get_lm``).
"""

from __future__ import annotations

import asyncio
import sys
import datetime
import uuid
import weakref
from typing import Any

import dspy
from dspy.clients.base_lm import record_history
from dspy.utils.callback import with_callbacks

__all__ = ["CallableLM", "as_dspy_lm", "record_lm_call", "lm_class"]

_wrappers: "weakref.WeakKeyDictionary[Any, CallableLM]" = weakref.WeakKeyDictionary()
_strong: dict[int, tuple[Any, "CallableLM"]] = {}   # LMs that cannot be weakly referenced (rare)


class CallableLM(dspy.BaseLM):
    """A ``dspy.BaseLM`` in front of a non-DSPy LM."""

    def __init__(self, lm: Any) -> None:
        self.lm = lm
        self.model = getattr(lm, "model", None) or getattr(lm, "__name__", None) or type(lm).__name__
        self.model_type = getattr(lm, "model_type", "chat")
        self.cache = getattr(lm, "cache", False)
        self.callbacks = list(getattr(lm, "callbacks", None) or [])
        self.num_retries = getattr(lm, "num_retries", 0)
        self.history = []
        self._warned_zero_temp_rollout = False

    # The wrapped LM's request defaults and capabilities are read live, so editing them on the LM is seen here.
    @property
    def kwargs(self) -> dict[str, Any]:  # type: ignore[override]
        return getattr(self.lm, "kwargs", None) or {}

    @kwargs.setter
    def kwargs(self, value: dict[str, Any]) -> None:
        self.lm.kwargs = value

    @property
    def supported_params(self) -> set[str]:
        return set(getattr(self.lm, "supported_params", None) or ())

    @property
    def supports_response_schema(self) -> bool:
        return bool(getattr(self.lm, "supports_response_schema", False))

    @property
    def supports_function_calling(self) -> bool:
        return bool(getattr(self.lm, "supports_function_calling", False))

    @with_callbacks
    def __call__(self, prompt: Any = None, messages: Any = None, **kwargs: Any) -> Any:
        outputs = self.lm(messages=messages, **kwargs) if messages is not None else self.lm(prompt, **kwargs)
        if not _records_itself(self.lm):
            record_lm_call(self, prompt, messages, kwargs, outputs, None)
        return outputs

    @with_callbacks
    async def acall(self, prompt: Any = None, messages: Any = None, **kwargs: Any) -> Any:
        acall = getattr(self.lm, "acall", None)
        if acall is not None:
            outputs = await acall(messages=messages, **kwargs)
        else:
            outputs = await asyncio.to_thread(lambda: self.lm(messages=messages, **kwargs))
        if not _records_itself(self.lm):
            record_lm_call(self, prompt, messages, kwargs, outputs, None)
        return outputs

    def dump_state(self) -> dict[str, Any]:
        dump = getattr(self.lm, "dump_state", None)
        return dump() if callable(dump) else {"model": self.model}

    def copy(self, **kwargs: Any) -> "CallableLM":
        copy = getattr(self.lm, "copy", None)
        return as_dspy_lm(copy(**kwargs)) if callable(copy) else self

    def __repr__(self) -> str:
        return f"CallableLM({self.lm!r})"


def _records_itself(lm: Any) -> bool:
    """dspex.LM feeds DSPy's history from its own record (it has the response and its usage)."""
    return getattr(type(lm), "records_dspy_history", False) is True


def as_dspy_lm(lm: Any) -> Any:
    """``lm`` itself when DSPy accepts it (a BaseLM, or None), else its one :class:`CallableLM`."""
    if lm is None or isinstance(lm, dspy.BaseLM) or isinstance(lm, str):
        return lm
    try:
        wrapper = _wrappers.get(lm)
        if wrapper is None:
            wrapper = _wrappers[lm] = CallableLM(lm)
        return wrapper
    except TypeError:  # not weakly referenceable
        held = _strong.get(id(lm))
        if held is None or held[0] is not lm:
            held = _strong[id(lm)] = (lm, CallableLM(lm))
        return held[1]


class _Discard(list):
    """A history that keeps nothing: for an LM whose own history already has the entry."""

    def append(self, item: Any) -> None:
        return None


class _NoOwner:
    history = _Discard()


_SETTINGS = sys.modules["dspy.dsp.utils.settings"]


def _seen() -> Any:
    """DSPy's settings as this thread / task sees them, read directly (``dspy.settings.x`` costs a lookup chain)."""
    overrides = _SETTINGS.thread_local_overrides.get()
    return overrides if overrides else _SETTINGS.main_thread_config


def record_lm_call(owner: Any, prompt: Any, messages: Any, kwargs: dict[str, Any], outputs: Any,
                   response: Any, own_history: bool = True) -> None:
    """One entry in DSPy's global, LM and calling-module histories, and the call's usage in DSPy's tracker.

    dspex.LM passes its own history entry as ``{"_dspex_entry": entry}``: that one object goes into every history,
    as DSPy's own LM does with its entry."""
    entry = response.get("_dspex_entry") if isinstance(response, dict) else None
    seen = _seen()
    if entry is not None:
        usage = entry["usage"]
        tracker = seen.get("usage_tracker")
        if usage and tracker:
            tracker.add_usage(getattr(owner, "model", "?"), usage)
        if not seen.get("disable_history"):
            record_history(owner if own_history else _NoOwner(), entry)
        return
    usage = dict((response or {}).get("usage") or {}) if isinstance(response, dict) else {}
    if usage and seen.get("usage_tracker"):
        seen.get("usage_tracker").add_usage(getattr(owner, "model", "?"), usage)
    if seen.get("disable_history"):
        return
    record_history(owner if own_history else _NoOwner(), {
        "prompt": prompt, "messages": messages,
        "kwargs": {k: v for k, v in kwargs.items() if not k.startswith("api_")},
        "response": response, "outputs": outputs, "usage": usage, "cost": None,
        "timestamp": datetime.datetime.now().isoformat(), "uuid": str(uuid.uuid4()),
        "model": getattr(owner, "model", None),
        "response_model": response.get("model") if isinstance(response, dict) else None,
        "model_type": getattr(owner, "model_type", "chat"),
    })


_lm_classes: dict[type, type] = {}


def _dspy_stream() -> tuple[Any, Any]:
    """DSPy's streaming convention: inside ``dspy.streamify`` the LM sends chunks to ``settings.send_stream``,
    tagged with the predictor that asked (``caller_predict``). ``(stream, predict_id)``, or ``(None, None)``.

    A native predictor is not DSPy's ``caller_predict``, so with stream listeners (which are keyed by predictor)
    a call from the native route cannot be attributed: it is not streamed, and the Prediction still arrives."""
    seen = _seen()
    stream = seen.get("send_stream")
    if stream is None:
        return None, None
    caller = seen.get("caller_predict")
    if caller is None and seen.get("stream_listeners"):
        return None, None
    return stream, (id(caller) if caller is not None else None)


def _engine_chunk(chunk: dict[str, Any], model: str, predict_id: Any) -> Any:
    from dspy.clients.call_result import attributes
    from dspy.clients.engines.streaming import EngineChunk

    choices = chunk.get("choices") or [{"index": 0, "delta": {}, "finish_reason": None}]
    return EngineChunk(id=chunk.get("id"), model=chunk.get("model") or model, predict_id=predict_id,
                       choices=[attributes({"index": c.get("index", 0), "delta": {"content": None, **c.get("delta", {})},
                                            "finish_reason": c.get("finish_reason")}) for c in choices])


def lm_class(cls: type) -> type:
    """``dspex.LM`` (or a subclass) joined with ``dspy.BaseLM``: DSPy accepts it as its own LM.

    Its call is dspex's HTTP client, with DSPy's callbacks around it (global and the LM's own) in place of
    dspex's; capabilities stay plain attributes (``BaseLM`` makes them read-only properties); its history entries
    go to DSPy's global and module histories once (dspex's ``_record`` reports them); inside ``dspy.streamify``
    it streams its chunks to DSPy's listeners as ``dspy.LM`` does."""
    made = _lm_classes.get(cls)
    if made is None:
        def __call__(self: Any, prompt: Any = None, messages: Any = None, **kwargs: Any) -> Any:  # noqa: N807
            stream, predict_id = _dspy_stream()
            if stream is None:
                return cls._call_once(self, prompt, messages, kwargs)
            import anyio

            def send(chunk: dict[str, Any]) -> None:
                anyio.from_thread.run(stream.send, _engine_chunk(chunk, self.model, predict_id))

            return cls._call_once(self, prompt, messages, kwargs, send)

        async def acall(self: Any, prompt: Any = None, messages: Any = None, **kwargs: Any) -> Any:
            stream, predict_id = _dspy_stream()
            if stream is None:
                return await cls._acall_once(self, prompt, messages, kwargs)

            async def send(chunk: dict[str, Any]) -> None:
                await stream.send(_engine_chunk(chunk, self.model, predict_id))

            return await cls._acall_once(self, prompt, messages, kwargs, send)

        made = _lm_classes[cls] = type(cls.__name__, (cls, dspy.BaseLM), {
            "__module__": cls.__module__, "__qualname__": cls.__qualname__, "_dspy_twin_of": cls,
            "__call__": with_callbacks(__call__), "acall": with_callbacks(acall),
            "supports_response_schema": False, "supports_function_calling": False, "supports_reasoning": False,
            "supported_params": frozenset(), "_warned_zero_temp_rollout": False,
            "dump_state": cls.dump_state, "load_state": cls.__dict__["load_state"], "copy": cls.copy,
            "inspect_history": dspy.BaseLM.inspect_history, "__reduce_ex__": _reduce_lm,
        })
    return made


def _reduce_lm(self: Any, protocol: Any) -> Any:
    """Pickled as the plain dspex class: unpickling in a process without DSPy must still work."""
    return (_rebuild_lm, (self._dspy_twin_of,), self.__getstate__())


def _rebuild_lm(cls: type) -> Any:
    return cls.__new__(cls)
