"""Which annotations the native side supports, and DSPy's names for them.

The router sends a module whose signature uses anything else to DSPy, so :func:`unsupported_fields` is cheap
(cached per signature class) and never imports pydantic or dspy: pydantic models and dspy types are
recognised by their classes' module names.
"""

from __future__ import annotations

import enum
import types
import typing
import weakref
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from ..errors import UnsupportedTypeError

__all__ = [
    "annotation_allows_none",
    "annotation_name",
    "check_field",
    "check_signature",
    "is_supported",
    "unsupported_fields",
    "why_unsupported",
]

_SCALARS = frozenset({str, int, float, bool, type(None)})
_CONTAINERS = frozenset({list, dict, tuple, set, frozenset})
_ARITY = {list: 1, set: 1, frozenset: 1, dict: 2}
_LITERAL_VALUE_TYPES = (str, int, bool, type(None), enum.Enum)
_UNSUPPORTED_CACHE: "weakref.WeakKeyDictionary[type, tuple[str, ...]]" = weakref.WeakKeyDictionary()
_NAME_CACHE: "weakref.WeakKeyDictionary[type, str]" = weakref.WeakKeyDictionary()


def _is_dspy_class(cls: type) -> bool:
    return any(c.__module__ == "dspy" or c.__module__.startswith("dspy.") for c in getattr(cls, "__mro__", (cls,)))


# DSPy's content types (Image, Audio, File, Document, Code) are read by duck typing: a value renders through its
# own ``format()``, an annotation through its name and ``description()``, an output parses with pydantic as DSPy
# parses it. (DSPy's ``Citations`` class is a role: see ``_ROLE_KINDS`` and ``dspex/adapters/_roles.py``.)
_DATETIME = frozenset({"datetime", "date", "time"})


def _content_name(annotation: type) -> str | None:
    from ..types import content_type_name  # stdlib-only module

    return content_type_name(annotation)


def _is_native_content(annotation: type) -> bool:
    return annotation.__module__.startswith("dspex.types.") and _content_name(annotation) is not None


def _why_content(annotation: type) -> str | None:
    if _content_name(annotation) is not None:
        return None
    return "a DSPy type: DSPy formats it with its own rules"


def _is_base_model(cls: type) -> bool:
    return any(c.__name__ == "BaseModel" and c.__module__ == "pydantic.main" for c in cls.__mro__)


# The agent types (dspex.types and DSPy's own), natively supported where DSPy's adapters give them a role:
# History and Tool / list[Tool] as inputs, ToolCalls as an output, Reasoning either way (a str to adapters).
_ROLE_KINDS = {"history": ("input",), "tools": ("input",), "tool_calls": ("output",), "reasoning": ("input", "output"),
               "citations": ("input", "output"),
               "tool_call_results": ("input",)}


def _role(annotation: Any) -> str | None:
    from ..types import role_of  # stdlib-only module; the types themselves load on first use

    return role_of(annotation)


def why_unsupported_field(annotation: Any, kind: str) -> str | None:
    """``why_unsupported`` for a field of this kind ("input"/"output"): agent types count only in their role."""
    role = _role(annotation)
    if role is not None:
        if kind in _ROLE_KINDS.get(role, ()):
            return None
        return f"`{annotation_name(annotation)}` as an {kind} field is not among the uses native adapters handle"
    return why_unsupported(annotation)


def why_unsupported(annotation: Any, _seen: frozenset[int] = frozenset()) -> str | None:
    """``None`` when native modules format and parse ``annotation`` exactly as DSPy does, else the reason."""
    if annotation is None or annotation is Any or annotation in _SCALARS or annotation in _CONTAINERS:
        return None
    origin = get_origin(annotation)
    if origin is None:
        if not isinstance(annotation, type):
            return "not a type dspex's native adapters handle"
        if _is_dspy_class(annotation) or _is_native_content(annotation):
            return _why_content(annotation)
        if issubclass(annotation, enum.Enum):
            return None
        if _is_base_model(annotation):
            return _why_model(annotation, _seen)
        if annotation.__module__ == "datetime":
            return None if annotation.__name__ in _DATETIME else f"`datetime.{annotation.__qualname__}` is not a date or time"
        return f"class `{annotation.__qualname__}` is not among the types native adapters format and parse"
    args = get_args(annotation)
    if origin is Literal:
        bad = [a for a in args if not isinstance(a, _LITERAL_VALUE_TYPES)]
        return f"Literal value {bad[0]!r} is not a str, int, bool, None or Enum" if bad else None
    arity = _ARITY.get(origin)
    if arity is not None and args and len(args) != arity:
        return f"`{annotation_name(annotation)}` has {len(args)} type arguments, {arity} expected"
    if origin in _CONTAINERS or origin is Union or origin is types.UnionType:
        for arg in args:
            if arg is Ellipsis and origin is tuple:
                continue
            reason = why_unsupported(arg, _seen)
            if reason is not None:
                return reason
        return None
    return f"`{annotation_name(annotation)}` is not among the types native adapters format and parse"


