"""Held-out agent runs: ReAct and ReActV2 through real DSPy 3.4.1 and through dspex.native, with this folder's
own generator (tool calls right and wrong, failing and unknown tools, async tools, running out of iterations,
context-window errors, malformed JSON): LM requests, outputs, errors and warnings identical, tracebacks aside."""

from __future__ import annotations

import json
from typing import Any

from agent_diff_support import ARGS, CALLS, TOOLS, compare
from diff_support import Boom, Case, examples
from dspy.utils.exceptions import ContextWindowExceededError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

SETTINGS = dict(deadline=None, suppress_health_check=list(HealthCheck), max_examples=examples(40, 300))
SIGNATURES = ["question -> answer", "question: str, city: str -> answer: str, confidence: float", "q -> n: int"]


def _react_turn(name: str, args: Any, broken: bool) -> str:
    text = json.dumps(args)
    return ("[[ ## next_thought ## ]]\nLet me think.\n\n[[ ## next_tool_name ## ]]\n" + name +
            "\n\n[[ ## next_tool_args ## ]]\n" + (text[:-1] if broken else text) + "\n\n[[ ## completed ## ]]")


def _v2_turn(calls: list[tuple[str, Any]], broken: bool) -> str:
    text = json.dumps({"tool_calls": [{"name": n, "args": a} for n, a in calls]})
    return ("[[ ## next_thought ## ]]\nPlanning.\n\n[[ ## tool_calls ## ]]\n" + (text[:-1] if broken else text) +
            "\n\n[[ ## completed ## ]]")


def _outputs(signature: str) -> dict[str, Any]:
    names = [part.split(":")[0].strip() for part in signature.split("->")[1].split(",")]
    return {n: {"answer": "Paris", "confidence": 0.5, "n": 3}.get(n, "x") for n in names}


action = st.one_of(
    st.tuples(st.just("call"), st.sampled_from(sorted(TOOLS)), st.integers(0, 9), st.integers(0, 12)),
    st.tuples(st.just("unknown"), st.just("ghost"), st.just(0), st.just(0)),
    st.tuples(st.just("lm_error"), st.sampled_from(["value", "context", "runtime"]), st.just(0), st.just(0)),
)


def _args(tool: str, pick: int) -> Any:
    options = ARGS[tool]
    return options[pick % len(options)]


def _boom(kind: str) -> Any:
    if kind == "context":
        return Boom(ContextWindowExceededError, "too long")  # type: ignore[arg-type]
    return Boom(ValueError if kind == "value" else RuntimeError, "lm trouble")


def _fix_context(script: list[Any]) -> list[Any]:
    # dspy's ContextWindowExceededError takes keyword arguments only: build it through a fresh factory
    from diff_support import Fresh

    out = []
    for entry in script:
        if isinstance(entry, Boom) and entry.exc is ContextWindowExceededError:
            out.append(Fresh(lambda: (_ for _ in ()).throw(ContextWindowExceededError(message="too long"))))
        else:
            out.append(entry)
    return out


@settings(**SETTINGS)
@given(st.sampled_from(SIGNATURES), st.lists(st.sampled_from(sorted(TOOLS)), min_size=1, max_size=4, unique=True),
       st.lists(action, max_size=5), st.booleans(), st.sampled_from(["sync", "async"]), st.sampled_from([None, 2, 3]))
def test_react_runs(signature, tool_names, actions, finish, mode, max_iters):
    script: list[Any] = []
    for kind, name, pick, flaw in actions:
        if kind == "lm_error":
            script.append(_boom(name))
        else:
            script.append([_react_turn(name, _args(name, pick) if kind == "call" else {}, broken=flaw == 0)])
    if finish:
        script.append([_react_turn("finish", {}, broken=False)])
    fields = _outputs(signature)
    script.append(["[[ ## reasoning ## ]]\nDone.\n\n" + "".join(f"[[ ## {k} ## ]]\n{v}\n\n" for k, v in fields.items())
                   + "[[ ## completed ## ]]"])
    script.append([json.dumps({"reasoning": "Done.", **fields})])
    tools = [TOOLS[n] for n in tool_names]
    kwargs = {} if max_iters is None else {"max_iters": max_iters}
    case = Case(build=lambda ns: ns.ReAct(signature, tools=tools, **kwargs), call={"question": "Where?", "city": "Oslo",
                "q": "?"} if "city" in signature or signature.startswith("q ") else {"question": "Where?"},
                script=_fix_context(script), mode=mode, label=f"{actions} finish={finish}")
    CALLS.clear()
    problems = compare(case)
    assert not problems, "\n".join(problems)


@settings(**SETTINGS)
@given(st.sampled_from(SIGNATURES), st.lists(st.sampled_from(sorted(TOOLS)), min_size=1, max_size=3, unique=True),
       st.lists(st.lists(action, min_size=0, max_size=3), max_size=3), st.booleans(), st.booleans(),
       st.sampled_from(["sync", "async"]))
def test_react_v2_runs(signature, tool_names, turns, submit, broken_last, mode):
    script: list[Any] = []
    fields = _outputs(signature)
    for turn in turns:
        errors = [a for a in turn if a[0] == "lm_error"]
        if errors:
            script.append(_boom(errors[0][1]))
            continue
        calls = [(name, _args(name, pick) if kind == "call" else {}) for kind, name, pick, _ in turn]
        script.append([_v2_turn(calls, broken=False)])
    final = [("submit", fields)] if submit else []
    script.append([_v2_turn(final, broken=broken_last)])
    script.append([_v2_turn([("submit", fields)], broken=False)])  # the forced submit, if it comes to that
    tools = [TOOLS[n] for n in tool_names]
    case = Case(build=lambda ns: ns.ReActV2(signature, tools=tools, max_iters=len(turns) + 1),
                call={"question": "Where?", "city": "Oslo", "q": "?"}, script=_fix_context(script), mode=mode,
                lm_via="set_lm", label=f"{turns} submit={submit}")
    CALLS.clear()
    problems = compare(case)
    assert not problems, "\n".join(problems)


def test_failing_tool_observation_keeps_user_frames():
    """The normaliser removes library frames only: the user's own frames (and the error) are compared."""
    script = [[_react_turn("crash", {"reason": "disk"}, False)], [_react_turn("finish", {}, False)],
              ["[[ ## reasoning ## ]]\nr\n\n[[ ## answer ## ]]\nA\n\n[[ ## completed ## ]]"]]
    case = Case(build=lambda ns: ns.ReAct("question -> answer", tools=[TOOLS["crash"]]), call={"question": "?"},
                script=script)
    assert not compare(case)
    import dspy
    from diff_support import run
    from agent_diff_support import clean

    observation = clean(run(case, dspy).raw.trajectory["observation_0"])
    assert "in crash\n    _inner(reason)" in observation and "in _inner" in observation
    assert observation.endswith("OSError: disk unavailable") and "site-packages/dspy" not in observation
