"""dspex.native.Tool against dspy.Tool 3.4.1: what the LM reads about a tool, and what calling it does."""

from __future__ import annotations

import asyncio
import enum
import functools
import traceback
from decimal import Decimal
from typing import Any, Literal, Optional

import dspy
import pydantic
import pytest

from dspex.errors import ToolError
from dspex.native import Tool
from dspex.types import as_tool, is_tool_like


class Box(pydantic.BaseModel):
    a: int
    tags: list[str] = []


class Outer(pydantic.BaseModel):
    box: Box
    spare: Optional[Box] = None


class Mode(enum.Enum):
    FAST = "fast"


def typed(x: int, box: Box, outer: Outer, y: Optional[int] = None, boxes: list[Box] = [], mode: Mode = Mode.FAST,
          d: Decimal = Decimal("1.5"), *args: Any, **kwargs: Any) -> None:
    """Typed.

    Second paragraph."""


def pick(a: list[int], b: Literal["u", "v"] = "u", c: dict[str, float] | None = None) -> str:
    return f"{a}{b}{c}"


class Callable_:
    """class doc"""

    def __call__(self, q: str) -> str:
        return q


FUNCS = [typed, pick, Callable_(), lambda a, b=2: a, functools.partial(typed, 1), len]
OVERRIDES = [{}, {"name": "renamed", "desc": "Given.", "arg_desc": {"a": "About a.", "x": "About x."}},
             {"args": {"z": {"type": "string"}}, "arg_types": {"z": str}}]


def describe(tool: Any) -> tuple[Any, ...]:
    return (tool.name, tool.desc, tool.args, tool.arg_types, tool.has_kwargs, str(tool), repr(tool),
            tool.format_as_litellm_function_call())


@pytest.mark.parametrize("func", FUNCS, ids=lambda f: getattr(f, "__name__", type(f).__name__))
@pytest.mark.parametrize("overrides", OVERRIDES, ids=["inferred", "named", "given_args"])
def test_a_tool_describes_itself_like_dspy(func, overrides):
    assert describe(Tool(func, **overrides)) == describe(dspy.Tool(func, **overrides))


def test_a_dspy_tool_is_read_by_its_attributes():
    theirs = dspy.Tool(pick, name="chooser", desc="Choose.", arg_desc={"a": "numbers"})
    assert is_tool_like(theirs) and not is_tool_like(pick)
    mine = as_tool(theirs)
    assert type(mine) is Tool and describe(mine) == describe(theirs)
    assert as_tool(mine) is mine
    assert mine(a=[1], b="v") == theirs(a=[1], b="v")


def test_not_callable_is_a_clear_error():
    with pytest.raises(ToolError, match="needs a callable"):
        Tool("not a function")
    with pytest.raises(pydantic.ValidationError):  # what DSPy raises (documented mapping in the harness)
        dspy.Tool("not a function")


CALLS = [{"a": [1, 2]}, {"a": ["x"]}, {"a": [1], "b": "w"}, {"a": [1], "zz": 1}, {"a": [1.0]}, {"a": [True]},
         {"a": [1], "c": {"k": 1}}, {"a": [1], "c": {"k": "s"}}, {}, {"a": "1"}, {"instance": 1}, {"self": 1},
         {"a": [1], "instance": 2, "self": 3}]


def outcome(fn: Any) -> tuple[str, str]:
    try:
        return ("ok", repr(fn()))
    except Exception as exc:  # noqa: BLE001 - the error is the observation
        return (type(exc).__name__, str(exc))


@pytest.mark.parametrize("args", CALLS, ids=repr)
def test_calling_validates_and_converts_like_dspy(args):
    mine, theirs = Tool(pick), dspy.Tool(pick)
    assert outcome(lambda: mine(**args)) == outcome(lambda: theirs(**args))
    assert outcome(lambda: asyncio.run(mine.acall(**args))) == outcome(lambda: asyncio.run(theirs.acall(**args)))


def test_model_arguments_are_converted_by_pydantic():
    mine = Tool(typed)
    assert mine._validate_and_parse_args({"x": 1, "box": {"a": 2}, "outer": {"box": {"a": 3}}})["box"] == Box(a=2)


def test_async_tool_on_the_sync_path_fails_like_dspy():
    async def later(x: int) -> int:
        return x

    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert outcome(lambda: Tool(later)(x=1)) == outcome(lambda: dspy.Tool(later)(x=1))
    assert asyncio.run(Tool(later).acall(x=2)) == 2


async def later_boom(x: int) -> None:
    boom(x)


@pytest.mark.parametrize("in_loop", [False, True], ids=["no_loop", "running_loop"])
@pytest.mark.parametrize("func", ["later", "later_boom"])
def test_async_tool_on_the_sync_path_converts_when_dspy_allows_it(func: str, in_loop: bool):
    """DSPy's ``allow_tool_async_sync_conversion``: the coroutine runs in a fresh event loop, or, inside a running
    one, is closed and the call fails with DSPy's other message. Native reads the setting from DSPy."""
    async def later(x: int) -> int:
        return x

    target = later if func == "later" else later_boom

    def both() -> list[tuple[str, str]]:
        return [outcome(lambda: tool(x=1)) for tool in (Tool(target), dspy.Tool(target))]

    async def inside() -> list[tuple[str, str]]:
        return both()

    with dspy.context(allow_tool_async_sync_conversion=True):
        mine, theirs = asyncio.run(inside()) if in_loop else both()
    assert mine == theirs
    assert mine[0] == ("ValueError" if in_loop else "ok" if func == "later" else "RuntimeError")


def test_a_dspy_tool_read_natively_remembers_where_it_came_from():
    """The object DSPy's tool callbacks are told about when a native agent calls it inside a DSPy program."""
    theirs = dspy.Tool(pick)
    mine = as_tool(theirs)
    assert mine._origin is theirs and Tool.from_tool_like(mine)._origin is theirs and Tool(pick)._origin is None


def boom(x: int) -> None:
    deeper(x)


def deeper(x: int) -> None:
    raise RuntimeError(f"boom {x}")


def frames_of(call: Any) -> list[str]:
    try:
        call()
    except RuntimeError as exc:
        return [f.name for f in traceback.extract_tb(exc.__traceback__)]
    raise AssertionError("no error")


def test_a_failing_tool_is_as_deep_as_in_dspy():
    """ReAct shows the LM five frames of a failing tool's traceback: the user's own frames must sit at the same
    depth on both sides (DSPy: caller, callback wrapper, __call__, then the function)."""
    mine = frames_of(lambda: Tool(boom)(x=1))
    theirs = frames_of(lambda: dspy.Tool(boom)(x=1))
    assert len(mine) == len(theirs) and mine[-2:] == theirs[-2:] == ["boom", "deeper"]


def test_a_converted_failing_tool_is_as_deep_as_in_dspy():
    """With the conversion on, DSPy's frames are: caller, callback wrapper, __call__, its conversion, asyncio.run:
    the five frames ReAct shows hold the same non-library frames on both sides."""
    with dspy.context(allow_tool_async_sync_conversion=True):
        mine = frames_of(lambda: Tool(later_boom)(x=1))
        theirs = frames_of(lambda: dspy.Tool(later_boom)(x=1))
    assert len(mine) == len(theirs) and mine[-3:] == theirs[-3:] == ["later_boom", "boom", "deeper"]
    # from the caller's frame (index 1) on, the fifth is asyncio.run, the last one ReAct's observation shows
    assert mine[5:] == theirs[5:] and mine[5] == "run"
