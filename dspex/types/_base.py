"""``Type``: the base of the pydantic-backed value types, serialised the way ``dspy.Type`` serialises.

A ``Type`` dumps (in prompts, in JSON) to what its ``format()`` returns, and ``description()`` is what an
adapter appends to a field's description ("Type description of ToolCalls: ..."). ``_roles.is_type_class``
recognises this class and ``dspy.Type`` without importing either.
"""

from __future__ import annotations

import json
from typing import Any

import pydantic

__all__ = ["Type", "MARKER_START", "MARKER_END"]

MARKER_START = "<<CUSTOM-TYPE-START-IDENTIFIER>>"
MARKER_END = "<<CUSTOM-TYPE-END-IDENTIFIER>>"


class Type(pydantic.BaseModel):
    """A value type with its own prompt rendering (``format``) and an optional type description."""

    def format(self) -> Any:
        raise NotImplementedError

    @classmethod
    def description(cls) -> str:
        return ""

    @pydantic.model_serializer()
    def serialize_model(self) -> Any:
        formatted = self.format()
        if isinstance(formatted, list):
            return f"{MARKER_START}{json.dumps(formatted, ensure_ascii=False)}{MARKER_END}"
        return formatted
