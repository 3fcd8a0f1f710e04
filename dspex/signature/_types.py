"""Which annotations the native side supports, and DSPy's names for them. (Minimal first cut.)"""

from __future__ import annotations

from typing import Any

from ._field import Field

__all__ = ["check_field", "annotation_name"]


def check_field(name: str, field: Field) -> None:
    return None


def annotation_name(annotation: Any) -> str:
    return getattr(annotation, "__name__", str(annotation))
