"""The values lm15 reads and writes for dspy.LM's requests: each reader returns what lm15 sends for a key, or raises
:class:`Refused` where lm15 would refuse it (and DSPy would send the call through LiteLLM instead).

The rules are lm15's (dspy/_vendor/lm15): ``request_from_openai_chat``'s reading of a Chat Completions body
(providers/openai_chat.py ``_ingest_*``), the validation of its ``Config`` / ``FunctionTool`` / ``ToolChoice``
types (types.py), and ``OpenAIChatLM._payload``'s writing. ``_dialect`` applies them to a call's kwargs.
"""

from __future__ import annotations

from typing import Any, Callable

from ._strict_schema import strict_json_schema

__all__ = ["Refused", "SKIP", "read_int", "ranged", "read_text", "read_stop", "read_top_k", "read_store",
           "response_format_value", "read_response_format", "read_tools", "read_tool_choice", "read_functions"]


class Refused(Exception):
    """lm15 would not carry this call as written: DSPy sends it through LiteLLM."""


SKIP = object()   # a value lm15 reads and does not send


def read_int(value: Any, low: int | None = None) -> int:
    """lm15's int fields: an integral float is coerced (2.0 -> 2), anything else non-int (bool too) refused."""
    if type(value) is float and value.is_integer():
        value = int(value)
    if type(value) is not int or (low is not None and value < low):
        raise Refused
    return value


def ranged(low: float, high: float) -> Callable[[Any], Any]:
    """lm15's float fields: numbers (never bool) in range, an ``int`` written as a float (``0`` goes out as
    ``0.0``). Exact-type checks first: this runs on most calls."""
    def read(value: Any) -> Any:
        kind = type(value)
        if kind is int:
            value = float(value)
        elif kind is not float and (kind is bool or not isinstance(value, (int, float))):
            raise Refused
        if not low <= value <= high:
            raise Refused
        return value
    return read


def read_text(value: Any) -> str:
    if type(value) is not str or not value:
        raise Refused
    return value


def read_stop(value: Any) -> Any:
    """A string or a list of non-empty strings, sent as a list; an empty list is not sent."""
    stops = [value] if isinstance(value, str) else list(value) if isinstance(value, (list, tuple)) else None
    if stops is None or any(type(s) is not str or not s for s in stops):
        raise Refused
    return stops or SKIP


def read_top_k(value: Any) -> Any:
    read_int(value, 1)
    return SKIP   # the Chat Completions wire has no top_k: lm15 drops it (and records the adaptation)


def read_store(value: Any) -> bool:
    if type(value) is not bool:
        raise Refused
    return value


def response_format_value(value: Any) -> Any:
    """A pydantic model class as DSPy sends it (``_canonical``: a strict ``json_schema`` named after the class);
    anything else unchanged. Also used on the LiteLLM side, where a class cannot go out as JSON."""
    if isinstance(value, type) and callable(getattr(value, "model_json_schema", None)):
        return {"type": "json_schema", "json_schema": {
            "name": value.__name__, "schema": strict_json_schema(value.model_json_schema()), "strict": True}}
    return value


def read_response_format(value: Any) -> dict[str, Any] | None:
    """lm15's reading (``_ingest_response_format``) and writing (``_response_format_to_chat``); None: not sent."""
    value = response_format_value(value)
    if type(value) is not dict:
        raise Refused
    kind = value.get("type")
    if kind in ("text", "json_object"):
        if len(value) != 1:
            raise Refused
        return None if kind == "text" else {"type": "json_object"}
    if kind != "json_schema" or set(value) - {"type", "json_schema"}:
        raise Refused
    inner = value.get("json_schema")
    if type(inner) is not dict or set(inner) - {"name", "schema", "strict"} or type(inner.get("schema")) is not dict:
        raise Refused
    name = inner.get("name")
    if name is not None and (type(name) is not str or not name):
        raise Refused
    out: dict[str, Any] = {"name": name or "response", "schema": inner["schema"]}
    if inner.get("strict") is not None:
        if type(inner["strict"]) is not bool:
            raise Refused
        out["strict"] = inner["strict"]
    return {"type": "json_schema", "json_schema": out}


_DEFAULT_PARAMETERS = {"type": "object", "properties": {}}   # lm15 FunctionTool's default


def read_tools(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise Refused
    tools, names = [], set()
    for entry in value:
        if type(entry) is not dict or entry.get("type") != "function" or set(entry) - {"type", "function"}:
            raise Refused   # lm15 carries function tools only on these presets
        fn = entry.get("function")
        if type(fn) is not dict or set(fn) - {"name", "description", "parameters", "strict"} \
                or fn.get("strict") is True:
            raise Refused   # a per-tool strict=true has no canonical slot (``strict: false`` is the default)
        name, description, parameters = read_text(fn.get("name")), fn.get("description"), fn.get("parameters")
        if (description is not None and type(description) is not str) or \
                (parameters is not None and type(parameters) is not dict) or name in names:
            raise Refused
        names.add(name)
        tools.append({"type": "function", "function": {
            "name": name, "description": description,
            "parameters": parameters if parameters is not None else dict(_DEFAULT_PARAMETERS)}})
    return tools


def read_tool_choice(choice: Any, parallel: Any, tool_names: set[str]) -> tuple[Any, Any]:
    """(tool_choice, parallel_tool_calls) as lm15 rewrites them; (None, None) when neither is set."""
    allowed = None
    if choice is None:
        mode = None
    elif choice in ("none", "auto", "required"):
        mode = choice
    elif type(choice) is dict and choice.get("type") == "function" and set(choice) <= {"type", "function"}:
        fn = choice.get("function")
        if type(fn) is not dict or set(fn) != {"name"}:
            raise Refused
        mode, allowed = "required", read_text(fn["name"])
        if allowed not in tool_names:
            raise Refused
    else:
        raise Refused
    if parallel is not None and type(parallel) is not bool:
        raise Refused
    if mode is None and parallel is None:
        return None, None
    if mode == "none":
        wire: Any = "none"
    elif allowed is not None:
        wire = {"type": "function", "function": {"name": allowed}}
    else:
        wire = "required" if mode == "required" else "auto"
    return wire, parallel


def read_functions(cfg: dict[str, Any], functions: Any, function_call: Any) -> None:
    """The deprecated ``functions`` / ``function_call`` spelling, which lm15 reads as tools / tool_choice."""
    if functions is not None:
        if not isinstance(functions, list):
            raise Refused
        cfg["tools"] = [{"type": "function", "function": fn} for fn in functions]
    if function_call is not None:
        if function_call in ("none", "auto"):
            cfg["tool_choice"] = function_call
        elif type(function_call) is dict and "name" in function_call:
            cfg["tool_choice"] = {"type": "function", "function": {"name": function_call["name"]}}
        else:
            raise Refused
