"""``dspex.LM``: ``dspy.LM``'s constructor and call convention over any OpenAI-compatible chat endpoint.

Swapping ``dspy.LM("openai/m", api_base=..., api_key=...)`` for ``dspex.LM(...)`` keeps the arguments and
what a call returns (``list[str]``, or dicts when logprobs / tool calls / reasoning come back), without
importing dspy or litellm. Differences, on purpose: the cache is in memory only (bounded LRU); ``n > 1`` is
one request with ``n`` (DSPy sends ``n`` requests); ``api_key`` / ``api_base`` are attributes, never part of
``kwargs``, history or saved state; there is no network lookup of model metadata.
"""

from __future__ import annotations

import asyncio
import collections
import datetime
import json
import os
import threading
import uuid
from typing import Any

from .. import hooks
from ..errors import ConfigError, LMError
from ._http import Endpoint, post_json
from ._models import model_info

__all__ = ["LM"]

_DEFAULT_API_BASE = "https://api.openai.com/v1"
_OPENAI_COMPATIBLE_PREFIXES = frozenset({"openai", "hosted_vllm", "custom_openai", "openai_like", "lm_studio"})
Messages = list[dict[str, Any]]
HISTORY_SIZE = 10_000
CACHE_SIZE = 1_024


class LM:
    """An OpenAI-compatible chat model: ``LM("openai/gpt-4o-mini", api_base=..., api_key=...)``."""

    records_dspy_history = True   # when DSPy is loaded, each call also lands in DSPy's histories (see _record)

    def __new__(cls, *args: Any, **kwargs: Any) -> "LM":
        # In a program that has loaded DSPy, a dspex.LM is also a dspy.BaseLM, so DSPy accepts it wherever it
        # accepts an LM (dspy.configure, a predictor's lm, DSPy-only modules). The class comes from DSPy's side.
        bridge = hooks.bridge if hooks.bridge is not None else hooks.current()
        if bridge is not None and getattr(cls, "_dspy_twin_of", None) is None:
            cls = bridge.lm_class(cls)
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
        self._endpoints: dict[str, Endpoint] = {}
        self._endpoint = self._endpoint_for(self.api_base)
        self._cache: collections.OrderedDict[str, tuple[dict[str, Any], list[Any]]] = collections.OrderedDict()
        self._cache_lock = threading.Lock()

    def _endpoint_for(self, api_base: str) -> Endpoint:
        endpoint = self._endpoints.get(api_base)
        if endpoint is None:
            endpoint = self._endpoints[api_base] = Endpoint(api_base)
        return endpoint

    # --- calling ----------------------------------------------------------------------------------------------
    def __call__(self, prompt: str | None = None, messages: Messages | None = None, **kwargs: Any) -> list[Any]:
        if not self.callbacks:
            return self._call_once(prompt, messages, kwargs)
        if messages is None:
            if not isinstance(prompt, str):
                raise ConfigError("Call the LM with messages=[{'role': 'user', 'content': ...}] or a prompt string.")
            messages = [{"role": "user", "content": prompt}]
        call_id = uuid.uuid4().hex
        for cb in self.callbacks:
            cb.on_lm_start(call_id=call_id, instance=self, inputs={"prompt": prompt, "messages": messages, **kwargs})
        try:
            outputs = self._complete(prompt, messages, kwargs)
        except Exception as exc:
            for cb in self.callbacks:
                cb.on_lm_end(call_id=call_id, outputs=None, exception=exc)
            raise
        for cb in self.callbacks:
            cb.on_lm_end(call_id=call_id, outputs=outputs, exception=None)
        return outputs

    def _call_once(self, prompt: str | None, messages: Messages | None, kwargs: dict[str, Any]) -> list[Any]:
        """One completion request, without callbacks (DSPy's side puts its own around it)."""
        if messages is None:
            if not isinstance(prompt, str):
                raise ConfigError("Call the LM with messages=[{'role': 'user', 'content': ...}] or a prompt string.")
            messages = [{"role": "user", "content": prompt}]
        return self._complete(prompt, messages, kwargs)

    async def acall(self, prompt: str | None = None, messages: Messages | None = None, **kwargs: Any) -> list[Any]:
        """The same call in a worker thread, so the event loop keeps running while the server thinks."""
        return await asyncio.to_thread(self.__call__, prompt, messages, **kwargs)

    def _complete(self, prompt: str | None, messages: list[dict[str, Any]], kwargs: dict[str, Any]) -> list[Any]:
        merged = {**self.kwargs, **kwargs}
        use_cache = merged.pop("cache", self.cache)
        timeout = merged.pop("timeout", self.timeout)
        num_retries = merged.pop("num_retries", self.num_retries)
        rollout_id = merged.pop("rollout_id", None)
        api_key = merged.pop("api_key", None) or self.api_key
        base = merged.pop("api_base", None) or merged.pop("base_url", None)
        endpoint = self._endpoint if base is None else self._endpoint_for(base)
        extra_headers = merged.pop("extra_headers", None)
        merged.pop("num_generations", None)
        payload = {"model": self.request_model, "messages": messages}
        payload.update((k, v) for k, v in merged.items() if v is not None)
        key = None
        if use_cache:
            key = json.dumps([endpoint.url, rollout_id, payload], sort_keys=True, default=repr)
            with self._cache_lock:
                hit = self._cache.get(key)
                if hit is not None:
                    self._cache.move_to_end(key)
            if hit is not None:
                self._record(prompt, messages, kwargs, hit[0], hit[1])
                return list(hit[1])
        response = post_json(endpoint, payload, api_key, timeout, num_retries, extra_headers)
        outputs = self._outputs(response, endpoint.url, bool(merged.get("logprobs")))
        if key is not None:
            with self._cache_lock:
                self._cache[key] = (response, outputs)
                if len(self._cache) > CACHE_SIZE:
                    self._cache.popitem(last=False)
        self._record(prompt, messages, kwargs, response, outputs)
        return list(outputs)

    @staticmethod
    def _outputs(response: Any, url: str, logprobs: bool) -> list[Any]:
        """DSPy's reading of a chat completion: strings, or dicts when there is more than text."""
        if not isinstance(response, dict) or not isinstance(response.get("choices"), list):
            raise LMError(f"LM at {url} answered without a 'choices' list; is it an OpenAI-compatible endpoint?")
        outputs: list[dict[str, Any]] = []
        for choice in response["choices"]:
            message = choice.get("message")
            output: dict[str, Any] = {"text": message.get("content") if message is not None else choice.get("text")}
            if message is not None and message.get("reasoning_content"):
                output["reasoning_content"] = message["reasoning_content"]
            if logprobs:
                output["logprobs"] = choice.get("logprobs")
            if message is not None and message.get("tool_calls"):
                output["tool_calls"] = message["tool_calls"]
            outputs.append(output)
        if all(len(o) == 1 for o in outputs):
            return [o["text"] for o in outputs]
        return outputs

    def _record(self, prompt: Any, messages: Any, kwargs: dict[str, Any], response: dict[str, Any],
                outputs: Any) -> None:
        self.history.append({
            "prompt": prompt,
            "messages": messages,
            "kwargs": {k: v for k, v in kwargs.items() if not k.startswith("api_")},
            "response": response,
            "outputs": outputs,
            "usage": dict(response.get("usage") or {}),
            "cost": None,
            "timestamp": datetime.datetime.now().isoformat(),
            "uuid": str(uuid.uuid4()),
            "model": self.model,
            "response_model": response.get("model"),
            "model_type": self.model_type,
        })
        if len(self.history) > HISTORY_SIZE:
            del self.history[: len(self.history) - HISTORY_SIZE]
        bridge = hooks.bridge
        if bridge is not None:  # a DSPy program: dspy.inspect_history, module history and usage see this call
            bridge.record_lm(self, prompt, messages, kwargs, outputs, response)

    # --- state ------------------------------------------------------------------------------------------------
    def dump_state(self) -> dict[str, Any]:
        """DSPy's LM state (loadable by ``dspy.LM`` too); never includes the API key."""
        state: dict[str, Any] = {
            "_dspy_lm_class": "dspy.clients.lm.LM",
            "model": self.model,
            "model_type": self.model_type,
            "cache": self.cache,
            "num_retries": self.num_retries,
            **{k: v for k, v in self.kwargs.items() if k not in ("api_key", "_dspy_lm_class")},
        }
        if self._explicit_api_base:
            state["api_base"] = self._explicit_api_base
        return state

    @classmethod
    def load_state(cls, state: dict[str, Any]) -> "LM":
        state = {k: v for k, v in state.items() if k != "_dspy_lm_class"}
        if "max_completion_tokens" in state:
            state.setdefault("max_tokens", state.pop("max_completion_tokens"))
        return cls(**state)

    def copy(self, **kwargs: Any) -> "LM":
        """A copy with some settings or request defaults changed (``lm.copy(temperature=1.0)``), as in DSPy."""
        new = type(self).__new__(type(self))
        new.__dict__.update(self.__dict__)
        new.history, new.callbacks, new.kwargs = [], list(self.callbacks), dict(self.kwargs)
        new._cache, new._cache_lock = collections.OrderedDict(), threading.Lock()
        for key, value in kwargs.items():
            if key in ("model", "kwargs", "history") or key.startswith("_"):
                raise ConfigError(f"copy() cannot change {key!r}; build a new LM instead.")
            if hasattr(new, key):
                setattr(new, key, value)
                if key == "api_base":
                    new._explicit_api_base, new._endpoint = value, new._endpoint_for(value)
            elif value is None:
                new.kwargs.pop(key, None)
            else:
                new.kwargs[key] = value
        return new

    # Connections, locks and the cache are per process: copies and pickles start with fresh ones.
    def __getstate__(self) -> dict[str, Any]:
        skip = ("_endpoints", "_endpoint", "_cache", "_cache_lock")
        return {k: v for k, v in self.__dict__.items() if k not in skip}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._endpoints = {}
        self._endpoint = self._endpoint_for(self.api_base)
        self._cache = collections.OrderedDict()
        self._cache_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"LM(model={self.model!r}, api_base={self.api_base!r})"
