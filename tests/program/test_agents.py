"""Agents inside DSPy programs: routed ReAct and ReActV2 are DSPy citizens on every route, and shadow never calls
a tool twice (the candidate replays the control's tool results)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dspy
import pytest

import dspex
from program_support import route_to


class AgentLM(dspy.BaseLM):
    """ReAct's script: call send_mail once, then finish; the extract step answers from the trajectory."""

    def __init__(self) -> None:
        super().__init__(model="scripted/agent")
        self.calls: list[Any] = []

    def __call__(self, prompt: Any = None, messages: Any = None, **kwargs: Any) -> list[str]:
        self.calls.append([dict(m) for m in messages])
        last = messages[-1]["content"]
        if "`[[ ## next_thought ## ]]`" in last:
            if "[[ ## observation_0 ## ]]" in last:
                return ["[[ ## next_thought ## ]]\ndone\n\n[[ ## next_tool_name ## ]]\nfinish\n\n"
                        "[[ ## next_tool_args ## ]]\n{}\n\n[[ ## completed ## ]]"]
            return ["[[ ## next_thought ## ]]\nmail ann\n\n[[ ## next_tool_name ## ]]\nsend_mail\n\n"
                    "[[ ## next_tool_args ## ]]\n{\"to\": \"ann\"}\n\n[[ ## completed ## ]]"]
        return ["[[ ## reasoning ## ]]\nsent it\n\n[[ ## answer ## ]]\nmailed\n\n[[ ## completed ## ]]"]


class Mailer:
    def __init__(self) -> None:
        self.sent: list[str] = []

    def send_mail(self, to: str) -> str:
        """Send a mail to someone."""
        self.sent.append(to)
        return f"mail sent to {to}"


def _program(ns: Any, mailer: Mailer) -> Any:
    class Assistant(dspy.Module):
        def __init__(self) -> None:
            super().__init__()
            self.agent = ns.ReAct("question -> answer", tools=[mailer.send_mail], max_iters=3)

        def forward(self, question: str) -> Any:
            return self.agent(question=question)

    return Assistant()


@pytest.mark.parametrize("route", ["native", "dspy", "shadow"])
def test_react_in_a_program_is_a_dspy_citizen_and_shadow_calls_each_tool_once(route: str, tmp_path: Path) -> None:
    route_to(route, tmp_path)
    dspex.configure(module_overrides={"react": route})
    runs = []
    for ns in (dspy, dspex):
        mailer, lm = Mailer(), AgentLM()
        program = _program(ns, mailer)
        with dspy.context(lm=lm, trace=[]):
            pred = program(question="Mail Ann")
            trace = [(type(p).__name__, sorted(i)) for p, i, _ in dspy.settings.trace]
        dspex.shutdown(timeout=10)
        runs.append((pred.toDict(), lm.calls, mailer.sent, [n for n, _ in program.named_predictors()], trace,
                     type(pred)))
    assert runs[1] == runs[0]
    assert runs[0][2] == ["ann"]                        # the tool ran once, on every route, shadow included
    assert runs[0][3] == ["agent.react", "agent.extract.predict"]
    if route == "shadow":
        stats = dspex.shadow.stats()
        assert stats["compared"] == 1 and stats["diverged"] == 0


def test_a_react_candidate_that_strays_from_the_recorded_tool_calls_is_a_divergence_and_calls_nothing(
        tmp_path: Path) -> None:
    """The candidate asks for a call the control never made: the tape refuses to serve it and the record says
    where the trajectories part; the real tool is still called once."""
    import json

    route_to("shadow", tmp_path)
    dspex.configure(module_overrides={"react": "shadow"})
    mailer, lm = Mailer(), AgentLM()
    program = _program(dspex, mailer)
    engine = program.agent._dspex.candidate_engine(program.agent).sync(program.agent)

    class Stray(type(engine.react)):   # type: ignore[misc]
        def forward(self: Any, **kwargs: Any) -> Any:   # the native side's planted difference: another recipient
            pred = super().forward(**kwargs)
            if pred.next_tool_name == "send_mail":
                pred.next_tool_args = {"to": "bob"}
            return pred

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(engine.react, "__class__", Stray)   # this predictor only (ReAct's extract step is a Predict too)
        with dspy.context(lm=lm):
            program(question="Mail Ann")
        dspex.shutdown(timeout=10)
    assert mailer.sent == ["ann"]
    assert dspex.shadow.stats()["diverged"] == 1
    logs = [json.loads(line) for f in sorted((tmp_path / "shadow").rglob("*.jsonl")) for line in f.read_text().splitlines()]
    record = next(r for r in logs if r.get("kind") == "divergence")
    replay = record["notes"]["tool_replay"]
    assert "candidate called send_mail({'to': 'bob'})" in replay["problems"][0]
    assert record["notes"]["first_divergence"]["step"] == 0


