"""What ``dspy.LM`` 3.4.1 puts on the wire for an OpenAI-compatible model, so ``dspex.LM`` sends the same requests.

DSPy 3.4's default engine (``engine="auto"``) sends a chat call through its bundled lm15 client when lm15 has a
door for the model and can carry every key of the call, and through LiteLLM otherwise (``_select_engine`` in
dspy/clients/execution.py, ``select_backend`` in dspy/clients/backend_selection.py). The two sides send
different requests for the same call:

* lm15 (``openai/...``, ``hosted_vllm/...``, ``ollama/...``, ``ollama_chat/...``, ``groq/...``, ``openrouter/...``,
  a bare ``gpt-*`` / ``o1*`` / ``o3*`` / ``o4*`` name; the model id without its prefix): ONE REQUEST
  PER COMPLETION, sent one after the other, with no ``n`` on the wire (``execute`` / ``aexecute``: ``count =
  call.n``); the token limit under the server's own field (OpenAI: ``max_completion_tokens``, the others:
  ``max_tokens``; lm15's chat presets in _vendor/lm15/compat.py); every value rebuilt the way lm15's
  ``request_from_openai_chat`` reads it and ``OpenAIChatLM._payload`` writes it (``stop="x"`` becomes ``["x"]``,
  ``top_k`` is dropped, ``temperature=0`` is ``0.0``, ``response_format={"type": "text"}`` is left out, a
  pydantic ``response_format`` becomes a strict JSON schema...).
* LiteLLM (``custom_openai/``, ``lm_studio/``, another bare name; or, per call, a key lm15 has no verdict for,
  ``extra_headers`` / ``headers``, a value lm15 refuses such as ``temperature=3``; or ``OPENAI_API_BASE`` set in
  the environment for ``openai/``; ``reasoning_effort`` for ``openrouter/``): ONE request with the kwargs as given,
  ``n`` included (for ``openrouter/`` LiteLLM adds ``"usage": {"include": true}``). LiteLLM's ``ollama/``,
  ``ollama_chat/`` (Ollama's own ``/api/...`` endpoints, ``n`` refused) and ``groq/`` (its own rewrites) are not
  modelled: there dspex.LM sends the OpenAI-compatible request with ``n``.

:func:`dialect_for` picks the side once per LM (model string and environment at construction; DSPy reads the
environment on every call). :func:`shape` builds one call's generation keys on the lm15 side, or answers None
where DSPy would take the LiteLLM side (the value readers are in ``_lm15_values``, the messages in ``_messages``).
Not modelled, so sent the LiteLLM way: ``prompt_cache_options``, ``tool_choice`` of type ``allowed_tools``,
assistant ``refusal`` / ``annotations``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable

from ._lm15_values import (SKIP, Refused, ranged, read_functions, read_int, read_response_format, read_stop, read_store,
                           read_text, read_tool_choice, read_tools, read_top_k)

__all__ = ["Dialect", "OPENAI", "VLLM", "OLLAMA", "GROQ", "OPENROUTER", "PREFIXES", "dialect_for", "shape"]


@dataclass(frozen=True, slots=True)
class Dialect:
    """One lm15 Chat Completions preset, as far as the keys dspex.LM sends differ between them: the server's name
    for the token limit, whether DSPy's lm15 side carries ``reasoning_effort`` for it (for OpenRouter it does not:
    the call goes through LiteLLM), and whether the server takes OpenAI's prompt-cache keys (``cache_control``)."""

    name: str
    max_tokens_field: str
    reasoning_effort: bool = True
    prompt_cache: bool = False


# lm15 compat.py OPENAI_CHAT_PRESETS[...]
OPENAI = Dialect("openai", "max_completion_tokens", prompt_cache=True)
VLLM = Dialect("vllm", "max_tokens")
OLLAMA = Dialect("ollama", "max_tokens")
GROQ = Dialect("groq", "max_tokens")
OPENROUTER = Dialect("openrouter", "max_tokens", reasoning_effort=False, prompt_cache=True)

# LiteLLM prefix -> lm15 preset, for the prefixes dspex.LM speaks (lm15 router.py LITELLM_PROVIDER_PREFIXES). With
# api_base given, lm15 posts each to ``{api_base}/chat/completions``, as it does for openai/.
PREFIXES = {"openai": OPENAI, "hosted_vllm": VLLM, "ollama": OLLAMA, "ollama_chat": OLLAMA, "groq": GROQ,
             "openrouter": OPENROUTER}
# A bare model name routes by lm15's rules (router.py DEFAULT_RULES); OpenAI's go to its Chat Completions door.
_BARE_OPENAI = ("gpt-", "o1", "o3", "o4", "chat-latest")

def dialect_for(model: str, environ: Any = os.environ) -> Dialect | None:
    """The lm15 preset dspy.LM sends ``model`` through, or None when it sends it through LiteLLM."""
    prefix, sep, rest = model.partition("/")
    if not sep:
        return OPENAI if model.startswith(_BARE_OPENAI) else None
    dialect = PREFIXES.get(prefix)
    if dialect is None:
        return None
    # An environment-configured gateway keeps LiteLLM (select_backend: "{PREFIX}_API_BASE" / "{PREFIX}_BASE_URL").
    upper = prefix.upper()
    if environ.get(f"{upper}_API_BASE") or environ.get(f"{upper}_BASE_URL"):
        return None
    return dialect


_EFFORTS = {"off": "none", "none": "none", "minimal": "minimal", "low": "low", "medium": "medium", "high": "high",
            "xhigh": "xhigh", "max": "max"}   # lm15 REASONING_EFFORTS; "none" / "off" reach the wire as "none"

