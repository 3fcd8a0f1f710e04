"""Differential tests: dspex's ChatAdapter/JSONAdapter against real DSPy 3.4.1 on the same signatures.

Every assertion compares native output with DSPy's output for the same input: messages byte for byte, parsed
values in value and type, errors in class name and message, LM requests in messages and kwargs.
"""

from __future__ import annotations

import asyncio
import collections.abc
import datetime
import decimal
import enum
import math
import uuid
from typing import Any, Literal, Optional, Union

import dspy
import pydantic
import pytest

from adapters_support import (
    Color,
    Inner,
    Level,
    Outer,
    PlainLM,
    ScriptedLM,
    assert_same_outcome,
    io,
    normalize_request,
    outcome,
    same_value,
    twins,
)
from dspex.adapters import ChatAdapter, JSONAdapter

pytestmark = pytest.mark.parity

ADAPTERS = [(ChatAdapter, dspy.ChatAdapter), (JSONAdapter, dspy.JSONAdapter)]
ADAPTER_IDS = ["chat", "json"]

OUTPUT_TYPES: list[Any] = [
    str, int, float, bool, list[str], list[int], dict[str, int], dict, list, tuple[int, str], Optional[int],
    Optional[str], int | None, str | None, Union[int, str], Literal["yes", "no"], Literal[1, 2, 3],
    Literal["it's", 'say "hi"'], Color, Level, Inner, Outer, list[Outer], Any, set[int], dict[str, list[Inner]],
    Optional[Outer], list[Literal["a", "b"]], tuple[int, ...],
]


def _type_id(t: Any) -> str:
    return getattr(t, "__name__", None) or str(t)


def _format_both(native_cls: Any, real_cls: Any, sigs: tuple[Any, Any], demos: list[Any], inputs: dict[str, Any]) -> None:
    native_sig, real_sig = sigs
    expected = outcome(lambda: real_cls().format(real_sig, demos, inputs))
    got = outcome(lambda: native_cls().format(native_sig, demos, inputs))
    assert got == expected


# --- format: system message and user message --------------------------------------------------------------------
@pytest.mark.parametrize(("native_cls", "real_cls"), ADAPTERS, ids=ADAPTER_IDS)
@pytest.mark.parametrize("out_type", OUTPUT_TYPES, ids=_type_id)
def test_format_every_output_type(native_cls: Any, real_cls: Any, out_type: Any) -> None:
    sigs = io({"question": str}, {"answer": out_type, "note": str})
    _format_both(native_cls, real_cls, sigs, [], {"question": "What?"})


@pytest.mark.parametrize(("native_cls", "real_cls"), ADAPTERS, ids=ADAPTER_IDS)
@pytest.mark.parametrize("in_type", OUTPUT_TYPES, ids=_type_id)
def test_format_every_input_type(native_cls: Any, real_cls: Any, in_type: Any) -> None:
    sigs = io({"thing": in_type, "q": str}, {"answer": str})
    _format_both(native_cls, real_cls, sigs, [], {"thing": None, "q": "x"})


@pytest.mark.parametrize(("native_cls", "real_cls"), ADAPTERS, ids=ADAPTER_IDS)
@pytest.mark.parametrize(
    "instructions",
    [
        None,
        "",
        "Answer briefly.",
        "Line one.\n\n  indented line\n\tTabbed.\n\nLast — ünïcödé ✓ 漢字",
        "    Leading indentation\n    kept relative\n        deeper",
        "Trailing blank lines\n\n\n",
        "Weird separators\r\nCRLF\u2028LS\x0cFF",
        "[[ ## answer ## ]] inside instructions {braces} «guillemets»",
    ],
)
def test_format_instructions(native_cls: Any, real_cls: Any, instructions: str | None) -> None:
    sigs = io({"question": str, "ctx": list[str]}, {"answer": int}, instructions)
    _format_both(native_cls, real_cls, sigs, [], {"question": "q", "ctx": ["a", "b"]})


