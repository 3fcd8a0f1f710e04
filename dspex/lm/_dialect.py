"""What ``dspy.LM`` 3.4.1 puts on the wire for an OpenAI-compatible model, so ``dspex.LM`` sends the same requests.

DSPy 3.4's default engine (``engine="auto"``) sends a chat call through its bundled lm15 client when lm15 has a
door for the model and can carry every key of the call, and through LiteLLM otherwise (``_select_engine`` in
dspy/clients/execution.py, ``select_backend`` in dspy/clients/backend_selection.py). The two sides send
different requests for the same call:

* lm15 (``openai/...``, ``hosted_vllm/...``, a bare ``gpt-*`` / ``o1*`` / ``o3*`` / ``o4*`` name): ONE REQUEST
  PER COMPLETION, sent one after the other, with no ``n`` on the wire (``execute`` / ``aexecute``: ``count =
  call.n``); the token limit under the server's own field (OpenAI: ``max_completion_tokens``, vLLM:
  ``max_tokens``; lm15's chat presets in _vendor/lm15/compat.py); every value rebuilt the way lm15's
  ``request_from_openai_chat`` reads it and ``OpenAIChatLM._payload`` writes it (``stop="x"`` becomes ``["x"]``,
  ``top_k`` is dropped, ``temperature=0`` is ``0.0``, ``response_format={"type": "text"}`` is left out, a
  pydantic ``response_format`` becomes a strict JSON schema...).
* LiteLLM (``custom_openai/``, ``lm_studio/``, another bare name; or, per call, a key lm15 has no verdict for,
  ``extra_headers`` / ``headers``, a value lm15 refuses such as ``temperature=3``; or ``OPENAI_API_BASE`` set in
  the environment for ``openai/``): ONE request with the kwargs as given, ``n`` included.

:func:`dialect_for` picks the side once per LM (model string and environment at construction; DSPy reads the
environment on every call). :func:`shape` builds one call's generation keys on the lm15 side, or answers None
where DSPy would take the LiteLLM side. Not modelled, so sent the LiteLLM way: ``prompt_cache_options``,
``tool_choice`` of type ``allowed_tools``, assistant ``refusal`` / ``annotations``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable

from ._strict_schema import strict_json_schema

__all__ = ["Dialect", "OPENAI", "VLLM", "dialect_for", "shape", "response_format_value", "CLIENT_ONLY_KEYS"]


@dataclass(frozen=True, slots=True)
class Dialect:
    """One lm15 Chat Completions preset: the server's name for the token limit is all that differs here."""

    name: str
    max_tokens_field: str


OPENAI = Dialect("openai", "max_completion_tokens")   # lm15 compat.py OPENAI_CHAT_PRESETS["openai"]
VLLM = Dialect("vllm", "max_tokens")                  # lm15 compat.py OPENAI_CHAT_PRESETS["vllm"]

# LiteLLM prefix -> lm15 preset, for the prefixes dspex.LM speaks (lm15 router.py LITELLM_PROVIDER_PREFIXES).
_PREFIXES = {"openai": OPENAI, "hosted_vllm": VLLM}
# A bare model name routes by lm15's rules (router.py DEFAULT_RULES); OpenAI's go to its Chat Completions door.
_BARE_OPENAI = ("gpt-", "o1", "o3", "o4", "chat-latest")

# Client settings that send a DSPy call to LiteLLM whatever their value (backend_selection.py CLIENT_KEYS minus
# NATIVE_CLIENT_KEYS); dspex.LM reads ``extra_headers`` / ``headers`` as HTTP headers.
CLIENT_ONLY_KEYS = frozenset({"headers", "extra_headers", "api_version", "azure_ad_token_provider", "organization",
                              "project", "extra_query", "custom_llm_provider"})


def dialect_for(model: str, environ: Any = os.environ) -> Dialect | None:
    """The lm15 preset dspy.LM sends ``model`` through, or None when it sends it through LiteLLM."""
    prefix, sep, rest = model.partition("/")
    if not sep:
        return OPENAI if model.startswith(_BARE_OPENAI) else None
    dialect = _PREFIXES.get(prefix)
    if dialect is None:
        return None
    # An environment-configured gateway keeps LiteLLM (select_backend: "{PREFIX}_API_BASE" / "{PREFIX}_BASE_URL").
    upper = prefix.upper()
    if environ.get(f"{upper}_API_BASE") or environ.get(f"{upper}_BASE_URL"):
        return None
    return dialect


class _Refused(Exception):
    """lm15 would not carry this call as written: DSPy sends it through LiteLLM."""


_SKIP = object()   # a value lm15 reads and does not send


def _int(value: Any, low: int | None = None) -> int:
    """lm15's int fields: an integral float is coerced (2.0 -> 2), anything else non-int (bool too) refused."""
    if type(value) is float and value.is_integer():
        value = int(value)
    if type(value) is not int or (low is not None and value < low):
        raise _Refused
    return value


