"""One completion, start to end, shared by ``LM.__call__``, ``acall``, ``stream`` and ``astream``.

:func:`prepare` turns a call (``prompt=`` / ``messages=`` / an lm15 ``Request``, plus kwargs merged over the LM's
defaults) into a request; :func:`finish` reads the answer DSPy's way, caches it, and records it (history with
usage and cost, DSPy's books when DSPy is loaded, metrics / OpenTelemetry when they listen).
"""

from __future__ import annotations

import datetime
import logging
import os
from dataclasses import dataclass
from typing import Any

from .. import hooks
from ..errors import ConfigError, LMError
from . import _observe
from ._body import cache_key
from ._dialect import shape
from ._lm15 import is_request, request_payload, to_response
from ._lm15_values import response_format_value
from ._messages import wire_messages
from ._usage import usage_of

__all__ = ["Prepared", "prepare", "finish", "outputs_of", "cost_of", "warn_truncated", "HISTORY_SIZE", "CACHE_SIZE"]

HISTORY_SIZE = 10_000
_log = logging.getLogger("dspex.lm")
CACHE_SIZE = 1_024
_UNSET: Any = object()


@dataclass(slots=True)
class Prepared:
    prompt: Any
    messages: Any
    kwargs: dict[str, Any]        # the call's own kwargs (history)
    payload: dict[str, Any]       # the body of each request
    wire: Any
    api_key: str | None
    timeout: float
    num_retries: int
    headers: dict[str, str] | None
    key: str | None               # cache key, None when the cache is off
    request: Any                  # the lm15 Request, when the call was made with one
    logprobs: bool
    count: int = 1                # requests to send: ``n`` on dspy.LM's lm15 side (see _dialect), else 1
    lm15: bool = False            # dspy.LM's lm15 side (else LiteLLM's): how it records usage (``_usage``)
    token: Any = None             # what the observer asked to get back


def prepare(lm: Any, prompt: Any, messages: Any, kwargs: dict[str, Any], asynchronous: bool = False) -> Prepared:
    """The call as requests: the body dspy.LM would send (``_dialect``), how many of them, and the cache key."""
    request = None
    if is_request(prompt) or is_request(kwargs.get("request")):
        request = prompt if is_request(prompt) else kwargs.pop("request")
        extra = set(kwargs) - {"cache", "rollout_id"}
        if extra or messages is not None:
            raise ConfigError(f"Generation options belong in the Request's config, not beside it: {sorted(extra)}.")
        if request.model != lm.model:
            raise ConfigError(f"Request.model {request.model!r} must match the LM's model {lm.model!r}.")
        prompt = None
        merged = dict(kwargs)
    else:
        if messages is None:
            if not isinstance(prompt, str):
                raise ConfigError("Call the LM with messages=[{'role': 'user', 'content': ...}] or a prompt string.")
            messages = [{"role": "user", "content": prompt}]
        merged = {**lm.kwargs, **kwargs}
    if _OPTIONS.isdisjoint(merged):   # the usual call: no client settings or dspex options among the kwargs
        use_cache, api_key, wire, timeout, num_retries, headers, keyed = \
            lm.cache, lm.api_key, lm._wire, lm.timeout, lm.num_retries, None, None
    else:
        use_cache, api_key, wire, timeout, num_retries, headers, keyed = _options(lm, merged)
    if request is not None:
        dialect = lm._dialect
        payload = request_payload(request, lm.request_model, dialect.max_tokens_field if dialect else "max_tokens")
        messages = payload["messages"]
        rollout_id = keyed.get("rollout_id") if keyed else None
        key = cache_key([wire.request_url, asynchronous, rollout_id, payload]) if use_cache else None
        count, lm15 = 1, dialect is not None
    else:
        # DSPy's key: the call as asked (model, messages, every kwarg but the connection's), per sync / async side
        key = cache_key([wire.request_url, asynchronous, lm.model, messages, merged, keyed]) if use_cache else None
        client_only = keyed is not None and ("extra_headers" in keyed or "headers" in keyed)
        payload, count, lm15 = _body(lm, messages, merged, client_only)
    return Prepared(prompt, messages, kwargs, payload, wire, api_key, timeout, num_retries, headers, key, request,
                    bool(payload.get("logprobs")), count, lm15)


# Kwargs that configure the call rather than ask the model: taken out of the body (and, but for the connection's,
# kept in the cache key, as DSPy keys on them).
_OPTIONS = frozenset({"cache", "api_key", "api_base", "base_url", "stream", "rollout_id", "timeout", "num_retries",
                      "extra_headers", "headers", "num_generations"})


