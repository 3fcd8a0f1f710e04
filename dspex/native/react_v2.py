"""Native ``ReActV2`` (experimental, as in DSPy 3.4.1): structured history, several tool calls per turn, ``submit``.

Each turn one ``Predict`` (``react``) reads the inputs (first turn only), the conversation ``history`` and the
``tools`` and answers ``next_thought`` (Reasoning) and ``tool_calls`` (ToolCalls, or the provider's native tool
calls); every call runs, its result (or ``Unknown tool: ...`` / ``Execution error in ...``) joins the history,
and a ``submit`` call whose arguments are the signature's outputs ends the run. A run that stops otherwise
(``max_iters``, a parse failure, no tool calls, the context window) ends with one forced ``submit`` turn. Like
DSPy's, the loop passes only the signature's inputs on (not ``lm=`` or ``config=``: configure the LM with
``set_lm`` or the settings), and a given ``History`` is appended to in place.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

from ..adapters import remember_turns
from ..signature import InputField, OutputField, ensure_signature, make_signature
from ._agent_support import format_error_for_lm, is_context_window_error, run_tools
from ._module import Module
from ._prediction import Prediction
from ._react_v2_support import (
    FORCED, RESERVED_INPUT_KEYS, RESERVED_PREDICTION_KEYS, coerce_history, coerce_tool_calls, ensure_tool_call_ids,
    is_parse_error, optional_annotation, submit_tool, types, updated,
)
from .predict import Predict

logger = logging.getLogger("dspy.predict.react_v2")   # where DSPy's ReActV2 warns

__all__ = ["ReActV2"]


def _error_value(name: str, err: Exception) -> str:
    """DSPy's ``Execution error in <tool>: <traceback>``; a shadow replay supplies the control's own text."""
    replayed = getattr(err, "dspex_observation", None)
    if isinstance(replayed, str):
        return replayed
    return f"Execution error in {name}: {format_error_for_lm(err, traceback_frames=5)}"


class ReActV2(Module):
    """Experimental: This class may change or be removed in a future release without warning.

    ``ReActV2(signature, tools, max_iters=20)``: an agent that calls tools (several per turn) and ``submit``.
    Predictions hold the outputs, the conversation ``history`` and the ``termination_reason``.
    """

    def __init__(self, signature: Any, tools: list[Callable[..., Any]], max_iters: int = 20) -> None:
        lib = types()
        self.callbacks: list[Any] = []
        self.history: list[Any] = []
        self.signature = ensure_signature(signature)
        self.max_iters = max_iters

        reserved_outputs = RESERVED_PREDICTION_KEYS.intersection(self.signature.output_fields)
        if reserved_outputs:
            names = ", ".join(f"`{name}`" for name in sorted(reserved_outputs))
            raise ValueError(
                f"Output field name(s) {names} are reserved by ReActV2 and attached to every "
                "returned Prediction. Rename these output fields on your signature."
            )
        reserved_inputs = RESERVED_INPUT_KEYS.intersection(self.signature.input_fields)
        if reserved_inputs:
            names = ", ".join(f"`{name}`" for name in sorted(reserved_inputs))
            raise ValueError(
                f"Input field name(s) {names} are reserved by ReActV2 for its internal "
                "conversation history and tool list. Rename these input fields on your signature."
            )

        self.tools = {tool.name: tool for tool in (lib.as_tool(t) for t in tools)}
        if "submit" in self.tools:
            raise ValueError("`submit` is reserved by ReActV2 as the final-output tool.")
        self.tools["submit"] = self._make_submit_tool()
        self.react = Predict(self._make_react_signature())

    def _make_submit_tool(self) -> Any:
        return submit_tool(self.signature)

    def _make_react_signature(self) -> Any:
        lib = types()
        fields: dict[str, Any] = {
            name: (optional_annotation(f.annotation), InputField(desc=f.desc))
            for name, f in self.signature.input_fields.items()
        }
        fields["history"] = (lib.History, InputField())
        fields["tools"] = (list[lib.Tool], InputField())  # type: ignore[name-defined]
        fields["next_thought"] = (lib.Reasoning, OutputField())
        fields["tool_calls"] = (lib.ToolCalls, OutputField())
        inputs = ", ".join(f"`{name}`" for name in self.signature.input_fields)
        outputs = ", ".join(f"`{name}`" for name in self.signature.output_fields)
        tool_names = ", ".join(f"`{name}`" for name in self.tools)
        instructions = "\n".join([
            self.signature.instructions,
            f"You are an Agent. Use the supplied tools to produce {outputs} from {inputs}.",
            "Call tools when more information is needed.",
            f"When the final answer is ready, call `submit` with {outputs}.",
            f"The available tools are: {tool_names}.",
        ]).strip()
        return make_signature(fields, instructions)

    # --- the loop -----------------------------------------------------------------------------------------------
    def forward(self, **input_args: Any) -> Prediction:
        with remember_turns():   # each earlier turn rendered once per run, not once per turn (adapters/_turn_memo.py)
            return self._forward(input_args)

    async def aforward(self, **input_args: Any) -> Prediction:
        with remember_turns():
            return await self._aforward(input_args)

    def _forward(self, input_args: dict[str, Any]) -> Prediction:
        max_iters = input_args.pop("max_iters", self.max_iters)
        history = coerce_history(input_args.pop("history", None))
        pending = {name: input_args[name] for name in self.signature.input_fields if name in input_args}
        break_reason = "max_iters"
        for turn_index in range(max_iters):
            try:
                pred = self.react(history=history, tools=list(self.tools.values()), **pending)
                tool_calls = coerce_tool_calls(getattr(pred, "tool_calls", None))
            except Exception as err:
                reason = self._stop_reason(err)
                if reason is None:
                    raise
                break_reason = reason
                break
            if not tool_calls.tool_calls:
                break_reason = "empty_tool_calls"
                break
            tool_calls = ensure_tool_call_ids(tool_calls, turn_index)
            results, final_outputs = self._execute_tool_calls(tool_calls)
            if self._record_turn(history, pending, pred, tool_calls, results, final_outputs):
                return Prediction(**final_outputs, history=history, termination_reason="submit")  # type: ignore[arg-type]
            pending = {}
        return self._forced_submit(history, pending, break_reason, max_iters)

    async def _aforward(self, input_args: dict[str, Any]) -> Prediction:
        max_iters = input_args.pop("max_iters", self.max_iters)
        history = coerce_history(input_args.pop("history", None))
        pending = {name: input_args[name] for name in self.signature.input_fields if name in input_args}
        break_reason = "max_iters"
        for turn_index in range(max_iters):
            try:
                pred = await self.react.acall(history=history, tools=list(self.tools.values()), **pending)
                tool_calls = coerce_tool_calls(getattr(pred, "tool_calls", None))
            except Exception as err:
                reason = self._stop_reason(err)
                if reason is None:
                    raise
                break_reason = reason
                break
            if not tool_calls.tool_calls:
                break_reason = "empty_tool_calls"
                break
            tool_calls = ensure_tool_call_ids(tool_calls, turn_index)
            results, final_outputs = await self._aexecute_tool_calls(tool_calls)
            if self._record_turn(history, pending, pred, tool_calls, results, final_outputs):
                return Prediction(**final_outputs, history=history, termination_reason="submit")  # type: ignore[arg-type]
            pending = {}
        return await self._aforced_submit(history, pending, break_reason, max_iters)

    @staticmethod
    def _stop_reason(err: Exception) -> str | None:
        """Why a turn that raised ends the loop (with DSPy's warning); None: DSPy does not catch it either."""
        if is_parse_error(err):
            logger.warning("Ending ReActV2 loop after parse failure: %s", format_error_for_lm(err, traceback_frames=5))
            return "parse_error"
        if is_context_window_error(err):
            logger.warning("Ending ReActV2 loop after context window exceeded.")
            return "context_window_exceeded"
        return None

    def _record_turn(self, history: Any, pending: dict[str, Any], pred: Any, tool_calls: Any, results: Any,
                     final_outputs: dict[str, Any] | None) -> bool:
        """Append the turn to the history; True when ``submit`` produced the final outputs."""
        event = self._history_event(pending, pred, tool_calls, results)
        if final_outputs is not None:
            event.update(final_outputs)
        if event:
            history.messages.append(event)
        return final_outputs is not None

    # --- tool calls ---------------------------------------------------------------------------------------------
    def _execute_tool_calls(self, tool_calls: Any) -> tuple[Any, dict[str, Any] | None]:
        values: list[Any] = []
        is_errors: list[bool] = []
        final_outputs = None
        tools = run_tools(self)
        for tool_call in tool_calls.tool_calls:
            if tool_call.name not in self.tools:
                values.append(f"Unknown tool: {tool_call.name}")
                is_errors.append(True)
                continue
            try:
                value = tools[tool_call.name](**(tool_call.args or {}))
                values.append(value)
                is_errors.append(False)
                if tool_call.name == "submit" and isinstance(value, dict):
                    final_outputs = value
            except Exception as err:
                values.append(_error_value(tool_call.name, err))
                is_errors.append(True)
        return types().ToolCallResults.from_tool_calls_and_values(tool_calls, values, is_errors), final_outputs

    async def _aexecute_tool_calls(self, tool_calls: Any) -> tuple[Any, dict[str, Any] | None]:
        values: list[Any] = []
        is_errors: list[bool] = []
        final_outputs = None
        tools = run_tools(self)
        for tool_call in tool_calls.tool_calls:
            if tool_call.name not in self.tools:
                values.append(f"Unknown tool: {tool_call.name}")
                is_errors.append(True)
                continue
            try:
                value = await tools[tool_call.name].acall(**(tool_call.args or {}))
                values.append(value)
                is_errors.append(False)
                if tool_call.name == "submit" and isinstance(value, dict):
                    final_outputs = value
            except Exception as err:
                values.append(_error_value(tool_call.name, err))
                is_errors.append(True)
        return types().ToolCallResults.from_tool_calls_and_values(tool_calls, values, is_errors), final_outputs

    def _history_event(self, pending: dict[str, Any], pred: Any, tool_calls: Any, results: Any) -> dict[str, Any]:
        event = dict(pending)
        if hasattr(pred, "next_thought") and pred.next_thought is not None:
            event["next_thought"] = pred.next_thought
        if tool_calls.tool_calls:
            if results.tool_call_results:
                tool_calls = updated(tool_calls, tool_call_results=results)
            event["tool_calls"] = tool_calls
        return event

    # --- the last turn: submit is the only choice ---------------------------------------------------------------
    def _forced_submit(self, history: Any, pending: dict[str, Any], break_reason: str, turn_index: int) -> Prediction:
        try:
            pred = self.react(history=history, tools=list(self.tools.values()), config=dict(FORCED), **pending)
            tool_calls = ensure_tool_call_ids(coerce_tool_calls(getattr(pred, "tool_calls", None)), turn_index)
        except Exception as err:
            self._forced_failed(err)
            raise
        submit_calls = type(tool_calls)(tool_calls=[c for c in tool_calls.tool_calls if c.name == "submit"])
        self._check_submit(submit_calls, break_reason)
        results, final_outputs = self._execute_tool_calls(submit_calls)
        return self._forced_result(history, pending, pred, submit_calls, results, final_outputs, break_reason)

    async def _aforced_submit(self, history: Any, pending: dict[str, Any], break_reason: str,
                              turn_index: int) -> Prediction:
        try:
            pred = await self.react.acall(history=history, tools=list(self.tools.values()), config=dict(FORCED),
                                          **pending)
            tool_calls = ensure_tool_call_ids(coerce_tool_calls(getattr(pred, "tool_calls", None)), turn_index)
        except Exception as err:
            self._forced_failed(err)
            raise
        submit_calls = type(tool_calls)(tool_calls=[c for c in tool_calls.tool_calls if c.name == "submit"])
        self._check_submit(submit_calls, break_reason)
        results, final_outputs = await self._aexecute_tool_calls(submit_calls)
        return self._forced_result(history, pending, pred, submit_calls, results, final_outputs, break_reason)

    @staticmethod
    def _forced_failed(err: Exception) -> None:
        if is_parse_error(err) or is_context_window_error(err):
            logger.warning("Forced submit failed: %s", format_error_for_lm(err, traceback_frames=5))

    @staticmethod
    def _check_submit(submit_calls: Any, break_reason: str) -> None:
        if not submit_calls.tool_calls:
            raise ValueError(f"ReActV2 failed to produce final outputs after {break_reason}: no submit call.")

    def _forced_result(self, history: Any, pending: dict[str, Any], pred: Any, submit_calls: Any, results: Any,
                       final_outputs: dict[str, Any] | None, break_reason: str) -> Prediction:
        if self._record_turn(history, pending, pred, submit_calls, results, final_outputs):
            return Prediction(**final_outputs, history=history, termination_reason="forced_submit")  # type: ignore[arg-type]
        errors = "\n".join(str(r.value) for r in results.tool_call_results if r.is_error)
        raise ValueError(f"ReActV2 failed to produce final outputs after {break_reason}: submit failed.\n{errors}")
