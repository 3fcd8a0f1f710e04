"""acall: native's async path == DSPy's (same LM calls through `lm.acall`, same outputs and errors)."""

from __future__ import annotations

import pytest
from hypothesis import example, given

from dspex.parity.harness import assert_parity, run_case
from dspex.parity.strategies import cases

from parity_support import simple_case

pytestmark = pytest.mark.parity


@given(cases())
@example(simple_case())
@example(simple_case("cot"))
def test_acall_matches_dspy(case):
    assert_parity(case, mode="async")


def test_acall_uses_the_lms_async_entry_point():
    result = run_case(simple_case(), mode="async")
    assert result.ok, result.report()
    assert [c.mode for c in result.native.calls] == ["async"]
