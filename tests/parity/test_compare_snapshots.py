"""The harness's canonical snapshots: strict on types and values, blind only to what never bears on parity."""

from __future__ import annotations

import pytest

from dspex.parity._compare import typed
from dspex.parity._exotic import Opaque

pytestmark = pytest.mark.parity


def test_default_reprs_compare_without_their_memory_address():
    # DSPy and native each get their own copy of an input (pydantic copies a model's fields), so an object with
    # the default repr shows two addresses; seed 101 of `dspex parity --examples 1500` hit this in a callback log.
    assert typed(Opaque()) == typed(Opaque())
    assert typed([Opaque(), {"k": Opaque()}]) == typed([Opaque(), {"k": Opaque()}])


class Named:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"Named({self.name!r})"


def test_everything_else_in_a_snapshot_still_counts():
    assert typed(Named("a")) != typed(Named("b"))             # a meaningful repr
    assert typed(1) != typed(1.0) and typed(True) != typed(1)  # exact types
    assert typed({"a": 1, "b": 2}) != typed({"b": 2, "a": 1})  # key order
    assert typed(float("nan")) == typed(float("nan"))
