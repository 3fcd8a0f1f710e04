"""Strategies for what an LM answers: well-formed completions rendered from generated output values, the way a
real LM writes them, and corrupted ones (noise, indentation, missing or duplicated fields, JSON instead of
headers, wrong types, ...), wrapped as DSPy's LM call convention returns them (str or dict entries in a list),
plus malformed wrappers (None, a bare string, too few or too many completions).
"""

from __future__ import annotations

import datetime
import enum
import json
import math
from typing import Any, Sequence

from hypothesis import strategies as st

from ._type_strategies import texts, values_of

__all__ = ["jsonable", "render_value", "chat_completions", "json_completions", "completion_entries", "lm_responses"]

Outputs = Sequence[tuple[str, Any]]  # (field name, annotation) in signature order


def jsonable(value: Any) -> Any:
    """A generated value as plain JSON data (what an LM would write inside a JSON answer)."""
    if isinstance(value, enum.Enum):
        return jsonable(value.value)
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if hasattr(value, "model_dump"):
        try:
            return value.model_dump(mode="json")
        except Exception:  # noqa: BLE001 - e.g. undecodable bytes inside an Any field: the LM writes *something*
            return str(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (bytes, bytearray, complex)) or not isinstance(value, (str, int, float, bool, type(None), list,
                                                                                 tuple, set, frozenset)):
        return str(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def _dumps(value: Any) -> str:
    return json.dumps(jsonable(value), ensure_ascii=False, default=str)


@st.composite
def render_value(draw: Any, value: Any) -> str:
    """How an LM might write ``value`` after a field header: plain, or a lax-but-plausible variant."""
    if isinstance(value, bool):
        return draw(st.sampled_from([str(value), str(value).lower(), "yes" if value else "no", str(int(value))]))
    if isinstance(value, (datetime.date, datetime.time)):   # ISO, Python's str, JSON-quoted, or a human's date
        return draw(st.sampled_from([value.isoformat(), str(value), _dumps(value.isoformat()), "tomorrow",
                                     value.isoformat().replace("T", " ")]))
    if isinstance(value, int):
        return draw(st.sampled_from([str(value), f"{value}.0", f" {value} ", f"{value}\n"]))
    if isinstance(value, float):
        return draw(st.sampled_from([repr(value), str(value), f"{value:g}"]))
    if value is None:
        return draw(st.sampled_from(["None", "null", "none", ""]))
    if isinstance(value, enum.Enum):
        return draw(st.sampled_from([str(value.value), value.name, _dumps(value)]))
    if isinstance(value, str):
        return value
    if hasattr(value, "model_dump_json"):
        dumped = _dumps(value)
        return draw(st.sampled_from([dumped, json.dumps(json.loads(dumped), indent=2, ensure_ascii=False)]))
    dumped = _dumps(value)
    return draw(st.sampled_from([dumped, f"```json\n{dumped}\n```", repr(value) if not isinstance(value, set) else dumped]))


_NASTY_BY_TYPE: dict[Any, list[str]] = {
    int: ["1_000", "0x10", "+5", "5.", "1e3", "3.0", "3.5", "-0", "００７", "٣", " 42 ", "42\n\nextra", "forty-two",
          "[42]", '"42"', "'42'", "None", "null", "true", "9" * 25, "-", "1/2"],
    float: ["NaN", "nan", "Infinity", "-inf", "1e-9", "1E5", ".5", "5.", "1_000.5", "3", '"3.5"', "3,5", "½", "1e400"],
    bool: ["TRUE", "yes", "no", "on", "off", "1", "0", "t", "f", "y", '"true"', "True.", "false\n", "Yes!", "2"],
}
_NASTY_STRUCTURED = ["[]", "{}", "null", "None", "[1, 2,]", "{'a': 1}", "{\"a\": 1,}", "(1, 2)", "[1, [2", "```\n[1]\n```",
                     '{"x": NaN}', "[true, false]", "['a', \"b\"]", "set()", "{1, 2}", "[[ ## a ## ]]", "~", "undefined"]


@st.composite
def nasty_rendering(draw: Any, tp: Any) -> str:
    """Text a sloppy LM might write for a field of type ``tp``: near-misses that stress lax parsing."""
    pool = _NASTY_BY_TYPE.get(tp)
    if pool is not None:
        return draw(st.sampled_from(pool))
    args = getattr(tp, "__args__", None) or ()
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        member = draw(st.sampled_from(list(tp)))
        return draw(st.sampled_from([member.name.lower(), f"'{member.value}'", f"{tp.__name__}.{member.name}",
                                     f" {member.value} ", str(member.value).upper(), f'"{member.name}"']))
    if getattr(tp, "__origin__", None) is None and not args:
        return draw(st.sampled_from(_NASTY_STRUCTURED))
    literal_like = [a for a in args if isinstance(a, (str, int, bool)) or a is None]
    if literal_like and draw(st.integers(0, 3)):
        value = draw(st.sampled_from(literal_like))
        if draw(st.integers(0, 2)) == 0:   # wrapped in one character at both ends that is not a quote (markdown's
            wrap = draw(st.sampled_from("`*X"))   # `x`/*x*, a stray letter): DSPy strips only a pair of quotes
            return f"{wrap}{value}{wrap}"
        return draw(st.sampled_from([str(value).upper(), str(value).lower(), f"'{value}'", f'"{value}"', f"{value}.",
                                     f" {value}", repr(value)]))
    return draw(st.sampled_from(_NASTY_STRUCTURED + ["none", "NULL", ""]))


_CORRUPTIONS = [
    "none", "none", "none", "none", "none", "none",  # well-formed most of the time
    "leading_noise", "indented_header", "missing_field", "wrong_type", "json_instead", "no_marker", "duplicate_header",
    "text_on_header", "unknown_header", "trailing_noise", "crlf", "empty", "header_only",
]


def _header(name: str) -> str:
    return f"[[ ## {name} ## ]]"


@st.composite
def chat_completions(draw: Any, outputs: Outputs, clean: bool = False) -> str:
    """One completion text in ChatAdapter's format; corrupted now and then unless ``clean``."""
    values = {name: draw(values_of(tp)) for name, tp in outputs}
    sections = [
        (name, draw(nasty_rendering(tp)) if tp is not str and draw(st.integers(0, 4)) == 0 else draw(render_value(values[name])))
        for name, tp in outputs
    ]
    corruption = "none" if clean else draw(st.sampled_from(_CORRUPTIONS))
    marker = True
    prefix = suffix = ""
    if corruption == "missing_field" and sections:
        sections.pop(draw(st.integers(0, len(sections) - 1)))
    elif corruption == "wrong_type" and sections:
        i = draw(st.integers(0, len(sections) - 1))
        sections[i] = (sections[i][0], draw(st.sampled_from(["not a value", "[1, 2", "{'a': }", "3.5", "maybe", ""])))
    elif corruption == "json_instead":
        return _dumps(values)
    elif corruption == "no_marker":
        marker = False
    elif corruption == "leading_noise":
        prefix = draw(st.sampled_from(["Sure! Here is the answer:\n\n", "Reasoning first.\n", "   "]))
    elif corruption == "trailing_noise":
        suffix = draw(st.sampled_from(["\nHope this helps!", "\n\n[[ ## extra ## ]]\nstuff"]))
    elif corruption == "duplicate_header" and sections:
        i = draw(st.integers(0, len(sections) - 1))
        sections.append((sections[i][0], draw(texts)))
    elif corruption == "unknown_header":
        sections.insert(draw(st.integers(0, len(sections))), ("unexpected_field", draw(texts)))
    elif corruption == "empty":
        return ""
    elif corruption == "header_only" and sections:
        sections = [(name, "") for name, _ in sections]
    parts = []
    indent = draw(st.sampled_from(["  ", "\t"])) if corruption == "indented_header" else ""
    for name, text in sections:
        if corruption == "text_on_header":
            parts.append(f"{indent}{_header(name)} {text}\n\n")
        else:
            parts.append(f"{indent}{_header(name)}\n{text}\n\n")
    body = prefix + "".join(parts) + (_header("completed") if marker else "") + suffix
    return body.replace("\n", "\r\n") if corruption == "crlf" else body


@st.composite
def json_completions(draw: Any, outputs: Outputs, clean: bool = False) -> str:
    """One completion text as JSONAdapter expects it (a JSON object), maybe corrupted."""
    values = {name: jsonable(draw(values_of(tp))) for name, tp in outputs}
    corruption = "none" if clean else draw(st.sampled_from(["none", "none", "none", "fenced", "missing", "wrong", "garbage", "array", "extra"]))
    if corruption == "missing" and values:
        values.pop(draw(st.sampled_from(sorted(values))))
    elif corruption == "wrong" and values:
        values[draw(st.sampled_from(sorted(values)))] = draw(st.sampled_from(["x", None, [1], {"k": 1}, 3.5, True]))
    elif corruption == "garbage":
        return draw(st.sampled_from(["not json at all", "{", "", "[[ ## answer ## ]]\n1", "null"]))
    elif corruption == "array":
        return json.dumps(list(values.values()), ensure_ascii=False, default=str)
    elif corruption == "extra":
        values["surprise"] = "field"
    text = json.dumps(values, ensure_ascii=False, default=str)
    return f"```json\n{text}\n```" if corruption == "fenced" else text


@st.composite
def completion_entries(draw: Any, text: st.SearchStrategy[str]) -> Any:
    """An entry of the LM's returned list: mostly a string, sometimes a dict (with logprobs), or junk."""
    kind = draw(st.sampled_from(["str"] * 8 + ["dict", "dict_logprobs", "dict_no_text", "dict_none", "none", "int"]))
    if kind == "str":
        return draw(text)
    if kind == "dict":
        return {"text": draw(text)}
    if kind == "dict_logprobs":
        return {"text": draw(text), "logprobs": {"content": [{"token": "a", "logprob": -0.5}]}}
    if kind == "dict_no_text":
        return {"logprobs": None, "reasoning_content": "hmm"}
    if kind == "dict_none":
        return {"text": None}
    if kind == "none":
        return None
    return 42


@st.composite
def lm_responses(draw: Any, outputs: Outputs, n: int, style: str = "chat", clean: bool = False) -> Any:
    """What one LM call returns: usually ``n`` completions; sometimes fewer, more, none, or a malformed wrapper."""
    text = chat_completions(outputs, clean) if style == "chat" else json_completions(outputs, clean)
    if clean:
        return [draw(text) for _ in range(n)]
    shape = draw(st.sampled_from(["n"] * 10 + ["fewer", "more", "zero", "bare_string", "none"]))
    if shape == "bare_string":
        return draw(text)
    if shape == "none":
        return None
    count = {"n": n, "fewer": max(n - 1, 1) if n > 1 else 0, "more": n + 1, "zero": 0}[shape]
    return [draw(completion_entries(text)) for _ in range(count)]
