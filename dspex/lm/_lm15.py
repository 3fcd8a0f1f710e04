"""DSPy 3.4's typed LM interface, duck-typed: ``lm(dspy.lm15.Request(...)) -> lm15.Response``.

DSPy 3.4 calls an LM with an ``lm15.Request`` (messages of typed parts, a ``Config``) and expects an
``lm15.Response``; 3.5 is announced to drop ``messages=``. dspex.LM answers both forms without importing dspy:
a Request is recognised by shape, turned into the OpenAI chat body it stands for, and the answer is built with
the classes of the module the Request itself came from (so the objects are DSPy's own). What this client cannot
send faithfully (media other than images, provider extensions, prompt caching, reasoning budgets) is refused
with :class:`~dspex.errors.LMError` naming the field, never silently dropped.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from ..errors import LMError

__all__ = ["is_request", "request_payload", "to_response"]

_CONFIG_KEYS = {"max_tokens": "max_tokens", "temperature": "temperature", "top_p": "top_p", "seed": "seed",
                "frequency_penalty": "frequency_penalty", "presence_penalty": "presence_penalty",
                "user_id": "user", "service_tier": "service_tier", "store": "store"}
_UNSUPPORTED = ("top_k", "reasoning", "cache", "probabilities", "extensions")
_FINISH = {"stop": "stop", "length": "length", "tool_calls": "tool_call", "function_call": "tool_call",
           "content_filter": "content_filter"}


def is_request(obj: Any) -> bool:
    """An lm15 ``Request`` (by shape: DSPy is never imported here)."""
    return type(obj).__name__ == "Request" and hasattr(obj, "messages") and hasattr(obj, "config") \
        and hasattr(obj, "model") and not isinstance(obj, (str, list, dict))


def _refuse(what: str) -> LMError:
    return LMError(f"dspex.LM cannot send {what} of an lm15 Request to an OpenAI-compatible chat endpoint; "
                   "use dspy.LM for this request, or leave it out.")


def _content(parts: Any, role: str) -> Any:
    texts, blocks = [], []
    for part in parts:
        kind = getattr(part, "type", None)
        if kind == "text":
            texts.append(part.text)
            blocks.append({"type": "text", "text": part.text})
        elif kind == "image" and role == "user":
            url = part.url or (f"data:{part.media_type};base64,{part.data}" if part.data else None)
            if url is None:
                raise _refuse("an image given by file id or path")
            image = {"url": url} if part.detail is None else {"url": url, "detail": part.detail}
            blocks.append({"type": "image_url", "image_url": image})
        else:
            raise _refuse(f"a {kind!r} part in a {role} message")
    return texts[0] if len(blocks) == 1 and len(texts) == 1 else blocks


def _messages(request: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    system = request.system
    if system is not None:
        out.append({"role": "system", "content": system if isinstance(system, str) else _content(system, "system")})
    for message in request.messages:
        role = message.role
        if role == "tool":
            for part in message.parts:
                if getattr(part, "type", None) != "tool_result":
                    raise _refuse(f"a {part.type!r} part in a tool message")
                text = "".join(getattr(p, "text", "") for p in part.content)
                out.append({"role": "tool", "tool_call_id": part.id, "content": text})
            continue
        calls = [p for p in message.parts if getattr(p, "type", None) == "tool_call"]
        rest = [p for p in message.parts if getattr(p, "type", None) != "tool_call"]
        entry: dict[str, Any] = {"role": role}
        entry["content"] = _content(rest, role) if rest else None
        if calls:
            entry["tool_calls"] = [{"id": c.id, "type": "function",
                                    "function": {"name": c.name, "arguments": json.dumps(c.input)}} for c in calls]
        out.append(entry)
    return out


def request_payload(request: Any, request_model: str, max_tokens_field: str = "max_tokens") -> dict[str, Any]:
    """The OpenAI chat body an lm15 Request stands for; ``max_tokens_field`` is the server's name for the token
    limit (``max_completion_tokens`` where dspy.LM's lm15 engine writes it so, see ``_dialect``)."""
    payload: dict[str, Any] = {"model": request_model, "messages": _messages(request)}
    config = request.config
    for name in _UNSUPPORTED:
        if getattr(config, name, None) is not None:
            raise _refuse(f"Config.{name}")
    for name, key in _CONFIG_KEYS.items():
        value = getattr(config, name, None)
        if value is not None:
            payload[max_tokens_field if key == "max_tokens" else key] = value
    if config.stop:
        payload["stop"] = list(config.stop)
    if config.response_format is not None:
        payload["response_format"] = dict(config.response_format)
    if config.logprobs is not None:
        payload["logprobs"], payload["top_logprobs"] = True, config.logprobs
    if request.tools:
        tools = []
        for tool in request.tools:
            if getattr(tool, "type", None) != "function":
                raise _refuse(f"the built-in tool {getattr(tool, 'name', tool)!r}")
            # as lm15 writes a function tool: the description always, null when there is none
            tools.append({"type": "function", "function": {"name": tool.name, "description": tool.description,
                                                           "parameters": tool.parameters}})
        payload["tools"] = tools
    choice = config.tool_choice
    if choice is not None:
        if choice.allowed and len(choice.allowed) == 1 and choice.mode == "required":
            payload["tool_choice"] = {"type": "function", "function": {"name": choice.allowed[0]}}
        elif choice.allowed:
            raise _refuse("a tool_choice restricted to several tools")
        else:
            payload["tool_choice"] = choice.mode
        if choice.parallel is not None:
            payload["parallel_tool_calls"] = choice.parallel
    return payload


def to_response(request: Any, body: dict[str, Any], model: str) -> Any:
    """An lm15 ``Response`` for the first choice of a chat completion, built from the Request's own module."""
    types = sys.modules[type(request).__module__]
    choices = body.get("choices") or []
    if not choices:
        raise LMError(f"LM answered without choices for model {model!r}; an lm15 Response needs one.")
    message = choices[0].get("message") or {}
    parts: list[Any] = []
    if message.get("reasoning_content"):
        parts.append(types.ThinkingPart(text=message["reasoning_content"]))
    if message.get("content"):
        parts.append(types.TextPart(text=message["content"]))
    for call in message.get("tool_calls") or []:
        fn = call.get("function") or {}
        try:
            args = json.loads(fn.get("arguments") or "{}")
        except ValueError:
            args = {"_raw": fn.get("arguments")}
        parts.append(types.ToolCallPart(id=call.get("id") or "", name=fn.get("name") or "", input=args))
    if not parts:
        parts.append(types.TextPart(text=""))
    usage = body.get("usage") or {}
    finish = _FINISH.get(choices[0].get("finish_reason") or "stop", "stop")
    return types.Response(
        id=body.get("id") or None, model=body.get("model") or model,
        message=types.Message(role="assistant", parts=tuple(parts)), finish_reason=finish,
        usage=types.Usage(input_tokens=usage.get("prompt_tokens"), output_tokens=usage.get("completion_tokens"),
                          total_tokens=usage.get("total_tokens")),
    )
