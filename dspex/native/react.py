"""Native ``ReAct``: DSPy 3.4.1's tool-using agent loop, step for step, without DSPy.

Each turn a ``Predict`` (``react``) reads the inputs and the trajectory so far and picks ``next_thought``,
``next_tool_name`` (a Literal of the tools plus ``finish``) and ``next_tool_args``; the tool's result (or
``Execution error in <tool>: <traceback>``) becomes the turn's observation. After ``finish`` or ``max_iters``
turns a ``ChainOfThought`` (``extract``) produces the signature's outputs from the trajectory. DSPy's choices are
kept, quirks included: only ``ValueError`` and the context-window error end the loop early (a parse failure or
any other error from the LM crashes the call), the oldest turn is dropped when the context window is exceeded
(three attempts), and the trajectory keys are ``thought_i``, ``tool_name_i``, ``tool_args_i``, ``observation_i``.

The attributes are DSPy's (``signature``, ``max_iters``, ``tools``, ``react``, ``extract``), so
``named_predictors()`` names ``react`` and ``extract.predict`` as DSPy does, and a routed module can share its
predictors' state with the DSPy twin by name.
"""

from __future__ import annotations

from typing import Any, Callable, Literal

from ..signature import InputField, OutputField, ensure_signature, make_signature
from ._agent_support import context_window_error, format_error_for_lm, format_trajectory, is_context_window_error
from ._agent_support import logger, run_tools
from ._module import Module
from ._prediction import Prediction
from ._settings import settings
from .chain_of_thought import ChainOfThought
from .predict import Predict

__all__ = ["ReAct"]

_TRUNCATION_WARNING = "Trajectory exceeded the context window, truncating the oldest tool call information."


def _finish_tool(outputs: str) -> Any:
    from ..types import Tool

    return Tool(
        func=lambda: "Completed.",
        name="finish",
        desc=f"Marks the task as complete. That is, signals that all information for producing the outputs, i.e. "
        f"{outputs}, are now available to be extracted.",
        args={},
    )


def _instructions(signature: Any, tools: dict[str, Any]) -> str:
    inputs = ", ".join(f"`{k}`" for k in signature.input_fields)
    outputs = ", ".join(f"`{k}`" for k in signature.output_fields)
    instr = [f"{signature.instructions}\n"] if signature.instructions else []
    instr.extend([
        f"You are an Agent. In each episode, you will be given the fields {inputs} as input. And you can see your "
        "past trajectory so far.",
        f"Your goal is to use one or more of the supplied tools to collect any necessary information for producing "
        f"{outputs}.\n",
        "To do this, you will interleave next_thought, next_tool_name, and next_tool_args in each turn, and also "
        "when finishing the task.",
        "After each tool call, you receive a resulting observation, which gets appended to your trajectory.\n",
        "When writing next_thought, you may reason about the current situation and plan for future steps.",
        "When selecting the next_tool_name and its next_tool_args, the tool must be one of:\n",
    ])
    for idx, tool in enumerate(tools.values()):
        instr.append(f"({idx + 1}) {tool}")
    instr.append("When providing `next_tool_args`, the value inside the field must be in JSON format")
    return "\n".join(instr)


