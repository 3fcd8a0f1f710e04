"""Native Signature -> real ``dspy.Signature``, so a call routed to DSPy sees the task the user declared.

Only what DSPy keeps is carried over: type, desc, prefix (when the user set one: DSPy warns that prefix is
deprecated, so the inferred default is left for DSPy to infer again), the "type was not written" marker DSPy uses
for string-parsed inputs, defaults and the pydantic constraint keywords (``ge``, ``le``, ...) that DSPy renders.
"""

from __future__ import annotations

import weakref
from typing import Any

__all__ = ["to_dspy_signature"]

_cache: "weakref.WeakKeyDictionary[type, type]" = weakref.WeakKeyDictionary()


def _field_kwargs(name: str, field: Any) -> dict[str, Any]:
    from dspex.signature import MISSING, infer_prefix

    kwargs: dict[str, Any] = dict(field.extra)
    if field.desc is not None and field.desc != f"${{{name}}}":
        kwargs["desc"] = field.schema_desc
    if field.prefix is not None and field.prefix != infer_prefix(name) + ":":
        kwargs["prefix"] = field.prefix
    if field.default is not MISSING:
        kwargs["default"] = field.default
    if field.default_factory is not None:
        kwargs["default_factory"] = field.default_factory
    if field.kind == "input" and field.type_undefined:
        kwargs["IS_TYPE_UNDEFINED"] = True
    return kwargs


def to_dspy_signature(native_sig: type) -> type:
    """Build (once per native signature class) the equivalent ``dspy.Signature`` class."""
    cached = _cache.get(native_sig)
    if cached is not None:
        return cached
    from dspex.errors import DSPyNotInstalledError

    try:
        import dspy

        from ._types import to_dspy_annotation
    except ImportError as exc:
        raise DSPyNotInstalledError("Converting a signature for DSPy") from exc
    import pydantic
    from dspy.signatures.field import move_kwargs

    fields: dict[str, tuple[Any, Any]] = {}
    for name, field in native_sig.fields.items():
        # ``dspy.InputField(**kwargs)`` / ``OutputField`` without their deprecation warning for ``prefix``: DSPy warned
        # the user once, where the field was written; a conversion must not warn again (at a routed call).
        made = pydantic.Field(**move_kwargs(**_field_kwargs(name, field), __dspy_field_type=field.kind))
        fields[name] = (to_dspy_annotation(field.annotation), made)
    dspy_sig = dspy.Signature(fields, native_sig.instructions, signature_name=native_sig.__name__)
    _cache[native_sig] = dspy_sig
    return dspy_sig
