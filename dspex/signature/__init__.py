"""Signatures: the task's fields and instructions, DSPy-compatible, without pydantic or dspy at import."""

from ._field import MISSING, Field, InputField, OutputField
from ._from_dspy import field_from_dspy, from_dspy_signature
from ._stamp import signature_stamp, stamp_holds
from ._signature import Signature, SignatureMeta, ensure_signature, infer_prefix, is_dspy_signature, make_signature
from ._types import annotation_allows_none, annotation_name, check_field, check_signature, is_supported, unsupported_fields

__all__ = [
    "MISSING",
    "Field",
    "InputField",
    "OutputField",
    "Signature",
    "SignatureMeta",
    "annotation_allows_none",
    "annotation_name",
    "check_field",
    "check_signature",
    "data_only",
    "detect_custom_types_from_caller",
    "ensure_signature",
    "field_from_dspy",
    "from_dspy_signature",
    "infer_prefix",
    "is_dspy_signature",
    "is_supported",
    "make_signature",
    "signature_stamp",
    "stamp_holds",
    "unsupported_fields",
]


def __getattr__(name: str) -> object:
    # The string parser (and ``ast``) loads when the first string signature is parsed, not at import.
    if name in ("detect_custom_types_from_caller", "data_only"):
        from . import _parse

        return getattr(_parse, name)
    raise AttributeError(f"module 'dspex.signature' has no attribute {name!r}")