@pytest.mark.parametrize(("native_cls", "real_cls"), ADAPTERS, ids=ADAPTER_IDS)
def test_format_descriptions_prefixes_and_constraints(native_cls: Any, real_cls: Any) -> None:
    sigs = twins(
        [
            ("question", "in", str, {"desc": "The user's question, verbatim."}),
            ("k", "in", int, {"desc": "How many", "ge": 1, "le": 10}),
            ("empty_desc", "in", str, {"desc": ""}),
            ("answer", "out", str, {"desc": "A short answer", "prefix": "Final Answer:"}),
            ("score", "out", float, {"gt": 0.0, "lt": 1.0, "desc": "confidence"}),
            ("items", "out", list[str], {"min_length": 1, "max_length": 3}),
            ("n", "out", int, {"multiple_of": 2}),
        ],
        "Be careful.",
    )
    _format_both(native_cls, real_cls, sigs, [], {"question": "q", "k": 3, "empty_desc": ""})


@pytest.mark.parametrize(("native_cls", "real_cls"), ADAPTERS, ids=ADAPTER_IDS)
def test_format_no_inputs_and_many_outputs(native_cls: Any, real_cls: Any) -> None:
    sigs = io({}, {"a": str, "b": int, "c": Optional[str]})
    _format_both(native_cls, real_cls, sigs, [], {})


class _Plain:
    def __str__(self) -> str:
        return "plain-object"


ODD_VALUES: list[Any] = [
    "plain text",
    "",
    "  spaced  \n\n",
    "multi\nline «with» guillemets",
    "unicode ✓ 漢字 \u2028 sep",
    0, -7, 10**30, True, False, None,
    1.5, 1e-9, 1e20, -0.0, float("inf"), float("-inf"), float("nan"),
    [], ["one"], ["a", "b\nc", "«x»"], [1, 2], [1.5, None, True], [["nested"]], [{"k": "v"}],
    {}, {"a": 1, "b": [1, 2, {"c": None}]}, {"ü": "ß"}, {1: "int key"}, {"x": float("inf")}, {"f": 1e-9},
    (1, 2), ("a",), {3, 1, 2}, frozenset({"z"}), b"bytes", Color.RED, Level.HIGH,
    Inner(x=1, tags=["t"]), Outer(name="n", inner=Inner(x=2)), [Inner(x=3)], {"m": Inner(x=4)},
    datetime.date(2024, 1, 2), datetime.datetime(2024, 1, 2, 3, 4, 5), decimal.Decimal("1.10"),
    uuid.UUID(int=7), complex(1, 2), _Plain(), object,
]


@pytest.mark.parametrize(("native_cls", "real_cls"), ADAPTERS, ids=ADAPTER_IDS)
@pytest.mark.parametrize("field_type", [str, int, list[str], Any], ids=_type_id)
@pytest.mark.parametrize("value", ODD_VALUES, ids=lambda v: type(v).__name__)
def test_format_odd_input_values(native_cls: Any, real_cls: Any, field_type: Any, value: Any) -> None:
    sigs = io({"v": field_type, "w": str}, {"answer": str})
    _format_both(native_cls, real_cls, sigs, [], {"v": value, "w": "tail  \n"})


@pytest.mark.parametrize(("native_cls", "real_cls"), ADAPTERS, ids=ADAPTER_IDS)
def test_format_missing_and_extra_inputs(native_cls: Any, real_cls: Any) -> None:
    sigs = io({"a": str, "b": int, "c": str}, {"out": str})
    _format_both(native_cls, real_cls, sigs, [], {"b": 2, "zzz": "ignored"})


@pytest.mark.parametrize(("native_cls", "real_cls"), ADAPTERS, ids=ADAPTER_IDS)
def test_format_legacy_custom_type_marker_in_input(native_cls: Any, real_cls: Any) -> None:
    sigs = io({"a": str}, {"out": str})
    for text in [
        'before <<CUSTOM-TYPE-START-IDENTIFIER>>[{"type": "text", "text": "hi"}, 3]<<CUSTOM-TYPE-END-IDENTIFIER>> after',
        "<<CUSTOM-TYPE-START-IDENTIFIER>> not json <<CUSTOM-TYPE-END-IDENTIFIER>>",
        "<<CUSTOM-TYPE-START-IDENTIFIER>>unterminated",
        '<<CUSTOM-TYPE-START-IDENTIFIER>>{"a": 1}<<CUSTOM-TYPE-END-IDENTIFIER>>',
    ]:
        _format_both(native_cls, real_cls, sigs, [], {"a": text})


