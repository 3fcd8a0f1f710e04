"""Hypothesis properties: dspex's adapters equal real DSPy 3.4.1's on generated signatures, values and completions."""

from __future__ import annotations

import json
import string
from typing import Any, Literal, Optional

import dspy
import pytest
import regex
from dspy.adapters.utils import parse_value as dspy_parse_value
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters_support import Color, Inner, Level, Outer, assert_same_outcome, outcome, twins
from dspex.adapters import ChatAdapter, JSONAdapter
from dspex.adapters._coerce import parse_value
from dspex.adapters._sections import first_balanced_braces
from dspex.signature import ensure_signature

pytestmark = pytest.mark.parity

PROFILE = settings(max_examples=int(__import__("os").environ.get("ADAPTER_EXAMPLES", "150")), deadline=None, suppress_health_check=list(HealthCheck))

NAMES = ["question", "answer", "context", "café", "x1", "reasoning", "long_field_name", "n", "Ünï", "b2b"]
TYPES: list[Any] = [
    str, str, str, int, float, bool, list[str], list[int], dict[str, Any], Optional[int], Optional[str],
    Literal["yes", "no"], Color, Level, Inner, Outer, tuple[int, str], Any, list[Outer], set[str],
]
FRAGMENTS = [
    "[[ ## answer ## ]]", "[[ ## question ## ]]", "[[ ## completed ## ]]", "[[ ## café ## ]]", "[[ ## nope ## ]]",
    "[[ ## n ## ]]", "«", "»", "\n", "\r\n", "\u2028", "  ", "\t", "{", "}", "[", "]", '"', "'", ":", ",", "null",
    "None", "True", "1", "-2.5e3", "NaN", "yes", "red", "RED", "Literal['no']", "```json", "```", "漢字", "é",
    "<<CUSTOM-TYPE-START-IDENTIFIER>>", "<<CUSTOM-TYPE-END-IDENTIFIER>>", '{"answer": "x"}', '{"x": 1}', "\\",
]

nasty_text = st.one_of(
    st.text(max_size=30),
    st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(string.printable, max_size=5)), max_size=12).map("".join),
)

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=True, allow_infinity=True), nasty_text, st.sampled_from([Color.RED, Level.LOW]),
    st.builds(Inner, x=st.integers(-5, 5), tags=st.lists(nasty_text, max_size=2)),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(nasty_text, st.integers()), inner, max_size=3),
        st.tuples(inner, inner),
        st.frozensets(st.integers(), max_size=3),
    ),
    max_leaves=12,
)


@st.composite
def signatures(draw: Any) -> tuple[Any, Any, list[str], list[str]]:
    names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=6, unique=True))
    n_inputs = draw(st.integers(0, len(names) - 1))
    spec = []
    for i, name in enumerate(names):
        kwargs: dict[str, Any] = {}
        if draw(st.booleans()):
            kwargs["desc"] = draw(nasty_text)
        spec.append((name, "in" if i < n_inputs else "out", draw(st.sampled_from(TYPES)), kwargs))
    instructions = draw(st.one_of(st.none(), nasty_text))
    native, real = twins(spec, instructions)
    return native, real, names[:n_inputs], names[n_inputs:]


@PROFILE
@given(data=st.data(), sig=signatures(), json_adapter=st.booleans())
def test_format_matches_dspy(data: Any, sig: Any, json_adapter: bool) -> None:
    native, real, ins, outs = sig
    names = ins + outs
    inputs = data.draw(st.dictionaries(st.sampled_from(names), values, max_size=len(names)))
    demos = data.draw(st.lists(st.dictionaries(st.sampled_from(names), values, max_size=len(names)), max_size=3))
    native_cls, real_cls = (JSONAdapter, dspy.JSONAdapter) if json_adapter else (ChatAdapter, dspy.ChatAdapter)
    expected = outcome(lambda: real_cls().format(real, demos, inputs))
    got = outcome(lambda: native_cls().format(native, demos, inputs))
    assert got == expected


