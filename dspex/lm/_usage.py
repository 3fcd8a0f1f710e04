"""A call's usage dict as dspy.LM 3.4.1 records it, from the ``usage`` object the server sent.

dspy.LM does not pass the server's usage through: each of its two sides rebuilds it, and what it rebuilds is what
history entries, ``dspy.track_usage()`` and a prediction's ``get_lm_usage()`` show. So dspex.LM rebuilds it the
same way, on the side dspy.LM would have sent the call through (``_dialect``):

* lm15 (``openai/``, ``hosted_vllm/``, ...): lm15's ``_usage_from_chat`` reads the counts into its ``Usage``
  (``total_tokens`` computed when missing), then DSPy's ``usage_dict`` (dspy/clients/call_result.py) writes them
  back: the three counts, and ``prompt_tokens_details`` / ``completion_tokens_details`` holding only the details
  lm15 reads (None when none came). Any other key the server sent (``cost``, ``cost_details``, ...) is dropped.
* LiteLLM (``custom_openai/``, ...): litellm's ``Usage`` model, dumped: counts default to 0 (an answer without
  usage still reads as zeros), the details are litellm's wrapper models with their unset fields as None, every
  other key the server sent is kept as it came.

Only the usage dict is rebuilt here; the response body a history entry keeps is the server's, and
``usage.cost`` (what a gateway reports it charged) is read from the server's usage for the call's cost.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["usage_of", "lm15_usage", "litellm_usage"]


def usage_of(raw: Any, lm15: bool) -> dict[str, Any]:
    """The usage dict dspy.LM records for a response whose ``usage`` is ``raw``, on the lm15 or LiteLLM side."""
    return lm15_usage(raw) if lm15 else litellm_usage(raw)


def _count(value: Any) -> Any:
    """lm15's number rule: a whole float is read as an int (``2.0`` -> ``2``)."""
    if type(value) is float and value.is_integer():
        return int(value)
    return value


def _details(raw: dict[str, Any], key: str) -> dict[str, Any]:
    value = raw.get(key)
    return value if isinstance(value, dict) else {}


def lm15_usage(raw: Any) -> dict[str, Any]:
    """``usage_dict(_usage_from_chat(raw))`` for an OpenAI-compatible provider (no Anthropic / Gemini rules)."""
    if not isinstance(raw, dict) or not raw:
        return {}
    prompt, completion = _details(raw, "prompt_tokens_details"), _details(raw, "completion_tokens_details")
    inputs, outputs = _count(raw.get("prompt_tokens")), _count(raw.get("completion_tokens"))
    total = _count(raw.get("total_tokens"))
    if total is None and inputs is not None and outputs is not None:
        total = inputs + outputs   # lm15's Usage computes the total only when both counts came
    data = {k: v for k, v in (("prompt_tokens", inputs), ("completion_tokens", outputs), ("total_tokens", total))
            if v is not None}
    prompt_details = {k: _count(v) for k, v in (("cached_tokens", prompt.get("cached_tokens")),
                                                ("cache_creation_tokens", prompt.get("cache_write_tokens")),
                                                ("audio_tokens", prompt.get("audio_tokens"))) if v is not None}
    completion_details = {k: _count(v) for k, v in (("reasoning_tokens", completion.get("reasoning_tokens")),
                                                    ("audio_tokens", completion.get("audio_tokens"))) if v is not None}
    if data or prompt_details or completion_details:
        data["prompt_tokens_details"] = prompt_details or None
        data["completion_tokens_details"] = completion_details or None
    return data


# litellm's PromptTokensDetailsWrapper: the fields it always dumps, and those it deletes while None.
_PROMPT_FIELDS = ("audio_tokens", "cached_tokens", "image_tokens", "text_tokens", "video_tokens",
                  "initial_prompt_tokens")
_PROMPT_OPTIONAL = ("character_count", "image_count", "video_length_seconds", "audio_length_seconds", "query_count",
                    "web_search_requests", "google_maps_grounding_requests", "tool_use_tokens",
                    "cache_creation_token_details", "cached_tokens_details", "cache_type")
