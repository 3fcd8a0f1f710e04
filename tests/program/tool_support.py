"""Agents and a recording callback for the tool-callback tests: every event DSPy's callbacks receive, with
tracebacks in library files dropped (their frames differ by construction), and the tool events with what DSPy hands
them."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import dspy
from dspy.utils.dummies import DummyLM

import dspex
from dspex.shadow.tracebacks import strip_library_frames
from test_settings import Recorder

__all__ = ["IMPLS", "lookup", "fetch", "clean", "ToolRecorder", "react_answers", "v2_answers", "REACT", "V2",
           "build", "run"]

IMPLS = ("dspy", "native")


def lookup(x: str) -> str:
    """Look up x."""
    return "found " + x


async def fetch(url: str) -> str:
    """Fetch a page."""
    await asyncio.sleep(0)
    return "page at " + url


def clean(value: Any) -> Any:
    """``value`` with every string's traceback frames in dspy / dspex files dropped (they differ by construction),
    Predictions and agent types as plain data."""
    if isinstance(value, str):
        return strip_library_frames(value)
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    if hasattr(value, "model_dump"):
        return (type(value).__name__, clean(value.model_dump()))
    if hasattr(value, "toDict"):
        return (type(value).__name__, clean(value.toDict()))
    return value


class ToolRecorder(Recorder):
    """Every event Recorder keeps (tracebacks cleaned), and the tool events with what DSPy hands them: which
    ``dspy.Tool`` (by name, and whether it is the routed module's own object), the inputs, the outputs and the
    exception."""

    def __init__(self, module: Any = None) -> None:
        super().__init__()
        self.module = module

    def on_module_end(self, call_id: str, outputs: Any, exception: Exception | None = None) -> None:
        self.events += [("module_end", ""), ("module_outputs", repr(clean(outputs)))]

    def on_adapter_format_end(self, call_id: str, outputs: Any, exception: Exception | None = None) -> None:
        self.events += [("format_end", ""), ("messages", repr(clean(outputs)))]

    def on_adapter_parse_end(self, call_id: str, outputs: Any, exception: Exception | None = None) -> None:
        self.events += [("parse_end", ""), ("parsed", repr(clean(outputs)))]

    def on_tool_start(self, call_id: str, instance: Any, inputs: dict[str, Any]) -> None:
        own = getattr(self.module, "tools", {}).get(instance.name) is instance
        self.events.append(("tool_start", type(instance).__module__.split(".")[0], type(instance).__name__,
                            instance.name, own, repr(inputs)))

    def on_tool_end(self, call_id: str, outputs: Any, exception: BaseException | None = None) -> None:
        error = None if exception is None else (type(exception).__name__, str(exception))
        self.events.append(("tool_end", repr(outputs), error))


def react_answers(*turns: tuple[str, dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"next_thought": f"step {i}", "next_tool_name": name, "next_tool_args": args}
            for i, (name, args) in enumerate(turns)] + [{"reasoning": "r", "answer": "42"}]


def v2_answers(*turns: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    return [{"next_thought": f"step {i}",
             "tool_calls": json.dumps({"tool_calls": [{"name": n, "args": a} for n, a in calls]})}
            for i, calls in enumerate(turns)]


REACT = react_answers(("lookup", {"x": "a"}), ("lookup", {"x": 3}), ("lookup", {"y": "c"}), ("finish", {}))
V2 = v2_answers([("lookup", {"x": "a"}), ("ghost", {})], [("lookup", {"x": 3}), ("lookup", {"y": 1})],
                 [("submit", {"answer": "42"})])


def build(kind: str, tools: list[Any]) -> Any:
    if kind == "react":
        return dspex.ReAct("question -> answer", tools=tools, max_iters=5)
    return dspex.ReActV2("question -> answer", tools=tools, max_iters=5)


def run(kind: str, impl: str, mode: str, tools: list[Any], answers: list[dict[str, Any]],
         **context: Any) -> tuple[list[Any], Any]:
    module = build(kind, tools)
    cb = ToolRecorder(module)
    with dspy.context(lm=DummyLM(list(answers)), callbacks=[cb], **context):
        if mode == "call":
            out = module(question="q", implementation=impl)
        else:
            out = asyncio.run(module.acall(question="q", implementation=impl))
    return cb.events, out