# --- format: demos ----------------------------------------------------------------------------------------------
DEMOS: list[dict[str, Any]] = [
    {"question": "q1", "ctx": ["c1", "c2"], "answer": 1, "why": "because"},  # complete
    {"question": "q2", "answer": 2},  # incomplete: missing ctx and why
    {"question": "q3", "ctx": None, "answer": 3, "why": "w"},  # incomplete: None input
    {"question": "q4", "ctx": [], "answer": None, "why": "w  \n"},  # incomplete: None output
    {"question": "inputs only"},  # dropped
    {"answer": 5},  # dropped (outputs only)
    {},  # dropped
    {"question": "q6", "ctx": ["x"], "answer": 6, "why": "tail spaces   ", "extra": "ignored"},  # complete
    {"ctx": ["only ctx"], "why": "only why"},  # incomplete
]


@pytest.mark.parametrize(("native_cls", "real_cls"), ADAPTERS, ids=ADAPTER_IDS)
@pytest.mark.parametrize("as_example", [False, True], ids=["dict", "Example"])
def test_format_demos(native_cls: Any, real_cls: Any, as_example: bool) -> None:
    sigs = io({"question": str, "ctx": list[str]}, {"answer": int, "why": str})
    demos = [dspy.Example(**d) if as_example else d for d in DEMOS]
    _format_both(native_cls, real_cls, sigs, demos, {"question": "now", "ctx": ["c"]})


@pytest.mark.parametrize(("native_cls", "real_cls"), ADAPTERS, ids=ADAPTER_IDS)
def test_format_demos_with_structured_values(native_cls: Any, real_cls: Any) -> None:
    sigs = io({"q": str}, {"model": Outer, "tags": list[str], "c": Color, "f": float})
    demos = [
        {"q": "a", "model": Outer(name="x", inner=Inner(x=1)), "tags": ["t1", "t2"], "c": Color.GREEN, "f": 0.5},
        {"q": "b", "model": {"name": "y"}, "tags": [], "c": "red", "f": float("nan")},
        {"q": "c", "tags": ["only"]},
    ]
    _format_both(native_cls, real_cls, sigs, demos, {"q": "now"})


@pytest.mark.parametrize(("native_cls", "real_cls"), ADAPTERS, ids=ADAPTER_IDS)
def test_format_demo_str_field_given_int_list_crashes_alike(native_cls: Any, real_cls: Any) -> None:
    sigs = io({"q": str}, {"a": str})
    _format_both(native_cls, real_cls, sigs, [], {"q": [1, 2]})
    _format_both(native_cls, real_cls, sigs, [], {"q": [5]})
    _format_both(native_cls, real_cls, sigs, [{"q": "x", "a": [1, 2]}], {"q": "y"})


# --- parse ------------------------------------------------------------------------------------------------------
def _parse_both(native_cls: Any, real_cls: Any, sigs: tuple[Any, Any], completion: str) -> None:
    native_sig, real_sig = sigs
    expected = outcome(lambda: real_cls().parse(real_sig, completion))
    got = outcome(lambda: native_cls().parse(native_sig, completion))
    assert_same_outcome(got, expected)


CHAT_VALUES: dict[Any, list[str]] = {
    int: ["3", "3.0", "1e3", "3.5", "-0", "  7  ", "seven", "", "[1]", "True", "0x10", "1_000", '"4"'],
    float: ["1.5", "nan", "NaN", "Infinity", "-inf", "1e-9", "x", "3", "[1.5]", "1,5"],
    bool: ["True", "true", "yes", "on", "1", "0", "off", "no", "maybe", "False", "2"],
    list[str]: ['["a", "b"]', "['a', 'b']", "a, b", "[1, 2]", "[]", '["unterminated', "- a\n- b"],
    list[int]: ["[1, 2]", "[1, 'x']", "1", "[1.0, 2.5]", "(1, 2)"],
    dict[str, int]: ['{"a": 1}', "{'a': 1}", "{a: 1}", '{"a": "x"}', "{}", "{1: 2}"],
    tuple[int, str]: ['[1, "a"]', "(1, 'a')", "[1]", "1, a"],
    Optional[int]: ["None", "null", "none", "5", "", "x"],
    Optional[str]: ["None", "null", "text", ""],
    str | None: ["None", "text"],
    Union[int, str]: ["5", "x", "5.5", '"5"'],
    Literal["yes", "no"]: ["yes", " no ", "'yes'", '"no"', "Literal['yes']", "str[no]", "Yes", "maybe", "yes."],
    Literal[1, 2, 3]: ["2", "'2'", "Literal[3]", "4", "two"],
    Color: ["red", "RED", "green", "Red", "blue", '"red"'],
    Level: ["1", "HIGH", "LOW", "3"],
    Inner: ['{"x": 1}', '{"x": "2", "tags": ["a"]}', '{"x": 1.5}', "{'x': 3}", "x=1", '{"y": 1}'],
    Outer: ['{"name": "n", "inner": {"x": 1}}', '{"name": "n"}', '```json\n{"name": "n", "inner": {"x": 2}}\n```'],
    Any: ["1", "text", "[1, 2]", "{'a': None}", "None"],
    set[int]: ["[1, 2, 2]", "{1, 2}", "[]"],
}