@st.composite
def chat_completions(draw: Any, outs: list[str]) -> str:
    pieces = []
    for _ in range(draw(st.integers(0, 6))):
        name = draw(st.sampled_from(outs + ["completed", "unknown"]))
        indent = draw(st.sampled_from(["", "", " ", "\t", "  "]))
        same_line = draw(st.sampled_from(["", "", " inline", "  x  "]))
        body = draw(st.one_of(nasty_text, st.builds(json.dumps, values.filter(lambda v: _jsonable(v)))))
        pieces.append(f"{indent}[[ ## {name} ## ]]{same_line}\n{body}")
    prefix = draw(st.sampled_from(["", "noise\n", "\n\n"]))
    return prefix + draw(st.sampled_from(["\n", "\n\n", "\r\n"])).join(pieces)


def _jsonable(v: Any) -> bool:
    try:
        json.dumps(v)
        return True
    except (TypeError, ValueError):
        return False


@PROFILE
@given(data=st.data(), sig=signatures())
def test_chat_parse_matches_dspy(data: Any, sig: Any) -> None:
    native, real, _, outs = sig
    completion = data.draw(chat_completions(outs))
    assert_same_outcome(outcome(lambda: ChatAdapter().parse(native, completion)),
                        outcome(lambda: dspy.ChatAdapter().parse(real, completion)))


@PROFILE
@given(data=st.data(), sig=signatures())
def test_json_parse_matches_dspy(data: Any, sig: Any) -> None:
    native, real, _, outs = sig
    obj = data.draw(st.dictionaries(st.sampled_from(outs + ["other"]), values.filter(_jsonable), max_size=4))
    noise = data.draw(nasty_text)
    body = json.dumps(obj, ensure_ascii=data.draw(st.booleans()))
    completion = data.draw(st.sampled_from([body, noise + body, body + noise, noise, body[:-1], f"```json\n{body}\n```"]))
    assert_same_outcome(outcome(lambda: JSONAdapter().parse(native, completion)),
                        outcome(lambda: dspy.JSONAdapter().parse(real, completion)))


@PROFILE
@given(text=st.lists(st.sampled_from(["{", "}", "a", '"', "\n", "{}", "}{", "x:1"]), max_size=30).map("".join))
def test_balanced_brace_search_matches_regex(text: str) -> None:
    match = regex.search(r"\{(?:[^{}]|(?R))*\}", text, regex.DOTALL)
    assert first_balanced_braces(text) == (match.group(0) if match else None)


@PROFILE
@given(value=st.one_of(nasty_text, values), annotation=st.sampled_from(TYPES + [Literal[1, 2], Optional[Outer], bool]))
def test_parse_value_matches_dspy(value: Any, annotation: Any) -> None:
    assert_same_outcome(outcome(lambda: parse_value(value, annotation)),
                        outcome(lambda: dspy_parse_value(value, annotation)))


@PROFILE
@given(text=st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.sampled_from(["[[ ## a ## ]]", "[[ ## b ## ]] x"])),
                     max_size=25).map("".join))
def test_wanted_sections_is_first_occurrence_of_full_split(text: str) -> None:
    from dspex.adapters._sections import split_sections, wanted_sections

    wanted = {"a", "b", "answer", "café"}
    expected: dict[str, str] = {}
    for k, v in split_sections(text):
        if k in wanted and k not in expected:
            expected[k] = v
    assert wanted_sections(text, wanted) == list(expected.items())


# Completions with "\n" as their only line break take _sections' split path unless a "[[ ## " is not a plain
# header at a line start; these fragments hit both sides of that line.
HEADERISH = ["[[ ## a ## ]]", "[[ ## b ## ]]", "[[ ## b ## ]] x", "[[ ## completed ## ]]", "[[ ## a b ## ]]", "[[ ## ",
             " ## ]]", "[[ ## a ## ]", "[[ ## ## ]]", "[[ ## é ## ]]", "[[ ## a-b ## ]]", "\n", "\n", "\n", " ", "\t",
             "x", "  y ", "[[ ## café ## ]]  tail "]


@PROFILE
@given(text=st.lists(st.sampled_from(HEADERISH), max_size=25).map("".join))
def test_wanted_sections_on_newline_only_text_is_first_occurrence_of_full_split(text: str) -> None:
    from dspex.adapters._sections import split_sections, wanted_sections

    wanted = {"a", "b", "café", "a b"}  # "a b" is never a header: \w+ only
    expected: dict[str, str] = {}
    for k, v in split_sections(text):
        if k in wanted and k not in expected:
            expected[k] = v
    assert wanted_sections(text, wanted) == list(expected.items())


