"""Conversation history as chat messages, as DSPy 3.4.1's ``Adapter.format`` / ``format_conversation_history``
render a ``History`` input: each earlier turn becomes a user message (its inputs) and an assistant message (its
outputs); a turn's tool calls and their results become, with native function calling, an assistant message with
``tool_calls`` and one ``tool`` message per result, and otherwise a ``[[ ## tool_call_results ## ]]`` user
message. DSPy's own History / ToolCalls values are read through their attributes.
"""

from __future__ import annotations

import json
from typing import Any, Mapping

from ..types import is_tool_calls, native_class, role_of  # stdlib only
from ._markers import expand_markers
from ._roles import without
from ._turn_memo import TURNS
from ._encode import plain_dumps as _dumps
from ._values import format_field_value, is_plain_json, serialize_for_json

__all__ = ["format_with_history", "conversation"]


_results_signature: Any = None


_classes: dict[str, Any] = {}


def _chat_class() -> Any:
    cls = _classes.get("ChatAdapter")
    if cls is None:
        from .chat import ChatAdapter  # imported here: chat imports this module lazily

        cls = _classes["ChatAdapter"] = ChatAdapter
    return cls


def _chat_method() -> Any:
    return _chat_class().format_user_message_content


def _native(name: str) -> Any:
    cls = _classes.get(name)
    if cls is None:
        cls = _classes[name] = native_class(name)
    return cls


def _is_instance(value: Any, name: str) -> bool:
    t = type(value)
    if t.__name__ != name:
        return False
    return role_of(t) == {"ToolCalls": "tool_calls", "ToolCallResults": "tool_call_results"}[name]


def _user_content(adapter: Any, signature: Any, inputs: Mapping[str, Any], main_request: bool) -> str:
    """``adapter.format_user_message_content(...)``; ChatAdapter's own from the signature's cached plan."""
    if type(adapter).format_user_message_content is not _chat_method():
        return adapter.format_user_message_content(signature, inputs, main_request=main_request)
    plan = adapter.plan(signature)
    parts = [slot.header + format_field_value(slot.is_str, inputs.get(slot.name)) for slot in plan.inputs
             if slot.name in inputs]
    if main_request:
        parts.append(plan.reminder)
    return "\n\n".join(parts).strip()


def _as_results(value: Any) -> Any:
    """Native ToolCallResults from ours, DSPy's (by attributes) or raw data (validated with DSPy's errors)."""
    cls = _native("ToolCallResults")
    if type(value) is cls:
        return value
    if _is_instance(value, "ToolCallResults"):
        value = {"tool_call_results": [
            {"call_id": r.call_id, "name": r.name, "value": r.value, "is_error": r.is_error}
            for r in value.tool_call_results
        ]}
    return cls.model_validate(value)


def _as_tool_calls(value: Any) -> Any:
    cls = _native("ToolCalls")
    if type(value) is cls:
        return value
    if _is_instance(value, "ToolCalls"):
        data: dict[str, Any] = {"tool_calls": [{"id": c.id, "name": c.name, "args": c.args} for c in value.tool_calls]}
        if value.tool_call_results is not None:
            data["tool_call_results"] = _as_results(value.tool_call_results)
        value = data
    return cls.model_validate(value)


def _tool_calls_in(message: Mapping[str, Any]) -> tuple[str | None, Any]:
    native = _native("ToolCalls")
    for name, value in message.items():
        t = type(value)
        if t is native:  # an agent's own turns: nothing to read or validate
            return name, value
        if (t.__name__ == "ToolCalls" and _is_instance(value, "ToolCalls")) \
                or (isinstance(value, dict) and "tool_calls" in value):
            return name, _as_tool_calls(value)
    return None, None


def _without_results(tool_calls: Any, as_text: bool) -> Any:
    """The calls without their results as the prompt shows them: ``{"tool_calls": [{"name", "args"}, ...]}``, what
    the ToolCalls serializer returns, built directly when pydantic would dump it unchanged (else the model, whose
    dump may fail and fall back to its ``str()``, as in DSPy). ``as_text``: for ChatAdapter's own rendering, the
    plain form already as the JSON text it renders (a ``str`` value is rendered as is), checked only once."""
    calls = [{"name": c.name, "args": c.args} for c in tool_calls.tool_calls]
    if is_plain_json(calls):
        return _dumps({"tool_calls": calls}) if as_text else {"tool_calls": calls}
    return tool_calls.model_copy(update={"tool_call_results": None})


def _result_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(serialize_for_json(value), ensure_ascii=False)


def _openai_call(call: Any) -> dict[str, Any]:
    arguments = json.dumps(serialize_for_json(call.args), ensure_ascii=False)
    return {"id": call.id, "type": "function", "function": {"name": call.name, "arguments": arguments}}


def _results_message(adapter: Any, results: Any, own_user: bool) -> str:
    """The ``[[ ## tool_call_results ## ]]`` user message. Its payload is what pydantic dumps a ToolCallResults to:
    the rows as plain data when it would dump them unchanged (else the model). With ``own_user`` (the adapter's user
    content is ChatAdapter's own) plain rows render as the field's header and their JSON text (one part: nothing to
    strip), checked and encoded once."""
    global _results_signature
    if _results_signature is None:
        from ..signature import InputField, make_signature

        _results_signature = make_signature({"tool_call_results": (_native("ToolCallResults"), InputField())})
    rows = [{"call_id": r.call_id, "name": r.name, "value": r.value, "is_error": r.is_error}
            for r in results.tool_call_results]
    payload: Any = results
    if is_plain_json(rows):
        if own_user:
            return adapter.plan(_results_signature).inputs[0].header + _dumps({"tool_call_results": rows})
        payload = {"tool_call_results": rows}
    return _user_content(adapter, _results_signature, {"tool_call_results": payload}, False)