def _ranged(low: float, high: float) -> Callable[[Any], Any]:
    """lm15's float fields: numbers (never bool) in range, an ``int`` written as a float (``0`` goes out as
    ``0.0``). Exact-type checks first: this runs on most calls."""
    def read(value: Any) -> Any:
        kind = type(value)
        if kind is int:
            value = float(value)
        elif kind is not float and (kind is bool or not isinstance(value, (int, float))):
            raise _Refused
        if not low <= value <= high:
            raise _Refused
        return value
    return read


def _text(value: Any) -> str:
    if type(value) is not str or not value:
        raise _Refused
    return value


def _stop(value: Any) -> Any:
    """A string or a list of non-empty strings, sent as a list; an empty list is not sent."""
    stops = [value] if isinstance(value, str) else list(value) if isinstance(value, (list, tuple)) else None
    if stops is None or any(type(s) is not str or not s for s in stops):
        raise _Refused
    return stops or _SKIP


def _top_k(value: Any) -> Any:
    _int(value, 1)
    return _SKIP   # the Chat Completions wire has no top_k: lm15 drops it (and records the adaptation)


def _store(value: Any) -> bool:
    if type(value) is not bool:
        raise _Refused
    return value


def response_format_value(value: Any) -> Any:
    """A pydantic model class as DSPy sends it (``_canonical``: a strict ``json_schema`` named after the class);
    anything else unchanged. Also used on the LiteLLM side, where a class cannot go out as JSON."""
    if isinstance(value, type) and callable(getattr(value, "model_json_schema", None)):
        return {"type": "json_schema", "json_schema": {
            "name": value.__name__, "schema": strict_json_schema(value.model_json_schema()), "strict": True}}
    return value


def _response_format(value: Any) -> dict[str, Any] | None:
    """lm15's reading (``_ingest_response_format``) and writing (``_response_format_to_chat``); None: not sent."""
    value = response_format_value(value)
    if type(value) is not dict:
        raise _Refused
    kind = value.get("type")
    if kind in ("text", "json_object"):
        if len(value) != 1:
            raise _Refused
        return None if kind == "text" else {"type": "json_object"}
    if kind != "json_schema" or set(value) - {"type", "json_schema"}:
        raise _Refused
    inner = value.get("json_schema")
    if type(inner) is not dict or set(inner) - {"name", "schema", "strict"} or type(inner.get("schema")) is not dict:
        raise _Refused
    name = inner.get("name")
    if name is not None and (type(name) is not str or not name):
        raise _Refused
    out: dict[str, Any] = {"name": name or "response", "schema": inner["schema"]}
    if inner.get("strict") is not None:
        if type(inner["strict"]) is not bool:
            raise _Refused
        out["strict"] = inner["strict"]
    return {"type": "json_schema", "json_schema": out}


_DEFAULT_PARAMETERS = {"type": "object", "properties": {}}   # lm15 FunctionTool's default