def _options(lm: Any, merged: dict[str, Any]) -> tuple[Any, ...]:
    """Take the call's own settings out of ``merged``: (cache on, API key, wire, timeout, retries, HTTP headers,
    the settings the cache key keeps as DSPy's does, or None)."""
    use_cache = merged.pop("cache", lm.cache)
    api_key = merged.pop("api_key", None) or lm.api_key
    base = merged.pop("api_base", None)
    url_base = merged.pop("base_url", None)
    base = base or url_base
    wire = lm._wire if base is None else lm._wire_for(base)
    merged.pop("stream", None)   # dspex's own switch (lm.stream() sets it): a streamed call shares a plain one's cache
    if merged.get("rollout_id", 0) is None:
        del merged["rollout_id"]
    keyed = {k: merged.pop(k) for k in ("timeout", "num_retries", "rollout_id", "extra_headers", "headers",
                                       "num_generations") if k in merged}
    headers = keyed.get("extra_headers")
    if "headers" in keyed:   # LiteLLM sends both as HTTP headers
        headers = {**(keyed["headers"] or {}), **(headers or {})}
    return (use_cache, api_key, wire, keyed.get("timeout", lm.timeout), keyed.get("num_retries", lm.num_retries),
            headers, keyed or None)


def _body(lm: Any, messages: Any, merged: dict[str, Any], client_only: bool) -> tuple[dict[str, Any], int, bool]:
    """(one request's body, how many to send, whether on the lm15 side): dspy.LM's lm15 side when it would take
    the call, else LiteLLM's (``client_only``: the call names HTTP headers, a client setting lm15 does not carry)."""
    n = merged.get("n")
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
        raise ConfigError(f"n must be a positive integer (the number of completions), not {n!r}.")
    dialect = lm._dialect
    if dialect is not None and not client_only:
        rows = wire_messages(messages)
        if rows is not None:
            generation = shape(dialect, merged)
            if generation is not None:
                payload = {"model": lm.request_model, "messages": rows}
                if generation:
                    payload.update(generation)
                return payload, n or 1, True
    payload = {"model": lm.request_model, "messages": messages}
    payload.update((k, v) for k, v in merged.items() if v is not None)
    if "response_format" in payload:
        payload["response_format"] = response_format_value(payload["response_format"])
    if lm.model.startswith("openrouter/"):   # LiteLLM asks OpenRouter for its usage accounting on every call
        payload["usage"] = {"include": True}
    return payload, 1, False


def cached(lm: Any, prep: Prepared) -> Any:
    """The call's answer from the LM's memory cache (recorded like DSPy records a hit), or None."""
    if prep.key is None:
        return None
    with lm._cache_lock:
        hit = lm._cache.get(prep.key)
        if hit is not None:
            lm._cache.move_to_end(prep.key)
    if hit is None:
        return None
    return finish(lm, prep, hit[0], hit[1], cache_hit=True)


def text_of(content: Any) -> Any:
    """A message's text: a list of content parts reads as its text parts joined, as dspy.LM reads it."""
    if type(content) is list:
        texts = [p.get("text") or "" for p in content if isinstance(p, dict) and p.get("type") == "text"]
        return "".join(texts) if texts else None
    return content


def outputs_of(response: Any, url: str, logprobs: bool) -> list[Any]:
    """DSPy's reading of a chat completion: strings, or dicts when there is more than text. As dspy.LM: no choices
    read as one empty answer and a null content as "" (the adapter then says the LM answered nothing)."""
    if not isinstance(response, dict) or not isinstance(response.get("choices"), list):
        raise LMError(f"LM at {url} answered without a 'choices' list; is it an OpenAI-compatible endpoint?")
    choices = response["choices"]
    if len(choices) == 1 and not logprobs:   # the usual answer, one plain text message: read in one step
        message = choices[0].get("message") if type(choices[0]) is dict else None
        if type(message) is dict and type(message.get("content")) is str and not message.get("reasoning_content") \
                and not message.get("tool_calls"):
            return [message["content"]]
    outputs: list[dict[str, Any]] = []
    for choice in response["choices"] or [{}]:
        message = choice.get("message")
        output: dict[str, Any] = {"text": text_of(message.get("content") if message is not None else choice.get("text"))}
        if message is not None and message.get("reasoning_content"):
            output["reasoning_content"] = message["reasoning_content"]
        if logprobs:
            output["logprobs"] = choice.get("logprobs")
        if message is not None and message.get("tool_calls"):
            output["tool_calls"] = message["tool_calls"]
        outputs.append(output)
    if all(len(o) == 1 for o in outputs):
        return [o["text"] if o["text"] is not None else "" for o in outputs]
    return outputs


