"""Reading a ``class MySig(Signature):`` body into fields, with DSPy's (pydantic's) rules for what is allowed.

DSPy builds its signatures with pydantic, so its class-body rules are pydantic's: annotated attributes must be
fields, a public attribute with no annotation is an error unless it is a method, property or nested class,
names with a leading underscore are private (and may not be fields), ``ClassVar`` annotations are skipped, and
a few names are taken by the class itself. dspex applies the same rules without importing pydantic, and says
what to change where DSPy fails with a raw ``TypeError`` or a pydantic error.
"""

from __future__ import annotations

import sys
import types
import typing
from typing import Any

from ..errors import SignatureError, SignatureTypeError
from ._field import Field

__all__ = ["collect_class_fields", "check_field_names", "check_field_types", "RESERVED_NAMES"]

#: Field names DSPy 3.4.1 cannot build a signature with (probed on every attribute of ``dspy.Signature``):
#: its own properties (raw ``TypeError``) and pydantic's protected members (``ValueError``).
RESERVED_NAMES = frozenset(
    {
        "fields", "input_fields", "output_fields", "instructions", "signature", "model_config",
        "model_dump", "model_dump_json", "model_validate", "model_validate_json", "model_validate_strings",
    }
)

_IGNORED_VALUES = (types.FunctionType, property, classmethod, staticmethod)


def check_field_names(signature_name: str, names: Any) -> None:
    """Reject names DSPy cannot build a signature with, naming the field (DSPy: TypeError/pydantic errors)."""
    for name in names:
        if name.startswith("_"):
            raise SignatureError(
                f"Field `{name}` in `{signature_name}` starts with an underscore; signature fields must not "
                f"(pydantic, which DSPy builds on, treats such names as private). Rename it, e.g. "
                f"`{name.lstrip('_') or 'my_field'}`."
            )
        if name in RESERVED_NAMES:
            raise SignatureError(
                f"Field `{name}` in `{signature_name}` is reserved: it names an attribute of the Signature class "
                f"itself (DSPy fails on it too). Rename the field, e.g. `{name}_`."
            )


_BARE_FORMS = (typing.Literal, typing.Optional, typing.Union)
# What DSPy's make_signature accepts as a field type (anything else: "Field types must be types, ...").
TYPE_FORMS = (
    type, typing._GenericAlias, types.GenericAlias, typing._SpecialForm, types.UnionType  # type: ignore[attr-defined]
)
_WALKED = (list, dict, tuple, set, frozenset, typing.Union, types.UnionType)


def _non_type_argument(annotation: Any) -> Any:
    """The first argument of a container or union that is not a type (pydantic cannot schema it), else None."""
    if typing.get_origin(annotation) not in _WALKED:
        return None
    for arg in typing.get_args(annotation):
        if arg is None or arg is Ellipsis or isinstance(arg, str):  # a string is a forward reference to pydantic
            continue
        if not isinstance(arg, TYPE_FORMS):
            return (arg,)
        found = _non_type_argument(arg)
        if found is not None:
            return found
    return None


def check_field_types(signature_name: str, fields: dict[str, Field]) -> None:
    """Types pydantic refuses to build a schema for, so DSPy refuses the signature: refuse them too, by name."""
    for name, field in fields.items():
        annotation = field.annotation
        if any(annotation is form for form in _BARE_FORMS):
            raise SignatureError(
                f"Field `{name}` in `{signature_name}` has type `{_show(annotation)}` without arguments; write e.g. "
                f"`{_show(annotation)}[...]` (DSPy fails here with pydantic's PydanticSchemaGenerationError)."
            )
        if typing.get_origin(annotation) is typing.ClassVar:
            raise SignatureError(
                f"Field `{name}` in `{signature_name}` has type `{_show(annotation)}`: a ClassVar is not a field type "
                "(DSPy silently drops such a field)."
            )
        bad = _non_type_argument(annotation)
        if bad is not None:
            raise SignatureError(
                f"Field `{name}` in `{signature_name}` has type `{_show(annotation)}`, whose argument {bad[0]!r} is "
                "not a type (DSPy fails here with pydantic's PydanticSchemaGenerationError)."
            )
        if typing.get_origin(annotation) is dict and len(typing.get_args(annotation)) == 1:
            raise SignatureError(
                f"Field `{name}` in `{signature_name}` has type `{_show(annotation)}`: dict takes two type arguments, "
                "e.g. `dict[str, int]` (DSPy fails here with a raw TypeError)."
            )


