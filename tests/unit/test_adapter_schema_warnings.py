"""pydantic's schema warnings per call: XMLAdapter and TwoStepAdapter against real DSPy 3.4.1.

DSPy renders its prompts, the XML skeletons in them and the JSON schema its XML parser reads on every call, so a
type whose schema makes pydantic warn (here: a default it cannot serialize) warns on every call. Native caches
those renderings only when they were quiet; each test compares, call by call over three calls, the warnings
(category and message, in order), the outcome and the requests the LM received.
"""

from __future__ import annotations

import pathlib
import warnings
from typing import Any, Callable, Optional

import dspy
import pydantic
import pytest

from adapters_support import ScriptedLM, io, normalize_request, outcome
from dspex.adapters import TwoStepAdapter, XMLAdapter

pytestmark = pytest.mark.parity


class _Odd(pydantic.BaseModel):
    """A default pydantic cannot put in a JSON schema: rendering the schema warns."""

    a: str = ""
    where: object = (None, pathlib.PurePosixPath("/tmp/a b"))


# (annotation, an XML answer for an output ``a`` of that type): nested XML outputs, and one written as text.
XML_CASES = [
    (Optional[_Odd], "<a><a>z</a></a>"),
    (_Odd, "<a><a>z</a></a>"),
    (list[_Odd], "<a><item><a>z</a></item><item><a>y</a></item></a>"),
    (dict[str, _Odd], "<a><k><a>z</a></k></a>"),
    (tuple[_Odd, int], '<a>[{"a": "z"}, 1]</a>'),
]
XML_IDS = ["optional", "model", "list", "dict", "tuple"]


def _per_call(fn: Callable[[], Any], calls: int = 3) -> list[tuple[Any, list[tuple[str, str]]]]:
    """``fn()``'s outcome and the warnings it emitted, for each of ``calls`` calls."""
    seen = []
    for _ in range(calls):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = outcome(fn)
        # (A ResourceWarning is another test's socket collected now: garbage collection, not this call.)
        seen.append((result, [(w.category.__name__, str(w.message)) for w in caught
                              if not issubclass(w.category, ResourceWarning)]))
    return seen


def _assert_warns_every_call(native: list[Any], real: list[Any]) -> None:
    assert native == real
    assert all(warned for _, warned in real)   # the case does exercise the per-call warnings


@pytest.mark.parametrize(("annotation", "answer"), XML_CASES, ids=XML_IDS)
def test_xml_call_warns_on_every_call_like_dspy(annotation: Any, answer: str) -> None:
    """A whole adapter call: system message, reminder and parse, with the requests the LM got."""
    runs = []
    for cls, sig in zip((XMLAdapter, dspy.XMLAdapter), io({"q": str}, {"a": annotation})):
        lm = ScriptedLM([[answer]])
        adapter = cls()
        seen = _per_call(lambda: adapter(lm, {}, sig, [], {"q": "x"}))
        runs.append((seen, [normalize_request(c) for c in lm.calls]))
    _assert_warns_every_call(runs[0][0], runs[1][0])
    assert runs[0][1] == runs[1][1]


@pytest.mark.parametrize(("annotation", "answer"), XML_CASES, ids=XML_IDS)
def test_xml_parse_alone_warns_like_dspy(annotation: Any, answer: str) -> None:
    """Parsing before any formatting: only the parser's schema warns (the reminder is not rendered by a parse)."""
    runs = []
    for cls, sig in zip((XMLAdapter, dspy.XMLAdapter), io({"q": str}, {"a": annotation})):
        adapter = cls()
        runs.append(_per_call(lambda: adapter.parse(sig, answer)))
    assert runs[0] == runs[1]


@pytest.mark.parametrize(("annotation", "answer"), XML_CASES[:3], ids=XML_IDS[:3])
def test_xml_user_message_warns_on_every_call_like_dspy(annotation: Any, answer: str) -> None:
    """``format_user_message_content(main_request=True)`` renders the reminder's nested skeleton every time."""
    runs = []
    for cls, sig in zip((XMLAdapter, dspy.XMLAdapter), io({"q": str}, {"a": annotation})):
        adapter = cls()
        runs.append(_per_call(lambda: adapter.format_user_message_content(sig, {"q": "x"}, main_request=True)))
    _assert_warns_every_call(runs[0], runs[1])


def test_xml_call_with_demos_and_a_failed_parse_warns_like_dspy() -> None:
    """Demos, then an answer that is not XML: the JSON fallback renders its own prompt (and warns) too."""
    runs = []
    demo = {"q": "d", "a": None}
    for cls, sig in zip((XMLAdapter, dspy.XMLAdapter), io({"q": str}, {"a": Optional[_Odd]})):
        lm = ScriptedLM([["<a><a>z</a>"], ['{"a": {"a": "w"}}']] * 3)
        adapter = cls()
        seen = _per_call(lambda: adapter(lm, {}, sig, [dict(demo)], {"q": "x"}))
        runs.append((seen, [normalize_request(c) for c in lm.calls]))
    _assert_warns_every_call(runs[0][0], runs[1][0])
    assert runs[0][1] == runs[1][1]


@pytest.mark.parametrize("annotation", [Optional[_Odd], list[_Odd]], ids=["optional", "list"])
def test_two_step_extraction_warns_on_every_call_like_dspy(annotation: Any) -> None:
    """TwoStepAdapter's extraction is a ChatAdapter call DSPy makes afresh on every parse."""
    value = "null" if annotation is not list[_Odd] else '[{"a": "z"}]'
    runs = []
    for cls, sig in zip((TwoStepAdapter, dspy.TwoStepAdapter), io({"q": str}, {"a": annotation})):
        main = ScriptedLM([["a: some prose"]])
        extraction = ScriptedLM([[f"[[ ## a ## ]]\n{value}\n\n[[ ## completed ## ]]"]])
        adapter = cls(extraction)
        seen = _per_call(lambda: adapter(main, {}, sig, [], {"q": "x"}))
        runs.append((seen, [normalize_request(c) for c in main.calls + extraction.calls]))
    _assert_warns_every_call(runs[0][0], runs[1][0])
    assert runs[0][1] == runs[1][1]
