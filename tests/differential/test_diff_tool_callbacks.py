"""Held-out agent runs with DSPy callbacks configured: a routed ReAct / ReActV2 served by DSPy and served natively
fire the same event stream (modules, adapter format and parse, tools) with the same arguments: each tool event
names the routed module's own ``dspy.Tool`` (the object DSPy's agent calls), its inputs, and its outputs or
exception. The LM's requests and the results are the same too, with DSPy's ``allow_tool_async_sync_conversion``
on or off. This folder's own generator and normaliser (``agent_diff_support``), tracebacks aside."""

from __future__ import annotations

import asyncio
import json
import warnings
from typing import Any

import dspy
from agent_diff_support import ARGS, CALLS, TOOLS, clean
from diff_support import Boom, RecLM, examples
from dspy.utils.callback import BaseCallback
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dspex

SETTINGS = dict(deadline=None, suppress_health_check=list(HealthCheck), max_examples=examples(25, 200))


class Events(BaseCallback):
    """The whole stream, each event with what DSPy hands the callback (tracebacks cleaned)."""

    def __init__(self, module: Any) -> None:
        self.module, self.seen = module, []

    def on_module_start(self, call_id: str, instance: Any, inputs: dict[str, Any]) -> None:
        self.seen.append(("module_start", type(instance).__name__, sorted(inputs["kwargs"])))

    def on_module_end(self, call_id: str, outputs: Any, exception: BaseException | None = None) -> None:
        self.seen.append(("module_end", None if exception is None else type(exception).__name__))

    def on_adapter_format_start(self, call_id: str, instance: Any, inputs: dict[str, Any]) -> None:
        event = ("format", type(instance).__name__)
        if event == ("format", "JSONAdapter") and self.seen[-1:] == [event]:
            return   # DSPy's JSONAdapter reports its format twice, nested; native once (docs/parity.md, known)
        self.seen.append(event)

    def on_adapter_parse_start(self, call_id: str, instance: Any, inputs: dict[str, Any]) -> None:
        self.seen.append(("parse", type(instance).__name__, clean(inputs["completion"])))

    def on_tool_start(self, call_id: str, instance: Any, inputs: dict[str, Any]) -> None:
        own = self.module.tools.get(instance.name) is instance
        self.seen.append(("tool_start", type(instance).__name__, instance.name, own, inputs))

    def on_tool_end(self, call_id: str, outputs: Any, exception: BaseException | None = None) -> None:
        error = None if exception is None else (type(exception).__name__, clean(str(exception)))
        self.seen.append(("tool_end", clean(outputs), error))


def _react_turn(name: str, args: Any) -> list[str]:
    return ["[[ ## next_thought ## ]]\nLet me think.\n\n[[ ## next_tool_name ## ]]\n" + name +
            "\n\n[[ ## next_tool_args ## ]]\n" + json.dumps(args) + "\n\n[[ ## completed ## ]]"]


def _v2_turn(calls: list[tuple[str, Any]]) -> list[str]:
    text = json.dumps({"tool_calls": [{"name": n, "args": a} for n, a in calls]})
    return ["[[ ## next_thought ## ]]\nPlanning.\n\n[[ ## tool_calls ## ]]\n" + text + "\n\n[[ ## completed ## ]]"]


def _run(kind: str, tool_names: list[str], script: list[Any], impl: str, mode: str, convert: bool) -> Any:
    tools = [TOOLS[n] for n in tool_names]
    if kind == "react":
        module = dspex.ReAct("question -> answer", tools=tools, max_iters=4)
    else:
        module = dspex.ReActV2("question -> answer", tools=tools, max_iters=3)
    lm, events = RecLM(script), Events(module)
    CALLS.clear()
    with warnings.catch_warnings(), dspy.context(lm=lm, callbacks=[events], allow_tool_async_sync_conversion=convert):
        warnings.simplefilter("ignore", RuntimeWarning)   # an async tool's unawaited coroutine, on both sides
        try:
            if mode == "sync":
                out = module(question="Where?", implementation=impl)
            else:
                out = asyncio.run(module.acall(question="Where?", implementation=impl))
            result = clean(out.toDict())
        except Exception as exc:  # noqa: BLE001 - errors are compared too
            result = (type(exc).__name__, clean(str(exc)))
    return events.seen, [clean(messages) for _, messages, _ in lm.calls], result, list(CALLS)


call = st.tuples(st.sampled_from(sorted(TOOLS) + ["ghost"]), st.integers(0, 9))


def _args(name: str, pick: int) -> Any:
    options = ARGS.get(name, [{}])
    return options[pick % len(options)]


def _compare(kind: str, tool_names: list[str], script: list[Any], mode: str, convert: bool) -> None:
    want = _run(kind, tool_names, script, "dspy", mode, convert)
    got = _run(kind, tool_names, script, "native", mode, convert)
    for name, a, b in zip(("events", "LM requests", "result", "tools run"), want, got):
        assert b == a, f"{name} differ:\n dspy={a!r}\n native={b!r}"


@settings(**SETTINGS)
@given(st.lists(st.sampled_from(sorted(TOOLS)), min_size=1, max_size=3, unique=True),
       st.lists(st.one_of(call, st.just(("lm_error", 0))), max_size=4), st.booleans(),
       st.sampled_from(["sync", "async"]), st.booleans())
def test_react_fires_dspy_s_tool_callbacks_on_the_native_route(tool_names, turns, finish, mode, convert):
    script: list[Any] = []
    for name, pick in turns:
        if name == "lm_error":
            script.append(Boom(ValueError, "lm trouble"))
        else:
            script.append(_react_turn(name, _args(name, pick)))   # a tool not offered fails to parse: the run ends
    if finish:
        script.append(_react_turn("finish", {}))
    script.append(["[[ ## reasoning ## ]]\nDone.\n\n[[ ## answer ## ]]\nParis\n\n[[ ## completed ## ]]"])
    _compare("react", tool_names, script, mode, convert)


@settings(**SETTINGS)
@given(st.lists(st.sampled_from(sorted(TOOLS)), min_size=1, max_size=3, unique=True),
       st.lists(st.lists(call, max_size=3), max_size=3), st.sampled_from([None, {"answer": "Paris"}, {}]),
       st.sampled_from(["sync", "async"]), st.booleans())
def test_react_v2_fires_dspy_s_tool_callbacks_on_the_native_route(tool_names, turns, submit, mode, convert):
    script: list[Any] = [_v2_turn([(name, _args(name, pick)) for name, pick in calls]) for calls in turns]
    script.append(_v2_turn([] if submit is None else [("submit", submit)]))
    script.append(_v2_turn([("submit", {"answer": "Paris"})]))   # the forced submit, if it comes to that
    _compare("react_v2", tool_names, script, mode, convert)