def is_dspy_field_info(value: Any) -> bool:
    """A ``dspy.InputField()``/``OutputField()`` (a pydantic FieldInfo), recognised without importing either."""
    extra = getattr(value, "json_schema_extra", None)
    return type(value).__name__ == "FieldInfo" and isinstance(extra, dict) and "__dspy_field_type" in extra


def collect_class_fields(name: str, namespace: dict[str, Any], annotations: dict[str, Any]) -> dict[str, Field]:
    """Take the fields out of a class body, in declaration order, typed from its annotations."""
    from ._from_dspy import field_from_dspy

    own: dict[str, Field] = {}
    for attr, value in list(namespace.items()):
        if isinstance(value, Field) or is_dspy_field_info(value):
            field = value if isinstance(value, Field) else field_from_dspy(value)
            if attr in annotations:
                field = field.replace(annotation=_resolve(name, attr, annotations[attr], namespace))
            else:
                field = field.replace(annotation=str, type_undefined=True)
            own[attr] = field
            del namespace[attr]
    for attr, annotation in annotations.items():
        if attr in own or attr.startswith("_") or _is_classvar(annotation):
            continue
        raise SignatureTypeError(
            f"Field `{attr}` in `{name}` must be declared with InputField or OutputField, e.g. "
            f"`{attr}: {_show(annotation)} = InputField()`; a plain annotation or value is not a signature field."
        )
    for attr, value in namespace.items():
        if attr.startswith("_") or attr in annotations or isinstance(value, _IGNORED_VALUES):
            continue
        if type(value).__module__ == "functools" or _is_nested_class(value, namespace):
            continue
        raise SignatureError(
            f"Attribute `{attr} = {value!r}` in `{name}` has no annotation and is not a field. Declare it as "
            f"`{attr} = InputField()` / `OutputField()`, or annotate it as a `ClassVar`."
        )
    return own


def _is_nested_class(value: Any, namespace: dict[str, Any]) -> bool:
    qualname = namespace.get("__qualname__")
    return (
        isinstance(value, type)
        and value.__module__ == namespace.get("__module__")
        and qualname is not None
        and value.__qualname__.startswith(f"{qualname}.")
    )


def _is_classvar(annotation: Any) -> bool:
    if isinstance(annotation, str):
        return annotation.startswith(("ClassVar", "typing.ClassVar"))
    return annotation is typing.ClassVar or typing.get_origin(annotation) is typing.ClassVar


def _resolve(name: str, attr: str, annotation: Any, namespace: dict[str, Any]) -> Any:
    """Evaluate a string annotation (``from __future__ import annotations``) where the class was written."""
    if not isinstance(annotation, str):
        return annotation
    module = sys.modules.get(namespace.get("__module__", ""))
    global_ns = dict(vars(module)) if module is not None else {}
    frame = sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__", "").startswith("dspex.signature"):
        frame = frame.f_back
    local_ns = {**(frame.f_locals if frame is not None else {}), **namespace}
    del frame
    try:
        value: Any = annotation
        for _ in range(3):  # a quoted annotation under `from __future__ import annotations` is a string twice
            value = eval(value, global_ns, local_ns)  # noqa: S307 - the user's own annotation text
            if not isinstance(value, str):
                return value
        raise ValueError("it names a string, not a type")
    except Exception as exc:
        raise SignatureError(
            f"The annotation {annotation!r} of field `{attr}` in `{name}` could not be evaluated ({exc}). Import "
            "the names it uses in the module that defines the signature."
        ) from None


def _show(annotation: Any) -> str:
    if isinstance(annotation, type):
        return annotation.__name__
    return str(annotation).replace("typing.", "")