_VALUE_BITS = ["v", "42", " ", "\t", "\n", "\r\n", "\r", "\u2028", "\x85", "\x0c", "«é»"]
_PIECES = st.one_of(  # mostly plain values (the reader's own ground), sometimes header debris
    st.lists(st.sampled_from(_VALUE_BITS), max_size=8).map("".join),
    st.lists(st.sampled_from(HEADERISH + _VALUE_BITS + [" [[ ## b ## ]]"]), max_size=8).map("".join),
)


@PROFILE
@given(va=_PIECES, vb=_PIECES, tail=_PIECES, lead=st.sampled_from(["", "", " ", "\n", "x"]),
       sep=st.sampled_from(["\n", "\n", " \n", "\n\n"]))
def test_canonical_reader_reads_what_the_full_split_reads(va: str, vb: str, tail: str, lead: str, sep: str) -> None:
    """The fast reader for well-formed completions agrees with DSPy's line walk, and says "not mine" (None)
    for everything else rather than guessing."""
    from dspex.adapters._sections import _EXOTIC_BREAK, canonical_reader, split_sections

    text = f"{lead}[[ ## a ## ]]{sep}{va}\n[[ ## b ## ]]\n{vb}\n[[ ## completed ## ]]{tail}"
    read = canonical_reader(["a", "b"])(text)
    expected: dict[str, str] = {}
    for k, v in split_sections(text):
        if k in {"a", "b"} and k not in expected:
            expected[k] = v
    if read is not None:
        assert list(read.items()) == list(expected.items())
    clean = all("[[ ## " not in p and _EXOTIC_BREAK.search(p) is None for p in (va, vb, tail))
    if clean and not lead and sep == "\n":
        assert read is not None  # the well-formed shape is always read by the fast reader


def test_canonical_reader_refuses_names_that_are_never_headers() -> None:
    from dspex.adapters._sections import canonical_reader

    assert canonical_reader(["a b"]) is None and canonical_reader([]) is None
    assert canonical_reader(["café"])("[[ ## café ## ]]\nx\n[[ ## completed ## ]]") == {"café": "x"}



@pytest.mark.parametrize("text, inside", [
    ("[[ ## a ## ]]\nA\r\n\n[[ ## b ## ]]\n\x0bB\x1c\n[[ ## completed ## ]]\r\x85", False),   # at the edges only
    ("[[ ## a ## ]]\nA\rA\n[[ ## b ## ]]\nB\n[[ ## completed ## ]]", True),                  # inside a value
    ("[[ ## a ## ]]\nA\u2028A\n[[ ## b ## ]]\nB\n[[ ## completed ## ]]", True),
])
def test_canonical_reader_reads_other_line_breaks_as_dspy_does(text: str, inside: bool) -> None:
    """Line breaks other than "\\n" where ``strip`` takes them off (or in the tail) are read as DSPy's line walk
    reads them; one inside a value is left to the full split."""
    from dspex.adapters._sections import canonical_reader

    theirs = dspy.ChatAdapter().parse(dspy.Signature("q -> a, b"), text)
    read = canonical_reader(["a", "b"])(text)
    assert (read is None) == inside
    assert (read if read is not None else ChatAdapter().parse(dspy.Signature("q -> a, b"), text)) == theirs


@pytest.mark.parametrize("inputs", [{}, {"q": "x"}, {"q": 3}, {"q": ["a", "b"]}, {"q": {"k": None}}, {"q": None},
                                    {"q": "see <<CUSTOM-TYPE-START-IDENTIFIER>>[{\"type\": \"text\", \"text\": \"hi\"}]"
                                          "<<CUSTOM-TYPE-END-IDENTIFIER>> here"},   # markers: DSPy splits the text
                                    {"q": ["<<CUSTOM-TYPE-START-IDENTIFIER>>", "<<CUSTOM-TYPE-END-IDENTIFIER>>"]}])
@pytest.mark.parametrize("signature", ["q -> a", "q: list[str] -> a", "q, r -> a"])
def test_the_request_of_few_inputs_is_dspy_s(signature: str, inputs: dict[str, Any]) -> None:
    """The plan's renderer (one input: without the loop) gives DSPy's user message, inputs missing or not str."""
    ours = ChatAdapter().format(ensure_signature(signature), [], inputs)[-1]
    theirs = dspy.ChatAdapter().format(dspy.Signature(signature), [], inputs)[-1]
    assert ours == theirs
