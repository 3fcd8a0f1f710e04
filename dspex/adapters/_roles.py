"""The agent-aware adapter path (DSPy 3.4.1's ``Adapter._call_preprocess`` / ``format`` / ``_call_postprocess``
for signatures with History, Tool, ToolCalls, Reasoning or Citations fields).

A signature whose fields play none of these roles never comes here (``Plan.roles`` is None). For the others:
native function calling (tools sent as the ``tools`` request kwarg, the tool fields taken out of the prompt,
``tool_calls`` read back from the response), native reasoning (``reasoning_effort``), native citations (an
Anthropic model is not asked for the field; DSPy's ``Citations.parse_lm_response`` reads the response's
``citations``, duck-typed on the class the signature names), and conversation history rendered as earlier
user/assistant (and tool) messages.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any, Mapping

from .. import hooks
from ..errors import AdapterParseError, lm_failed
from ._lm_call import acall_lm
from ..types import is_citations, is_history, is_reasoning, is_tool, is_tool_calls, is_tool_list  # stdlib only

__all__ = ["Roles", "roles_of", "without", "run", "arun"]

_EMPTY = "The LM returned an empty or null response."
_TOOL_KEYS = ("tools", "tool_choice", "parallel_tool_calls")


@dataclass(frozen=True, slots=True)
class Roles:
    history: str | None        # the first input typed History
    tool_input: str | None     # the first input typed Tool or list[Tool]
    tool_output: str | None    # the first output typed ToolCalls
    reasoning: tuple[tuple[str, Any], ...]   # outputs typed Reasoning or Citations (DSPy's native response types)


def roles_of(signature: Any) -> Roles | None:
    ins, outs = signature._input_fields, signature._output_fields
    history = next((n for n, f in ins.items() if is_history(f.annotation)), None)
    tool_input = next((n for n, f in ins.items() if is_tool_list(f.annotation) or is_tool(f.annotation)), None)
    tool_output = next((n for n, f in outs.items() if is_tool_calls(f.annotation)), None)
    reasoning = tuple((n, f.annotation) for n, f in outs.items()
                      if is_reasoning(f.annotation) or is_citations(f.annotation))
    if history is None and tool_input is None and tool_output is None and not reasoning:
        return None
    return Roles(history, tool_input, tool_output, reasoning)


_derived: "weakref.WeakKeyDictionary[Any, dict[tuple[str, ...], Any]]" = weakref.WeakKeyDictionary()


def without(signature: Any, *names: str) -> Any:
    """``signature.delete(name)`` for each name, remembered per signature (a derived signature keeps its plan)."""
    cache = _derived.get(signature)
    if cache is None:
        cache = _derived[signature] = {}
    derived = cache.get(names)
    if derived is None:
        derived = signature
        for name in names:
            derived = derived.delete(name)
        cache[names] = derived
    return derived


# --- before the call ------------------------------------------------------------------------------------------
def _adapt_reasoning(signature: Any, name: str, lm: Any, lm_kwargs: dict[str, Any]) -> Any:
    """DSPy's ``Reasoning.adapt_to_native_lm_feature``: with an LM that reasons natively, ask for it instead."""
    defaults = getattr(lm, "kwargs", None) or {}
    if "reasoning_effort" in lm_kwargs:
        effort = lm_kwargs["reasoning_effort"]
    elif "reasoning_effort" in defaults:
        effort = defaults["reasoning_effort"]
    else:
        effort = "low"
    if effort is None or not getattr(lm, "supports_reasoning", False):
        return signature
    if "gpt-5" in lm.model and lm.model_type == "chat":  # no reasoning content over chat completions (DSPy's note)
        return signature
    lm_kwargs["reasoning_effort"] = effort
    return without(signature, name)


def preprocess(adapter: Any, lm: Any, lm_kwargs: dict[str, Any], signature: Any, inputs: Mapping[str, Any],
               roles: Roles) -> Any:
    """The signature actually rendered, with ``lm_kwargs`` adjusted in place (tools, reasoning effort)."""
    if not adapter.use_native_function_calling:
        for key in _TOOL_KEYS:
            lm_kwargs.pop(key, None)
    else:
        tin, tout = roles.tool_input, roles.tool_output
        if tout and tin is None:
            raise ValueError(
                f"You provided an output field {tout} to receive the tool calls information, "
                "but did not provide any tools as the input. Please provide a list of tools as the input by adding an "
                "input field with type `list[dspy.Tool]`."
            )
        if tout and getattr(lm, "supports_function_calling", False):
            tools = inputs[tin]  # type: ignore[index]
            tools = tools if isinstance(tools, list) else [tools]
            lm_kwargs["tools"] = [tool.format_as_litellm_function_call() for tool in tools]
            if adapter.parallel_tool_calls is not None and lm_kwargs.get("parallel_tool_calls") is None:
                lm_kwargs["parallel_tool_calls"] = adapter.parallel_tool_calls
            signature = without(signature, tout, tin)  # type: ignore[arg-type]
        elif tout:
            for key in _TOOL_KEYS:
                lm_kwargs.pop(key, None)
    for name, field in dict(signature._output_fields).items():
        if is_reasoning(field.annotation):
            signature = _adapt_reasoning(signature, name, lm, lm_kwargs)
        elif is_citations(field.annotation) and str(getattr(lm, "model", "")).startswith("anthropic/"):
            signature = without(signature, name)   # Anthropic returns citations natively: not asked in the prompt
    return signature


