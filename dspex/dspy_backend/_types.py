"""dspex's agent types as DSPy's: values (History, ToolCalls, ToolCallResults, Reasoning), annotations and tools.

Native agents return ``dspex.types`` objects with DSPy's fields; inside a DSPy program a routed module hands back
DSPy's own classes, so code written against ``dspy.History`` / ``dspy.ToolCalls`` keeps working whatever route
ran. Tools given as ``dspex.types.Tool`` become ``dspy.Tool`` for DSPy's side.
"""

from __future__ import annotations

from typing import Any

import dspy

__all__ = ["to_dspy_value", "to_dspy_annotation", "to_dspy_tool", "is_dspex_type"]


def is_dspex_type(value: Any) -> bool:
    return type(value).__module__.startswith("dspex.types")


def _role(value: Any) -> str | None:
    from dspex.types import role_of

    return role_of(type(value))


def _results(value: Any) -> Any:
    return dspy.ToolCallResults(tool_call_results=[
        {"call_id": r.call_id, "name": r.name, "value": to_dspy_value(r.value), "is_error": r.is_error}
        for r in value.tool_call_results
    ])


def to_dspy_value(value: Any) -> Any:
    """``value`` with dspex's agent types (at any depth of lists, tuples and dicts) rebuilt as DSPy's.

    A list, tuple or dict holding none of them is returned itself, not a copy: DSPy's trace holds the very objects
    a Predict returned and was given, so a program's in-place change to a ``list[str]`` output shows in the trace
    optimizers bootstrap demos from."""
    t = type(value)
    if t is dict:
        items = {k: to_dspy_value(v) for k, v in value.items()}
        return value if all(items[k] is v for k, v in value.items()) else items
    if t is list or t is tuple:
        converted = [to_dspy_value(v) for v in value]
        if all(c is v for c, v in zip(converted, value)):
            return value
        return converted if t is list else tuple(converted)
    if not is_dspex_type(value):
        return value
    role = _role(value)
    if role == "history":
        return dspy.History.model_construct(messages=[to_dspy_value(m) for m in value.messages])
    if role == "tool_calls":
        calls = [dspy.ToolCalls.ToolCall(id=c.id, name=c.name, args=to_dspy_value(c.args)) for c in value.tool_calls]
        results = value.tool_call_results
        results = _results(results) if results is not None and _role(results) == "tool_call_results" else results
        return dspy.ToolCalls(tool_calls=calls, tool_call_results=results)
    if role == "tool_call_results":
        return _results(value)
    if role == "reasoning":
        return dspy.Reasoning(content=to_dspy_value(value.content))
    if role == "tools":
        return to_dspy_tool(value)
    return value


_TYPES = {"history": "History", "tool_calls": "ToolCalls", "tool_call_results": "ToolCallResults",
          "reasoning": "Reasoning", "tools": "Tool"}


def to_dspy_annotation(annotation: Any) -> Any:
    """A dspex agent type in a signature as DSPy's (``list[dspex.types.Tool]`` included)."""
    if isinstance(annotation, type) and annotation.__module__.startswith("dspex.types"):
        from dspex.types import role_of

        name = _TYPES.get(role_of(annotation) or "")
        return getattr(dspy, name) if name else annotation
    args = getattr(annotation, "__args__", None)
    if getattr(annotation, "__origin__", None) is list and args and isinstance(args[0], type) \
            and args[0].__module__.startswith("dspex.types"):
        return list[to_dspy_annotation(args[0])]  # type: ignore[misc]
    return annotation


def to_dspy_tool(tool: Any) -> Any:
    """A ``dspex.types.Tool`` as the ``dspy.Tool`` DSPy's agents take (anything else unchanged)."""
    if not is_dspex_type(tool) or _role(tool) != "tools":
        return tool
    return dspy.Tool(tool.func, name=tool.name, desc=tool.desc, args=tool.args, arg_types=tool.arg_types,
                     arg_desc=tool.arg_desc)
