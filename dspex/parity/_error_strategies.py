"""Strategies for the error cases: malformed signature strings, LM exceptions, and garbage LM return values."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from .scripted_lm import Raise

__all__ = ["bad_signature_strings", "lm_exceptions", "garbage_responses", "BAD_SIGNATURES", "BAD_SIGNATURE_KINDS"]

# Malformed or borderline signature strings, by the step that meets them: each kind gets a fair share.
BAD_SIGNATURE_KINDS: dict[str, list[str]] = {
    "syntax": ["", "question", "a -> b -> c", "q: list[int -> a", "1q -> a", "class -> a", "q ->", "-> a", "*q -> a",
               "q=1 -> a", "q: int = 3 -> a", "q: -> a", " -> ", "q, -> a", "λ -> μ", "q\n->\na", "q -> a # comment",
               "lambda -> a"],
    "names": ["q -> q", "instructions -> a", "q -> signature", "fields -> a", "q, q -> a", "q -> a, a",
              "q -> model_config", "q -> dict", "_q -> a", "q -> a_, __b", "__module__ -> answer", "q -> __module__, a"],
    "unknown type": ["q: Foo -> a", "q: NoSuchType -> a: int", "q: json -> a", "q: typing.List[int] -> a",
                     "q: 'str' -> a", "q: list[Foo] -> a", "q -> a: Optional[Bar]"],
    # the evaluated expression is not a type: a TypeError inside evaluation, or a value where a type belongs
    "type error": ["q: str[int] -> a", "q: int[str] -> a", "q -> a: bool[int]", "q: list[int][str] -> a",
                   "q: dict[str] -> a", "q: Union[int] -> a", "q: tuple[()] -> a", "q: 1 -> a", "q: None -> a",
                   "q -> a: Literal[1][2]"],
    "odd form": ["q: Optional -> a", "q: Literal -> a", "q -> a: Literal[]", "q -> a: Literal[1, 'x', True]",
                 "q: int | str -> a", "q: Optional[int, str] -> a", "q: [int] -> a", "q: -1 -> a", "q: f(x) -> a",
                 "q: lambda: 1 -> a", "q: str.upper -> a", "q: NoneType -> a", "q -> a: Union[int, NoneType]",
                 "q: typing.Optional[int] -> a"],
}
BAD_SIGNATURES = [text for texts in BAD_SIGNATURE_KINDS.values() for text in texts]


@st.composite
def bad_signature_strings(draw: Any) -> str:
    """Malformed or borderline signature strings (DSPy raises, or silently accepts, on each)."""
    if draw(st.booleans()):
        return draw(st.sampled_from(BAD_SIGNATURE_KINDS[draw(st.sampled_from(sorted(BAD_SIGNATURE_KINDS)))]))
    left = draw(st.text(st.sampled_from("ab :,[]()1-*=\"'|"), max_size=8))
    right = draw(st.text(st.sampled_from("cd :,[]()1-*=|"), max_size=6))
    return f"{left}->{right}"


lm_exceptions = st.sampled_from([
    Raise(ValueError, ("rate limited",)), Raise(RuntimeError, ("upstream 500",)), Raise(TimeoutError, ()),
    Raise(KeyError, ("choices",)), Raise(ConnectionError, ("refused «x»",)), Raise(TypeError, ("bad kwarg",)),
])
garbage_responses = st.sampled_from([
    None, 42, "", "a bare string", [None], [42], [{}], [{"text": None}], [{"text": ""}], [[]], {"text": "x"}, [b"bytes"],
    [""], ["[[ ## completed ## ]]"], [{"text": 1}], (), [("a",)], [{"text": "[[ ## a ## ]]\n1", "logprobs": None}],
])