# Generation keys lm15 passes verbatim (openai_chat.py _INGEST_EXTENSIONS_KEYS), written last in their given order.
_EXTENSIONS = frozenset({"logit_bias", "metadata", "verbosity", "moderation", "provider", "prediction"})
# Not generation keys: ``n`` is the number of requests (the caller's), the call-mode keys lm15 reads and drops.
_DROPPED = frozenset({"n", "stream", "stream_options"})

# Keys lm15 reads on their own: the value it writes (or SKIP), raising Refused where it would refuse.
_SIMPLE: dict[str, Callable[[Any], Any]] = {
    "temperature": ranged(0, 2),
    "top_p": ranged(0, 1),
    "seed": read_int,
    "frequency_penalty": ranged(-2, 2),
    "presence_penalty": ranged(-2, 2),
    "top_k": read_top_k,
    "stop": read_stop,
    "service_tier": read_text,
    "store": read_store,
}
# Keys read together after the pass over the call's keys.
_JOINT = frozenset({"logprobs", "top_logprobs", "response_format", "tools", "tool_choice", "parallel_tool_calls",
                    "functions", "function_call", "user", "safety_identifier", "reasoning_effort", "prompt_cache_key",
                    "prompt_cache_retention"})
# The order lm15's OpenAIChatLM._payload writes the keys in (after model, messages and the token limit).
_ORDER = ("temperature", "top_p", "seed", "frequency_penalty", "presence_penalty", "stop", "logprobs", "top_logprobs",
          "tools", "tool_choice", "parallel_tool_calls", "response_format", "reasoning_effort", "prompt_cache_key",
          "prompt_cache_retention", "service_tier", "user", "store")
_RANK = {key: rank for rank, key in enumerate(_ORDER)}


def shape(dialect: Dialect, merged: dict[str, Any]) -> dict[str, Any] | None:
    """One lm15 request's generation keys for a call's ``merged`` kwargs (client settings and dspex's own options
    already taken out; a None value means "not set", as DSPy drops it), in lm15's order; None when DSPy would send
    the call through LiteLLM instead (a key or value lm15 does not carry)."""
    cfg: dict[str, Any] = {}
    limit = joint = extensions = None
    for key, value in merged.items():
        if value is None:
            continue
        read = _SIMPLE.get(key)
        if read is not None:
            try:
                value = read(value)
            except Refused:
                return None
            if value is not SKIP:
                cfg[key] = value
        elif key == "max_tokens" or key == "max_completion_tokens":
            if limit is not None and repr(limit) != repr(value):
                return None   # lm15: "max_tokens and max_completion_tokens disagree"
            limit = value
        elif key in _JOINT:
            joint = True
        elif key in _EXTENSIONS:
            if extensions is None:
                extensions = {}
            extensions[key] = value
        elif key not in _DROPPED:
            return None
    try:
        if joint:
            _joint(dialect, merged, cfg)
        if len(cfg) > 1:
            cfg = {key: cfg[key] for key in sorted(cfg, key=_RANK.__getitem__)}
        if limit is not None:   # lm15 writes the token limit first
            if type(limit) is not int or limit < 1:
                limit = read_int(limit, 1)
            cfg = {dialect.max_tokens_field: limit, **cfg}
    except Refused:
        return None
    if extensions:
        cfg.update(extensions)
    return cfg


def _joint(dialect: Dialect, merged: dict[str, Any], cfg: dict[str, Any]) -> None:
    get = merged.get
    logprobs, top = get("logprobs"), get("top_logprobs")
    if logprobs is True:
        top = read_int(top if top is not None else 0, 0)
        cfg["logprobs"] = True
        if top > 0:
            cfg["top_logprobs"] = top
    elif logprobs not in (None, False) or top is not None:
        raise Refused
    fmt = get("response_format")
    if fmt is not None:
        fmt = read_response_format(fmt)
        if fmt is not None:
            cfg["response_format"] = fmt
    functions, function_call = get("functions"), get("function_call")
    if functions is not None or function_call is not None:
        if get("tools") is not None or get("tool_choice") is not None:
            raise Refused
        read_functions(cfg, functions, function_call)
        merged = {**merged, "tools": cfg.pop("tools", None), "tool_choice": cfg.pop("tool_choice", None)}
        get = merged.get
    names: set[str] = set()
    if get("tools") is not None:
        tools = read_tools(get("tools"))
        if tools:
            cfg["tools"] = tools
            names = {t["function"]["name"] for t in tools}
    choice, parallel = read_tool_choice(get("tool_choice"), get("parallel_tool_calls"), names)
    if choice is not None:
        cfg["tool_choice"] = choice
    if parallel is not None:
        cfg["parallel_tool_calls"] = parallel
    users = [v for v in (get("user"), get("safety_identifier")) if v is not None]
    if len(users) > 1:
        raise Refused
    if users:
        cfg["user"] = read_text(users[0])
    effort = get("reasoning_effort")
    if effort is not None:
        if type(effort) is not str or effort not in _EFFORTS or not dialect.reasoning_effort:
            raise Refused
        cfg["reasoning_effort"] = _EFFORTS[effort]
    key, retention = get("prompt_cache_key"), get("prompt_cache_retention")
    if key is not None or retention is not None:
        if not dialect.prompt_cache or (retention is not None and retention != "24h"):
            raise Refused   # vLLM has no prompt-cache control; "24h" is the one retention lm15 names
        if key is not None:
            cfg["prompt_cache_key"] = read_text(key)
        if retention is not None:
            cfg["prompt_cache_retention"] = retention
