"""DSPy's tool callbacks on the native route: ``dspy.Tool.__call__`` / ``acall`` fire ``on_tool_start`` /
``on_tool_end`` for every tool call a DSPy agent makes (ReAct's ``finish`` and ReActV2's ``submit`` included), with
the ``dspy.Tool`` as ``instance``; a routed ReAct / ReActV2 running natively fires the same events, in the same
place among the module, adapter and LM events, naming the same ``dspy.Tool`` objects. So ``dspy.streamify``'s tool
status messages show on every route. (What else DSPy's ``Tool.__call__`` does: ``test_tool_calls_in_dspy.py``.)

Every expectation is what the DSPy route of the same program records, never written by hand.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import dspy
import pytest
from dspy.utils.dummies import DummyLM

import dspex
from program_support import route_to
from tool_support import IMPLS, REACT, V2, ToolRecorder, build, clean, lookup, react_answers, run


@pytest.mark.parametrize("mode", ["call", "acall"])
@pytest.mark.parametrize("kind", ["react", "react_v2"])
def test_tool_callbacks_fire_on_the_native_route_as_on_dspy_s(kind: str, mode: str) -> None:
    answers = REACT if kind == "react" else V2
    seen = {impl: run(kind, impl, mode, [lookup], answers) for impl in IMPLS}
    assert seen["native"][0] == seen["dspy"][0]
    assert seen["native"][1].answer == seen["dspy"][1].answer == "42"
    tools = [e for e in seen["dspy"][0] if e[0].startswith("tool")]
    last = "finish" if kind == "react" else "submit"
    assert tools[0] == ("tool_start", "dspy", "Tool", "lookup", True, "{'kwargs': {'x': 'a'}}")
    assert tools[-2][3] == last and tools[-2][4] is True     # the agent's own finish / submit tool, DSPy's object
    assert ("tool_end", "None", ("ValueError", "Arg x is invalid: 3 is not of type 'string'")) in tools


def test_a_user_s_dspy_tool_is_the_instance_callbacks_see_and_its_own_callbacks_fire() -> None:
    """DSPy keeps a given ``dspy.Tool`` as is and reads its own ``callbacks`` besides the configured ones (a
    subclass may declare the field): the native route hands callbacks the very same object, and fires those too."""

    class Watched(dspy.Tool):
        callbacks: list[Any] = []

    seen = {}
    for impl in IMPLS:
        own = ToolRecorder()
        tool = Watched(lookup, name="search", desc="Search.")
        tool.callbacks = [own]
        module = dspex.ReAct("question -> answer", tools=[tool], max_iters=3)
        own.module = module
        configured = ToolRecorder(module)
        answers = react_answers(("search", {"x": "b"}), ("finish", {}))
        with dspy.context(lm=DummyLM(answers), callbacks=[configured]):
            module(question="q", implementation=impl)
        assert module.tools["search"] is tool
        seen[impl] = (configured.events, own.events)
    assert seen["native"] == seen["dspy"]
    assert seen["dspy"][1] == [("tool_start", "test_tool_callbacks", "Watched", "search", True,
                                "{'kwargs': {'x': 'b'}}"), ("tool_end", "'found b'", None)]


@pytest.mark.parametrize("route", ["shadow", "fractional"])
def test_tool_callbacks_fire_once_per_call_on_every_route(route: str, tmp_path: Path, events: Any) -> None:
    """Shadow's candidate keeps no books (DSPy's control fired the events); a fractional flag's native calls do."""
    if route == "fractional":
        flag = {"state": "ENABLED", "variants": {"native": "native", "dspy": "dspy"}, "defaultVariant": "dspy",
                "targeting": {"fractional": [["native", 50], ["dspy", 50]]}}
        (tmp_path / "flags.flagd.json").write_text(json.dumps({"flags": {"dspex.react": flag}}))
        dspex.configure(flags=str(tmp_path / "flags.flagd.json"))
    else:
        route_to(route, tmp_path)
        dspex.configure(module_overrides={"react": route})
    routes = events("dspex.router.route")
    fallbacks = events("dspex.router.fallback")
    want, _ = run("react", "dspy", "call", [lookup], REACT)
    for i in range(8 if route == "fractional" else 1):
        module = build("react", [lookup])
        cb = ToolRecorder(module)
        # fixed targeting keys: the 50/50 split is the same every run (a fresh key per call left both sides to
        # chance, 1 run in 128 saw one side only)
        with dspy.context(lm=DummyLM(list(REACT)), callbacks=[cb]), dspex.request(targeting_key=f"user-{i}"):
            module(question="q")
        if route == "shadow":
            dspex.shutdown(timeout=10)   # the candidate has run (and fired nothing) once this returns
        assert cb.events == want
    assert fallbacks == []   # (a native failure would hide behind DSPy's answer)
    taken = {meta["implementation"] for _, _, meta in routes if meta["module_type"] == "react"}
    assert taken == ({"native", "dspy"} if route == "fractional" else {"dspy", "shadow"})