@pytest.mark.parametrize("annotation", list(CHAT_VALUES), ids=_type_id)
def test_chat_parse_values(annotation: Any) -> None:
    sigs = io({"q": str}, {"answer": annotation})
    for value in CHAT_VALUES[annotation]:
        _parse_both(ChatAdapter, dspy.ChatAdapter, sigs, f"[[ ## answer ## ]]\n{value}\n\n[[ ## completed ## ]]\n")


@pytest.mark.parametrize("annotation", list(CHAT_VALUES), ids=_type_id)
def test_json_parse_values(annotation: Any) -> None:
    sigs = io({"q": str}, {"answer": annotation})
    for value in CHAT_VALUES[annotation]:
        for completion in (f'{{"answer": {value}}}', f'{{"answer": "{value}"}}', f"{{'answer': {value!r}}}"):
            _parse_both(JSONAdapter, dspy.JSONAdapter, sigs, completion)


CHAT_COMPLETIONS = [
    "[[ ## a ## ]]\nhello\n\n[[ ## b ## ]]\n3\n\n[[ ## completed ## ]]",
    "noise before\n[[ ## a ## ]]\nhello\n[[ ## b ## ]]\n3",
    "   [[ ## a ## ]]\nindented header\n  [[ ## b ## ]] 4",
    "[[ ## a ## ]] text on header line\nmore\n[[ ## b ## ]]   5   ",
    "[[ ## a ## ]]\nfirst\n[[ ## a ## ]]\nsecond\n[[ ## b ## ]]\n1\n[[ ## b ## ]]\n2",
    "[[ ## a ## ]]\nx\n[[ ## unknown ## ]]\ny\n[[ ## b ## ]]\n6",
    "[[ ## a ## ]]\nonly a",
    "[[ ## b ## ]]\n7",
    '{"a": "json instead", "b": 3}',
    "",
    "   ",
    "[[ ## a ## ]]\n\n[[ ## b ## ]]\n",
    "[[ ## A ## ]]\ncase\n[[ ## b ## ]]\n1",
    "[[## a ##]]\nbad spacing\n[[ ## b ## ]]\n1",
    "[[ ## a ## ]]\nmulti\n\n  line\n\tvalue  \n[[ ## b ## ]]\nnot a number",
    "[[ ## a ## ]]\r\ncrlf\r\n[[ ## b ## ]]\r\n8\r\n",
    "[[ ## a ## ]]\nx\u2028[[ ## b ## ]]\n9",
    "[[ ## a ## ]]\nv\n[[ ## completed ## ]]\n[[ ## b ## ]]\n10",
    "[[ ## b ## ]]\n11\n[[ ## a ## ]]\nreversed order",
    "text [[ ## a ## ]] mid-line\n[[ ## b ## ]]\n1",
]


@pytest.mark.parametrize("completion", CHAT_COMPLETIONS)
@pytest.mark.parametrize("b_type", [int, Optional[int], str], ids=_type_id)
def test_chat_parse_completions(completion: str, b_type: Any) -> None:
    sigs = io({"q": str}, {"a": str, "b": b_type})
    _parse_both(ChatAdapter, dspy.ChatAdapter, sigs, completion)


