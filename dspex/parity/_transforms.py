"""Signature class-method chains for parity cases (``append``, ``insert``, ``with_updated_fields``, ...) and the
fields a chain leaves, which shape the inputs and LM answers a case is given."""

from __future__ import annotations

import dataclasses
from typing import Any

from hypothesis import strategies as st

from ._case import FieldSpec, SignatureSpec
from ._type_strategies import annotations, identifiers

__all__ = ["transforms_for", "effective_fields"]


@st.composite
def transforms_for(draw: Any, spec: SignatureSpec, custom: bool = True) -> tuple[tuple[Any, ...], ...]:
    """A short chain of Signature class-method calls (``append``, ``insert``, ``with_instructions``, ...)."""
    from .strategies import descriptions, instructions

    ops: list[tuple[Any, ...]] = []
    taken = {f.name for f in spec.fields}
    for _ in range(draw(st.integers(1, 2))):
        op = draw(st.sampled_from(["with_instructions", "append_instructions", "append", "prepend", "insert", "delete",
                                   "with_updated_fields"]))
        if op in ("with_instructions", "append_instructions"):
            ops.append((op, draw(instructions.filter(lambda t: t is not None))))
        elif op in ("delete", "with_updated_fields"):
            target = draw(st.sampled_from(sorted(taken)))
            if op == "delete":
                ops.append((op, target))
                taken.discard(target)
            else:
                ops.append((op, target, draw(st.sampled_from([str, int, bool, list[str]])), draw(descriptions),
                            draw(_field_updates(spec, tuple(ops), target))))
        else:
            new_name = draw(identifiers.filter(lambda n: n not in taken))
            taken.add(new_name)
            kind = draw(st.sampled_from(["input", "output"]))
            field = FieldSpec(new_name, kind, draw(st.one_of(st.just(str), annotations(1, custom))), draw(descriptions))
            ops.append((op, draw(st.integers(-1, 1)), field) if op == "insert" else (op, field))
    return tuple(ops)


@st.composite
def _field_updates(draw: Any, spec: SignatureSpec, ops: tuple[tuple[Any, ...], ...], target: str) -> dict[str, Any]:
    """``with_updated_fields``' other keyword arguments: a prefix, an extra schema key, DSPy's "type undefined"
    mark (an input so marked is never type-checked), or the field's kind flipped (``__dspy_field_type``: the field
    moves to the other side) while its side keeps another field."""
    current = effective_fields(dataclasses.replace(spec, transforms=ops))
    kind = next((f.kind for f in current if f.name == target), None)
    options: list[dict[str, Any]] = [{}, {}, {"prefix": "Say:"}, {"example": "x"}, {"IS_TYPE_UNDEFINED": True}]
    if kind is not None and sum(f.kind == kind for f in current) > 1:
        options.append({"__dspy_field_type": "output" if kind == "input" else "input"})
    return draw(st.sampled_from(options))


def effective_fields(spec: SignatureSpec) -> list[FieldSpec]:
    """The fields after ``spec.transforms`` as DSPy documents them (only used to shape plausible inputs/scripts)."""
    ins, outs = list(spec.inputs), list(spec.outputs)
    for op, *args in spec.transforms:
        if op == "delete":
            ins = [f for f in ins if f.name != args[0]]
            outs = [f for f in outs if f.name != args[0]]
        elif op == "with_updated_fields":
            ins, outs = ([dataclasses.replace(f, annotation=args[1]) if f.name == args[0] else f for f in group]
                         for group in (ins, outs))
            flip = args[3].get("__dspy_field_type") if len(args) > 3 else None
            if flip == "output":   # DSPy rebuilds from inputs then outputs: a former input leads the outputs
                outs = [f for f in ins if f.name == args[0]] + outs
                ins = [f for f in ins if f.name != args[0]]
            elif flip == "input":   # and a former output follows the inputs
                ins = ins + [f for f in outs if f.name == args[0]]
                outs = [f for f in outs if f.name != args[0]]
            ins = [dataclasses.replace(f, kind="input") for f in ins]
            outs = [dataclasses.replace(f, kind="output") for f in outs]
        elif op in ("append", "prepend", "insert"):
            field = args[-1]
            group = ins if field.kind == "input" else outs
            if op == "insert":
                index = args[0] if args[0] >= 0 else len(group) + 1 + args[0]
            else:
                index = len(group) if op == "append" else 0
            group.insert(max(0, min(index, len(group))), field)
    return ins + outs
