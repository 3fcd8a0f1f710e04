"""Shadow pieces for agents: the control's tool results served to the candidate (no tool runs twice), and the
first step at which the two trajectories part. Control: real DSPy 3.4.1 agents; candidate: dspex.native."""

from __future__ import annotations

import asyncio
import json

import dspy
import pytest

import dspex.native as native
from dspex.parity.scripted_lm import Raise, ScriptedLM
from dspex.shadow import ToolReplayError, first_divergence, replaying, tape_from_error, tape_from_result

SENT: list[str] = []


def send_email(to: str, body: str) -> str:
    """Send an email (a side effect: it must happen once per request)."""
    SENT.append(to)
    return f"sent to {to}"


def flaky(x: int) -> int:
    SENT.append(f"flaky {x}")
    raise RuntimeError("mail server down")


async def asend(to: str) -> str:
    SENT.append(f"async {to}")
    return f"queued for {to}"


def turn(name, args, thought="t"):
    return [f"[[ ## next_thought ## ]]\n{thought}\n\n[[ ## next_tool_name ## ]]\n{name}\n\n"
            f"[[ ## next_tool_args ## ]]\n{json.dumps(args)}\n\n[[ ## completed ## ]]"]


EXTRACT = ["[[ ## reasoning ## ]]\nr\n\n[[ ## answer ## ]]\ndone\n\n[[ ## completed ## ]]"]
SCRIPT = [turn("send_email", {"to": "a@x", "body": "hi"}), turn("flaky", {"x": 1}), turn("finish", {}), EXTRACT]


def v2_turn(*calls):
    payload = json.dumps({"tool_calls": [{"name": n, "args": a} for n, a in calls]})
    return [f"[[ ## next_thought ## ]]\nplan\n\n[[ ## tool_calls ## ]]\n{payload}\n\n[[ ## completed ## ]]"]


@pytest.fixture(autouse=True)
def _clean():
    SENT.clear()


def control_and_candidate(script, candidate_script=None, tools=(send_email, flaky)):
    control = dspy.ReAct("question -> answer", tools=list(tools))
    result = control(question="q", lm=ScriptedLM(script))
    tape = tape_from_result("react", result)
    candidate = replaying(native.ReAct("question -> answer", tools=list(tools)), tape)
    return result, tape, candidate(question="q", lm=ScriptedLM(candidate_script or script))


def test_react_candidate_is_served_the_controls_results():
    control, tape, candidate = control_and_candidate(SCRIPT)
    assert SENT == ["a@x", "flaky 1"]                    # the control's calls, once each; the candidate's: none
    assert [s.name for s in tape.steps] == ["send_email", "flaky"] and tape.complete
    assert candidate.trajectory == control.trajectory     # the control's error text too, DSPy's frames and all
    assert tape.problems == [] and tape.unused == []
    assert first_divergence("react", control, candidate) is None


def test_a_call_the_control_did_not_make_is_never_made():
    other = [turn("send_email", {"to": "b@x", "body": "hi"})] + SCRIPT[1:]
    control, tape, candidate = control_and_candidate(SCRIPT, other)
    assert SENT == ["a@x", "flaky 1"]
    assert "candidate called send_email({'to': 'b@x', 'body': 'hi'})" in tape.problems[0]
    assert candidate.trajectory["observation_0"].startswith("Execution error in send_email:")
    assert "ToolReplayError" in candidate.trajectory["observation_0"]
    divergence = first_divergence("react", control, candidate)
    assert divergence["step"] == 0 and divergence["part"] == "tool_args" and "b@x" in divergence["candidate"]


def test_a_control_that_raised_still_gives_its_calls():
    script = [turn("send_email", {"to": "a@x", "body": "hi"}), Raise(RuntimeError, ("upstream 500",))]
    control = dspy.ReAct("question -> answer", tools=[send_email])
    with pytest.raises(RuntimeError) as info:
        control(question="q", lm=ScriptedLM(script))
    tape = tape_from_error("react", info.value)
    assert not tape.complete and [(s.name, s.args) for s in tape.steps] == [("send_email", {"to": "a@x", "body": "hi"})]
    candidate = replaying(native.ReAct("question -> answer", tools=[send_email]), tape)
    with pytest.raises(RuntimeError, match="upstream 500"):
        candidate(question="q", lm=ScriptedLM(script))
    assert SENT == ["a@x"] and tape.problems == []


def test_react_v2_async_several_calls_per_turn():
    script = [v2_turn(("asend", {"to": "a@x"}), ("flaky", {"x": 2}), ("ghost", {})),
              v2_turn(("submit", {"answer": "ok"}))]
    control = dspy.ReActV2("question -> answer", tools=[asend, flaky])
    control.set_lm(ScriptedLM(script))
    result = asyncio.run(control.acall(question="q"))
    tape = tape_from_result("react_v2", result)
    assert [(s.name, s.outcome) for s in tape.steps] == [("asend", "result"), ("flaky", "error")]
    candidate = replaying(native.ReActV2("question -> answer", tools=[asend, flaky]), tape)
    candidate.set_lm(ScriptedLM(script))
    mine = asyncio.run(candidate.acall(question="q"))
    assert SENT == ["async a@x", "flaky 2"]
    assert first_divergence("react_v2", result, mine) is None and mine.answer == "ok"
    results = mine.history.messages[0]["tool_calls"].tool_call_results.tool_call_results
    assert results[1].is_error and results[1].value == result.history.messages[0]["tool_calls"].tool_call_results \
        .tool_call_results[1].value  # the control's own error text, verbatim


def test_first_divergence_names_the_part():
    control = dspy.Prediction(trajectory={"thought_0": "a", "tool_name_0": "s", "tool_args_0": {}, "observation_0": 1})
    same = native.Prediction(trajectory=dict(control.trajectory))
    other = native.Prediction(trajectory={**control.trajectory, "observation_0": 2})
    assert first_divergence("react", control, same) is None
    assert first_divergence("react", control, other) == {"step": 0, "part": "observation", "control": "1",
                                                          "candidate": "2"}
    longer = native.Prediction(trajectory={**control.trajectory, "thought_1": "more"})
    assert first_divergence("react", control, longer)["step"] == 1


def test_replay_error_is_a_dspex_error():
    from dspex.errors import DspexError
    from dspex.shadow import ToolTape

    with pytest.raises(ToolReplayError, match="no further call"):
        ToolTape("react").serve("send_email", {})
    assert issubclass(ToolReplayError, DspexError)
