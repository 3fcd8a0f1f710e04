"""ReActV2 (experimental): native == DSPy 3.4.1 over generated agent runs, plus its reserved names and errors."""

from __future__ import annotations

import dataclasses
import json

import dspy
import pytest
from hypothesis import given

import dspex.native as native
from dspex.parity._agent_case import AgentCase, run_agent_case
from dspex.parity._agent_strategies import context_window_error
from dspex.parity._agent_tools import ParamSpec, ToolSpec
from dspex.parity._agent_v2_strategies import react_v2_cases
from dspex.parity._case import FieldSpec, LMSpec, SignatureSpec
from dspex.parity.scripted_lm import Raise

pytestmark = pytest.mark.parity

SIG = SignatureSpec((FieldSpec("question", "input"), FieldSpec("answer", "output")))
SEARCH = ToolSpec("search", (ParamSpec("query", "str"),), "Search the web.")
FAILING = ToolSpec("flaky", (ParamSpec("x", "int"),), None, behaviour="raise_nested", exc_src="ToolFailure('down')")


def turn(*calls, thought: str = "thinking") -> list[str]:
    payload = {"tool_calls": [{"name": n, "args": a} for n, a in calls]}
    return [f"[[ ## next_thought ## ]]\n{thought}\n\n[[ ## tool_calls ## ]]\n{json.dumps(payload)}\n\n[[ ## completed ## ]]"]


def native_turn(*calls, text: str = "") -> list[dict]:
    return [{"text": text, "tool_calls": [
        {"id": f"id{i}", "type": "function", "function": {"name": n, "arguments": json.dumps(a)}}
        for i, (n, a) in enumerate(calls)
    ]}]


def case(*script, tools=(SEARCH, FAILING), **kw) -> AgentCase:
    return AgentCase("react_v2", kw.pop("signature", SIG), tools, kw.pop("inputs", {"question": "Capital?"}),
                     LMSpec(tuple(script)), kind="hand-written", **kw)


def check(c: AgentCase):
    result = run_agent_case(c)
    assert result.ok, result.report()
    return result


@given(react_v2_cases())
def test_react_v2_matches_dspy(c):
    check(c)


def test_a_run_calls_several_tools_per_turn_and_submits():
    result = check(case(turn(("search", {"query": "a"}), ("flaky", {"x": 1}), ("nope", {})),
                        turn(("submit", {"answer": "Paris"}))))
    for side in (result.dspy, result.native):
        assert side.result.answer == "Paris" and side.result.termination_reason == "submit"
        first = side.result.history.messages[0]
        values = [r.value for r in first["tool_calls"].tool_call_results.tool_call_results]
        assert values[0] == {"tool": "search", "args": ["a"]}  # the generated tool echoes its arguments
        assert values[1].startswith("Execution error in flaky: \nTraceback") and values[2] == "Unknown tool: nope"


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_forced_submit_after_running_out(mode):
    tools = (dataclasses.replace(SEARCH, kind="async"), FAILING)
    check(case(turn(("search", {"query": "a"})), turn(("submit", {"answer": "x"})), tools=tools, max_iters=1, mode=mode))
    check(case(turn(("search", {"query": "a"})), turn(("search", {"query": "b"})), max_iters=1))    # no submit call
    check(case(turn(("search", {"query": "a"})), turn(("submit", {"wrong": 1})), max_iters=1))     # submit failed
    check(case(turn(), turn(("submit", {"answer": "x"}))))                                            # empty turn


def test_lm_errors():
    check(case(Raise(ValueError, ("refused",)), turn(("submit", {"answer": "x"}))))   # parse_error, then forced
    check(case(context_window_error(), turn(("submit", {"answer": "x"}))))
    check(case(context_window_error(), context_window_error()))                        # the forced submit fails too
    check(case(Raise(RuntimeError, ("down",)), turn(("submit", {"answer": "x"}))))    # not caught: crashes


@pytest.mark.parametrize("adapter", ["json", "chat_fc"])
def test_native_function_calling(adapter):
    check(case(native_turn(("search", {"query": "a"}), text='{"next_thought": "t"}'),
               native_turn(("submit", {"answer": "Paris"})), adapter=adapter, function_calling=True))
    check(case(native_turn(("search", {"query": "a"})), native_turn(("submit", {"answer": "P"})), max_iters=1,
               adapter=adapter, function_calling=True, reasoning=True))


def test_given_history_and_int_outputs():
    sig = SignatureSpec((FieldSpec("question", "input"), FieldSpec("total", "output", int)))
    history = {"messages": [{"question": "before?", "total": 3}]}
    check(case(turn(("submit", {"total": "7"})), turn(("submit", {"total": 7})), signature=sig, history=history,
               max_iters=1))


RESERVED = [("question, history -> answer", "reserved by ReActV2 for its internal"),
            ("question -> answer, termination_reason", "reserved by ReActV2 and attached")]


@pytest.mark.parametrize(("signature", "words"), RESERVED)
def test_reserved_names_are_refused_like_dspy(signature, words):
    errors = []
    for lib in (dspy, native):
        with pytest.raises(ValueError) as info:
            lib.ReActV2(signature, tools=[lambda: 1])
        errors.append(str(info.value))
    assert errors[0] == errors[1] and words in errors[0]

    def submit():
        """Mine."""

    for lib in (dspy, native):
        with pytest.raises(ValueError, match="`submit` is reserved by ReActV2"):
            lib.ReActV2("q -> a", tools=[submit])


def test_lm_per_call_is_not_passed_on():
    """DSPy's ReActV2 passes only the signature's inputs to its predictor: lm= is ignored (set it on the module)."""
    for lib in (dspy, native):
        module = lib.ReActV2("question -> answer", tools=[])
        with pytest.raises(ValueError):
            module(question="q", lm=lambda **kw: ["never called"])
    assert native.ReActV2.__doc__.startswith("Experimental:")
    assert [n for n, _ in native.ReActV2("q -> a", tools=[]).named_predictors()] == ["react"]


def test_history_holding_an_object_input_compares_without_addresses():
    """ReActV2's history keeps the first turn's inputs, so the result's repr shows each side's own copy of an
    input object (found by the gate at 1000 examples, seed 20261125)."""
    from dspex.parity._exotic import Opaque

    sig = SignatureSpec((FieldSpec("items", "input", list), FieldSpec("answer", "output")))
    check(case(turn(("submit", {"answer": "ok"})), signature=sig, inputs={"items": [Opaque()]}))


def test_a_lone_surrogate_key_renders_like_dspy():
    """json_repair reads an escaped surrogate pair as two lone surrogates; pydantic cannot dump a dict key holding
    one, so DSPy renders those tool calls with str() (found by the gate, seed 7)."""
    from typing import Any

    sig = SignatureSpec((FieldSpec("a", "input"), FieldSpec("\U00010000", "output", Any)), form="class")
    broken = '{"tool_calls": [{"name": "submit", "args": {"\\ud800\\udc00": null}}]'  # no closing brace
    raw = f"[[ ## next_thought ## ]]\na\n\n[[ ## tool_calls ## ]]\n{broken}\n\n[[ ## completed ## ]]"
    result = check(case([raw], turn(("search", {"query": "x"})), [raw], signature=sig, inputs={"a": ""}))
    rendered = [m["content"] for call in result.native.calls for m in call.messages if m["role"] == "assistant"]
    assert any("tool_calls=[ToolCall(id='call_0_0'" in text for text in rendered)