def _tools(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise _Refused
    tools, names = [], set()
    for entry in value:
        if type(entry) is not dict or entry.get("type") != "function" or set(entry) - {"type", "function"}:
            raise _Refused   # lm15 carries function tools only on these presets
        fn = entry.get("function")
        if type(fn) is not dict or set(fn) - {"name", "description", "parameters", "strict"} \
                or fn.get("strict") is True:
            raise _Refused   # a per-tool strict=true has no canonical slot (``strict: false`` is the default)
        name, description, parameters = _text(fn.get("name")), fn.get("description"), fn.get("parameters")
        if (description is not None and type(description) is not str) or \
                (parameters is not None and type(parameters) is not dict) or name in names:
            raise _Refused
        names.add(name)
        tools.append({"type": "function", "function": {
            "name": name, "description": description,
            "parameters": parameters if parameters is not None else dict(_DEFAULT_PARAMETERS)}})
    return tools


def _tool_choice(choice: Any, parallel: Any, tool_names: set[str]) -> tuple[Any, Any]:
    """(tool_choice, parallel_tool_calls) as lm15 rewrites them; (None, None) when neither is set."""
    allowed = None
    if choice is None:
        mode = None
    elif choice in ("none", "auto", "required"):
        mode = choice
    elif type(choice) is dict and choice.get("type") == "function" and set(choice) <= {"type", "function"}:
        fn = choice.get("function")
        if type(fn) is not dict or set(fn) != {"name"}:
            raise _Refused
        mode, allowed = "required", _text(fn["name"])
        if allowed not in tool_names:
            raise _Refused
    else:
        raise _Refused
    if parallel is not None and type(parallel) is not bool:
        raise _Refused
    if mode is None and parallel is None:
        return None, None
    if mode == "none":
        wire: Any = "none"
    elif allowed is not None:
        wire = {"type": "function", "function": {"name": allowed}}
    else:
        wire = "required" if mode == "required" else "auto"
    return wire, parallel


def _from_functions(cfg: dict[str, Any], functions: Any, function_call: Any) -> None:
    """The deprecated ``functions`` / ``function_call`` spelling, which lm15 reads as tools / tool_choice."""
    if functions is not None:
        if not isinstance(functions, list):
            raise _Refused
        cfg["tools"] = [{"type": "function", "function": fn} for fn in functions]
    if function_call is not None:
        if function_call in ("none", "auto"):
            cfg["tool_choice"] = function_call
        elif type(function_call) is dict and "name" in function_call:
            cfg["tool_choice"] = {"type": "function", "function": {"name": function_call["name"]}}
        else:
            raise _Refused


_EFFORTS = {"off": "none", "none": "none", "minimal": "minimal", "low": "low", "medium": "medium", "high": "high",
            "xhigh": "xhigh", "max": "max"}   # lm15 REASONING_EFFORTS; "none" / "off" reach the wire as "none"

# Generation keys lm15 passes verbatim (openai_chat.py _INGEST_EXTENSIONS_KEYS), written last in their given order.
_EXTENSIONS = frozenset({"logit_bias", "metadata", "verbosity", "moderation", "provider", "prediction"})
# Not generation keys: ``n`` is the number of requests (the caller's), the call-mode keys lm15 reads and drops.
_DROPPED = frozenset({"n", "stream", "stream_options"})

# Keys lm15 reads on their own: the value it writes (or _SKIP), raising _Refused where it would refuse.
_SIMPLE: dict[str, Callable[[Any], Any]] = {
    "temperature": _ranged(0, 2),
    "top_p": _ranged(0, 1),
    "seed": _int,
    "frequency_penalty": _ranged(-2, 2),
    "presence_penalty": _ranged(-2, 2),
    "top_k": _top_k,
    "stop": _stop,
    "service_tier": _text,
    "store": _store,
}
# Keys read together after the pass over the call's keys.
_JOINT = frozenset({"logprobs", "top_logprobs", "response_format", "tools",
                    "tool_choice", "parallel_tool_calls", "functions", "function_call", "user", "safety_identifier",
                    "reasoning_effort", "prompt_cache_key", "prompt_cache_retention"})
# The order lm15's OpenAIChatLM._payload writes the keys in (after model, messages and the token limit).
_ORDER = ("temperature", "top_p", "seed", "frequency_penalty",
          "presence_penalty", "stop", "logprobs", "top_logprobs", "tools", "tool_choice", "parallel_tool_calls",
          "response_format", "reasoning_effort", "prompt_cache_key", "prompt_cache_retention", "service_tier", "user",
          "store")
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
            except _Refused:
                return None
            if value is not _SKIP:
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
                limit = _int(limit, 1)
            cfg = {dialect.max_tokens_field: limit, **cfg}
    except _Refused:
        return None
    if extensions:
        cfg.update(extensions)
    return cfg


def _joint(dialect: Dialect, merged: dict[str, Any], cfg: dict[str, Any]) -> None:
    get = merged.get
    logprobs, top = get("logprobs"), get("top_logprobs")
    if logprobs is True:
        top = _int(top if top is not None else 0, 0)
        cfg["logprobs"] = True
        if top > 0:
            cfg["top_logprobs"] = top
    elif logprobs not in (None, False) or top is not None:
        raise _Refused
    fmt = get("response_format")
    if fmt is not None:
        fmt = _response_format(fmt)
        if fmt is not None:
            cfg["response_format"] = fmt
    functions, function_call = get("functions"), get("function_call")
    if functions is not None or function_call is not None:
        if get("tools") is not None or get("tool_choice") is not None:
            raise _Refused
        _from_functions(cfg, functions, function_call)
        merged = {**merged, "tools": cfg.pop("tools", None), "tool_choice": cfg.pop("tool_choice", None)}
        get = merged.get
    names: set[str] = set()
    if get("tools") is not None:
        tools = _tools(get("tools"))
        if tools:
            cfg["tools"] = tools
            names = {t["function"]["name"] for t in tools}
    choice, parallel = _tool_choice(get("tool_choice"), get("parallel_tool_calls"), names)
    if choice is not None:
        cfg["tool_choice"] = choice
    if parallel is not None:
        cfg["parallel_tool_calls"] = parallel
    users = [v for v in (get("user"), get("safety_identifier")) if v is not None]
    if len(users) > 1:
        raise _Refused
    if users:
        cfg["user"] = _text(users[0])
    effort = get("reasoning_effort")
    if effort is not None:
        if type(effort) is not str or effort not in _EFFORTS:
            raise _Refused
        cfg["reasoning_effort"] = _EFFORTS[effort]
    key, retention = get("prompt_cache_key"), get("prompt_cache_retention")
    if key is not None or retention is not None:
        if dialect is not OPENAI or (retention is not None and retention != "24h"):
            raise _Refused   # vLLM has no prompt-cache control; "24h" is the one retention lm15 names
        if key is not None:
            cfg["prompt_cache_key"] = _text(key)
        if retention is not None:
            cfg["prompt_cache_retention"] = retention