def prepare(adapter: Any, lm: Any, lm_kwargs: dict[str, Any], signature: Any, demos: list[Any],
            inputs: Mapping[str, Any], roles: Roles) -> tuple[Any, list[dict[str, Any]]]:
    adapter._prepare_response_format(lm, lm_kwargs, signature)
    processed = preprocess(adapter, lm, lm_kwargs, signature, inputs, roles)
    bridge = hooks.bridge  # DSPy loaded: its adapter callbacks see the formatting and parsing (see dspex.hooks)
    messages = adapter.format(processed, demos, inputs) if bridge is None else bridge.format(adapter, processed,
                                                                                              demos, inputs)
    if lm_kwargs.get("parallel_tool_calls") is not None:
        lm_kwargs.setdefault("tool_choice", "auto")
    return processed, messages


# --- after the call -------------------------------------------------------------------------------------------
_helpers: dict[str, Any] = {}


def _fill_defaults() -> Any:
    """``_plan.fill_defaults``, imported once (``_plan`` imports this module)."""
    fill = _helpers.get("fill_defaults")
    if fill is None:
        from ._plan import fill_defaults as fill

        _helpers["fill_defaults"] = fill
    return fill


def postprocess(adapter: Any, processed: Any, original: Any, outputs: Any, roles: Roles) -> list[dict[str, Any]]:
    """DSPy's ``_call_postprocess``: parse each completion, take native tool calls and reasoning from the response."""
    fill_defaults = _fill_defaults()
    plan = adapter.plan(original)
    tout = roles.tool_output
    bridge = hooks.bridge
    parse = adapter.parse if bridge is None else (lambda sig, text: bridge.parse(adapter, sig, text))
    values = []
    for output in outputs:
        logprobs = tool_calls = None
        text = output
        if isinstance(output, dict):
            text = output.get("text")
            logprobs = output.get("logprobs")
            tool_calls = output.get("tool_calls")
        if text and not (tool_calls and tout):
            value = parse(processed, text)
        elif tool_calls and tout:
            try:
                value = parse(processed, text) if text and processed._output_fields else {}
            except AdapterParseError:
                value = {}
        else:
            raise AdapterParseError(adapter_name=type(adapter).__name__, signature=original, lm_response=str(output),
                                    message=_EMPTY)
        value = fill_defaults(plan, value)
        for name in plan.output_names:
            value.setdefault(name, None)
        if tool_calls and tout:
            from ..types import provider_call_to_dict

            calls = [provider_call_to_dict(call) for call in tool_calls]
            value[tout] = original._output_fields[tout].annotation.from_dict_list(calls)
        for name, cls in roles.reasoning:
            parsed = cls.parse_lm_response(output)
            if parsed is not None:
                value[name] = parsed
        if logprobs:
            value["logprobs"] = logprobs
        values.append(value)
    return values


def run(adapter: Any, lm: Any, lm_kwargs: dict[str, Any], signature: Any, demos: list[Any],
        inputs: Mapping[str, Any], roles: Roles) -> list[dict[str, Any]]:
    processed, messages = prepare(adapter, lm, lm_kwargs, signature, demos, inputs, roles)
    bridge = hooks.bridge
    try:
        outputs = lm(messages=messages, **lm_kwargs) if bridge is None else bridge.call_lm(lm, messages, lm_kwargs)
    except Exception as exc:
        lm_failed(exc)
        raise
    return postprocess(adapter, processed, signature, outputs, roles)


async def arun(adapter: Any, lm: Any, lm_kwargs: dict[str, Any], signature: Any, demos: list[Any],
               inputs: Mapping[str, Any], roles: Roles) -> list[dict[str, Any]]:
    processed, messages = prepare(adapter, lm, lm_kwargs, signature, demos, inputs, roles)
    return postprocess(adapter, processed, signature, await acall_lm(lm, messages, lm_kwargs), roles)
