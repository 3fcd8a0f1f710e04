"""Where two agent runs part: the first step at which the control's and the candidate's trajectories differ.

A shadow divergence in an agent is rarely interesting at the end (a different answer) and always interesting
where it starts: which turn, which part of it (thought, tool, arguments, observation), and both values. Strings
are compared with library traceback frames removed (``tracebacks``), as the parity contract does.
"""

from __future__ import annotations

from typing import Any

from .tracebacks import normalize_value

__all__ = ["first_divergence"]

_REACT_PARTS = ("thought", "tool_name", "tool_args", "observation")


def _show(value: Any, limit: int = 500) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} chars)"


def _part(step: int, part: str, control: Any, candidate: Any) -> dict[str, Any]:
    return {"step": step, "part": part, "control": _show(control), "candidate": _show(candidate)}


def _react(control: dict[str, Any], candidate: dict[str, Any]) -> dict[str, Any] | None:
    steps = max(_count(control), _count(candidate))
    for i in range(steps):
        for part in _REACT_PARTS:
            key = f"{part}_{i}"
            a, b = control.get(key, "<missing>"), candidate.get(key, "<missing>")
            if normalize_value(a) != normalize_value(b):
                return _part(i, part, a, b)
    return None


def _count(trajectory: dict[str, Any]) -> int:
    i = 0
    while f"thought_{i}" in trajectory or f"tool_name_{i}" in trajectory:
        i += 1
    return i


def _event(event: Any) -> dict[str, Any]:
    """A history event in comparable form: plain values, tool calls as (name, args) and results."""
    if not isinstance(event, dict):
        return {"<event>": event}
    out: dict[str, Any] = {}
    for key, value in event.items():
        calls = getattr(value, "tool_calls", None)
        if calls is not None and hasattr(value, "tool_call_results"):
            out["tool_calls"] = [(c.name, c.args) for c in calls]
            results = getattr(value.tool_call_results, "tool_call_results", None) or []
            out["tool_call_results"] = [(r.name, r.value, r.is_error) for r in results]
        else:
            out[key] = str(value) if type(value).__name__ == "Reasoning" else value
    return normalize_value(out)


def _react_v2(control: list[Any], candidate: list[Any]) -> dict[str, Any] | None:
    for i in range(max(len(control), len(candidate))):
        a = _event(control[i]) if i < len(control) else {}
        b = _event(candidate[i]) if i < len(candidate) else {}
        for key in dict.fromkeys([*a, *b]):
            if a.get(key, "<missing>") != b.get(key, "<missing>"):
                return _part(i, key, a.get(key, "<missing>"), b.get(key, "<missing>"))
    return None


def first_divergence(module_type: str, control: Any, candidate: Any) -> dict[str, Any] | None:
    """``{"step", "part", "control", "candidate"}`` for the first difference between two agent results, or None.

    ReAct compares ``trajectory`` (thought, tool_name, tool_args, observation per step); ReActV2 compares the
    ``history`` events (inputs, next_thought, tool calls and their results, submitted outputs).
    """
    if module_type == "react":
        return _react(getattr(control, "trajectory", None) or {}, getattr(candidate, "trajectory", None) or {})
    return _react_v2(list(getattr(getattr(control, "history", None), "messages", None) or []),
                     list(getattr(getattr(candidate, "history", None), "messages", None) or []))
