"""Generated tools for agent parity cases: specs as plain data, compiled to real Python functions per side.

Each side gets its own function objects (so a tool's side effects stay on its side), compiled from the same
source under the same pseudo file name (registered with ``linecache``), so a failing tool's traceback shows the
same user frames, source lines and ``^^^`` markers in DSPy's observation and in native's. The argument models
and enums are shared objects, so values built from them compare equal across sides.
"""

from __future__ import annotations

import enum
import hashlib
import linecache
from dataclasses import dataclass, field
from typing import Any, Literal, Optional

import pydantic

__all__ = ["Point", "Color", "ToolFailure", "ParamSpec", "ToolSpec", "build_tools", "tools_source"]


class Point(pydantic.BaseModel):
    """A structured tool argument."""

    x: int
    y: int = 0


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


class ToolFailure(Exception):
    """A user-defined exception a tool may raise (its module shows in the traceback's last line)."""


ToolKind = Literal["function", "async", "object", "dspy_tool", "native_tool"]
Behaviour = Literal["echo", "text", "value", "raise", "raise_nested"]


@dataclass(frozen=True)
class ParamSpec:
    name: str
    type_src: str | None = None      # annotation as written ("int", "list[str]", "Point"); None: no annotation
    default_src: str | None = None   # default value as written; None: required


@dataclass(frozen=True)
class ToolSpec:
    name: str
    params: tuple[ParamSpec, ...] = ()
    doc: str | None = None
    kind: ToolKind = "function"
    behaviour: Behaviour = "echo"
    value_src: str = "None"          # "value": the expression returned
    exc_src: str = "RuntimeError('tool failed')"   # "raise"/"raise_nested": the exception raised
    tool_name: str | None = None     # dspy_tool / native_tool: Tool(name=...)
    tool_desc: str | None = None
    arg_desc: tuple[tuple[str, str], ...] = field(default=())

    def signature_src(self) -> str:
        parts = []
        for p in self.params:
            text = p.name if p.type_src is None else f"{p.name}: {p.type_src}"
            parts.append(text if p.default_src is None else f"{text} = {p.default_src}")
        return ", ".join(parts)


def _body(spec: ToolSpec, indent: str) -> list[str]:
    names = [p.name for p in spec.params]
    if spec.behaviour == "echo":
        return [f"{indent}return {{'tool': {spec.name!r}, 'args': [{', '.join(names)}]}}"]
    if spec.behaviour == "text":
        return [f"{indent}return {spec.name + ': '!r} + repr(({', '.join(names)}{',' if len(names) == 1 else ''}))"]
    if spec.behaviour == "value":
        return [f"{indent}return {spec.value_src}"]
    if spec.behaviour == "raise":
        return [f"{indent}raise {spec.exc_src}"]
    return [f"{indent}return _fail_{spec.name}({names[0] if names else 'None'})"]


def _tool_source(spec: ToolSpec) -> list[str]:
    lines: list[str] = []
    if spec.behaviour == "raise_nested":
        lines += [f"def _fail_{spec.name}(value):", f"    raise {spec.exc_src}", ""]
    doc = [] if spec.doc is None else [f"    {spec.doc!r}"]
    if spec.kind == "object":
        lines += [f"class {spec.name}_tool:", *doc]
        lines += [f"    def __call__(self{', ' if spec.params else ''}{spec.signature_src()}):"]
        lines += _body(spec, "        ")
        lines += [f"{spec.name} = {spec.name}_tool()", ""]
        return lines
    head = "async def" if spec.kind == "async" else "def"
    lines += [f"{head} {spec.name}({spec.signature_src()}):", *doc, *_body(spec, "    "), ""]
    return lines


def tools_source(specs: tuple[ToolSpec, ...]) -> str:
    return "\n".join(line for spec in specs for line in _tool_source(spec)) + "\n"


def _namespace() -> dict[str, Any]:
    return {"__name__": "agent_tools", "Any": Any, "Optional": Optional, "Literal": Literal, "Point": Point,
            "Color": Color, "ToolFailure": ToolFailure}


def _compile(specs: tuple[ToolSpec, ...]) -> dict[str, Any]:
    source = tools_source(specs)
    filename = f"<agent-tools-{hashlib.sha1(source.encode()).hexdigest()[:12]}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
    namespace = _namespace()
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - generated from specs, no outside text
    return namespace


def build_tools(specs: tuple[ToolSpec, ...], side: str) -> list[Any]:
    """The ``tools=`` list for one side: functions, callable objects, ``dspy.Tool`` or native ``Tool`` objects."""
    namespace = _compile(specs)
    tools: list[Any] = []
    for spec in specs:
        func = namespace[spec.name]
        if spec.kind in ("dspy_tool", "native_tool"):
            if spec.kind == "native_tool" and side == "native":
                from dspex.native import Tool
            else:
                from dspy import Tool
            tools.append(Tool(func, name=spec.tool_name, desc=spec.tool_desc, arg_desc=dict(spec.arg_desc) or None))
        else:
            tools.append(func)
    return tools
