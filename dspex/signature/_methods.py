"""The derived-signature methods of ``dspy.Signature``: each returns a new class, none mutates ``cls``.

Like DSPy's, every derived signature is rebuilt through ``Signature(fields, cls.instructions)``: it is named
``StringSignature`` and empty instructions fall back to the default ones.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._field import Field
from ._namespace import is_dspy_field_info

if TYPE_CHECKING:
    from ._signature import Signature

__all__ = ["SignatureMethods"]


def _rebuild(fields: dict[str, Any], instructions: str) -> "type[Signature]":
    from ._signature import make_signature

    return make_signature(fields, instructions)


def _as_field(field: Any) -> Field:
    if is_dspy_field_info(field):
        from ._from_dspy import field_from_dspy

        return field_from_dspy(field)
    if not isinstance(field, Field):
        from ..errors import SignatureTypeError

        raise SignatureTypeError(
            f"Expected a field made by InputField() or OutputField(), got {field!r} (DSPy fails here with an "
            "AttributeError)."
        )
    return field


class SignatureMethods:
    """Mixed into :class:`~dspex.signature.Signature`; the classmethods DSPy's Signature offers."""

    _fields: dict[str, Field]
    _input_fields: dict[str, Field]
    _output_fields: dict[str, Field]
    instructions: str

    @classmethod
    def with_instructions(cls, instructions: str) -> "type[Signature]":
        return _rebuild(dict(cls._fields), instructions)

    @classmethod
    def append_instructions(cls, instructions: str) -> "type[Signature]":
        return _rebuild(dict(cls._fields), f"{cls.instructions}\n\n{instructions}")

    @classmethod
    def with_updated_fields(cls, name: str, type_: Any = None, **kwargs: Any) -> "type[Signature]":
        """Merge ``kwargs`` into the field's ``json_schema_extra`` (a missing name is a KeyError, as in DSPy)."""
        fields = dict(cls._fields)
        field = fields[name].with_schema_extra(kwargs)
        if type_ is not None:
            field = field.replace(annotation=type_)
        fields[name] = field
        return _rebuild(fields, cls.instructions)

    @classmethod
    def prepend(cls, name: str, field: Any, type_: Any = None) -> "type[Signature]":
        return cls.insert(0, name, field, type_)

    @classmethod
    def append(cls, name: str, field: Any, type_: Any = None) -> "type[Signature]":
        return cls.insert(-1, name, field, type_)

    @classmethod
    def delete(cls, name: str) -> "type[Signature]":
        fields = dict(cls._fields)
        fields.pop(name, None)
        return _rebuild(fields, cls.instructions)

    @classmethod
    def insert(cls, index: int, name: str, field: Any, type_: Any = None) -> "type[Signature]":
        """Insert among the inputs or outputs (by the field's kind); negative indices count from the end."""
        field = _as_field(field)
        if type_ is None:
            type_ = field.annotation
        if type_ is None:
            type_ = str
        inputs: list[tuple[str, Any]] = list(cls._input_fields.items())
        outputs: list[tuple[str, Any]] = list(cls._output_fields.items())
        lst = inputs if field.kind == "input" else outputs
        if index < 0:
            index += len(lst) + 1
        if index < 0 or index > len(lst):
            raise ValueError(
                f"Invalid index to insert: {index}, index must be in the range of [{len(lst) - 1}, {len(lst)}] for "
                f"{field.kind} fields, but received: {index}."
            )
        lst.insert(index, (name, (type_, field)))
        return _rebuild(dict(inputs + outputs), cls.instructions)

    @classmethod
    def equals(cls, other: Any) -> bool:
        """Same instructions and the same fields' ``json_schema_extra``, in any order (DSPy's comparison).

        ``other`` may also be a ``dspy.Signature`` class; it is compared through its attributes.
        """
        from ._signature import SignatureMeta, is_dspy_signature

        if is_dspy_signature(other):
            from ._from_dspy import from_dspy_signature

            other = from_dspy_signature(other)
        if not isinstance(other, SignatureMeta):
            return False
        if cls.instructions != other.instructions:
            return False
        mine, theirs = cls._fields, other._fields
        if mine.keys() != theirs.keys():
            return False
        return all(mine[k].json_schema_extra == theirs[k].json_schema_extra for k in mine)

    @classmethod
    def dump_state(cls) -> dict[str, Any]:
        return {
            "instructions": cls.instructions,
            "fields": [f.saved() for f in cls._fields.values()],
        }

    @classmethod
    def load_state(cls, state: dict[str, Any]) -> "type[Signature]":
        """A new signature with the saved instructions and per-field prefix/description (zipped by position)."""
        fields = dict(cls._fields)
        for (name, field), saved in zip(list(fields.items()), state["fields"]):
            fields[name] = field.loaded(saved)
        new = _rebuild(fields, state["instructions"])
        new.__doc__ = state["instructions"]  # DSPy assigns it after the copy, so "" stays "" here
        return new
