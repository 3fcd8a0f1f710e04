"""ReActV2's small pieces, as DSPy 3.4.1 has them: reserved names, the ``submit`` tool, and the coercions of
histories and tool calls (pydantic and the agent types load on first use)."""

from __future__ import annotations

from typing import Any, get_args

__all__ = [
    "RESERVED_PREDICTION_KEYS", "RESERVED_INPUT_KEYS", "FORCED", "types", "is_parse_error", "submit_tool",
    "optional_annotation", "coerce_history", "coerce_tool_calls", "ensure_tool_call_ids",
]

RESERVED_PREDICTION_KEYS = frozenset({"history", "termination_reason"})
RESERVED_INPUT_KEYS = frozenset({"history", "tools"})
FORCED = {"tool_choice": {"type": "function", "function": {"name": "submit"}}, "reasoning_effort": None}


def types() -> Any:
    """``dspex.types`` (stdlib only at import; each class loads on first access), looked up once."""
    global _types
    if _types is None:
        from .. import types as module

        _types = module
    return _types


_types: Any = None


def is_parse_error(err: BaseException) -> bool:
    """DSPy catches its AdapterParseError and ValueError (pydantic's ValidationError included) here."""
    return isinstance(err, ValueError) or any(
        c.__name__ == "AdapterParseError" and c.__module__.split(".")[0] in ("dspex", "dspy") for c in type(err).__mro__
    )


def _json_schema_for_annotation(annotation: Any) -> dict[str, Any]:
    from pydantic import TypeAdapter

    try:
        return TypeAdapter(annotation).json_schema()
    except Exception:
        return {"type": "string"}


def optional_annotation(annotation: Any) -> Any:
    if type(None) in get_args(annotation):
        return annotation
    try:
        return annotation | None
    except TypeError:
        return annotation


def coerce_history(history: Any) -> Any:
    """None: a new History; ours or DSPy's: used (and appended to) as is; anything else validated into ours."""
    lib = types()
    if history is None:
        return lib.History(messages=[])
    if isinstance(history, lib.History) or lib.is_history(type(history)):
        return history
    return lib.History.model_validate(history)


def coerce_tool_calls(tool_calls: Any) -> Any:
    cls = types().ToolCalls
    if type(tool_calls) is cls:  # what the adapter parsed: ``model_validate`` would return this very object
        return tool_calls
    return cls(tool_calls=[]) if tool_calls is None else cls.model_validate(tool_calls)


def ensure_tool_call_ids(tool_calls: Any, turn_index: int) -> Any:
    ensured = []
    for call_index, call in enumerate(tool_calls.tool_calls):
        if call.id is None:
            call = call.model_copy(update={"id": f"call_{turn_index}_{call_index}"})
        ensured.append(call)
    return type(tool_calls)(tool_calls=ensured)


def submit_tool(signature: Any) -> Any:
    """The ``submit`` tool: its arguments are the signature's outputs (schemas as pydantic writes them)."""
    outputs = signature.output_fields
    names = list(outputs)

    def submit(**kwargs: Any) -> dict[str, Any]:
        missing = [name for name in names if name not in kwargs]
        if missing:
            raise ValueError(f"Missing required final output field(s): {', '.join(missing)}")
        return {name: kwargs[name] for name in names}

    return types().Tool(
        submit,
        name="submit",
        desc="Submit the final outputs for the task.",
        args={name: _json_schema_for_annotation(f.annotation) for name, f in outputs.items()},
        arg_types={name: f.annotation for name, f in outputs.items()},
    )
