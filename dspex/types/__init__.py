"""DSPy 3.4.1-compatible value types: what agents exchange (``Tool``, ``ToolCalls``, ``ToolCallResults``,
``History``, ``Reasoning``) and content (``Image``, ``Audio``, ``File``, ``Document``, ``Code``).

Importing this package loads nothing beyond the standard library; each type's module (and pydantic, which
the pydantic-backed ones need) loads on first access.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["Image", "Audio", "File", "Document", "Code",
           "Tool", "ToolCalls", "ToolCallResults", "History", "Reasoning", "Type", "as_tool", "is_tool_like",
           "role_of", "has_roles", "is_history", "is_tool", "is_tool_list", "is_tool_calls", "is_reasoning",
           "is_type_class", "native_class", "provider_call_to_dict", "content_type_name", "is_citations"]

_LAZY = {
    "Image": "._image",
    "Audio": "._media",
    "File": "._media",
    "Document": "._document",
    "Code": "._document",
    "Tool": "._tool",
    "as_tool": "._tool",
    "is_tool_like": "._tool",
    "ToolCalls": "._calls",
    "ToolCallResults": "._calls",
    "History": "._history",
    "Reasoning": "._history",
    "Type": "._base",
    "is_type_class": "._roles",
    "content_type_name": "._roles",
    "is_citations": "._roles",
    "role_of": "._roles",
    "has_roles": "._roles",
    "is_history": "._roles",
    "is_tool": "._roles",
    "is_tool_list": "._roles",
    "is_tool_calls": "._roles",
    "is_reasoning": "._roles",
    "native_class": "._roles",
    "provider_call_to_dict": "._calls",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'dspex.types' has no attribute '{name}'")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
