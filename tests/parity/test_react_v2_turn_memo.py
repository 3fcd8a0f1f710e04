"""Native ReActV2 renders each earlier turn once per run (``dspex.adapters.remember_turns``), and what it sends is
still DSPy 3.4.1's request on every turn: also when the LM edits the messages it is handed, when the caller brings
a history of their own, and when that history is passed again to a second run after the caller edited a turn."""

from __future__ import annotations

import copy
import json
from typing import Any

import dspy
import pytest

import dspex.native as native
from dspex.adapters import _history

pytestmark = pytest.mark.parity


def _turn(name: str, args: dict[str, Any]) -> str:
    calls = json.dumps({"tool_calls": [{"name": name, "args": args}]})
    return f"[[ ## next_thought ## ]]\nuse {name}\n\n[[ ## tool_calls ## ]]\n{calls}\n\n[[ ## completed ## ]]"


SCRIPT = [_turn("add", {"x": 1, "y": 2}), _turn("echo", {"text": "héllo"}), _turn("add", {"x": 3, "y": 4}),
          _turn("echo", {"text": "[[ ## answer ## ]]"}), _turn("submit", {"answer": "done"})]


def add(x: int, y: int) -> int:
    """Add two numbers."""
    return x + y


def echo(text: str) -> str:
    """Say it back."""
    return text


class EditingLM(dspy.BaseLM):
    """Answers from a script and records each request, then edits the messages it was handed in place (as a
    client that annotates or trims messages might): a later turn must not see those edits."""

    def __init__(self, script: list[str]) -> None:
        super().__init__(model="scripted/editing", cache=False)
        self.script, self.requests = list(script), []

    def __call__(self, prompt: Any = None, messages: Any = None, **kwargs: Any) -> list[str]:  # type: ignore[override]
        self.requests.append(copy.deepcopy(messages))
        for message in messages:
            message["content"] = str(message["content"]) + " (seen)"
            message["extra"] = True
        return [self.script.pop(0)]


def _run(lib: Any, script: list[str], **inputs: Any) -> tuple[EditingLM, Any]:
    lm = EditingLM(script)
    agent = lib.ReActV2("question -> answer", tools=[add, echo], max_iters=6)
    agent.set_lm(lm)
    return lm, agent(**inputs)


def _messages(history: Any) -> list[dict[str, Any]]:
    return [{k: (v.model_dump() if hasattr(v, "model_dump") else v) for k, v in m.items()} for m in history.messages]


def test_requests_match_dspy_when_the_lm_edits_what_it_is_sent() -> None:
    d_lm, d_out = _run(dspy, SCRIPT, question="What now?")
    n_lm, n_out = _run(native, SCRIPT, question="What now?")
    assert len(n_lm.requests) == len(d_lm.requests) == 5
    assert n_lm.requests == d_lm.requests
    assert n_out.answer == d_out.answer == "done"
    assert _messages(n_out.history) == _messages(d_out.history)


def test_a_callers_history_is_rendered_as_dspy_renders_it_and_edits_between_runs_are_seen() -> None:
    earlier = [{"question": "Before?", "next_thought": "old thought"}, {"next_thought": "another"}]
    d_hist, n_hist = dspy.History(messages=copy.deepcopy(earlier)), native.History(messages=copy.deepcopy(earlier))
    d_lm, _ = _run(dspy, SCRIPT[3:], question="Now?", history=d_hist)
    n_lm, _ = _run(native, SCRIPT[3:], question="Now?", history=n_hist)
    assert n_lm.requests == d_lm.requests
    # the caller edits a turn in place and runs again with the same history: the edit is in the next request
    for hist in (d_hist, n_hist):
        hist.messages[0]["next_thought"] = "edited thought"
    d_lm, _ = _run(dspy, SCRIPT[4:], question="Again?", history=d_hist)
    n_lm, _ = _run(native, SCRIPT[4:], question="Again?", history=n_hist)
    assert "edited thought" in json.dumps(n_lm.requests[0])
    assert n_lm.requests == d_lm.requests


def test_each_earlier_turn_is_rendered_once_per_run(monkeypatch: pytest.MonkeyPatch) -> None:
    rendered: list[int] = []
    real = _history._render_turn

    def counting(adapter: Any, signature: Any, input_names: Any, message: Any, out: list) -> None:
        rendered.append(id(message))
        real(adapter, signature, input_names, message, out)

    monkeypatch.setattr(_history, "_render_turn", counting)
    _run(native, SCRIPT, question="What now?")
    # five LM calls see 0, 1, 2, 3 and 4 earlier turns: ten renders without the memo, four with it
    assert len(rendered) == 4 and len(set(rendered)) == 4
    rendered.clear()
    lm = EditingLM(SCRIPT)
    predict = native.Predict("question, history: dspy.History -> answer")
    history = native.History(messages=[{"question": "a", "answer": "b"}])
    lm.script = ["[[ ## answer ## ]]\nx\n\n[[ ## completed ## ]]"] * 2
    for _ in range(2):   # outside an agent run nothing is remembered: a caller's history is rendered each call
        predict(question="q", history=history, lm=lm)
    assert len(rendered) == 2