def test_chat_parse_output_defaults() -> None:
    sigs = twins(
        [
            ("q", "in", str, {}),
            ("a", "out", str, {}),
            ("d", "out", int, {"default": 42}),
            ("f", "out", list[str], {"default_factory": list}),
            ("o", "out", Optional[Inner], {}),
        ]
    )
    for completion in ["[[ ## a ## ]]\nx", "[[ ## d ## ]]\n1", "[[ ## a ## ]]\nx\n[[ ## o ## ]]\nNone", ""]:
        _parse_both(ChatAdapter, dspy.ChatAdapter, sigs, completion)
        _parse_both(JSONAdapter, dspy.JSONAdapter, sigs, completion.replace("[[ ## a ## ]]\nx", '{"a": "x"}'))


JSON_COMPLETIONS = [
    '{"a": "x", "b": 1}',
    '```json\n{"a": "x", "b": 2}\n```',
    'Sure! Here it is: {"a": "x", "b": 3} hope that helps {"a": "y"}',
    '{"a": "x", "b": 4',
    "{'a': 'x', 'b': 5}",
    '[{"a": "x", "b": 6}]',
    '"just a string"',
    "42",
    "",
    "no json at all",
    "{ { unbalanced } and then {\"a\": \"z\", \"b\": 7}",
    '{"a": {"nested": true}, "b": "8"}',
    '{"a": null, "b": null}',
    '{"b": 9}',
    '{"a": "x", "b": "nine"}',
    '{"b": "bad", "a": "x", "zzz": 1}',
    '{"a": "x", "b": 1, "a": "dup"}',
    '{"a": "x", "b": NaN}',
    '{"a": "ü", "b": 1e400}',
    "}{ reversed braces {\"a\": \"r\", \"b\": 10}",
    "[[ ## a ## ]]\nchat format\n[[ ## b ## ]]\n1",
]


@pytest.mark.parametrize("completion", JSON_COMPLETIONS)
@pytest.mark.parametrize("b_type", [int, Optional[int], str, float], ids=_type_id)
def test_json_parse_completions(completion: str, b_type: Any) -> None:
    sigs = io({"q": str}, {"a": str, "b": b_type})
    _parse_both(JSONAdapter, dspy.JSONAdapter, sigs, completion)


# --- the whole call ---------------------------------------------------------------------------------------------
def _call_both(
    native_cls: Any,
    real_cls: Any,
    sigs: tuple[Any, Any],
    script: list[Any],
    *,
    lm_kwargs: dict[str, Any] | None = None,
    params: set[str] | None = None,
    schema: bool = False,
    demos: list[Any] | None = None,
    inputs: dict[str, Any] | None = None,
    use_async: bool = False,
) -> None:
    native_sig, real_sig = sigs
    inputs = {"q": "question?"} if inputs is None else inputs
    results = []
    for cls, sig in ((native_cls, native_sig), (real_cls, real_sig)):
        lm = ScriptedLM(script, params, schema)
        kwargs = dict(lm_kwargs or {})
        adapter = cls()
        if use_async:
            res = outcome(lambda: asyncio.run(adapter.acall(lm, kwargs, sig, list(demos or []), dict(inputs))))
        else:
            res = outcome(lambda: adapter(lm, kwargs, sig, list(demos or []), dict(inputs)))
        results.append((res, [normalize_request(c) for c in lm.calls], kwargs))
    (got, got_calls, got_kwargs), (expected, expected_calls, expected_kwargs) = results
    assert got_calls == expected_calls
    assert_same_outcome(got, expected)
    assert normalize_request({"messages": None, "kwargs": got_kwargs}) == normalize_request(
        {"messages": None, "kwargs": expected_kwargs}
    )


GOOD_CHAT = "[[ ## a ## ]]\nhello\n\n[[ ## b ## ]]\n3\n\n[[ ## completed ## ]]"
GOOD_JSON = '{"a": "hello", "b": 3}'