@pytest.mark.parametrize("route", ["native", "dspy"])
def test_react_v2_routes_and_returns_dspy_types(route: str, tmp_path: Path) -> None:
    route_to(route, tmp_path)
    dspex.configure(module_overrides={"react_v2": route})
    agent = dspex.ReActV2("question -> answer", tools=[Mailer().send_mail], max_iters=2)
    assert isinstance(agent, dspy.ReActV2) and [n for n, _ in agent.named_predictors()] == \
        [n for n, _ in dspy.ReActV2("question -> answer", tools=[Mailer().send_mail]).named_predictors()]


class SubmitLM(dspy.BaseLM):
    """ReActV2's script: look a fact up, then submit."""

    def __init__(self) -> None:
        super().__init__(model="scripted/submit", cache=False)

    def __call__(self, prompt: Any = None, messages: Any = None, **kwargs: Any) -> list[str]:  # type: ignore[override]
        text = "".join(str(m.get("content")) for m in messages)
        call = ('{"name": "submit", "args": {"answer": "a"}}' if "fact" in text.split("[[ ## question ## ]]")[-1]
                else '{"name": "lookup", "args": {"q": "x"}}')
        return [f'[[ ## next_thought ## ]]\nt\n\n[[ ## tool_calls ## ]]\n{{"tool_calls": [{call}]}}\n\n'
                "[[ ## completed ## ]]"]


def lookup(q: str) -> str:
    """Look up a fact."""
    return "fact"


@pytest.mark.parametrize("side", ["native", "shadow"])
def test_a_bootstrapped_react_v2_saves_as_dspys_does(side: str, tmp_path: Path) -> None:
    """BootstrapFewShot turns trace entries into demos: on the native route ReActV2's entries held dspex's Tool and
    History, and ``program.save`` failed ("Type is not JSON serializable: Tool"). The trace now holds DSPy's
    objects (the routed agent's own ``dspy.Tool``s, and one ``dspy.History`` per run that ends up holding every
    turn, as DSPy's agent appends to the History it passes each turn), and the saved program is DSPy's byte for
    byte. Found by an independent fuzz run."""
    def compile_and_save(ns: Any, path: Path) -> tuple[Any, str]:
        class Program(dspy.Module):
            def __init__(self) -> None:
                super().__init__()
                self.agent = ns.ReActV2("question -> answer", tools=[lookup], max_iters=3)

            def forward(self, question: str) -> Any:
                return self.agent(question=question)

        train = [dspy.Example(question=f"q{i}", answer="a").with_inputs("question") for i in range(3)]
        with dspy.context(lm=SubmitLM()):
            program = dspy.BootstrapFewShot(max_bootstrapped_demos=2, max_labeled_demos=0).compile(Program(),
                                                                                                  trainset=train)
        program.save(str(path))
        return program, path.read_text()

    _, want = compile_and_save(dspy, tmp_path / "dspy.json")
    dspex.configure(module_overrides={"react_v2": side}, shadow={"log_path": str(tmp_path / "shadow")})
    program, got = compile_and_save(dspex, tmp_path / "dspex.json")
    assert got == want
    demo = program.agent.react.demos[0]
    assert all(type(tool) is dspy.Tool for tool in demo.tools)
    assert type(demo.history) is dspy.History and demo.history.messages   # the whole run, as DSPy's trace holds


