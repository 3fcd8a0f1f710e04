"""``dspex.LM``: ``dspy.LM``'s constructor and call convention over any OpenAI-compatible chat endpoint.

Swapping ``dspy.LM("openai/m", api_base=..., api_key=...)`` for ``dspex.LM(...)`` keeps the arguments and
what a call returns (``list[str]``, or dicts when logprobs / tool calls / reasoning come back), without
importing dspy or litellm. It also answers DSPy 3.4's typed form, ``lm(dspy.lm15.Request(...)) -> Response``.
Transport: httpx (sync and async, pooled keep-alive, proxies and CA bundles from the environment, HTTP/2 with
``http2=True``), see ``_wire``. The requests are dspy.LM's: ``n > 1`` is ``n`` requests without ``n`` where DSPy's
lm15 engine sends it so, one request carrying ``n`` where DSPy's LiteLLM side does (``_dialect``, ``_fanout``).
Differences, on purpose: the cache is in memory only (bounded LRU) and keyed on the endpoint too; ``api_key`` /
``api_base`` are attributes, never part of ``kwargs``, history or saved state; there is no network call but the
endpoint's (no model-metadata lookup).
"""

from __future__ import annotations

import collections
import functools
import os
import threading
import uuid
from typing import Any, AsyncIterator, Callable, Iterator

from .. import hooks
from ..errors import ConfigError
from . import _observe, _state
from ._complete import cached, failed, finish, prepare
from ._dialect import dialect_for
from ._fanout import agather, asend, count_answered, finish_streamed, gather, send
from ._errors import redact
from ._models import model_info
from ._retry import apost_json, post_json
from ._stream import Assembler, achunks, chunks, whole_chunk
from ._wire import Wire

__all__ = ["LM"]

_DEFAULT_API_BASE = "https://api.openai.com/v1"
# Prefixes whose model id goes out without them (LiteLLM and lm15 both strip these).
_OPENAI_COMPATIBLE_PREFIXES = frozenset({"openai", "hosted_vllm", "custom_openai", "openai_like", "lm_studio",
                                         "ollama", "ollama_chat", "groq", "openrouter"})
Messages = list[dict[str, Any]]


