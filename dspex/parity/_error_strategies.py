"""Strategies for the error cases: malformed signature strings, LM exceptions, and garbage LM return values."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from .scripted_lm import Raise

__all__ = ["bad_signature_strings", "lm_exceptions", "garbage_responses", "BAD_SIGNATURES"]

BAD_SIGNATURES = [
    "", "question", "a -> b -> c", "q -> q", "q: Foo -> a", "q: 1 -> a", "q: list[int -> a", "1q -> a", "class -> a",
    "q: str[int] -> a", "instructions -> a", "q -> signature", "fields -> a", "q, q -> a", "q ->", "-> a", "*q -> a",
    "q=1 -> a", "q: int = 3 -> a", "q: -> a", "q: Optional -> a", "q: dict[str] -> a", "q: Literal -> a", " -> ",
    "q: NoSuchType -> a: int", "q, -> a", "q -> a, a", "q: typing.List[int] -> a", "q: json -> a", "q: None -> a",
    "q: 'str' -> a", "q: Union[int] -> a", "q: tuple[()] -> a", "q -> a: Literal[]", "q -> a: Literal[1, 'x', True]",
    "q -> model_config", "q -> dict", "q: int | str -> a", "λ -> μ", "q\n->\na", "q -> a # comment", "lambda -> a",
]


@st.composite
def bad_signature_strings(draw: Any) -> str:
    """Malformed or borderline signature strings (DSPy raises, or silently accepts, on each)."""
    if draw(st.booleans()):
        return draw(st.sampled_from(BAD_SIGNATURES))
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
