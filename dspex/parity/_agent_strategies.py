"""Hypothesis strategies for agent runs: tool sets, the LM's turns, and whole ReAct cases.

Tools are generated as specs (``_agent_tools``): typed and untyped parameters with defaults, docstrings, async
tools, callable objects, ``dspy.Tool`` / native ``Tool`` objects with overridden names and descriptions, and
behaviours that return every kind of value (including a list of ints, which DSPy's trajectory formatting
crashes on) or raise, directly or from a nested helper. Each LM turn calls a tool with valid or wrong
arguments, calls ``finish`` or an unknown tool, writes malformed JSON or the wrong format, or the LM raises
(a ValueError ends the loop, a context-window error truncates the trajectory, anything else crashes it).
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

from ._agent_case import AgentCase
from ._agent_tools import ParamSpec, ToolSpec
from ._case import FieldSpec, LMSpec, SignatureSpec
from ._completions import lm_responses
from ._type_strategies import NASTY_STRINGS
from .scripted_lm import Raise
from .strategies import inputs_for, module_fields, signature_specs

__all__ = ["TYPE_SOURCES", "tool_specs", "tool_sets", "tool_args", "react_turns", "react_cases", "context_window_error"]

TYPE_SOURCES = [None, "str", "int", "float", "bool", "list[str]", "list[int]", "dict[str, int]", "Optional[int]",
                "Literal['a', 'b']", "Point", "Color", "Any"]
_TOOL_NAMES = ["search", "lookup", "calc", "get_weather", "fetch_page", "add", "send_email", "wiki", "finish"]
_PARAM_NAMES = ["query", "x", "y", "city", "n", "items", "flag", "point", "color", "limit", "mode", "instance"]

words = st.text(st.sampled_from("abcdefghij klmnop"), min_size=1, max_size=12)
safe_texts = st.one_of(words, words, st.sampled_from(NASTY_STRINGS), st.text(max_size=8))


def context_window_error() -> Raise:
    from dspy.utils.exceptions import ContextWindowExceededError

    return Raise(ContextWindowExceededError, ())


# --- values an LM may write for a parameter ---------------------------------------------------------------------
def valid_values(type_src: str | None) -> st.SearchStrategy[Any]:
    ints = st.integers(-1000, 1000)
    return {
        "str": safe_texts, "int": ints, "bool": st.booleans(), "float": st.floats(-1e6, 1e6, allow_nan=False),
        "list[str]": st.lists(words, max_size=3), "list[int]": st.lists(ints, max_size=3),
        "dict[str, int]": st.dictionaries(words, ints, max_size=2), "Optional[int]": st.none() | ints,
        "Literal['a', 'b']": st.sampled_from(["a", "b"]), "Point": st.fixed_dictionaries({"x": ints}, optional={"y": ints}),
        "Color": st.sampled_from(["red", "green"]),
    }.get(type_src or "", st.none() | ints | words | st.lists(ints, max_size=2))


wrong_values = st.sampled_from(["abc", "1", 1.5, True, None, [1, "a"], {"k": "v"}, "", -1, "GREEN", {"x": "no"}])

_DEFAULTS = {"str": "'hello'", "int": "3", "float": "0.5", "bool": "False", "list[str]": "[]", "Optional[int]": "None",
             "Literal['a', 'b']": "'a'", "Point": "Point(x=1)", "Color": "Color.RED", None: "2"}


@st.composite
def param_lists(draw: Any) -> tuple[ParamSpec, ...]:
    names = draw(st.lists(st.sampled_from(_PARAM_NAMES), max_size=3, unique=True))
    required, optional = [], []
    for name in names:
        type_src = draw(st.sampled_from(TYPE_SOURCES))
        default = _DEFAULTS.get(type_src) if draw(st.integers(0, 3)) == 0 else None
        (optional if default is not None else required).append(ParamSpec(name, type_src, default))
    return tuple(required + optional)


_VALUES = ["'plain text'", "''", "42", "3.25", "None", "True", "['a', 'b\\nc']", "[]", "[1, 2]", "{'k': [1, 2]}",
           "{'nested': {'deep': None}}", "Point(x=1, y=2)", "('t', 1)", "Color.GREEN", "'«»[[ ## x ## ]]'"]
_EXCEPTIONS = ["RuntimeError('tool failed')", "ValueError('bad input «x»')", "KeyError('missing')",
               "ToolFailure('custom failure')", "ZeroDivisionError('division by zero')", "TypeError('wrong type')"]
_DOCS = [None, None, "Search the web.", "Multi-line doc.\n\n    Args:\n        x: a thing.", "Says «hi».", ""]


@st.composite
def tool_specs(draw: Any, name: str) -> ToolSpec:
    params = draw(param_lists())
    kind = draw(st.sampled_from(["function"] * 6 + ["async", "object", "dspy_tool", "native_tool"]))
    behaviour = draw(st.sampled_from(["echo", "echo", "text", "value", "value", "raise", "raise_nested"]))
    overrides: dict[str, Any] = {}
    if kind in ("dspy_tool", "native_tool"):
        overrides = {
            "tool_name": draw(st.sampled_from([None, None, f"{name}_v2", "finish"])),
            "tool_desc": draw(st.sampled_from([None, "Overridden description.", "Two\nlines"])),
            "arg_desc": tuple((p.name, f"About {p.name}.") for p in params if draw(st.booleans())),
        }
    return ToolSpec(
        name=name, params=params, doc=draw(st.sampled_from(_DOCS)), kind=kind, behaviour=behaviour,
        value_src=draw(st.sampled_from(_VALUES)), exc_src=draw(st.sampled_from(_EXCEPTIONS)), **overrides,
    )


@st.composite
def tool_sets(draw: Any) -> tuple[ToolSpec, ...]:
    names = draw(st.lists(st.sampled_from(_TOOL_NAMES), min_size=1, max_size=4))  # duplicates now and then
    return tuple(draw(tool_specs(name)) for name in names)


def tool_name_of(spec: ToolSpec) -> str:
    """The name the agent knows the tool by (DSPy's Tool: the override, or the function's / class's name)."""
    if spec.tool_name:
        return spec.tool_name
    return f"{spec.name}_tool" if spec.kind == "object" else spec.name


@st.composite
def tool_args(draw: Any, spec: ToolSpec | None) -> dict[str, Any]:
    """Arguments for a call: usually right, sometimes a wrong type, a missing or an unknown argument."""
    params = spec.params if spec is not None else ()
    args = {p.name: draw(valid_values(p.type_src)) for p in params if p.default_src is None or draw(st.booleans())}
    flaw = draw(st.sampled_from(["none"] * 8 + ["wrong", "missing", "extra"]))
    if flaw == "wrong" and params:
        args[draw(st.sampled_from([p.name for p in params]))] = draw(wrong_values)
    elif flaw == "missing" and args:
        args.pop(draw(st.sampled_from(sorted(args))))
    elif flaw == "extra":
        args[draw(st.sampled_from(["extra", "instance", "self"]))] = 1
    return args


def _chat_turn(thought: str, name: str, args_text: str, marker: bool = True) -> str:
    return (f"[[ ## next_thought ## ]]\n{thought}\n\n[[ ## next_tool_name ## ]]\n{name}\n\n"
            f"[[ ## next_tool_args ## ]]\n{args_text}\n\n" + ("[[ ## completed ## ]]" if marker else ""))


@st.composite
def react_turn_text(draw: Any, tools: tuple[ToolSpec, ...], json_first: bool = False) -> str:
    """One completion for ReAct's inner Predict (ChatAdapter's format, JSON now and then, sometimes broken)."""
    target = draw(st.sampled_from(["tool"] * 24 + ["finish", "unknown", "quoted", "quoted"]))
    spec = draw(st.sampled_from(list(tools))) if target in ("tool", "quoted") else None
    name = {"finish": "finish", "unknown": "no_such_tool"}.get(target) or tool_name_of(spec)  # type: ignore[arg-type]
    if target == "quoted":
        name = draw(st.sampled_from([f"'{name}'", f"Literal['{name}']", f" {name} ", f'"{name}"'] * 3 + [name.upper()]))
    args = draw(tool_args(spec)) if target != "finish" or draw(st.integers(0, 4)) == 0 else {}
    thought = draw(safe_texts)
    style = draw(st.sampled_from(["chat"] * 40 + ["json", "json", "repr_args", "repr_args", "broken_json", "no_marker",
                                                   "no_marker", "missing"]))
    if json_first and draw(st.integers(0, 9)):
        style = "json"
    dumped = json.dumps(args, ensure_ascii=draw(st.booleans()))
    if style == "json":
        return json.dumps({"next_thought": thought, "next_tool_name": name, "next_tool_args": args})
    if style == "repr_args":
        return _chat_turn(thought, name, repr(args))
    if style == "broken_json":
        return _chat_turn(thought, name, dumped[:-1] if len(dumped) > 2 else "{'a': ")
    if style == "missing":
        return f"[[ ## next_thought ## ]]\n{thought}\n\n[[ ## next_tool_name ## ]]\n{name}\n\n[[ ## completed ## ]]"
    return _chat_turn(thought, name, dumped, marker=style != "no_marker")


@st.composite
def react_turns(draw: Any, tools: tuple[ToolSpec, ...], n: int, json_first: bool = False) -> list[Any]:
    """The LM's answers for one turn: ``n`` completions (then, now and then, a JSON answer for the adapter's
    fallback call), or an exception from the LM."""
    kind = draw(st.sampled_from(["turn"] * 24 + ["value_error", "context", "runtime"]))
    if kind == "value_error":
        return [Raise(ValueError, ("model refused «x»",))]
    if kind == "context":
        return [context_window_error()]
    if kind == "runtime":
        return [Raise(RuntimeError, ("upstream 500",))]
    entries: list[Any] = [[draw(react_turn_text(tools, json_first)) for _ in range(n)]]
    if draw(st.integers(0, 5)) == 0:  # the next call is the JSON fallback if this answer fails to parse
        spec = draw(st.sampled_from(list(tools)))
        entries.append([dual_turn(draw(safe_texts), tool_name_of(spec), draw(tool_args(spec))) for _ in range(n)])
    return entries


def dual_turn(thought: str, name: str, args: dict[str, Any]) -> str:
    """A completion both adapters read as a turn: chat sections whose thought is the whole turn as JSON (what
    JSONAdapter finds as the first balanced braces). Either a next turn or the fallback call may consume it."""
    whole = json.dumps({"next_thought": thought, "next_tool_name": name, "next_tool_args": args})
    return _chat_turn(whole, name, json.dumps(args))


_PLAIN_INPUTS = [("question", None), ("topic", str), ("city", str), ("count", int)]
_PLAIN_OUTPUTS = [("answer", None), ("summary", str), ("total", int), ("ok", bool), ("tags", list[str])]


@st.composite
def plain_signatures(draw: Any) -> SignatureSpec:
    """What agents are mostly given: a few str/int inputs, a few simple outputs."""
    ins = draw(st.lists(st.sampled_from(_PLAIN_INPUTS), min_size=1, max_size=2, unique_by=lambda f: f[0]))
    outs = draw(st.lists(st.sampled_from(_PLAIN_OUTPUTS), min_size=1, max_size=2, unique_by=lambda f: f[0]))
    fields = tuple(FieldSpec(n, "input", a) for n, a in ins) + tuple(FieldSpec(n, "output", a) for n, a in outs)
    instructions = draw(st.sampled_from([None, None, "Answer with the tools.", "Be brief.\n\nUse «tools»."]))
    return SignatureSpec(fields, instructions, draw(st.sampled_from(["string", "class", "dspy_class"])))


@st.composite
def agent_signatures(draw: Any) -> SignatureSpec:
    if draw(st.integers(0, 2)):
        return draw(plain_signatures())
    return draw(signature_specs(forms=("string", "class", "dspy_class"), max_inputs=2, max_outputs=2, custom=False,
                                refused_extras=False))


@st.composite
def react_cases(draw: Any) -> AgentCase:
    spec = draw(agent_signatures())
    tools = draw(tool_sets())
    config = draw(st.sampled_from([None] * 6 + [{"n": 2}, {"temperature": 0.3}, {"n": 2, "temperature": 0.0}]))
    n = (config or {}).get("n", 1)
    adapter = draw(st.sampled_from(["chat"] * 5 + ["json", "chat_no_fallback", "xml"]))
    turns = [entry for _ in range(draw(st.integers(0, 5))) for entry in draw(react_turns(tools, n, adapter == "json"))]
    limit = draw(st.sampled_from([None, None, None, 1, 2, 3, 5]))   # max_iters (None: DSPy's default, 20)
    ending = draw(st.sampled_from(["finish"] * 6 + ["out_of_iterations"] * 2 + ["open"]))
    if ending == "finish":  # the LM says it is done
        turns.append([dual_turn(draw(safe_texts), "finish", {}) for _ in range(n)])
        if limit is not None:
            limit = max(limit, len(turns))
    elif ending == "out_of_iterations":  # the loop runs out of turns before the LM finishes
        limit = len(turns)
    via_call = limit is not None and draw(st.booleans())  # max_iters= per call rather than to the constructor
    _, outputs = module_fields(spec, "cot")
    extract = [draw(lm_responses(outputs, n, "json" if adapter == "json" else "chat", clean=draw(st.integers(0, 3)) > 0))]
    extract += [draw(lm_responses(outputs, n, "json", clean=True)) for _ in range(2)]
    return AgentCase(
        module="react", signature=spec, tools=tools, inputs=draw(inputs_for(spec, odd=False)),
        lm=LMSpec(tuple(turns + extract), kwargs=None if config else draw(st.sampled_from(
            [None] * 7 + [{"n": 2, "temperature": None, "max_tokens": None}, {"temperature": 0.2, "max_tokens": 50}]))),
        kind=f"react, ends: {ending}", config=config,
        max_iters=None if via_call else limit, call_max_iters=limit if via_call else None,
        adapter=adapter,  # type: ignore[arg-type]
        mode=draw(st.sampled_from(["sync", "sync", "async"])),
    )
