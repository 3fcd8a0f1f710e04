"""The values agents exchange, DSPy 3.4.1-compatible: ``Tool``, ``ToolCalls``, ``ToolCallResults``, ``History``.

Importing this package loads nothing beyond the standard library; each type's module (and pydantic, which
the pydantic-backed ones need) loads on first access.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["Tool", "as_tool", "is_tool_like"]

_LAZY = {
    "Tool": "._tool",
    "as_tool": "._tool",
    "is_tool_like": "._tool",
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