class RunnerDSPy(dspy.Module):
    """A user's module type that builds its agent per call: no DSPy twin stands for the native agent's tools."""

    def __init__(self, given: Any) -> None:
        super().__init__()
        self.given = given

    def forward(self, question: str) -> Any:
        return dspy.ReAct("question -> answer", tools=[lookup, self.given], max_iters=4)(question=question)


class RunnerNative(dspex.native.Module):
    def __init__(self, given: Any) -> None:
        super().__init__()
        self.given = given

    def forward(self, question: str) -> Any:
        return dspex.native.ReAct("question -> answer", tools=[lookup, self.given], max_iters=4)(question=question)


Runner = dspex.register("tool_runner", native=RunnerNative, dspy=RunnerDSPy)


def test_an_agent_without_a_dspy_twin_names_the_given_dspy_tool_and_wraps_a_function_once() -> None:
    """The agent a native module builds itself: its ``dspy.Tool`` is the very object given, and a plain function is
    named by a ``dspy.Tool`` equal to the one DSPy's ReAct wraps it in."""
    given = dspy.Tool(lookup, name="search", desc="Search.")
    seen = {}
    for impl in IMPLS:
        instances: list[Any] = []
        cb = ToolRecorder()
        cb.on_tool_start = lambda call_id, instance, inputs, cb=cb: (  # type: ignore[method-assign]
            instances.append(instance), ToolRecorder.on_tool_start(cb, call_id, instance, inputs))
        answers = react_answers(("search", {"x": "s"}), ("lookup", {"x": "l"}), ("finish", {}))
        with dspy.context(lm=DummyLM(answers), callbacks=[cb]):
            Runner(given)(question="q", implementation=impl)
        seen[impl] = ([e for e in cb.events if e[0].startswith("tool")], instances)
    assert seen["native"][0] == seen["dspy"][0] and len(seen["dspy"][0]) == 6
    assert seen["native"][1][0] is seen["dspy"][1][0] is given
    assert seen["native"][1][1] == seen["dspy"][1][1] and seen["native"][1][1].func is lookup


class Status(dspy.streaming.StatusMessageProvider):
    def tool_start_status_message(self, instance: Any, inputs: dict[str, Any]) -> str:
        return f"calling {instance.name} with {inputs}"

    def tool_end_status_message(self, outputs: Any) -> str:
        return f"got {outputs!r}"


async def _stream(kind: str, impl: str, is_async: bool) -> list[Any]:
    dspex.configure(module_overrides={kind: impl})
    program = dspy.streamify(build(kind, [lookup]), status_message_provider=Status(), is_async_program=is_async)
    out: list[Any] = []
    with dspy.context(lm=DummyLM(list(REACT if kind == "react" else V2))):
        async for value in program(question="q"):
            out.append(value.message if isinstance(value, dspy.streaming.StatusMessage) else clean(value))
    return out


@pytest.mark.parametrize("is_async", [False, True], ids=["sync_program", "async_program"])
@pytest.mark.parametrize("kind", ["react", "react_v2"])
def test_streamify_shows_the_tool_status_messages_on_the_native_route(kind: str, is_async: bool,
                                                                      tmp_path: Path) -> None:
    route_to("dspy", tmp_path)
    want = asyncio.run(_stream(kind, "dspy", is_async))
    got = asyncio.run(_stream(kind, "native", is_async))
    assert got == want
    assert want[0] == "calling lookup with {'kwargs': {'x': 'a'}}" and want[1] == "got 'found a'"