class LM:
    """An OpenAI-compatible chat model: ``LM("openai/gpt-4o-mini", api_base=..., api_key=...)``."""

    records_dspy_history = True   # when DSPy is loaded, each call also lands in DSPy's histories (see _record)

    def __new__(cls, *args: Any, **kwargs: Any) -> "LM":
        # In a program that has loaded DSPy, a dspex.LM is also a dspy.BaseLM, so DSPy accepts it wherever it
        # accepts an LM (dspy.configure, a predictor's lm, DSPy-only modules). The class comes from DSPy's side.
        bridge = hooks.bridge if hooks.bridge is not None else hooks.current()
        if bridge is not None and getattr(cls, "_dspy_twin_of", None) is None:
            cls = bridge.lm_class(cls)
        hooks.lm_history = True   # native modules now keep their calling chain for this LM's history entries
        return super().__new__(cls)

    def __init__(
        self,
        model: str,
        model_type: str = "chat",
        temperature: float | None = None,
        max_tokens: int | None = None,
        cache: bool = True,
        callbacks: list[Any] | None = None,
        num_retries: int = 3,
        api_base: str | None = None,
        api_key: str | None = None,
        timeout: float = 120.0,
        http2: bool = False,
        verify: bool | str = True,
        pricing: dict[str, float] | None = None,
        **kwargs: Any,
    ) -> None:
        if not isinstance(model, str) or not model:
            raise ConfigError("model must be a non-empty string, e.g. LM('openai/gpt-4o-mini').")
        if model_type != "chat":
            raise ConfigError(
                f"dspex.LM speaks the chat completions API only (model_type='chat'), not {model_type!r}; "
                "use dspy.LM for text or responses models."
            )
        if isinstance(num_retries, bool) or not isinstance(num_retries, int) or num_retries < 0:
            raise ConfigError("num_retries must be a nonnegative integer.")
        provider, sep, name = model.partition("/")
        if sep and not name:
            raise ConfigError(f"model {model!r} has a provider prefix but no model id after it.")
        self.model = model
        self.model_type = model_type
        self.request_model = name if sep and provider in _OPENAI_COMPATIBLE_PREFIXES else model
        self._dialect = dialect_for(model)   # the requests dspy.LM sends for this model (_dialect)
        self.cache = cache
        self.callbacks = list(callbacks or [])
        self.num_retries = num_retries
        self.timeout = timeout
        base = api_base or kwargs.pop("base_url", None)
        env_base = os.environ.get("OPENAI_API_BASE") or os.environ.get("OPENAI_BASE_URL")
        self.api_base = base or env_base or _DEFAULT_API_BASE
        self._explicit_api_base = base
        self.api_key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY")
        info = model_info(self.request_model.split("/")[-1])
        if info.reasoning:
            if (temperature and temperature != 1.0) or (max_tokens and max_tokens < 16000):
                raise ConfigError(
                    "OpenAI's reasoning models require passing temperature=1.0 or None and max_tokens >= 16000 or "
                    "None to `dspy.LM(...)`, e.g., dspy.LM('openai/gpt-5', temperature=1.0, max_tokens=16000)"
                )
            self.kwargs: dict[str, Any] = dict(temperature=temperature, max_completion_tokens=max_tokens, **kwargs)
        else:
            self.kwargs = dict(temperature=temperature, max_tokens=max_tokens, **kwargs)
        if self.kwargs.get("rollout_id") is None:
            self.kwargs.pop("rollout_id", None)
        # Plain attributes (not properties), so a user can correct them for a model the table does not know.
        self.supports_response_schema = info.response_schema
        self.supports_function_calling = info.function_calling
        self.supported_params: set[str] = set(info.params)
        self.history: list[dict[str, Any]] = []
        self.http2, self.verify, self.pricing = http2, verify, dict(pricing) if pricing else None
        self._wires: dict[str, Wire] = {}
        self._wire = self._wire_for(self.api_base)
        self._cache: collections.OrderedDict[str, tuple[dict[str, Any], list[Any]]] = collections.OrderedDict()
        self._cache_lock = threading.Lock()

    def _wire_for(self, api_base: str) -> Wire:
        wire = self._wires.get(api_base)
        if wire is None:
            wire = self._wires[api_base] = Wire(api_base, http2=self.http2, verify=self.verify)
        return wire

    # --- calling ----------------------------------------------------------------------------------------------
    def __call__(self, prompt: Any = None, messages: Messages | None = None, **kwargs: Any) -> Any:
        if not self.callbacks:
            return self._call_once(prompt, messages, kwargs)
        call_id, inputs = self._callbacks_start(prompt, messages, kwargs)
        try:
            outputs = self._call_once(prompt, messages, kwargs)
        except Exception as exc:
            self._callbacks_end(call_id, None, exc)
            raise
        self._callbacks_end(call_id, outputs, None)
        return outputs

    async def acall(self, prompt: Any = None, messages: Messages | None = None, **kwargs: Any) -> Any:
        """The same call on httpx's async client: the event loop keeps running while the server thinks."""
        if not self.callbacks:
            return await self._acall_once(prompt, messages, kwargs)
        call_id, inputs = self._callbacks_start(prompt, messages, kwargs)
        try:
            outputs = await self._acall_once(prompt, messages, kwargs)
        except Exception as exc:
            self._callbacks_end(call_id, None, exc)
            raise
        self._callbacks_end(call_id, outputs, None)
        return outputs

    def _callbacks_start(self, prompt: Any, messages: Any, kwargs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        call_id, inputs = uuid.uuid4().hex, {"prompt": prompt, "messages": messages, **kwargs}
        for cb in self.callbacks:
            cb.on_lm_start(call_id=call_id, instance=self, inputs=inputs)
        return call_id, inputs

    def _callbacks_end(self, call_id: str, outputs: Any, exc: BaseException | None) -> None:
        for cb in self.callbacks:
            cb.on_lm_end(call_id=call_id, outputs=outputs, exception=exc)

    def _call_once(self, prompt: Any, messages: Messages | None, kwargs: dict[str, Any],
                   on_chunk: Callable[[dict[str, Any]], None] | None = None) -> Any:
        """One call without callbacks (DSPy's side puts its own around it). ``stream=True`` (or an ``on_chunk``
        receiver) streams it over server-sent events; the result is the same either way. A call that dspy.LM
        sends as ``n`` requests is sent as ``n`` requests, one after the other (``_fanout``)."""
        streaming = bool(kwargs.get("stream")) or on_chunk is not None
        prep = prepare(self, prompt, messages, dict(kwargs))
        hit = cached(self, prep)
        if hit is not None:
            return hit
        _watched(self, prep, streaming)
        try:
            if prep.count != 1:
                response, outputs, cost, usage = gather(self, prep, functools.partial(send, prep, streaming, on_chunk))
            elif streaming:
                response = send(prep, True, on_chunk)
            else:
                response = post_json(prep.wire, prep.payload, prep.api_key, prep.timeout, prep.num_retries,
                                     prep.headers)
        except BaseException as exc:
            redact(exc, prep.api_key)
            failed(self, prep, exc)
            raise
        if prep.count == 1:
            return finish(self, prep, response)
        return finish(self, prep, response, outputs, cost=cost, usage=usage)

    async def _acall_once(self, prompt: Any, messages: Messages | None, kwargs: dict[str, Any],
                          on_chunk: Callable[[dict[str, Any]], Any] | None = None) -> Any:
        streaming = bool(kwargs.get("stream")) or on_chunk is not None
        prep = prepare(self, prompt, messages, dict(kwargs), asynchronous=True)
        hit = cached(self, prep)
        if hit is not None:
            return hit
        _watched(self, prep, streaming)
        try:
            if prep.count != 1:
                response, outputs, cost, usage = await agather(self, prep,
                                                        functools.partial(asend, prep, streaming, on_chunk))
            elif streaming:
                response = await asend(prep, True, on_chunk)
            else:
                response = await apost_json(prep.wire, prep.payload, prep.api_key, prep.timeout, prep.num_retries,
                                            prep.headers)
        except BaseException as exc:
            redact(exc, prep.api_key)
            failed(self, prep, exc)
            raise
        if prep.count == 1:
            return finish(self, prep, response)
        return finish(self, prep, response, outputs, cost=cost, usage=usage)

    def stream(self, prompt: Any = None, messages: Messages | None = None, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Yield the call's chunks (OpenAI ``chat.completion.chunk`` dicts) as the server sends them; once all are
        read the call is cached and recorded exactly like ``lm(...)`` (same outputs, usage, cost). A cached call
        yields one chunk holding the whole answer. Never retried: a failure mid-stream would repeat what was read.
        A call dspy.LM sends as ``n`` requests streams them one after the other."""
        prep = prepare(self, prompt, messages, {**kwargs, "stream": True})
        hit = cached(self, prep)
        if hit is not None:
            yield whole_chunk(hit)
            return
        _watched(self, prep, True)
        answers: list[dict[str, Any]] = []
        try:
            for _ in range(prep.count):
                assembler = Assembler()
                for chunk in chunks(prep, None):
                    assembler.push(chunk)
                    yield chunk
                answers.append(assembler.completion())
        except BaseException as exc:
            redact(exc, prep.api_key)
            failed(self, prep, exc)
            count_answered(self, prep, answers)
            raise
        finish_streamed(self, prep, answers)

    async def astream(self, prompt: Any = None, messages: Messages | None = None,
                      **kwargs: Any) -> AsyncIterator[dict[str, Any]]:
        """The async twin of :meth:`stream`."""
        prep = prepare(self, prompt, messages, {**kwargs, "stream": True}, asynchronous=True)
        hit = cached(self, prep)
        if hit is not None:
            yield whole_chunk(hit)
            return
        _watched(self, prep, True)
        answers: list[dict[str, Any]] = []
        try:
            for _ in range(prep.count):
                assembler = Assembler()
                async for chunk in achunks(prep):
                    assembler.push(chunk)
                    yield chunk
                answers.append(assembler.completion())
        except BaseException as exc:
            redact(exc, prep.api_key)
            failed(self, prep, exc)
            count_answered(self, prep, answers)
            raise
        finish_streamed(self, prep, answers)

    # --- state (lm/_state.py): DSPy's saved-state layout, copies, pickles ---------------------------------------
    dump_state = _state.dump_state
    load_state = classmethod(_state.load_state)
    copy = _state.copy
    __getstate__ = _state.getstate
    __setstate__ = _state.setstate

    def __repr__(self) -> str:   # (a password in api_base shows masked, as in errors: reprs land in logs)
        return f"LM(model={self.model!r}, api_base={_masked(self.api_base)!r})"


_state.LM_NEW = LM.__new__   # copies of a plain dspex.LM skip the bridge look-up ``__new__`` makes


def _masked(url: Any) -> Any:
    """``url`` with any ``user:password@`` shown as ``***@``."""
    if not isinstance(url, str) or "@" not in url:
        return url
    scheme, sep, rest = url.partition("://")
    netloc, slash, path = rest.partition("/")
    if not sep or "@" not in netloc:
        return url
    return f"{scheme}://***@{netloc.rpartition('@')[2]}{slash}{path}"


def _watched(lm: LM, prep: Any, streaming: bool) -> None:
    """Tell metrics / OpenTelemetry a request is going out (one global read when nobody watches)."""
    obs = _observe.observer
    if obs is not None:
        # a call sent as n requests is one observed call asking for n choices
        payload = prep.payload if prep.count == 1 else {**prep.payload, "n": prep.count}
        prep.token = obs.lm_start(lm, payload, streaming)
