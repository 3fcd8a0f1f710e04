"""Reading a ``dspy.Signature`` class into a native one, through its attributes only (dspy is never imported).

DSPy keeps a field's meaning in a pydantic ``FieldInfo``: its ``annotation``, its ``json_schema_extra``
(``__dspy_field_type``, ``desc``, ``prefix``, ``constraints``, ``IS_TYPE_UNDEFINED``, ``format``...), its
``default``/``default_factory`` (``PydanticUndefined`` when absent, recognised by type name) and its
``metadata`` (``Ge(ge=1)``...). The conversion is cached per dspy class, weakly, and re-done if the class was
changed in place since (DSPy signatures allow ``sig.instructions = ...``, and a field's ``json_schema_extra`` is a
dict anyone may edit): see ``_stamp``.
"""

from __future__ import annotations

import weakref
from typing import Any

from ..errors import SignatureError
from ._field import CONSTRAINT_WORDING, IS_TYPE_UNDEFINED, MISSING, Field
from ._stamp import signature_stamp, stamp_holds

__all__ = ["from_dspy_signature", "field_from_dspy"]

_CACHE: "weakref.WeakKeyDictionary[type, tuple[Any, type]]" = weakref.WeakKeyDictionary()


def field_from_dspy(info: Any) -> Field:
    """A native :class:`Field` holding the same meaning as a ``dspy.InputField()``/``OutputField()``."""
    extra = dict(getattr(info, "json_schema_extra", None) or {})
    keys = list(extra)
    kind = extra.pop("__dspy_field_type", None)
    if kind not in ("input", "output"):
        raise SignatureError(
            f"{info!r} is not a DSPy InputField/OutputField (its json_schema_extra has no `__dspy_field_type`)."
        )
    # A desc DSPy stored as None (or as a non-string) is rendered by f-string: keep what the prompt shows.
    desc = extra.pop("desc", None) if "desc" in extra else None
    if desc is None and "desc" in keys:
        desc = "None"
        extra["desc"] = None   # json_schema_extra shows DSPy's None; the prompt reads the text
    prefix = extra.pop("prefix") if isinstance(extra.get("prefix"), str) else None
    constraints = extra.pop("constraints") if isinstance(extra.get("constraints"), str) else ""
    type_undefined = extra.pop(IS_TYPE_UNDEFINED, None)
    default = getattr(info, "default", MISSING)
    if type(default).__name__ == "PydanticUndefinedType":
        default = MISSING
    annotation = getattr(info, "annotation", None)
    return Field(
        kind=kind,
        annotation=str if annotation is None else annotation,
        desc=desc,
        prefix=prefix,
        default=default,
        default_factory=getattr(info, "default_factory", None),
        constraints=constraints,
        type_undefined=type_undefined,
        extra=_pydantic_kwargs(info),
        meta=extra,
        # keys after the kind are ones the signature filled (or set later), kept in that place
        filled=tuple(k for k in keys[keys.index("__dspy_field_type") + 1:] if k in ("prefix", "desc")),
    )


def _pydantic_kwargs(info: Any) -> dict[str, Any]:
    """The pydantic keywords worth keeping (constraints from ``metadata``, description, alias)."""
    kwargs: dict[str, Any] = {}
    for item in getattr(info, "metadata", None) or ():
        for key in CONSTRAINT_WORDING:
            if hasattr(item, key):
                kwargs[key] = getattr(item, key)
    for key in ("description", "alias"):
        value = getattr(info, key, None)
        if value is not None:
            kwargs[key] = value
    return kwargs


def from_dspy_signature(cls: type) -> type:
    """The native signature equal to the ``dspy.Signature`` class ``cls`` (fields, order, instructions)."""
    hit = _CACHE.get(cls)
    if hit is not None and stamp_holds(cls, hit[0]):
        return hit[1]
    stamp = signature_stamp(cls)   # taken before reading: an edit made while reading shows at the next call
    doc = cls.__doc__
    from ._signature import Signature, SignatureMeta

    fields = {name: field_from_dspy(info) for name, info in cls.fields.items()}  # type: ignore[attr-defined]
    namespace = {
        "__dspex_fields__": fields,
        # The raw docstring: native cleandocs it once, as DSPy does (cleandoc twice is not idempotent).
        "__doc__": doc if isinstance(doc, str) else cls.instructions,  # type: ignore[attr-defined]
        "__module__": cls.__module__,
        "__qualname__": cls.__qualname__,
        "__dspy_signature__": weakref.ref(cls),  # a weak link back: the cache must not keep `cls` alive
    }
    native = SignatureMeta(cls.__name__, (Signature,), namespace)
    _CACHE[cls] = (stamp, native)
    return native