@pytest.mark.parametrize(("native_cls", "real_cls"), ADAPTERS, ids=ADAPTER_IDS)
@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize(
    "script",
    [
        [[GOOD_CHAT]],
        [[GOOD_JSON]],
        [["garbage"], [GOOD_JSON]],
        [["garbage"], ["still garbage"]],
        [[{"text": GOOD_CHAT, "logprobs": {"x": 1}}]],
        [[{"text": GOOD_JSON, "logprobs": None, "extra": 1}]],
        [[{"text": None}], [GOOD_JSON]],
        [[{"logprobs": [1]}], [{"text": ""}]],
        [[""], [GOOD_JSON]],
        [[None], [None]],
        [[GOOD_CHAT, GOOD_CHAT.replace("hello", "bye")]],
        [[GOOD_CHAT, "broken"], [GOOD_JSON, GOOD_JSON]],
        [[]],
        ["abc"],
        [[GOOD_CHAT.replace("3", "three")], ['{"a": "x", "b": "three"}']],
        [[RuntimeError("LM down")]],
        [["garbage"], [ValueError("second call fails")]],
    ],
    ids=lambda s: repr(s)[:40],
)
def test_call_path(native_cls: Any, real_cls: Any, use_async: bool, script: list[Any]) -> None:
    sigs = io({"q": str}, {"a": str, "b": int})
    _call_both(native_cls, real_cls, sigs, script, lm_kwargs={"temperature": 0.0, "n": 1}, use_async=use_async)


@pytest.mark.parametrize(("native_cls", "real_cls"), ADAPTERS, ids=ADAPTER_IDS)
@pytest.mark.parametrize(
    ("params", "schema"),
    [(None, False), ({"response_format"}, False), ({"response_format"}, True), ({"temperature"}, True)],
)
@pytest.mark.parametrize(
    "outputs",
    [
        {"a": str, "b": int},
        {"a": str, "m": Outer, "opt": Optional[list[Inner]]},
        {"a": str, "d": dict[str, int]},
        {"a": str, "d": dict},
        {"c": Color, "l": Literal["x", "y"], "t": tuple[int, str]},
        {"a": str, "f": collections.abc.Callable},  # no JSON schema: JSON mode, then format fails alike
    ],
    ids=lambda o: ",".join(o),
)
def test_call_response_format(native_cls: Any, real_cls: Any, params: Any, schema: bool, outputs: dict[str, Any]) -> None:
    sigs = io({"q": str}, outputs)
    _call_both(native_cls, real_cls, sigs, [["not parseable"], ["{}"]], params=params, schema=schema)


@pytest.mark.parametrize(("native_cls", "real_cls"), ADAPTERS, ids=ADAPTER_IDS)
@pytest.mark.parametrize(
    "lm_kwargs",
    [
        {},
        {"temperature": 0.7, "n": 3, "max_tokens": 10},
        {"tools": [{"type": "function"}], "tool_choice": "auto", "parallel_tool_calls": True},
        {"parallel_tool_calls": False},
        {"parallel_tool_calls": None, "tool_choice": "none"},
        {"response_format": {"type": "text"}},
    ],
    ids=lambda k: ",".join(k) or "empty",
)
def test_call_kwargs_handling(native_cls: Any, real_cls: Any, lm_kwargs: dict[str, Any]) -> None:
    sigs = io({"q": str}, {"a": str, "b": int})
    for script in ([[GOOD_CHAT]], [["garbage"], [GOOD_JSON]]):
        for params in (None, {"response_format"}):
            _call_both(native_cls, real_cls, sigs, script, lm_kwargs=lm_kwargs, params=params, schema=True)


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("script", [[[GOOD_CHAT]], [["garbage"], [GOOD_JSON]], [["garbage"], ["{}"]], [[]]],
                         ids=["parsed", "json retry", "retry fails", "no completion"])
def test_the_plain_round_trip_equals_dspy_without_the_bridge(
    monkeypatch: pytest.MonkeyPatch, use_async: bool, script: list[Any]
) -> None:
    """Without DSPy's bridge loaded, a ChatAdapter call without demos or LM kwargs is the plan's plain round trip
    (adapters/_call.py ``plain``): the same request, result and errors, and the JSON retry fills in the caller's
    own kwargs dict as DSPy's does."""
    from dspex import hooks

    monkeypatch.setattr(hooks, "bridge", None)
    sigs = io({"q": str}, {"a": str, "b": int})
    _call_both(ChatAdapter, dspy.ChatAdapter, sigs, script, params={"response_format"}, schema=True,
               use_async=use_async)