def warn_truncated(response: dict[str, Any]) -> None:
    """dspy.LM's warning when the server stopped at the token limit (its words, on dspex's logger)."""
    for choice in response["choices"]:
        if choice.get("finish_reason") == "length":
            _log.warning("LM response was truncated; increase max_tokens or inspect history.")
            return


def cost_of(lm: Any, usage: dict[str, Any]) -> float | None:
    """USD for one call: what the server reports (``usage.cost``, as OpenRouter-style gateways send), else the
    LM's ``pricing`` ({"input": $, "output": $} per million tokens) times the usage; None when neither is known."""
    reported = usage.get("cost")
    if isinstance(reported, (int, float)) and not isinstance(reported, bool):
        return float(reported)
    pricing = lm.pricing
    if not pricing or not usage:
        return None
    inp, out = usage.get("prompt_tokens") or 0, usage.get("completion_tokens") or 0
    return (inp * pricing.get("input", 0.0) + out * pricing.get("output", 0.0)) / 1_000_000


def finish(lm: Any, prep: Prepared, response: dict[str, Any], outputs: Any = None, cache_hit: bool = False,
           cost: Any = _UNSET, usage: dict[str, Any] | None = None) -> Any:
    """Read, cache and record a call's answer (``outputs``, ``cost`` and ``usage`` given when already read: a cache
    hit, or the merged answers of ``n`` requests). The usage recorded is dspy.LM's reading of the server's
    (``_usage``); the cost is read from the server's own (a gateway's ``usage.cost``)."""
    if outputs is None:
        outputs = outputs_of(response, prep.wire.url, prep.logprobs)
        warn_truncated(response)
    if not cache_hit and prep.key is not None:
        with lm._cache_lock:
            lm._cache[prep.key] = (response, outputs)
            if len(lm._cache) > CACHE_SIZE:
                lm._cache.popitem(last=False)
    if cost is _UNSET:
        cost = cost_of(lm, {} if cache_hit else dict(response.get("usage") or {}))
    if cache_hit:
        usage = {}
    elif usage is None:
        usage = usage_of(response.get("usage"), prep.lm15)
    result = to_response(prep.request, response, lm.model) if prep.request is not None else list(outputs)
    _record(lm, prep, response, outputs, usage, cost)
    obs = _observe.observer
    if obs is not None and (prep.token is not None or cache_hit):
        obs.lm_end(prep.token, lm, response, usage, cost, None, cache_hit)
    return result


def failed(lm: Any, prep: Prepared, error: BaseException) -> None:
    obs = _observe.observer
    if obs is not None and prep.token is not None:
        obs.lm_end(prep.token, lm, None, {}, None, error, False)


_UUID_MASK = ~((0xC000 << 48) | (0xF000 << 64)) & ((1 << 128) - 1)
_UUID_V4 = (0x8000 << 48) | (4 << 76)


def uuid4_text(random: bytes | None = None) -> str:
    """``str(uuid.uuid4())``, with its version and variant bits, at under half the cost (a history entry per LM
    call carries one, as DSPy's does; building a ``UUID`` object for it was a third of recording the call)."""
    h = "%032x" % (int.from_bytes(random or os.urandom(16), "big") & _UUID_MASK | _UUID_V4)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _record(lm: Any, prep: Prepared, response: dict[str, Any], outputs: Any, usage: dict[str, Any],
            cost: float | None) -> None:
    entry = {
        "prompt": prep.prompt,
        "messages": prep.messages,
        "kwargs": {k: v for k, v in prep.kwargs.items() if not k.startswith("api_")} if prep.kwargs else {},
        "response": response,
        "outputs": outputs,
        "usage": usage,
        "cost": cost,
        "timestamp": datetime.datetime.now().isoformat(),
        "uuid": uuid4_text(),
        "model": lm.model,
        "response_model": response.get("model"),
        "model_type": lm.model_type,
    }
    if prep.request is not None:
        entry["request"] = prep.request
    history = lm.history
    history.append(entry)
    if len(history) > HISTORY_SIZE:
        del history[: len(history) - HISTORY_SIZE]
    bridge = hooks.bridge
    if bridge is not None:  # a DSPy program: dspy.inspect_history, module history and usage see this call
        bridge.record_lm(lm, prep.prompt, prep.messages, prep.kwargs, outputs, {"_dspex_entry": entry})
    elif hooks.history_sink is not None:  # a native-only program: the calling native modules' history
        hooks.history_sink(entry)
