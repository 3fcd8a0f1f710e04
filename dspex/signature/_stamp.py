"""Whether a DSPy signature class was changed in place since it was read.

DSPy's signatures are classes, and DSPy lets a program change one in place: ``sig.instructions = ...`` (what
``dspy.InferRules`` does) sets the class's ``__doc__``, and a field's ``json_schema_extra`` is a plain dict
(``desc``, ``prefix``, ...) anyone may write to; DSPy reads both afresh at every call. A native signature read
from such a class (``from_dspy_signature``) is a copy, so whoever keeps one checks the class against a stamp
taken when it was read.

A stamp holds what DSPy reads of the class at a call, and so what a native reading must follow: the docstring
object; the fields mapping (pydantic's ``__pydantic_fields__``, which is what ``model_fields`` returns) and its
size; per field its name, the ``FieldInfo`` itself, its ``json_schema_extra`` (copied: ``desc``, ``prefix``,
``constraints``, the input/output marker), ``annotation``, ``default``, ``default_factory`` and ``metadata``
(copied). (A field's pydantic ``description`` and ``alias`` are read by DSPy's BAMLAdapter alone, which native
never serves.) :func:`stamp_holds` compares the class with it: identity for everything but the two containers,
compared by value, in a plain loop (lists of the same facts compared in one step cost half as much again). So
it sees instructions set, a field's extras, type or default changed, and fields added, removed or replaced, or
the mapping replaced (pydantic's ``model_rebuild``); not fields reordered in place within the same mapping, which
pydantic does not expect either. A class that cannot be stamped gets ``None``, which never holds (nor does a
class without ``__pydantic_fields__``: it is read again at each check). Native signatures are immutable and need
no stamp.
"""

from __future__ import annotations

from typing import Any

__all__ = ["signature_stamp", "stamp_holds"]


def _fields(cls: Any) -> Any:
    try:
        return cls.__pydantic_fields__
    except AttributeError:
        return cls.model_fields


def _copy(value: Any) -> Any:
    return dict(value) if type(value) is dict else list(value) if type(value) is list else value


def signature_stamp(cls: Any) -> tuple[Any, ...] | None:
    """What a call reads of the DSPy signature class ``cls``, copied (``None`` when it cannot be read)."""
    try:
        fields = _fields(cls)
        return cls.__doc__, fields, len(fields), tuple(
            (info, name, _copy(info.json_schema_extra), info.annotation, info.default, info.default_factory,
             _copy(info.metadata)) for name, info in fields.items())
    except (AttributeError, TypeError, ValueError):
        return None


def stamp_holds(cls: Any, stamp: tuple[Any, ...] | None) -> bool:
    """True when nothing :func:`signature_stamp` records changed in ``cls`` since ``stamp`` was taken."""
    if stamp is None:
        return False
    try:
        fields = stamp[1]
        if cls.__doc__ is not stamp[0] or cls.__pydantic_fields__ is not fields or len(fields) != stamp[2]:
            return False
        for info, name, extra, annotation, default, factory, metadata in stamp[3]:
            if (fields[name] is not info or info.json_schema_extra != extra or info.annotation is not annotation
                    or info.default is not default or info.default_factory is not factory
                    or info.metadata != metadata):
                return False
        return True
    except (AttributeError, KeyError, TypeError, ValueError):
        return False