@pytest.mark.parametrize("side", ["native", "shadow"])
def test_a_routed_react_v2_logs_what_dspys_logs(side: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The routed agent's predictor keeps DSPy's annotations (``tools: list[dspy.Tool]``, ``history: dspy.History``)
    while the native agent passes its own Tools and History: every turn logged "Type mismatch for field 'tools'",
    which DSPy's agent, passing DSPy's objects, never logs."""
    import logging

    def run(ns: Any) -> list[str]:
        caplog.clear()
        with caplog.at_level(logging.WARNING), dspy.context(lm=SubmitLM()):
            ns.ReActV2("question -> answer", tools=[lookup], max_iters=3)(question="q")
        return [r.getMessage() for r in caplog.records if r.name.startswith("dspy")]

    want = run(dspy)
    dspex.configure(module_overrides={"react_v2": side}, shadow={"log_path": str(tmp_path / "shadow")})
    assert run(dspex) == want
    dspex.shutdown(timeout=5)


def test_module_callbacks_of_a_routed_react_v2_see_dspys_objects(tmp_path: Path) -> None:
    """Each turn's ``on_module_start`` gets the predictor's inputs: DSPy's agent passes its ``dspy.Tool``s and
    ``dspy.History``; the native route showed dspex's Tool and History (what a tracing callback serialises)."""
    from dspy.utils.callback import BaseCallback

    class Inputs(BaseCallback):
        def __init__(self) -> None:
            self.seen: list[dict[str, str]] = []

        def on_module_start(self, call_id: str, instance: Any, inputs: dict[str, Any]) -> None:
            kwargs = inputs.get("kwargs", {})
            self.seen.append({k: type(v).__module__ + "." + type(v).__name__ + (
                "[" + ",".join(type(t).__module__ + "." + type(t).__name__ for t in v) + "]"
                if isinstance(v, list) else "") for k, v in kwargs.items()})

    def run(ns: Any) -> list[dict[str, str]]:
        events = Inputs()
        with dspy.context(lm=SubmitLM(), callbacks=[events]):
            ns.ReActV2("question -> answer", tools=[lookup], max_iters=3)(question="q")
        return events.seen

    want = run(dspy)
    assert any("dspy.adapters.types.history.History" in e.values() for e in want)
    dspex.configure(module_overrides={"react_v2": "native"}, shadow={"log_path": str(tmp_path / "shadow")})
    assert run(dspex) == want


class _FailingSubmitLM(dspy.BaseLM):
    """One tool call, then a turn nobody can parse (a forced submit), then a submit with wrong arguments."""

    def __init__(self) -> None:
        super().__init__(model="scripted/failing-submit", cache=False)
        turn = "[[ ## next_thought ## ]]\nt\n\n[[ ## tool_calls ## ]]\n{}\n\n[[ ## completed ## ]]"
        self.answers = [turn.format('[{"name": "lookup", "args": {"q": "x"}}]'), turn.format("not json"),
                        "not json either", turn.format('[{"name": "submit", "args": {"nope": "3"}}]')]

    def __call__(self, prompt: Any = None, messages: Any = None, **kwargs: Any) -> list[str]:
        return [self.answers.pop(0)]

    async def acall(self, prompt: Any = None, messages: Any = None, **kwargs: Any) -> list[str]:
        return [self.answers.pop(0)]


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_failed_react_v2_run_leaves_dspys_trace_holding_its_whole_history(mode: str, tmp_path: Path) -> None:
    """DSPy's trace entries hold the one History the agent appends each turn to, the failed forced-submit turn
    included; on the native route the History faces were brought up to date only when the run returned, so a run
    that raised left them a turn short (found by an independent fuzz run)."""
    import asyncio

    def run(ns: Any) -> tuple[str, list[int]]:
        trace: list[Any] = []
        with dspy.context(lm=_FailingSubmitLM(), trace=trace):
            agent = ns.ReActV2("question -> answer", tools=[lookup], max_iters=2)
            with pytest.raises(ValueError) as failed:
                agent(question="q") if mode == "sync" else asyncio.run(agent.acall(question="q"))
        return str(failed.value).splitlines()[0], [len(inputs["history"].messages) for _, inputs, _ in trace]

    want = run(dspy)
    assert want[1] and max(want[1]) >= 2
    dspex.configure(module_overrides={"react_v2": "native"}, allow_fallback=False,
                    shadow={"log_path": str(tmp_path / "shadow")})
    assert run(dspex) == want
