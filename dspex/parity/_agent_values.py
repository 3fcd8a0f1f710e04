"""Agent results in comparable form: tracebacks normalised, and dspex's agent types as DSPy's.

Native agents return ``dspex.types`` objects (History, ToolCalls, ToolCallResults, Reasoning) where DSPy returns
its own classes with the same fields; the comparison (a documented mapping) rebuilds native ones as DSPy's, and
normalises every string inside (``dspex.shadow.tracebacks``), so values, types and reprs compare strictly.
"""

from __future__ import annotations

from typing import Any

import dspy

from ..shadow.tracebacks import strip_library_frames
from ..types import role_of

__all__ = ["as_dspy"]


def _results(value: Any) -> Any:
    return dspy.ToolCallResults(tool_call_results=[
        {"call_id": r.call_id, "name": r.name, "value": as_dspy(r.value), "is_error": r.is_error}
        for r in value.tool_call_results
    ])


def _tool_calls(value: Any) -> Any:
    calls = [dspy.ToolCalls.ToolCall(id=c.id, name=c.name, args=as_dspy(c.args)) for c in value.tool_calls]
    results = value.tool_call_results
    if results is not None and role_of(type(results)) == "tool_call_results":
        results = _results(results)
    else:
        results = as_dspy(results)
    return dspy.ToolCalls(tool_calls=calls, tool_call_results=results)


def as_dspy(value: Any) -> Any:
    """``value`` with tracebacks normalised and agent types (ours or DSPy's) rebuilt as DSPy's."""
    t = type(value)
    if t is str:
        return strip_library_frames(value)
    if t is dict:
        return {k: as_dspy(v) for k, v in value.items()}
    if t is list:
        return [as_dspy(v) for v in value]
    if t is tuple:
        return tuple(as_dspy(v) for v in value)
    role = role_of(t) if isinstance(t, type) else None
    if role == "history":
        return dspy.History.model_construct(messages=[as_dspy(m) for m in value.messages])
    if role == "tool_calls":
        return _tool_calls(value)
    if role == "tool_call_results":
        return _results(value)
    if role == "reasoning":
        return dspy.Reasoning(content=as_dspy(value.content))
    return value
