"""Tools under shadow: what the control's tools returned, served back to the candidate, so that no tool runs twice.

Agents call tools, and tools act on the world (send the mail, charge the card): the candidate must never call
them again. The control's agent already recorded every call it made and what came of it (ReAct's trajectory,
ReActV2's history), so the tape is read from the control's result, or, when the control raised, from its
``forward`` frame's trajectory/history on the traceback (best effort, marked incomplete). The candidate runs on a
shallow copy of the native agent whose tools serve that tape in order and call nothing; ``finish`` and
``submit`` are the agent's own and run as usual. A call the tape cannot serve (another tool, other arguments,
more calls than the control made) is recorded on the tape (``tape.problems``) and fails inside the candidate like
a failing tool; the shadow job reports it as a divergence.
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass, field
from typing import Any, Literal

from ..errors import DspexError

__all__ = ["ToolStep", "ToolTape", "ToolReplayError", "ReplayedToolError", "tape_from_result", "tape_from_error",
           "replaying", "AGENT_TYPES"]

AGENT_TYPES = ("react", "react_v2")
_OWN_TOOLS = {"react": "finish", "react_v2": "submit"}


class ToolReplayError(DspexError):
    """The candidate asked for a tool call the control's recording cannot serve (the call is not made)."""


class ReplayedToolError(Exception):
    """The control's tool call failed; the candidate's agent records the control's own error text
    (``dspex_observation``) instead of formatting a traceback of its own."""

    def __init__(self, observation: str) -> None:
        super().__init__(observation)
        self.dspex_observation = observation


@dataclass(frozen=True)
class ToolStep:
    turn: int                 # ReAct: the trajectory step; ReActV2: the turn (history event)
    name: str
    args: dict[str, Any]
    outcome: Literal["result", "error"]
    value: Any                # the tool's result, or (error) the text the agent recorded


@dataclass
class ToolTape:
    module_type: str
    steps: list[ToolStep] = field(default_factory=list)
    complete: bool = True     # False: read from a control that raised (steps after the failure are unknown)
    served: int = 0
    problems: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def serve(self, name: str, args: dict[str, Any]) -> Any:
        """The recorded outcome of the next call, if it is this call; else a recorded problem and an error."""
        with self.lock:
            index = self.served
            step = self.steps[index] if index < len(self.steps) else None
            if step is None or step.name != name or step.args != args:
                recorded = "no further call" if step is None else f"{step.name}({step.args!r}) at turn {step.turn}"
                if not self.complete and step is None:
                    recorded += " (the control raised; later calls were not recorded)"
                problem = f"tool call #{index}: candidate called {name}({args!r}); the control made {recorded}"
                self.problems.append(problem)
                raise ToolReplayError(f"Shadow replay cannot serve this tool call: {problem}.")
            self.served += 1
        if step.outcome == "error":
            raise ReplayedToolError(step.value)
        try:
            return copy.deepcopy(step.value)
        except Exception:  # an uncopyable result: share it rather than fail
            return step.value

    @property
    def unused(self) -> list[ToolStep]:
        """Calls the control made that the candidate never asked for."""
        return self.steps[self.served:]


def _react_steps(trajectory: Any) -> list[ToolStep]:
    steps = []
    index = 0
    while f"tool_name_{index}" in trajectory:
        name = trajectory[f"tool_name_{index}"]
        if name != "finish" and f"observation_{index}" in trajectory:
            # A failed call's observation is the error text, and the candidate would record exactly that text:
            # served as a result either way.
            steps.append(ToolStep(index, name, dict(trajectory.get(f"tool_args_{index}") or {}), "result",
                                  trajectory[f"observation_{index}"]))
        index += 1
    return steps


def _react_v2_steps(messages: Any) -> list[ToolStep]:
    steps = []
    for turn, event in enumerate(messages):
        calls = event.get("tool_calls") if isinstance(event, dict) else None
        results = getattr(calls, "tool_call_results", None)
        if calls is None or results is None:
            continue
        for call, result in zip(calls.tool_calls, results.tool_call_results):
            unknown = result.is_error and result.value == f"Unknown tool: {call.name}"
            if call.name == "submit" or unknown:
                continue
            steps.append(ToolStep(turn, call.name, dict(call.args or {}), "error" if result.is_error else "result",
                                  result.value))
    return steps


def tape_from_result(module_type: str, result: Any) -> ToolTape:
    """The tool calls recorded in a finished agent's Prediction (DSPy's or native's)."""
    if module_type == "react":
        return ToolTape(module_type, _react_steps(getattr(result, "trajectory", None) or {}))
    return ToolTape(module_type, _react_v2_steps(getattr(getattr(result, "history", None), "messages", None) or []))


def tape_from_error(module_type: str, error: BaseException) -> ToolTape:
    """The calls made before the control raised, read from its agent loop's frame on the traceback."""
    tb = error.__traceback__
    found: Any = None
    while tb is not None:
        frame = tb.tb_frame
        if frame.f_code.co_name in ("forward", "aforward"):
            local = frame.f_locals
            if module_type == "react" and isinstance(local.get("trajectory"), dict):
                found = local["trajectory"]
            elif module_type == "react_v2" and hasattr(local.get("history"), "messages"):
                found = local["history"].messages
        tb = tb.tb_next
    if found is None:
        return ToolTape(module_type, [], complete=False)
    steps = _react_steps(found) if module_type == "react" else _react_v2_steps(found)
    return ToolTape(module_type, steps, complete=False)


_replay_class: Any = None


def _replay_tool(tool: Any, tape: ToolTape) -> Any:
    """A Tool that looks like the original (name, description, arguments) and serves ``tape``; it calls nothing."""
    global _replay_class
    if _replay_class is None:
        from ..types import Tool

        class ReplayTool(Tool):
            _tape: ToolTape

            def __call__(self, /, **kwargs: Any) -> Any:
                return self._tape.serve(self.name, kwargs)

            async def acall(self, /, **kwargs: Any) -> Any:
                return self._tape.serve(self.name, kwargs)

        _replay_class = ReplayTool
    replay = _replay_class.from_tool_like(tool)
    replay.func = None  # nothing to call, by construction
    replay._tape = tape
    return replay


def replaying(agent: Any, tape: ToolTape) -> Any:
    """A shallow copy of a native ReAct / ReActV2 whose tools serve ``tape`` (its predictors are shared)."""
    clone = copy.copy(agent)
    own = _OWN_TOOLS.get(tape.module_type)
    clone.tools = {name: tool if name == own else _replay_tool(tool, tape) for name, tool in agent.tools.items()}
    return clone
