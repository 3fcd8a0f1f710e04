"""``dspex.signature.signature_stamp`` / ``stamp_holds``: a DSPy signature class changed in place no longer matches
its stamp, whatever was changed that a native reading takes from it; an unchanged class does. And
``from_dspy_signature`` reads a class changed in place again (it kept the first reading while the instructions
object was the same, whatever happened to the fields)."""

from __future__ import annotations

from typing import Any, Callable

import dspy
import pydantic
import pytest

from dspex.signature import from_dspy_signature, signature_stamp, stamp_holds


def _sig() -> Any:
    return dspy.Signature("question: str, context: list[str] = [] -> answer", "Answer the question.")


def _field(sig: Any, name: str) -> Any:
    return sig.model_fields[name]


EDITS: dict[str, Callable[[Any], None]] = {
    "instructions": lambda s: setattr(s, "instructions", "Answer in French."),
    "desc": lambda s: _field(s, "answer").json_schema_extra.__setitem__("desc", "one word"),
    "prefix": lambda s: _field(s, "question").json_schema_extra.__setitem__("prefix", "Q:"),
    "kind": lambda s: _field(s, "context").json_schema_extra.__setitem__("__dspy_field_type", "output"),
    "annotation": lambda s: setattr(_field(s, "answer"), "annotation", int),
    "default": lambda s: setattr(_field(s, "context"), "default", ["x"]),
    "metadata": lambda s: _field(s, "answer").metadata.append(pydantic.Field(min_length=2).metadata),
    "field replaced": lambda s: s.model_fields.__setitem__("answer", dspy.OutputField(desc="new")),
    "field added": lambda s: s.model_fields.__setitem__("extra", dspy.OutputField()),
    "field removed": lambda s: s.model_fields.pop("context"),
}


@pytest.mark.parametrize("edit", list(EDITS))
def test_an_edit_in_place_breaks_the_stamp(edit: str) -> None:
    sig = _sig()
    stamp = signature_stamp(sig)
    assert stamp_holds(sig, stamp)
    EDITS[edit](sig)
    assert not stamp_holds(sig, stamp)
    assert stamp_holds(sig, signature_stamp(sig))


def test_an_untouched_class_keeps_its_stamp_and_odd_ones_never_hold() -> None:
    sig = _sig()
    stamp = signature_stamp(sig)
    sig.input_fields, sig.fields, sig.instructions   # noqa: B018 - reading changes nothing
    # pydantic's description (read by DSPy's BAMLAdapter only, which native never serves) is not followed
    _field(sig, "answer").description = "the answer"
    assert stamp_holds(sig, stamp) and not stamp_holds(_sig(), stamp)
    assert signature_stamp(object) is None and not stamp_holds(object, None) and not stamp_holds(sig, None)


def test_from_dspy_signature_reads_a_class_changed_in_place_again() -> None:
    sig = _sig()
    first = from_dspy_signature(sig)
    assert from_dspy_signature(sig) is first
    _field(sig, "answer").json_schema_extra["desc"] = "one word"
    second = from_dspy_signature(sig)
    assert second is not first and second.output_fields["answer"].desc == "one word"
    assert first.output_fields["answer"].desc != "one word"
