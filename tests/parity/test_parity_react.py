"""ReAct: native == DSPy 3.4.1 over generated agent runs, plus the paths a generator reaches only by luck."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given

from dspex.parity._agent_case import AgentCase, run_agent_case
from dspex.parity._agent_strategies import context_window_error, dual_turn, react_cases
from dspex.parity._agent_tools import ParamSpec, ToolSpec
from dspex.parity._case import FieldSpec, LMSpec, SignatureSpec
from dspex.parity.scripted_lm import Raise

pytestmark = pytest.mark.parity

SIG = SignatureSpec((FieldSpec("question", "input"), FieldSpec("answer", "output")))
SEARCH = ToolSpec("search", (ParamSpec("query", "str"), ParamSpec("limit", "int", "3")), "Search the web.")
FAILING = ToolSpec("flaky", (ParamSpec("x", "int"),), None, behaviour="raise_nested", exc_src="ToolFailure('down')")
EXTRACT = ["[[ ## reasoning ## ]]\nDone.\n\n[[ ## answer ## ]]\nParis\n\n[[ ## completed ## ]]"]


def turn(name: str, args: str = "{}", thought: str = "thinking") -> list[str]:
    return [f"[[ ## next_thought ## ]]\n{thought}\n\n[[ ## next_tool_name ## ]]\n{name}\n\n"
            f"[[ ## next_tool_args ## ]]\n{args}\n\n[[ ## completed ## ]]"]


def case(*script, tools=(SEARCH, FAILING), **kw) -> AgentCase:
    return AgentCase("react", kw.pop("signature", SIG), tools, {"question": "Capital of France?"},
                     LMSpec(tuple(script)), kind="hand-written", **kw)


def check(c: AgentCase):
    result = run_agent_case(c)
    assert result.ok, result.report()
    return result


@given(react_cases())
def test_react_matches_dspy(c):
    check(c)


def test_a_run_really_calls_tools_on_both_sides():
    result = check(case(turn("search", '{"query": "paris"}'), turn("flaky", '{"x": 1}'), turn("finish"), EXTRACT))
    for side in (result.dspy, result.native):
        trajectory = side.result.trajectory
        assert list(trajectory)[:4] == ["thought_0", "tool_name_0", "tool_args_0", "observation_0"]
        assert trajectory["observation_2"] == "Completed." and side.result.answer == "Paris"
        failure = trajectory["observation_1"]
        assert failure.startswith("Execution error in flaky: \nTraceback (most recent call last):\n")
        assert 'in _fail_flaky\n    raise ToolFailure(\'down\')' in failure and failure.endswith("ToolFailure: down")
    assert len(result.dspy.calls) == len(result.native.calls) == 4


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_async_tools(mode):
    tools = (dataclasses.replace(SEARCH, kind="async"), dataclasses.replace(FAILING, kind="async"))
    check(case(turn("search", '{"query": "x"}'), turn("flaky", '{"x": 2}'), turn("finish"), EXTRACT,
               tools=tools, mode=mode))


def test_context_window_truncates_then_gives_up():
    cw = context_window_error()
    check(case(turn("search", '{"query": "a"}'), turn("search", '{"query": "b"}'), cw, cw, turn("finish"), EXTRACT))
    check(case(turn("search", '{"query": "a"}'), cw, cw, cw, EXTRACT))       # one call left: cannot truncate
    four = [turn("search", f'{{"query": "{q}"}}') for q in "abcd"]
    result = check(case(*four, cw, cw, cw, EXTRACT))                          # three truncations, then it gives up
    assert "even after 3 attempts" in result.dspy.logs[-1] and len(result.dspy.result.trajectory) == 4
    check(case(cw, EXTRACT))                                                    # nothing to truncate
    check(case(turn("search", '{"query": "a"}'), turn("finish"), cw, cw, cw))   # extract itself cannot fit


def test_lm_errors_end_or_crash_the_loop():
    check(case(Raise(ValueError, ("refused",)), EXTRACT))   # a ValueError ends the trajectory with a warning
    check(case(Raise(RuntimeError, ("down",)), EXTRACT))    # anything else crashes the call


def test_unknown_tool_falls_back_to_json_then_crashes():
    check(case(turn("no_such_tool"), turn("finish"), EXTRACT))
    check(case(turn("no_such_tool"), [dual_turn("t", "finish", {})], EXTRACT))
    # the fallback call raises: the warning quotes the parse failure's traceback (pydantic's frame included)
    result = check(case(turn("no_such_tool"), Raise(ValueError, ("refused",)), EXTRACT))
    assert 'pydantic/type_adapter.py", line' in result.native.logs[0]


def test_a_list_of_ints_observation_crashes_like_dspy():
    ints = ToolSpec("nums", (), None, behaviour="value", value_src="[1, 2]")
    check(case(turn("nums"), turn("finish"), EXTRACT, tools=(ints,)))


def test_tool_named_finish_and_duplicate_names():
    mine = ToolSpec("finish", (ParamSpec("x", "int"),), "Mine.")
    check(case(turn("finish", '{"x": 1}'), EXTRACT, tools=(mine, SEARCH, SEARCH)))


def test_dspy_and_native_tool_objects():
    tools = (dataclasses.replace(SEARCH, kind="dspy_tool", tool_name="web", tool_desc="Web.\nSearch."),
             dataclasses.replace(FAILING, kind="native_tool", arg_desc=(("x", "An int."),)))
    check(case(turn("web", '{"query": "q"}'), turn("flaky", '{"x": "nope"}'), turn("finish"), EXTRACT, tools=tools))


def test_out_of_iterations_and_per_call_max_iters():
    script = (turn("search", '{"query": "a"}'), turn("search", '{"query": "b"}'), EXTRACT)
    check(case(*script, max_iters=2))
    check(case(*script, call_max_iters=2))
    check(case(EXTRACT, call_max_iters=0))


def test_several_completions():
    two = [turn("search", '{"query": "a"}')[0], turn("finish")[0]]
    check(case(two, [turn("finish")[0]] * 2, EXTRACT * 2, config={"n": 2}))


def test_json_adapter():
    import json

    turns = [[json.dumps({"next_thought": "t", "next_tool_name": n, "next_tool_args": a})]
             for n, a in (("search", {"query": "q"}), ("finish", {}))]
    check(case(*turns, ['{"reasoning": "r", "answer": "Paris"}'], adapter="json"))