# litellm's CompletionTokensDetailsWrapper (OpenAI's CompletionTokensDetails plus three modality counts).
_COMPLETION_FIELDS = ("accepted_prediction_tokens", "audio_tokens", "reasoning_tokens", "rejected_prediction_tokens",
                      "text_tokens", "image_tokens", "video_tokens")
_SERVER_TOOL_FIELDS = ("web_search_requests", "tool_search_requests", "browser_open_requests")


def _prompt_wrapper(given: dict[str, Any]) -> dict[str, Any]:
    details = {**dict.fromkeys(_PROMPT_FIELDS), **given}
    nested = given.get("cache_creation_input_tokens")
    write = given.get("cache_write_tokens")
    if write is None:
        write = given.get("cache_creation_tokens")
    if write is None and isinstance(nested, int):
        write = nested
    if not isinstance(details.get("cache_type"), str):
        details["cache_type"] = None
    details["cache_write_tokens"] = details["cache_creation_tokens"] = write   # litellm mirrors the two names
    for name in ("cache_write_tokens", "cache_creation_tokens", *_PROMPT_OPTIONAL):
        if details.get(name, 0) is None:
            del details[name]
    return details


def _set_write(details: dict[str, Any], value: int) -> None:
    details["cache_write_tokens"] = details["cache_creation_tokens"] = value


def litellm_usage(raw: Any) -> dict[str, Any]:
    """``dict(litellm.Usage(**raw))`` with its nested models as dicts (DSPy's ``plain``), for a chat answer."""
    params = dict(raw) if isinstance(raw, dict) else {}
    prompt_tokens, completion_tokens = params.pop("prompt_tokens", None), params.pop("completion_tokens", None)
    total_tokens, reasoning = params.pop("total_tokens", None), params.pop("reasoning_tokens", None)
    given_prompt = params.pop("prompt_tokens_details", None)
    given_completion = params.pop("completion_tokens_details", None)
    server_tool_use, cost = params.pop("server_tool_use", None), params.pop("cost", None)
    completion = None
    if given_completion and isinstance(given_completion, dict):
        completion = {**dict.fromkeys(_COMPLETION_FIELDS), **given_completion}
    if reasoning:
        completion = completion if completion is not None else dict.fromkeys(_COMPLETION_FIELDS)
        if completion["reasoning_tokens"] is None:
            completion["reasoning_tokens"] = reasoning
        if completion["text_tokens"] is None and completion_tokens is not None:
            text = completion_tokens - reasoning - (completion["image_tokens"] or 0) - (completion["audio_tokens"] or 0)
            completion["text_tokens"] = max(0, text)
    prompt = _prompt_wrapper(given_prompt) if given_prompt and isinstance(given_prompt, dict) else None
    for name in ("prompt_cache_hit_tokens", "cache_read_input_tokens"):   # DeepSeek's and Anthropic's cache reads
        if isinstance(params.get(name), int):
            prompt = prompt if prompt is not None else _prompt_wrapper({})
            prompt["cached_tokens"] = params[name]
    if isinstance(params.get("cache_creation_input_tokens"), int):
        prompt = prompt if prompt is not None else _prompt_wrapper({})
        _set_write(prompt, params["cache_creation_input_tokens"])
    usage: dict[str, Any] = {"completion_tokens": completion_tokens or 0, "prompt_tokens": prompt_tokens or 0,
                             "total_tokens": total_tokens or 0, "completion_tokens_details": completion,
                             "prompt_tokens_details": prompt}
    if isinstance(server_tool_use, dict):
        usage["server_tool_use"] = {**dict.fromkeys(_SERVER_TOOL_FIELDS), **server_tool_use}
    elif server_tool_use is not None:
        usage["server_tool_use"] = server_tool_use
    if cost is not None and not _non_finite(cost):
        usage["cost"] = cost
    usage.update(params)   # litellm keeps every other key the server sent, as it came
    return usage


def _non_finite(cost: Any) -> bool:
    values = cost.values() if isinstance(cost, dict) else (cost,)
    return any(isinstance(v, float) and not math.isfinite(v) for v in values)
