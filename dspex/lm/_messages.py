"""The ``messages`` of a request as dspy.LM 3.4.1's lm15 side rebuilds them (see ``_dialect`` for when it does).

lm15 reads the rows into typed parts (``_ingest_messages`` in _vendor/lm15/providers/openai_chat.py) and writes
them back (``OpenAIChatLM._build_messages``), so what reaches the server is not always what the adapter wrote: a
lone text block becomes a plain string, a ``developer`` row goes out as ``system``, an assistant's
``reasoning_content`` is folded into its text, tool-call arguments are re-encoded compactly, a tool row loses its
``name``. Rows of plain text (what DSPy's adapters write) come back unchanged and are checked in one pass; the
rest are rebuilt here. None means lm15 would refuse the rows (an unknown role or block, a participant ``name``,
audio or a file on the chat wire, an empty system prompt...), so DSPy sends the call through LiteLLM as written.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["wire_messages"]

_PLAIN_ROLES = frozenset({"system", "user", "assistant"})
_IMAGE_DETAILS = frozenset({"low", "high", "auto"})
_ASSISTANT_KEYS = frozenset({"role", "content", "tool_calls", "refusal", "reasoning_content", "name", "audio",
                             "function_call", "annotations", "provider_specific_fields", "thinking_blocks", "images"})
_CLIENT_OBJECT_KEYS = ("provider_specific_fields", "thinking_blocks", "images")   # litellm's, empty reads as absent


class _Refused(Exception):
    pass


def wire_messages(messages: Any) -> list[dict[str, Any]] | None:
    """The rows lm15 sends for ``messages`` (the same list object when nothing changes), or None if it refuses."""
    if type(messages) is not list or not messages:
        return None
    try:   # the usual rows, checked in one pass: {"role": system | user | assistant, "content": str}
        for row in messages:
            if len(row) != 2 or row["role"] not in _PLAIN_ROLES or type(row["content"]) is not str:
                break
        else:
            first = messages[0]
            if first["role"] == "system" and (not first["content"] or len(messages) == 1):
                return None   # lm15: "system cannot be empty" / "at least one message is required"
            return messages
    except (KeyError, TypeError):   # not a dict, or not these keys: read it the long way
        pass
    try:
        return _rebuild(messages)
    except _Refused:
        return None


def _rebuild(rows: list[Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for index, row in enumerate(rows):
        if type(row) is not dict:
            raise _Refused
        role = row.get("role")
        if row.get("name") is not None and role != "tool":
            raise _Refused   # a per-message participant name has no canonical slot
        if role in ("system", "developer"):
            _only(row, {"role", "content"})
            parts = _parts(row.get("content"), images=False)
            if index == 0:   # the request's system prompt, always a string on this wire
                text = parts[0] if len(parts) == 1 else "\n".join(parts)
                if text == "" and len(parts) == 1:
                    raise _Refused
                out.append({"role": "system", "content": text})
            else:            # a developer message, written with the preset's instruction role
                out.append({"role": "system", "content": _content(parts)})
        elif role == "user":
            _only(row, {"role", "content", "name"})
            out.append({"role": "user", "content": _content(_parts(row.get("content"), images=True))})
        elif role == "assistant":
            out.append(_assistant(row))
        elif role == "tool":
            _only(row, {"role", "content", "tool_call_id", "name"})
            call_id = row.get("tool_call_id")
            parts = _parts(row.get("content"), images=True)
            if type(call_id) is not str or any(type(p) is not str for p in parts):
                raise _Refused   # an image in a tool row: refused by the openai / vllm presets (MAP-10)
            out.append({"role": "tool", "tool_call_id": call_id, "content": "\n".join(parts)})
        else:
            raise _Refused
    if len(out) == 1 and out[0]["role"] == "system" and rows[0].get("role") in ("system", "developer"):
        raise _Refused   # only a system prompt: "at least one message is required"
    return out


def _only(row: dict[str, Any], allowed: set[str]) -> None:
    if not set(row) <= allowed:
        raise _Refused


def _parts(content: Any, images: bool) -> list[Any]:
    """Text parts as ``str``, images as their ``image_url`` block; raises for what lm15 refuses here."""
    if type(content) is str:
        return [content]
    if type(content) is not list or not content:
        raise _Refused
    parts: list[Any] = []
    for block in content:
        if type(block) is not dict:
            raise _Refused
        kind = block.get("type")
        if kind == "text" and set(block) <= {"type", "text"} and type(block.get("text")) is str:
            parts.append(block["text"])
        elif kind == "image_url" and images and set(block) <= {"type", "image_url"}:
            parts.append(_image(block.get("image_url")))
        else:
            raise _Refused   # audio / files / cache breakpoints / unknown blocks: not sent by lm15 as written
    return parts


def _image(spec: Any) -> dict[str, Any]:
    if type(spec) is not dict or not set(spec) <= {"url", "detail"} or type(spec.get("url")) is not str:
        raise _Refused
    url, detail = spec["url"], spec.get("detail")
    if detail is not None and detail not in _IMAGE_DETAILS:
        raise _Refused
    if url.startswith("data:"):
        head, sep, payload = url[5:].partition(",")
        if not sep or not head.endswith(";base64") or not payload or not head.startswith("image/"):
            raise _Refused
    image: dict[str, Any] = {"url": url}
    if detail:
        image["detail"] = detail
    return {"type": "image_url", "image_url": image}


def _content(parts: list[Any]) -> Any:
    """One text part is a plain string; otherwise a list of text and image blocks."""
    if len(parts) == 1 and type(parts[0]) is str:
        return parts[0]
    return [{"type": "text", "text": p} if type(p) is str else p for p in parts]


def _assistant(row: dict[str, Any]) -> dict[str, Any]:
    if not set(row) <= _ASSISTANT_KEYS or any(row.get(k) is not None for k in ("audio", "function_call", "refusal",
                                                                                "annotations")):
        raise _Refused
    for key in _CLIENT_OBJECT_KEYS:
        value = row.get(key)
        if value not in (None, [], {}) and not (type(value) is dict and
                                               all(v is None or v == [] or v == {} for v in value.values())):
            raise _Refused
    texts: list[str] = []
    reasoning = row.get("reasoning_content")
    if reasoning is not None:
        if type(reasoning) is not str:
            raise _Refused
        if reasoning:
            texts.append(reasoning)   # thinking is replayed as text on these presets (thinking_replay="as_text")
    content = row.get("content")
    has_parts = reasoning is not None
    if content is not None:
        parts = _parts(content, images=False)
        texts.extend(parts)
        has_parts = True
    calls = _tool_calls(row.get("tool_calls")) if row.get("tool_calls") is not None else []
    if not has_parts and not calls:
        texts.append("")   # a message is never empty: lm15 reads it as one empty text part
    out: dict[str, Any] = {"role": "assistant", "content": "\n".join(texts) if texts else None}
    if calls:
        out["tool_calls"] = calls
    return out


def _tool_calls(calls: Any) -> list[dict[str, Any]]:
    if type(calls) is not list:
        raise _Refused
    out = []
    for call in calls:
        if type(call) is not dict or not set(call) <= {"id", "type", "function"} \
                or call.get("type", "function") != "function":
            raise _Refused
        fn = call.get("function")
        if type(fn) is not dict or not set(fn) <= {"name", "arguments"}:
            raise _Refused
        call_id, name, arguments = call.get("id"), fn.get("name"), fn.get("arguments", "{}")
        if type(call_id) is not str or not call_id or type(name) is not str or not name:
            raise _Refused
        if type(arguments) is str:
            try:
                arguments = json.loads(arguments) if arguments else {}
            except ValueError:
                raise _Refused from None
        if type(arguments) is not dict:
            raise _Refused
        out.append({"id": call_id, "type": "function",
                    "function": {"name": name, "arguments": json.dumps(arguments, separators=(",", ":"))}})
    return out
