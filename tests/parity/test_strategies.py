"""The strategies stay wide: each kind of nasty thing the brief lists is actually generated."""

from __future__ import annotations

import enum
from typing import Any, Literal, get_args, get_origin

import pytest
from hypothesis import HealthCheck, Phase, find, settings

from dspex.parity.strategies import bad_signature_strings, cases, lm_responses, signature_specs

pytestmark = pytest.mark.parity
# Generate only: a found example is not shrunk (shrinking these rich cases is what would cost minutes).
_FIND = settings(max_examples=600, database=None, derandomize=True, phases=[Phase.generate], suppress_health_check=list(HealthCheck))


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
    "string form naming its types (custom_types=)": lambda s: s.form == "string_types" and bool(s.names),
    "nested class in the class body": lambda s: "nested class" in s.extras,
    "class body attribute DSPy refuses": lambda s: bool({"plain value", "class from elsewhere"} & set(s.extras)),
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


def test_bad_signature_strings_give_each_kind_a_share():
    from dspex.parity._error_strategies import BAD_SIGNATURE_KINDS

    for kind, texts in BAD_SIGNATURE_KINDS.items():
        find(bad_signature_strings(), lambda s, texts=texts: s in texts, settings=_FIND)


def test_field_kind_flips_are_generated_and_effective_fields_follow_dspy():
    """``effective_fields`` shapes every later input and answer: after ``with_updated_fields`` moves a field to
    the other side, it must list the fields in DSPy's own order."""
    from dspex.parity._case import FieldSpec, SignatureSpec, build_signature
    from dspex.parity.harness import dspy_kit
    from dspex.parity.strategies import effective_fields, transforms_for

    fields = tuple(FieldSpec(n, "input" if n.startswith("q") else "output", str) for n in ("q1", "q2", "a1", "a2"))
    spec = SignatureSpec(fields, form="class")
    flips = [("with_updated_fields", "q1", str, None, {"__dspy_field_type": "output"}),
             ("with_updated_fields", "a2", int, "d", {"__dspy_field_type": "input"})]
    for transforms in ([flips[0]], [flips[1]], flips, flips[::-1]):
        flipped = SignatureSpec(fields, form="class", transforms=tuple(transforms))
        signature = build_signature(flipped, dspy_kit())
        got = effective_fields(flipped)
        assert [f.name for f in got if f.kind == "input"] == list(signature.input_fields), transforms
        assert [f.name for f in got if f.kind == "output"] == list(signature.output_fields), transforms
    find(transforms_for(spec), lambda ops: any(len(op) > 4 and "__dspy_field_type" in op[4] for op in ops),
         settings=_FIND)