class ReAct(Module):
    """``ReAct(signature, tools, max_iters=20)``: reason, call tools, then extract the outputs."""

    def __init__(self, signature: Any, tools: list[Callable[..., Any]], max_iters: int = 20) -> None:
        from ..types import as_tool

        self.callbacks: list[Any] = []
        self.history: list[Any] = []
        self.signature = signature = ensure_signature(signature)
        self.max_iters = max_iters

        by_name = {tool.name: tool for tool in (as_tool(t) for t in tools)}
        outputs = ", ".join(f"`{k}`" for k in signature.output_fields)
        by_name["finish"] = _finish_tool(outputs)  # a user tool named finish keeps its place, not its function

        react_signature = (
            make_signature(dict(signature.input_fields), _instructions(signature, by_name))
            .append("trajectory", InputField(), type_=str)
            .append("next_thought", OutputField(), type_=str)
            .append("next_tool_name", OutputField(), type_=Literal[tuple(by_name)])  # type: ignore[misc]
            .append("next_tool_args", OutputField(), type_=dict[str, Any])
        )
        fallback_signature = make_signature(
            {**signature.input_fields, **signature.output_fields}, signature.instructions
        ).append("trajectory", InputField(), type_=str)

        self.tools = by_name
        self.react = Predict(react_signature)
        self.extract = ChainOfThought(fallback_signature)

    def _format_trajectory(self, trajectory: dict[str, Any]) -> str:
        adapter = settings.adapter
        if adapter is None:
            from ._preprocess import _chat_adapter

            adapter = _chat_adapter()
        return format_trajectory(trajectory, adapter)

    # --- the loop -----------------------------------------------------------------------------------------------
    def forward(self, **input_args: Any) -> Prediction:
        trajectory: dict[str, Any] = {}
        max_iters = input_args.pop("max_iters", self.max_iters)
        tools = run_tools(self)
        for idx in range(max_iters):
            try:
                pred = self._call_with_potential_trajectory_truncation(self.react, trajectory, **input_args)
            except Exception as err:
                if not self._ends_trajectory(err):
                    raise
                break

            trajectory[f"thought_{idx}"] = pred.next_thought
            trajectory[f"tool_name_{idx}"] = pred.next_tool_name
            trajectory[f"tool_args_{idx}"] = pred.next_tool_args

            try:
                trajectory[f"observation_{idx}"] = tools[pred.next_tool_name](**pred.next_tool_args)
            except Exception as err:
                trajectory[f"observation_{idx}"] = (
                    f"Execution error in {pred.next_tool_name}: {format_error_for_lm(err, traceback_frames=5)}"
                )

            if pred.next_tool_name == "finish":
                break

        extract = self._call_with_potential_trajectory_truncation(self.extract, trajectory, **input_args)
        return Prediction(trajectory=trajectory, **extract)

    async def aforward(self, **input_args: Any) -> Prediction:
        trajectory: dict[str, Any] = {}
        max_iters = input_args.pop("max_iters", self.max_iters)
        tools = run_tools(self)
        for idx in range(max_iters):
            try:
                pred = await self._async_call_with_potential_trajectory_truncation(self.react, trajectory, **input_args)
            except Exception as err:
                if not self._ends_trajectory(err):
                    raise
                break

            trajectory[f"thought_{idx}"] = pred.next_thought
            trajectory[f"tool_name_{idx}"] = pred.next_tool_name
            trajectory[f"tool_args_{idx}"] = pred.next_tool_args

            try:
                trajectory[f"observation_{idx}"] = await tools[pred.next_tool_name].acall(**pred.next_tool_args)
            except Exception as err:
                trajectory[f"observation_{idx}"] = (
                    f"Execution error in {pred.next_tool_name}: {format_error_for_lm(err, traceback_frames=5)}"
                )

            if pred.next_tool_name == "finish":
                break

        extract = await self._async_call_with_potential_trajectory_truncation(self.extract, trajectory, **input_args)
        return Prediction(trajectory=trajectory, **extract)

    @staticmethod
    def _ends_trajectory(err: Exception) -> bool:
        """DSPy ends the loop (with a warning) on a context-window error or a ValueError; anything else is raised."""
        if is_context_window_error(err):
            logger.warning(f"Ending the trajectory: {format_error_for_lm(err, traceback_frames=5)}")
            return True
        if isinstance(err, ValueError):
            logger.warning(
                "Ending the trajectory: Agent failed to select a valid tool: "
                f"{format_error_for_lm(err, traceback_frames=5)}"
            )
            return True
        return False

    # --- one predictor call, shortening the trajectory when the context window is exceeded ----------------------
    def _call_with_potential_trajectory_truncation(self, module, trajectory, **input_args):  # type: ignore[no-untyped-def]
        last_error = None
        for _ in range(3):
            try:
                return module(**input_args, trajectory=self._format_trajectory(trajectory))
            except Exception as err:
                if not is_context_window_error(err):
                    raise
                logger.warning(_TRUNCATION_WARNING)
                last_error = err
                trajectory = self.truncate_trajectory(trajectory)
        raise context_window_error(
            "The context window was exceeded even after 3 attempts to truncate the trajectory."
        ) from last_error

    async def _async_call_with_potential_trajectory_truncation(self, module, trajectory, **input_args):  # type: ignore[no-untyped-def]
        last_error = None
        for _ in range(3):
            try:
                return await module.acall(**input_args, trajectory=self._format_trajectory(trajectory))
            except Exception as err:
                if not is_context_window_error(err):
                    raise
                logger.warning(_TRUNCATION_WARNING)
                last_error = err
                trajectory = self.truncate_trajectory(trajectory)
        raise context_window_error(
            "The context window was exceeded even after 3 attempts to truncate the trajectory."
        ) from last_error

    def truncate_trajectory(self, trajectory: dict[str, Any]) -> dict[str, Any]:
        """Drop the oldest tool call (its four keys), in place; override to shorten differently (as in DSPy)."""
        keys = list(trajectory.keys())
        if len(keys) <= 4:
            raise context_window_error(
                "The trajectory is too long so your prompt exceeded the context window, but the trajectory "
                "cannot be truncated because it only has one tool call."
            )
        for key in keys[:4]:
            trajectory.pop(key)
        return trajectory
