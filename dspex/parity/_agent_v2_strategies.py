"""Hypothesis strategies for ReActV2 runs: several tool calls per turn in every shape DSPy reads (its own JSON,
a bare list, a single call, provider ``function``/``arguments`` objects), ``submit`` with right, wrong or missing
outputs, empty turns, unknown tools, native function calling (``tool_calls`` in the response, ids or none,
malformed argument JSON), native reasoning, given histories, running out of turns and the forced ``submit``.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

from ._agent_case import AgentCase
from ._agent_strategies import (
    agent_signatures, context_window_error, safe_texts, tool_args, tool_name_of, tool_sets,
)
from ._agent_tools import ToolSpec
from ._case import LMSpec, SignatureSpec
from ._completions import jsonable
from ._type_strategies import values_of
from .scripted_lm import Raise
from .strategies import effective_fields, inputs_for

__all__ = ["react_v2_cases", "v2_calls", "v2_turn"]

_RESERVED = {"history", "tools", "termination_reason", "submit"}


def _outputs(spec: SignatureSpec) -> list[tuple[str, Any]]:
    return [(f.name, str if f.annotation is None else f.annotation) for f in effective_fields(spec) if f.kind == "output"]


@st.composite
def submit_args(draw: Any, spec: SignatureSpec) -> dict[str, Any]:
    """``submit``'s arguments: the outputs (JSON values of their types), sometimes one missing or mistyped."""
    args = {name: jsonable(draw(values_of(tp))) for name, tp in _outputs(spec)}
    flaw = draw(st.sampled_from(["none"] * 6 + ["missing", "wrong", "extra"]))
    if flaw == "missing" and args:
        args.pop(draw(st.sampled_from(sorted(args))))
    elif flaw == "wrong" and args:
        args[draw(st.sampled_from(sorted(args)))] = draw(st.sampled_from([None, 3.5, "x", [1], {"k": 1}]))
    elif flaw == "extra":
        args["surprise"] = 1
    return args


@st.composite
def v2_calls(draw: Any, tools: tuple[ToolSpec, ...], spec: SignatureSpec, submit: bool) -> list[tuple[str, dict[str, Any]]]:
    """The (name, args) calls of one turn: tools, an unknown name, and ``submit`` last when ``submit``."""
    calls = []
    for _ in range(draw(st.integers(0 if submit else 1, 3))):
        kind = draw(st.sampled_from(["tool"] * 8 + ["unknown"]))
        if kind == "unknown":
            calls.append(("no_such_tool", {}))
        else:
            tool = draw(st.sampled_from(list(tools)))
            calls.append((tool_name_of(tool), draw(tool_args(tool))))
    if submit:
        calls.append(("submit", draw(submit_args(spec))))
    return calls


def _call_shape(draw: Any, name: str, args: dict[str, Any]) -> dict[str, Any]:
    shape = draw(st.sampled_from(["args"] * 5 + ["arguments", "arguments_text", "function"]))
    if shape == "arguments":
        return {"name": name, "arguments": args}
    if shape == "arguments_text":
        return {"name": name, "arguments": json.dumps(args)}
    if shape == "function":
        return {"function": {"name": name, "arguments": json.dumps(args)}}
    return {"name": name, "args": args}


@st.composite
def v2_turn(draw: Any, calls: list[tuple[str, dict[str, Any]]], style: str, reasoning_key: bool) -> Any:
    """One completion: chat sections or a JSON object (text tool calls), or a provider response dict with native
    ``tool_calls`` (then the text, if any, holds the other outputs)."""
    thought = draw(safe_texts)
    if style == "native":
        provider = []
        for index, (name, args) in enumerate(calls):
            arguments = json.dumps(args) if draw(st.integers(0, 9)) else json.dumps(args)[:-1]  # malformed now and then
            call: dict[str, Any] = {"type": "function", "function": {"name": name, "arguments": arguments}}
            if draw(st.integers(0, 3)):
                call["id"] = f"provider_{index}"
            provider.append(call)
        text = draw(st.sampled_from(["", json.dumps({"next_thought": thought}), f"[[ ## next_thought ## ]]\n{thought}"]))
        entry: dict[str, Any] = {"text": text, "tool_calls": provider}
        if reasoning_key:
            entry["reasoning_content"] = draw(safe_texts)
        return entry
    shapes = [_call_shape(draw, name, args) for name, args in calls]
    payload: Any = draw(st.sampled_from(["object"] * 6 + ["list", "single"]))
    if payload == "list" or (payload == "single" and len(shapes) != 1):
        value: Any = shapes
    elif payload == "single":
        value = shapes[0]
    else:
        value = {"tool_calls": shapes}
    if style == "json":
        return json.dumps({"next_thought": thought, "tool_calls": value})
    body = json.dumps(value) if draw(st.integers(0, 14)) else json.dumps(value)[:-1]
    return f"[[ ## next_thought ## ]]\n{thought}\n\n[[ ## tool_calls ## ]]\n{body}\n\n[[ ## completed ## ]]"


