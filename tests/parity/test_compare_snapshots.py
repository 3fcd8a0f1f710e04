"""The harness's canonical snapshots: strict on types and values, blind only to what never bears on parity."""

from __future__ import annotations

import pytest

import logging
import warnings

from dspex.parity._snapshot import ExcInfo, typed
from dspex.parity._exotic import Opaque
from dspex.parity._side import _capture_warnings

pytestmark = pytest.mark.parity


def test_default_reprs_compare_without_their_memory_address():
    # DSPy and native each get their own copy of an input (pydantic copies a model's fields), so an object with
    # the default repr shows two addresses; seed 101 of `dspex parity --examples 1500` hit this in a callback log.
    assert typed(Opaque()) == typed(Opaque())
    assert typed([Opaque(), {"k": Opaque()}]) == typed([Opaque(), {"k": Opaque()}])


def test_warnings_and_errors_compare_without_memory_addresses():
    # Seed 1969254643 in CI: DSPy and native each logged the type-mismatch warning for their own copy of a
    # tuple holding an Opaque, so the two warnings differed only in the address.
    def capture() -> list[str]:
        with _capture_warnings() as seen:
            logging.getLogger("dspy").warning("Type mismatch for field 'a': %r", (None, Opaque()))
            warnings.warn(f"odd value {Opaque()!r}", UserWarning, stacklevel=1)
        return seen

    first, second = capture(), capture()
    assert len(first) == 2 and first == second
    assert all(" at 0x…" in line for line in first)
    assert ExcInfo.of(ValueError(repr(Opaque())), "call") == ExcInfo.of(ValueError(repr(Opaque())), "call")
    assert ExcInfo.of(ValueError("at 0x10 items"), "call").message == "at 0x10 items"  # only " at 0x…" reprs


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
