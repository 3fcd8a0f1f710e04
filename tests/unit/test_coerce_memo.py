"""The per-field parse memo must be invisible: same values as a fresh parse, never a shared mutable value."""

from __future__ import annotations

import enum
from typing import Literal, Optional

import pytest

from dspex.adapters._coerce import parse_value, text_parser


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


@pytest.mark.parametrize(
    ("annotation", "texts"),
    [
        (bool, ["True", "true", "yes", "0", "off"]),
        (int, ["42", "3.0", "1e3", " 7 "]),
        (float, ["1e-9", "-0.0", "2"]),
        (Literal["yes", "no"], ["yes", "'no'", "Literal['yes']"]),
        (Color, ["red", "BLUE"]),
        (Optional[int], ["None", "null", "5"]),
    ],
)
def test_memoised_results_equal_fresh_parses(annotation, texts):
    parse = text_parser(annotation)
    for _ in range(3):  # the first round fills the memo, the next ones read it
        for text in texts:
            got = parse(text)
            want = parse_value(text, annotation)
            assert got == want and type(got) is type(want)


def test_mutable_results_are_never_shared():
    parse = text_parser(list[int])
    first = parse("[1, 2]")
    first.append(3)
    assert parse("[1, 2]") == [1, 2]


def test_failures_are_raised_every_time():
    parse = text_parser(int)
    for _ in range(3):
        with pytest.raises(ValueError):
            parse("not a number")