@st.composite
def v2_script(draw: Any, tools: tuple[ToolSpec, ...], spec: SignatureSpec, style: str, reasoning: bool,
              n_turns: int, ends: str) -> list[Any]:
    entries: list[Any] = []
    for index in range(n_turns + 1):
        last = index == n_turns
        kind = draw(st.sampled_from(["turn"] * 16 + ["empty", "value_error", "context", "runtime", "garbage"]))
        if kind == "value_error":
            entries.append(Raise(ValueError, ("model refused «x»",)))
        elif kind == "context":
            entries.append(context_window_error())
        elif kind == "runtime":
            entries.append(Raise(RuntimeError, ("upstream 500",)))
        elif kind == "garbage":
            entries.append([draw(st.sampled_from(["no sections at all", "", "[[ ## tool_calls ## ]]\nnull"]))])
        else:
            calls = [] if kind == "empty" else draw(v2_calls(tools, spec, submit=last and ends == "submit"))
            entries.append([draw(v2_turn(calls, style, reasoning and draw(st.booleans())))])
    # the forced submit (when the loop ran out or stopped): submit, nothing, or another tool
    forced = draw(v2_calls(tools, spec, submit=draw(st.integers(0, 4)) > 0))
    entries.append([draw(v2_turn(forced, style, False))])
    return entries


def _samples(draw: Any, entries: list[Any]) -> tuple[Any, ...]:
    """Now and then a second completion in an answer (what an LM asked for several samples returns)."""
    return tuple(e + e if isinstance(e, list) and draw(st.integers(0, 4)) == 0 else e for e in entries)


@st.composite
def react_v2_cases(draw: Any) -> AgentCase:
    spec = draw(agent_signatures())
    if _RESERVED & {f.name for f in spec.fields} and draw(st.integers(0, 3)):
        spec = draw(agent_signatures())  # mostly usable names; the reserved-name errors stay possible
    tools = draw(tool_sets())
    adapter = draw(st.sampled_from(["chat"] * 4 + ["json", "json", "chat_fc", "chat_no_fallback", "xml"]))
    fc = adapter in ("json", "chat_fc") and draw(st.booleans())
    style = "native" if fc and draw(st.integers(0, 4)) else ("json" if adapter == "json" else "chat")
    reasoning = draw(st.integers(0, 5)) == 0
    n_turns = draw(st.integers(0, 4))
    ends = draw(st.sampled_from(["submit"] * 4 + ["out_of_iterations", "open"]))
    limit = draw(st.sampled_from([None, None, 1, 2, 3, 5]))
    if ends == "submit" and limit is not None:
        limit = max(limit, n_turns + 1)
    elif ends == "out_of_iterations":
        limit = n_turns + 1
    via_call = limit is not None and draw(st.booleans())
    history = None
    if draw(st.integers(0, 4)) == 0:
        history = {"messages": draw(st.lists(st.fixed_dictionaries({"question": safe_texts}, optional={
            "answer": safe_texts, "next_thought": safe_texts}), max_size=2))}
    return AgentCase(
        module="react_v2", signature=spec, tools=tools, inputs=draw(inputs_for(spec, odd=False)),
        # ReActV2 passes no config on: several samples can only come from the LM's own kwargs (each answer then
        # carries one or two completions; DSPy reads the first)
        lm=LMSpec(_samples(draw, draw(v2_script(tools, spec, style, reasoning, n_turns, ends))), kwargs=draw(
            st.sampled_from([None] * 5 + [{"n": 2, "temperature": None, "max_tokens": None}]))),
        max_iters=None if via_call else limit, call_max_iters=limit if via_call else None,
        adapter=adapter, mode=draw(st.sampled_from(["sync", "sync", "async"])),  # type: ignore[arg-type]
        function_calling=fc, reasoning=reasoning, history=history, kind=f"react_v2, ends: {ends}, {style}",
    )