def _why_model(model: type, seen: frozenset[int]) -> str | None:
    """A pydantic model is serialised by pydantic on both sides; only DSPy types nested in it differ."""
    if id(model) in seen:
        return None
    seen = seen | {id(model)}
    for name, info in getattr(model, "model_fields", {}).items():
        annotation = getattr(info, "annotation", None)
        for part in _walk(annotation):
            if isinstance(part, type) and _is_dspy_class(part):
                return f"model `{model.__qualname__}` field `{name}` is a DSPy type"
            if isinstance(part, type) and part is not model and _is_base_model(part):
                reason = _why_model(part, seen)
                if reason is not None:
                    return reason
    return None


def _walk(annotation: Any) -> typing.Iterator[Any]:
    yield annotation
    for arg in get_args(annotation):
        yield from _walk(arg)


def is_supported(annotation: Any) -> bool:
    """True when native modules handle fields of this type exactly as DSPy does."""
    return why_unsupported(annotation) is None


def _field_kind(field: Any) -> str:
    kind = getattr(field, "kind", None)
    if kind is None:  # a dspy FieldInfo
        kind = (getattr(field, "json_schema_extra", None) or {}).get("__dspy_field_type", "input")
    return kind


def check_field(name: str, field: Any) -> None:
    """Raise :class:`UnsupportedTypeError` naming ``name`` and its type when native cannot handle the field."""
    annotation = getattr(field, "annotation", None)
    annotation = str if annotation is None else annotation
    reason = why_unsupported_field(annotation, _field_kind(field))
    if reason is not None:
        raise UnsupportedTypeError(name, annotation, reason)


def unsupported_fields(signature: Any) -> list[str]:
    """Names of the fields native modules cannot handle (a native or a dspy Signature class); cached per class."""
    try:
        cached = _UNSUPPORTED_CACHE.get(signature)
    except TypeError:
        cached = None
    if cached is None:
        found = []
        for name, field in signature.fields.items():
            annotation = getattr(field, "annotation", None)
            if why_unsupported_field(str if annotation is None else annotation, _field_kind(field)) is not None:
                found.append(name)
        cached = tuple(found)
        if _is_native_signature(signature):  # dspy classes can be changed in place; never cache them
            _UNSUPPORTED_CACHE[signature] = cached
    return list(cached)


def _is_native_signature(signature: Any) -> bool:
    from ._signature import SignatureMeta

    return isinstance(signature, SignatureMeta)


def check_signature(signature: Any) -> None:
    """What a native module calls at construction: UnsupportedTypeError for the first unsupported field."""
    names = unsupported_fields(signature)
    if names:
        check_field(names[0], signature.fields[names[0]])


def annotation_name(annotation: Any) -> str:
    """DSPy's ``get_annotation_name``: ``list[str]``, ``Union[int, NoneType]``, ``Literal['a', "it's"]``.

    Only plain classes are cached: typing's ``Union[int, str] == Union[str, int]`` and
    ``Literal['a', 'b'] == Literal['b', 'a']`` (equal and same hash, different names), so a cache keyed on
    the annotation would hand back the wrong order.
    """
    if type(annotation) is type or isinstance(annotation, enum.EnumMeta):
        name = _NAME_CACHE.get(annotation)  # type: ignore[arg-type]
        if name is None:
            name = _NAME_CACHE[annotation] = _name(annotation)  # type: ignore[index]
        return name
    return _name(annotation)


def _name(annotation: Any) -> str:
    origin = get_origin(annotation)
    args = get_args(annotation)
    if origin is types.UnionType:
        origin = Union
    if origin is None:
        if _is_reasoning(annotation):
            return "str"  # DSPy names its Reasoning type `str` for ChainOfThought's sake
        if hasattr(annotation, "__name__"):
            return annotation.__name__
        return str(annotation)
    if origin is Literal:
        inner = ", ".join(_quote_literal(a) if isinstance(a, str) else _name(a) for a in args)
    else:
        inner = ", ".join(_name(a) for a in args)
    return f"{_name(origin)}[{inner}]"


def _is_reasoning(annotation: Any) -> bool:
    return (
        isinstance(annotation, type)
        and annotation.__name__ == "Reasoning"
        and annotation.__module__.startswith(("dspy.", "dspex.types."))
    )


def _quote_literal(s: str) -> str:
    """DSPy's ``_quoted_string_for_literal_type_annotation``."""
    has_single, has_double = "'" in s, '"' in s
    if has_single and not has_double:
        return f'"{s}"'
    if has_single and has_double:
        return "'" + s.replace("'", "\\'") + "'"
    return f"'{s}'"


def annotation_allows_none(annotation: Any) -> bool:
    """Whether the annotation admits None (``str | None``, ``Optional[int]``, ``None``, ``Annotated[...]``).

    Such an input may be omitted without DSPy's missing-input warning, and such an output is filled with None
    when the LM leaves it out.
    """
    if annotation is None or annotation is type(None):
        return True
    origin = get_origin(annotation)
    args = get_args(annotation)
    if origin is Annotated:
        return bool(args) and annotation_allows_none(args[0])
    if origin is Union or origin is types.UnionType:
        return any(annotation_allows_none(arg) for arg in args)
    return False
