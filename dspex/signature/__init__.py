"""Signatures: the task's fields and instructions, DSPy-compatible, without pydantic or dspy at import."""

from ._field import MISSING, Field, InputField, OutputField
from ._signature import Signature, SignatureMeta, ensure_signature, infer_prefix, is_dspy_signature, make_signature

__all__ = [
    "MISSING",
    "Field",
    "InputField",
    "OutputField",
    "Signature",
    "SignatureMeta",
    "ensure_signature",
    "infer_prefix",
    "is_dspy_signature",
    "make_signature",
]
