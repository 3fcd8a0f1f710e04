"""What else DSPy's ``Tool.__call__`` / ``acall`` do around a tool call, on the native route: a failing callback is
logged with DSPy's texts; an argument named ``self`` fails with the message DSPy's callbacks wrapper gives; DSPy's
``allow_tool_async_sync_conversion`` setting runs an async tool on the sync path (or fails as DSPy fails inside a
running event loop), for routed and plain native agents alike. A plain native agent keeps no DSPy books.

Every expectation is what the DSPy route of the same program records, never written by hand.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from typing import Any

import dspy
import pytest
from dspy.utils.dummies import DummyLM

import dspex
from dspex.shadow.tracebacks import strip_library_frames
from tool_support import IMPLS, ToolRecorder, build, fetch, lookup, react_answers, run


def test_a_failing_callback_is_logged_as_dspy_logs_it(caplog: pytest.LogCaptureFixture) -> None:
    class Broken(ToolRecorder):
        def on_tool_start(self, call_id: str, instance: Any, inputs: dict[str, Any]) -> None:
            raise RuntimeError("start broke")

        def on_tool_end(self, call_id: str, outputs: Any, exception: BaseException | None = None) -> None:
            raise RuntimeError("end broke")

    logs = {}
    for impl in IMPLS:
        caplog.clear()
        broken = Broken()
        with caplog.at_level(logging.WARNING, logger="dspy.utils.callback"), \
                dspy.context(lm=DummyLM(react_answers(("lookup", {"x": "a"}), ("finish", {}))), callbacks=[broken]):
            out = asyncio.run(build("react", [lookup]).acall(question="q", implementation=impl))
        logs[impl] = ([(r.name, r.getMessage().replace(repr(broken), "<cb>")) for r in caplog.records],
                      out.trajectory["observation_0"])
    assert logs["native"] == logs["dspy"]
    assert ("dspy.utils.callback", "Error when applying callback <cb>'s end handler on function acall: end broke.") \
        in logs["dspy"][0]


def picky(x: str, **extra: Any) -> str:
    """Takes anything."""
    return x


@pytest.mark.parametrize("callbacks", [False, True])
def test_an_argument_named_self_fails_with_dspy_s_message(callbacks: bool) -> None:
    """``inspect.getcallargs`` (which DSPy's callbacks wrapper calls only when callbacks are set) names the clash
    with the bare method name; without callbacks Python names ``Tool.__call__``."""
    answers = react_answers(("picky", {"x": "a", "self": 1}), ("picky", {"x": "b", "instance": 2}), ("finish", {}))
    seen = {}
    for impl in IMPLS:
        if callbacks:
            events, out = run("react", impl, "call", [picky], answers)
        else:
            with dspy.context(lm=DummyLM(list(answers))):
                events, out = None, build("react", [picky])(question="q", implementation=impl)
        seen[impl] = (events, [strip_library_frames(out.trajectory[f"observation_{i}"]) for i in (0, 1)])
    assert seen["native"] == seen["dspy"]
    name = "__call__" if callbacks else "Tool.__call__"
    assert seen["dspy"][1][0].endswith(f"TypeError: {name}() got multiple values for argument 'self'")
    assert seen["dspy"][1][1].endswith("TypeError: Tool.__call__() got multiple values for argument 'instance'")


ASYNC_ANSWERS = react_answers(("fetch", {"url": "u"}), ("finish", {}))


@pytest.mark.parametrize("allowed", [False, True])
def test_allow_tool_async_sync_conversion_applies_on_the_native_route(allowed: bool) -> None:
    """An async tool on ReAct's sync path: an error observation, unless DSPy's setting converts it (then the tool
    runs in a fresh event loop), on the routed module and on a plain native one alike."""
    seen = {}
    for impl in ("dspy", "native", "plain"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)   # the unawaited coroutine, on both sides
            with dspy.context(lm=DummyLM(list(ASYNC_ANSWERS)), allow_tool_async_sync_conversion=allowed):
                if impl == "plain":
                    out = dspex.native.ReAct("question -> answer", tools=[fetch], max_iters=5)(question="q")
                else:
                    out = build("react", [fetch])(question="q", implementation=impl)
        seen[impl] = strip_library_frames(out.trajectory["observation_0"])
    assert seen["native"] == seen["plain"] == seen["dspy"]
    assert (seen["dspy"] == "page at u") is allowed


def test_inside_a_running_event_loop_the_conversion_fails_as_dspy_s_does() -> None:
    async def in_loop(impl: str) -> Any:
        with dspy.context(lm=DummyLM(list(ASYNC_ANSWERS)), allow_tool_async_sync_conversion=True):
            return build("react", [fetch])(question="q", implementation=impl)

    seen = {impl: strip_library_frames(asyncio.run(in_loop(impl)).trajectory["observation_0"]) for impl in IMPLS}
    assert seen["native"] == seen["dspy"]
    assert seen["dspy"].endswith("Please use `await tool.acall(...)` instead.")


def test_a_plain_native_agent_keeps_no_dspy_books() -> None:
    """Outside a routed module's native call no DSPy books are kept (module, adapter and tool events alike); the
    LM, a ``dspy.LM``, reports its own calls."""
    cb = ToolRecorder()
    with dspy.context(lm=DummyLM(react_answers(("lookup", {"x": "a"}), ("finish", {}))), callbacks=[cb]):
        out = dspex.native.ReAct("question -> answer", tools=[lookup])(question="q")
    assert out.answer == "42" and {kind for kind, _ in cb.events} == {"lm_start", "lm_end"}
