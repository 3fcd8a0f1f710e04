"""The strategies stay wide: each kind of nasty thing the brief lists is actually generated."""

from __future__ import annotations

import enum
from typing import Any, Literal, get_args, get_origin

import pytest
from hypothesis import HealthCheck, Phase, find, settings

from dspex.parity.strategies import bad_signature_strings, cases, lm_responses, signature_specs

pytestmark = pytest.mark.parity
# Generate only: a found example is not shrunk (shrinking these rich cases is what would cost minutes).
_FIND = settings(max_examples=600, database=None, phases=[Phase.generate], suppress_health_check=list(HealthCheck))


def _types(annotation: Any) -> list[Any]:
    return [annotation, *(t for a in get_args(annotation) for t in _types(a))]


def _any_type(spec: Any, predicate: Any) -> bool:
    return any(predicate(t) for f in spec.fields for t in _types(f.annotation))


SIGNATURE_FEATURES = {
    "enum": lambda s: _any_type(s, lambda t: isinstance(t, type) and issubclass(t, enum.Enum)),
    "int enum": lambda s: _any_type(s, lambda t: isinstance(t, type) and issubclass(t, enum.IntEnum)),
    "pydantic model": lambda s: _any_type(s, lambda t: isinstance(t, type) and hasattr(t, "model_fields")),
    "literal": lambda s: _any_type(s, lambda t: get_origin(t) is Literal),
    "dict": lambda s: _any_type(s, lambda t: get_origin(t) is dict),
    "tuple": lambda s: _any_type(s, lambda t: get_origin(t) is tuple),
    "unicode name": lambda s: any(not f.name.isascii() for f in s.fields),
    "multi-line instructions": lambda s: s.instructions is not None and "\n" in s.instructions.strip(),
    "constraints": lambda s: any(f.constraints for f in s.fields),
    "subclass form": lambda s: s.form == "subclass",
    "string form with a user type": lambda s: s.form == "string" and bool(s.names),
    "transforms": lambda s: bool(s.transforms),
}


@pytest.mark.parametrize("feature", sorted(SIGNATURE_FEATURES))
def test_signature_strategy_generates(feature):
    find(signature_specs(), SIGNATURE_FEATURES[feature], settings=_FIND)


CASE_FEATURES = {
    "cot with demos": lambda c: c.module == "cot" and bool(c.demos),
    "demo as dspy.Example": lambda c: any(d.as_example for d in c.demos or ()),
    "json adapter": lambda c: c.adapter == "json",
    "response_format supported": lambda c: "response_format" in c.lm.supported_params,
    "n > 1": lambda c: (c.config or {}).get("n", 1) > 1,
    "repeated calls": lambda c: c.repeat > 1,
    "per-call signature": lambda c: c.call_signature is not None,
    "missing input": lambda c: len(c.inputs) < len(c.signature.inputs),
    "None input": lambda c: any(v is None for v in c.inputs.values()),
}


@pytest.mark.parametrize("feature", sorted(CASE_FEATURES))
def test_case_strategy_generates(feature):
    find(cases(), CASE_FEATURES[feature], settings=_FIND)


@pytest.mark.parametrize("shape", ["zero", "none", "bare string", "dict without text", "more than n"])
def test_lm_responses_include_malformed_shapes(shape):
    predicate = {
        "zero": lambda r: r == [],
        "none": lambda r: r is None,
        "bare string": lambda r: isinstance(r, str),
        "dict without text": lambda r: isinstance(r, list) and any(isinstance(e, dict) and "text" not in e for e in r),
        "more than n": lambda r: isinstance(r, list) and len(r) > 2,
    }[shape]
    find(lm_responses([("answer", int)], 2), predicate, settings=_FIND)


def test_bad_signature_strings_include_generated_ones():
    find(bad_signature_strings(), lambda s: s.count("->") == 1 and ":" in s and "[" in s, settings=_FIND)
