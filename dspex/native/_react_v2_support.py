"""ReActV2's small pieces, as DSPy 3.4.1 has them: reserved names, the ``submit`` tool, and the coercions of
histories and tool calls (pydantic and the agent types load on first use)."""

from __future__ import annotations

from typing import Any, get_args

__all__ = [
    "RESERVED_PREDICTION_KEYS", "RESERVED_INPUT_KEYS", "FORCED", "types", "is_parse_error", "submit_tool",
    "optional_annotation", "coerce_history", "coerce_tool_calls", "ensure_tool_call_ids", "updated",
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


def updated(model: Any, fields_set: set[str] | None = None, **update: Any) -> Any:
    """``model.model_copy(update=update)`` for dspex's own agent models (no extras, no private attributes), without
    pydantic's copy protocol: an agent copies its calls on every turn. ``fields_set`` replaces the copy's set fields."""
    cls = type(model)
    new = cls.__new__(cls)
    values = dict(model.__dict__)
    values.update(update)
    object.__setattr__(new, "__dict__", values)
    object.__setattr__(new, "__pydantic_fields_set__",
                       model.__pydantic_fields_set__ | update.keys() if fields_set is None else fields_set)
    object.__setattr__(new, "__pydantic_extra__", None)
    object.__setattr__(new, "__pydantic_private__", None)
    return new


def ensure_tool_call_ids(tool_calls: Any, turn_index: int) -> Any:
    """Every call with an id (``call_<turn>_<index>`` where the LM gave none), in a new ToolCalls as DSPy builds."""
    calls = tool_calls.tool_calls
    ensured = [call if call.id is not None else updated(call, id=f"call_{turn_index}_{i}") for i, call in enumerate(calls)]
    # DSPy builds ``type(tool_calls)(tool_calls=ensured)``: every other field at its default and only
    # ``tool_calls`` set. The calls are ToolCall instances already: validating them again would change nothing.
    fresh = {name: field.default for name, field in type(tool_calls).model_fields.items()}
    fresh["tool_calls"] = ensured
    return updated(tool_calls, {"tool_calls"}, **fresh)


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