def _native_turn(adapter: Any, signature: Any, message: Mapping[str, Any], tool_calls: Any, results: Any,
                 out: list[dict[str, Any]]) -> None:
    """A turn with tool calls under native function calling: assistant ``tool_calls`` and ``tool`` messages."""
    content_sig = signature
    for name, field in signature._output_fields.items():
        if is_tool_calls(field.annotation) or message.get(name) is None:
            content_sig = without(content_sig, name)
    content = adapter.format_assistant_message_content(content_sig, message) if content_sig._output_fields else ""
    if results is not None:
        call_ids = [call.id for call in tool_calls.tool_calls]
        if call_ids != [r.call_id for r in results.tool_call_results] or not all(call_ids):
            results = None
    if content or results is not None:
        assistant: dict[str, Any] = {"role": "assistant", "content": content or None}
        if results is not None:
            assistant["tool_calls"] = [_openai_call(call) for call in tool_calls.tool_calls]
        out.append(assistant)
    if results is not None:
        for r in results.tool_call_results:
            out.append({"role": "tool", "tool_call_id": r.call_id, "name": r.name, "content": _result_text(r.value)})


def _own_assistant(cls: type) -> bool:
    """The adapter class renders assistant content with ChatAdapter's own methods."""
    chat = _chat_class()
    return cls.format_assistant_message_content is chat.format_assistant_message_content \
        and cls._assistant_content is chat._assistant_content


def _own_rendering(cls: type) -> bool:
    """User and assistant content both ChatAdapter's own: a turn's messages depend on the turn alone."""
    return cls.format_user_message_content is _chat_class().format_user_message_content and _own_assistant(cls)


def _render_turn(adapter: Any, signature: Any, input_names: list[str], message: Mapping[str, Any],
                 out: list[dict[str, Any]]) -> None:
    """One earlier turn's messages, appended to ``out``."""
    chat, results_cls = _chat_class(), _native("ToolCallResults")
    tc_name, tool_calls = _tool_calls_in(message)
    results = None if tool_calls is None else tool_calls.tool_call_results
    if results is not None and type(results) is not results_cls:
        results = _as_results(results)
    main_request = not message.keys().isdisjoint(input_names)  # any input field in the turn
    cls = type(adapter)
    own_user = cls.format_user_message_content is chat.format_user_message_content
    if main_request or not own_user:  # ChatAdapter's own user content of an output-only turn is "": skipped
        user = _user_content(adapter, signature, message, main_request)
        if user:
            out.append({"role": "user", "content": user})
    if adapter.use_native_function_calling and tool_calls is not None:
        _native_turn(adapter, signature, message, tool_calls, results, out)
        return
    own_assistant = _own_assistant(cls)
    values = message
    if tc_name is not None and results is not None:
        values = dict(message)
        values[tc_name] = _without_results(tool_calls, own_assistant)
    if own_assistant:
        assistant = adapter._assistant_content(adapter.plan(signature), values, None)
    else:
        assistant = adapter.format_assistant_message_content(signature, values)
    if assistant:
        out.append({"role": "assistant", "content": assistant})
    if results is not None:
        out.append({"role": "user", "content": _results_message(adapter, results, own_user)})


def conversation(adapter: Any, signature: Any, history_name: str, inputs: dict[str, Any]) -> list[dict[str, Any]]:
    """The earlier turns as messages (``signature`` is the one without the history field); the history input is
    then removed from ``inputs``, as DSPy removes it. The adapter's methods are looked up for every turn, as DSPy
    calls them; ChatAdapter's own assistant content is its ``_assistant_content`` of the signature's plan."""
    turns = inputs[history_name].messages if history_name in inputs else None
    if turns is None:
        return []
    out: list[dict[str, Any]] = []
    input_names = list(signature._input_fields)
    memo = TURNS.get()
    if memo is not None and (adapter.use_native_function_calling or not _own_rendering(type(adapter))):
        memo = None   # only ChatAdapter's own text rendering is remembered: a pure function of the turn
    for message in turns:
        if memo is None:
            _render_turn(adapter, signature, input_names, message, out)
            continue
        hit = memo.get(id(message))   # (the entry holds the turn: its id cannot be reused within the run)
        if hit is not None and hit[1] is type(adapter) and hit[2] is signature:
            out.extend([dict(m) for m in hit[3]])
            continue
        start = len(out)
        _render_turn(adapter, signature, input_names, message, out)
        memo[id(message)] = (message, type(adapter), signature, [dict(m) for m in out[start:]])
    del inputs[history_name]
    return out


def format_with_history(adapter: Any, signature: Any, demos: list[Any], inputs: Mapping[str, Any],
                        history_name: str) -> list[dict[str, Any]]:
    """DSPy's ``Adapter.format`` for a signature with a History input."""
    inputs_copy = dict(inputs)
    rest = without(signature, history_name)
    earlier = conversation(adapter, rest, history_name, inputs_copy)
    messages: list[dict[str, Any]] = [{"role": "system", "content": adapter._system(adapter.plan(signature))}]
    chat, t = _chat_class(), type(adapter)
    if demos or type(demos) is not list or t.format_demos is not chat.format_demos \
            or t._format_demos is not chat._format_demos:  # ChatAdapter's own of no demos: none
        messages.extend(adapter.format_demos(signature, demos))
    content = _user_content(adapter, rest, inputs_copy, True)
    messages.extend(earlier)
    if content:
        messages.append({"role": "user", "content": content})
    return [expand_markers(m) for m in messages]
