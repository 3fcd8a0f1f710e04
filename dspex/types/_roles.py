"""Which annotation plays which role for an adapter (history, tools, tool calls, reasoning), for this package's
classes and DSPy's alike, and turning DSPy's values into this package's. No pydantic and no dspy at import.

DSPy compares annotations by equality (``field.annotation == History``), so a subclass plays no role; the same
rule holds here.
"""

from __future__ import annotations

import sys
from typing import Any, get_args, get_origin

__all__ = [
    "is_history", "is_tool", "is_tool_list", "is_tool_calls", "is_tool_call_results", "is_reasoning", "role_of",
    "is_citations",
    "native_class", "has_roles", "is_type_class", "content_type_name",
]

# DSPy's content types and this package's twins of them: Image, Audio, File, Document, Code. Their values render
# through their own ``format()`` (pydantic serialises a ``dspy.Type`` to DSPy's custom-type markers, which the
# adapter splits into image_url / input_audio / file content parts), so they need no role, only recognising.
_CONTENT_MODULES = {"Image": "image", "Audio": "audio", "File": "file", "Document": "document", "Code": "code"}
_NATIVE_CONTENT_MODULES = ("dspex.types._image", "dspex.types._media", "dspex.types._document")

_TYPE_BASES = {("Type", "dspex.types._base"), ("Type", "dspy.adapters.types.base_type")}

_NATIVE = {
    "History": "dspex.types._history",
    "Reasoning": "dspex.types._history",
    "ToolCalls": "dspex.types._calls",
    "ToolCallResults": "dspex.types._calls",
    "Tool": "dspex.types._tool",
}
_DSPY = {
    "History": "dspy.adapters.types.history",
    "Reasoning": "dspy.adapters.types.reasoning",
    "ToolCalls": "dspy.adapters.types.tool",
    "ToolCallResults": "dspy.adapters.types.tool",
    "Tool": "dspy.adapters.types.tool",
}


def _is(annotation: Any, name: str) -> bool:
    if not isinstance(annotation, type) or annotation.__name__ != name:
        return False
    module = annotation.__module__
    return module == _NATIVE[name] or module == _DSPY[name]


def is_history(annotation: Any) -> bool:
    return _is(annotation, "History")


def is_tool(annotation: Any) -> bool:
    return _is(annotation, "Tool")


def is_tool_list(annotation: Any) -> bool:
    """``list[Tool]`` (DSPy's test: the list's first type argument is the Tool class)."""
    args = get_args(annotation)
    return get_origin(annotation) is list and bool(args) and is_tool(args[0])


def is_tool_calls(annotation: Any) -> bool:
    return _is(annotation, "ToolCalls")


def is_tool_call_results(annotation: Any) -> bool:
    return _is(annotation, "ToolCallResults")


def is_reasoning(annotation: Any) -> bool:
    return _is(annotation, "Reasoning")


def is_citations(annotation: Any) -> bool:
    """DSPy's ``Citations`` class itself (DSPy's adapters compare it by equality; dspex has no twin of it)."""
    return (isinstance(annotation, type) and annotation.__name__ == "Citations"
            and annotation.__module__ == "dspy.adapters.types.citation")


def role_of(annotation: Any) -> str | None:
    """"history", "tools", "tool_calls", "tool_call_results", "reasoning", "citations", or None for an ordinary
    type."""
    if is_citations(annotation):
        return "citations"
    if isinstance(annotation, type):
        for name, role in (("History", "history"), ("Tool", "tools"), ("ToolCalls", "tool_calls"),
                           ("ToolCallResults", "tool_call_results"), ("Reasoning", "reasoning")):
            if _is(annotation, name):
                return role
        return None
    return "tools" if is_tool_list(annotation) else None


def has_roles(fields: Any) -> bool:
    """Whether any of these fields (a mapping of name -> Field) needs the agent-aware adapter path."""
    return any(role_of(f.annotation) is not None for f in fields.values())


def content_type_name(annotation: Any) -> str | None:
    """"Image", "Audio", "File", "Document" or "Code" (``Code["python"]`` too) when ``annotation`` is DSPy's class
    of that name or a subclass, read from the MRO's names and modules (nothing is imported); else None."""
    for c in getattr(annotation, "__mro__", ()) if isinstance(annotation, type) else ():
        name = c.__name__
        kind = _CONTENT_MODULES.get(name)
        if kind is not None and c.__module__ in (f"dspy.adapters.types.{kind}", *_NATIVE_CONTENT_MODULES):
            return name
    return None


def is_type_class(annotation: Any) -> bool:
    """A subclass of ``dspex.types.Type`` or of ``dspy.Type`` (checked on the MRO's names: nothing is imported)."""
    mro = getattr(annotation, "__mro__", None) if isinstance(annotation, type) else None
    return mro is not None and any((c.__name__, c.__module__) in _TYPE_BASES for c in mro)


def native_class(name: str) -> Any:
    """This package's class ``name`` (imports its module, and pydantic, on first use)."""
    module = sys.modules.get(_NATIVE[name])
    if module is None:
        import importlib

        module = importlib.import_module(_NATIVE[name])
    return getattr(module, name)