@pytest.mark.parametrize(("native_cls", "real_cls"), ADAPTERS, ids=ADAPTER_IDS)
def test_call_with_demos_and_odd_inputs(native_cls: Any, real_cls: Any) -> None:
    sigs = io({"q": str, "ctx": list[str], "k": int}, {"a": str, "b": int})
    demos = [{"q": "d1", "ctx": ["x"], "k": 1, "a": "A", "b": 1}, {"q": "d2", "a": "B"}]
    inputs = {"q": "now\n", "ctx": ["one", "two\nlines"], "k": 10**20}
    _call_both(native_cls, real_cls, sigs, [[GOOD_CHAT]], demos=demos, inputs=inputs)


@pytest.mark.parametrize(("native_cls", "real_cls"), ADAPTERS, ids=ADAPTER_IDS)
@pytest.mark.parametrize("script", [[["garbage"], [GOOD_JSON]], [[GOOD_JSON]], [[GOOD_CHAT]]], ids=repr)
def test_plain_callable_lm_matches_baselm_requests(native_cls: Any, real_cls: Any, script: list[Any]) -> None:
    """A bare callable (no supported_params, no acall) gets the same requests and results as a default BaseLM."""
    native_sig, real_sig = io({"q": str}, {"a": str, "b": int})
    for use_async in (False, True):
        plain, scripted = PlainLM(script), ScriptedLM(script)
        if use_async:
            got = outcome(lambda: asyncio.run(native_cls().acall(plain, {"temperature": 0.5}, native_sig, [], {"q": "x"})))
        else:
            got = outcome(lambda: native_cls()(plain, {"temperature": 0.5}, native_sig, [], {"q": "x"}))
        expected = outcome(lambda: real_cls()(scripted, {"temperature": 0.5}, real_sig, [], {"q": "x"}))
        assert [normalize_request(c) for c in plain.calls] == [normalize_request(c) for c in scripted.calls]
        assert_same_outcome(got, expected)


def test_fallback_disabled_raises_chat_error() -> None:
    native_sig, real_sig = io({"q": str}, {"a": str, "b": int})
    lm_n, lm_r = ScriptedLM([["garbage"]]), ScriptedLM([["garbage"]])
    got = outcome(lambda: ChatAdapter(use_json_adapter_fallback=False)(lm_n, {}, native_sig, [], {"q": "x"}))
    expected = outcome(lambda: dspy.ChatAdapter(use_json_adapter_fallback=False)(lm_r, {}, real_sig, [], {"q": "x"}))
    assert_same_outcome(got, expected)
    assert len(lm_n.calls) == len(lm_r.calls) == 1


class _Mood(str, enum.Enum):
    HAPPY = "happy"
    SAD = "sad"


@pytest.mark.parametrize(("native_cls", "real_cls"), ADAPTERS, ids=ADAPTER_IDS)
def test_str_enum_and_nan_outputs(native_cls: Any, real_cls: Any) -> None:
    sigs = io({"q": str}, {"m": _Mood, "x": float})
    for completion in ["[[ ## m ## ]]\nhappy\n[[ ## x ## ]]\nnan", '{"m": "SAD", "x": NaN}', '{"m": "happy", "x": "nan"}']:
        _parse_both(native_cls, real_cls, sigs, completion)
    parsed = JSONAdapter().parse(sigs[0], '{"m": "happy", "x": NaN}')
    assert parsed["m"] is _Mood.HAPPY and math.isnan(parsed["x"])


@pytest.mark.parametrize(("native_cls", "real_cls"), ADAPTERS, ids=ADAPTER_IDS)
def test_public_formatting_helpers(native_cls: Any, real_cls: Any) -> None:
    """The pieces other modules reuse (ReAct formats its trajectory with format_user_message_content)."""
    native_sig, real_sig = io({"thought_0": str, "observation_0": Any, "items": list[str]}, {"x": int, "y": str})
    values = {"thought_0": "think  \n", "observation_0": {"r": [1, None]}, "items": ["a", "b"], "x": 1}
    for prefix, suffix, main in [("", "", False), ("Prefix", "Suffix  ", True), ("", "", True)]:
        got = native_cls().format_user_message_content(native_sig, values, prefix, suffix, main)
        assert got == real_cls().format_user_message_content(real_sig, values, prefix, suffix, main)
    for missing in (None, "Not supplied for this particular example. "):
        got = native_cls().format_assistant_message_content(native_sig, values, missing)
        assert got == real_cls().format_assistant_message_content(real_sig, values, missing)
    assert native_cls().format_system_message(native_sig) == real_cls().format_system_message(real_sig)
    assert native_cls().user_message_output_requirements(native_sig) == real_cls().user_message_output_requirements(
        real_sig
    )
    demos = [{"thought_0": "t", "x": 2}, {"thought_0": "a", "observation_0": 1, "items": [], "x": 0, "y": "z"}]
    assert native_cls().format_demos(native_sig, demos) == real_cls().format_demos(real_sig, demos)


