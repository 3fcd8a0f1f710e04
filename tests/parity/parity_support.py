"""Small helpers shared by the parity tests (not a conftest: plain imports keep them explicit)."""

from __future__ import annotations

from typing import Any

from dspex.parity._case import Case, FieldSpec, LMSpec, SignatureSpec
from dspex.parity.harness import ParityResult


def simple_case(
    module: str = "predict",
    signature: str = "question -> answer: int",
    inputs: dict[str, Any] | None = None,
    script: tuple[Any, ...] | None = None,
    **overrides: Any,
) -> Case:
    """A hand-written case from a raw signature string (the harness builds it for both sides)."""
    spec = SignatureSpec(fields=(), raw=signature, form="string")
    if script is None:
        reasoning = "[[ ## reasoning ## ]]\nStep by step.\n\n" if module == "cot" else ""
        script = ([f"{reasoning}[[ ## answer ## ]]\n42\n\n[[ ## completed ## ]]"],)
    return Case(module, spec, {"question": "What is 6 x 7?"} if inputs is None else inputs, LMSpec(script), **overrides)


def typed_spec(*fields: tuple[str, str, Any], form: str = "class", instructions: str | None = None) -> SignatureSpec:
    """A signature spec from (name, kind, annotation) triples."""
    return SignatureSpec(tuple(FieldSpec(n, k, a) for n, k, a in fields), instructions, form)  # type: ignore[arg-type]


def check(result: ParityResult) -> ParityResult:
    assert result.ok, result.report()
    return result