def test_equal_but_differently_ordered_annotations_keep_their_own_errors() -> None:
    """typing says Union[int, str] == Union[str, int]; pydantic's messages differ, so caches must not mix them."""
    for first, second in [(Union[int, str], Union[str, int]), (Literal["a", "b"], Literal["b", "a"])]:
        for annotation in (first, second):
            sigs = io({"q": str}, {"v": annotation})
            _parse_both(ChatAdapter, dspy.ChatAdapter, sigs, "[[ ## v ## ]]\n[1]")
            _parse_both(JSONAdapter, dspy.JSONAdapter, sigs, '{"v": [1]}')


@pytest.mark.parametrize(("native_cls", "real_cls"), ADAPTERS, ids=ADAPTER_IDS)
@pytest.mark.parametrize("text", [b"bytes", b'{"a": "x"}', b"[[ ## a ## ]]\nx", bytearray(b"{"), ["a"], 5, ("t",)], ids=repr)
def test_non_string_lm_outputs_fail_alike(native_cls: Any, real_cls: Any, text: Any) -> None:
    sigs = io({"q": str}, {"a": str})
    _parse_both(native_cls, real_cls, sigs, text)
    _call_both(native_cls, real_cls, sigs, [[text], [text]])


@pytest.mark.parametrize(("native_cls", "real_cls"), ADAPTERS, ids=ADAPTER_IDS)
def test_output_type_without_json_schema_parses_but_cannot_format(native_cls: Any, real_cls: Any) -> None:
    import collections.abc

    sigs = io({"q": str}, {"f": collections.abc.Callable, "a": str})
    _parse_both(native_cls, real_cls, sigs, "[[ ## f ## ]]\nprint\n[[ ## a ## ]]\nx")
    _parse_both(native_cls, real_cls, sigs, '{"f": "print", "a": "x"}')
    _format_both(native_cls, real_cls, sigs, [], {"q": "x"})


class _OddDefault(pydantic.BaseModel):
    """A default pydantic cannot put in a JSON schema: rendering the schema warns."""

    a: str = ""
    where: object = (None, __import__("pathlib").PurePosixPath("/tmp/a b"))


@pytest.mark.parametrize(("native_cls", "real_cls"), ADAPTERS, ids=ADAPTER_IDS)
def test_a_schema_that_warns_warns_on_every_call_like_dspy(native_cls: Any, real_cls: Any) -> None:
    """DSPy renders its system message on every call, so pydantic's schema warnings repeat per call; native caches
    the message only when rendering it did not warn."""
    import warnings

    counts = []
    for cls, sig in zip((native_cls, real_cls), io({"q": str}, {"a": Optional[_OddDefault]})):
        adapter = cls()
        per_call = []
        for _ in range(3):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                adapter.format(sig, [], {"q": "x"})
            per_call.append([(w.category.__name__, str(w.message)) for w in caught])
        counts.append(per_call)
    assert counts[0] == counts[1] and counts[0][2]   # the third call warns too, as DSPy's does


def test_a_response_schema_that_warns_warns_on_every_call_like_dspy() -> None:
    """JSONAdapter's structured-output schema (an LM that takes a response schema) is built by DSPy on every call:
    its warnings repeat per call too, with the system message's."""
    import warnings

    counts = []
    for cls, sig in zip((JSONAdapter, dspy.JSONAdapter), io({"q": str}, {"a": Optional[_OddDefault]})):
        lm = ScriptedLM([['{"a": null}']] * 3, {"response_format"}, True)
        per_call = []
        for _ in range(3):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                result = cls()(lm, {}, sig, [], {"q": "x"})
            per_call.append((result, [(w.category.__name__, str(w.message)) for w in caught]))
        counts.append(per_call)
    assert counts[0] == counts[1] and len(counts[0][2][1]) > 1

