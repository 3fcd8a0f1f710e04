"""Everything an adapter needs that depends only on the signature, computed once per signature class.

Signatures are immutable classes, so a ``WeakKeyDictionary`` keyed on the class holds each adapter kind's
plan: the whole system message, the output reminder, per-field header strings, which fields are ``str``, and
how missing outputs are filled in. A call then only renders its own values.
"""

from __future__ import annotations

import copy
import textwrap
import weakref
from dataclasses import dataclass
from typing import Any, Callable, Mapping, get_args, get_origin

from ..errors import AdapterParseError
from ..signature import Field, annotation_name
from ._coerce import text_parser
from ._markers import START, expand_markers
from ._roles import roles_of
from ._schema import built_quietly
from ._sections import canonical_reader
from ._values import format_field_value

__all__ = [
    "FieldSlot",
    "OutputSlot",
    "Plan",
    "field_descriptions",
    "task_description",
    "type_info",
    "fill_defaults",
    "parse_error",
    "build_plan",
    "request_renderer",
]

_NONE = object()


@dataclass(frozen=True, slots=True)
class FieldSlot:
    """A field as the formatter sees it: its name, its ``[[ ## name ## ]]\\n`` header, ``annotation is str``."""

    name: str
    header: str
    is_str: bool


@dataclass(frozen=True, slots=True)
class OutputSlot:
    name: str
    header: str
    is_str: bool
    annotation: Any
    field: Field
    fill: int  # 0: required, 1: field default/default_factory, 2: None (annotation allows None)
    parse: Callable[[str], Any] | None  # text -> value; None for str fields


@dataclass(slots=True)
class Plan:
    """A signature's fixed prompt parts for one adapter kind.

    Plans are cached in a ``WeakKeyDictionary`` keyed on the signature class, so a plan refers to its signature
    through a weak reference (``signature_ref``): each cached value holding its own key strongly would keep
    every signature alive for ever. The caller of a plan holds the signature, so ``plan.signature`` is alive.
    """

    signature_ref: Any                  # weakref.ref to the signature class
    inputs: tuple[FieldSlot, ...]
    outputs: tuple[OutputSlot, ...]
    output_names: tuple[str, ...]
    by_name: dict[str, OutputSlot]
    system: str | None  # built on first format: a type without a JSON schema must not break parse()
    reminder: str
    any_optional_output: bool
    extra: dict[str, Any]
    # Reads a completion that follows the prompt exactly (see _sections.canonical_reader); None: no such reader.
    reader: Callable[[str], dict[str, str] | None] | None = None
    # The outputs whose text is parsed into a value (not ``str``), in order: what a canonical read still converts.
    parsed: tuple[OutputSlot, ...] = ()
    # The agent roles of the signature's fields (history, tools, tool calls, reasoning; see _roles), or None
    # when it has none: then the adapter's plain paths apply.
    roles: Any = None
    # Whether a call without demos or LM kwargs is one round trip read from this plan (_call.plain): ChatAdapter's
    # own format and parse, no agent roles. Set by the adapter that caches the plan (it knows its class).
    plain: bool = False
    # Whether rendering ``reminder`` was quiet (see _schema.built_quietly); else DSPy renders it, and pydantic
    # warns, on every request, and whoever uses the reminder renders it anew (built silently here, ahead of time).
    reminder_quiet: bool = True
    # ChatAdapter's final user message for given input values (``request_renderer``), and, on a plain plan, the plain
    # round trips bound to it (``_call.plain_trips``: sync, async), set by the adapter that caches the plan.
    render: Callable[[Mapping[str, Any]], dict[str, Any]] | None = None
    trip: Callable[..., list[dict[str, Any]]] | None = None
    atrip: Callable[..., Any] | None = None


def _custom_types(annotation: Any) -> list[Any]:
    """DSPy's ``Type.extract_custom_type_from_annotation``: the ``Type`` subclasses in an annotation, nested too."""
    from ..types import is_type_class

    if is_type_class(annotation):
        return [annotation]
    origin = get_origin(annotation)
    if origin is None:
        return []
    return [t for arg in get_args(annotation) for t in _custom_types(arg)]


def _signature_of(plan: Plan) -> Any:
    return plan.signature_ref()


Plan.signature = property(_signature_of)  # type: ignore[attr-defined]


def field_descriptions(fields: Mapping[str, Field]) -> str:
    """DSPy's numbered field list (``1. `q` (str): desc`` plus a ``Constraints:`` line when set); a field whose
    type is a ``Type`` with a description (``ToolCalls``) gets a ``Type description of ...`` line."""
    lines = []
    for idx, (name, field) in enumerate(fields.items()):
        line = f"{idx + 1}. `{name}` ({annotation_name(field.annotation)})"
        desc = field.desc if field.desc != f"${{{name}}}" else ""
        for custom in _custom_types(field.annotation):
            if len(custom.description()) > 0:
                desc += f"\n    Type description of {annotation_name(custom)}: {custom.description()}"
        line += f": {desc}"
        if field.constraints:
            line += f"\nConstraints: {field.constraints}"
        lines.append(line)
    return "\n".join(lines).strip()


def task_description(instructions: str) -> str:
    objective = ("\n" + " " * 8).join([""] + textwrap.dedent(instructions).splitlines())
    return f"In adhering to this structure, your objective is: {objective}"


_TOOL_CALLS_INFO = ' (must be a JSON object like {"tool_calls": [{"name": "...", "args": {...}}]})'


def type_info(field: Field) -> str:
    """The reminder's ``(must be formatted as a valid Python int)`` suffix; empty for ``str`` fields."""
    from ..types import is_tool_calls

    if is_tool_calls(field.annotation):
        return _TOOL_CALLS_INFO
    if field.annotation is not str:
        return f" (must be formatted as a valid Python {annotation_name(field.annotation)})"
    return ""


def request_renderer(inputs: tuple[FieldSlot, ...], reminder: str) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
    """ChatAdapter's final user message for one plan: the given input values under their headers, then the output
    reminder. A closure over the plan's fixed parts, so a call renders only its own values (every plain call does).

    The text equals DSPy's join-then-strip of the parts: every part starts with "[[" and the reminder ends with ".".
    """
    slots = tuple((slot.name, slot.header, slot.is_str) for slot in inputs)
    if len(slots) == 1:   # (one input, the commonest signature: the same text without the loop, one allocation)
        (only, head, only_str), = slots
        tail = "\n\n" + reminder
        # The marker holds no line break and the header and the tail end and start with one, so it is in the text
        # only where it is in the value or the fixed parts: the value alone is searched, not the whole text.
        fixed = START in head or START in tail or START in reminder

        def render_one(values: Mapping[str, Any]) -> dict[str, Any]:
            value = values.get(only, _NONE)
            if value is _NONE:
                content = reminder
            elif type(value) is str:
                content = f"{head}{value}{tail}"
            else:
                value = format_field_value(only_str, value)
                content = "".join((head + value, tail))
            message = {"role": "user", "content": content}
            return expand_markers(message) if fixed or (value is not _NONE and START in value) else message

        return render_one

    def render(values: Mapping[str, Any]) -> dict[str, Any]:
        content = ""
        for name, header, is_str in slots:
            value = values.get(name, _NONE)
            if value is not _NONE:
                if type(value) is str:
                    content = f"{content}{header}{value}\n\n"
                else:   # (joined, not formatted: the text of whatever ``+`` made, as ``str.join`` reads it)
                    content = "".join((content, header + format_field_value(is_str, value), "\n\n"))
        content += reminder
        message = {"role": "user", "content": content}
        return expand_markers(message) if START in content else message

    return render


def _fill_kind(field: Field) -> int:
    from ._coerce import annotation_allows_none

    if not field.is_required():
        return 1
    if annotation_allows_none(field.annotation):
        return 2
    return 0


def build_plan(
    signature: Any,
    reminder: Callable[[Any], str],
    extra: dict[str, Any] | None = None,
) -> Plan:
    ins = signature._input_fields
    outs = signature._output_fields
    outputs = tuple(
        OutputSlot(
            n, f"[[ ## {n} ## ]]\n", f.annotation is str, f.annotation, f, _fill_kind(f), text_parser(f.annotation)
        )
        for n, f in outs.items()
    )
    reminder_text, reminder_quiet = built_quietly(lambda: reminder(signature), silent=True)
    inputs = tuple(FieldSlot(n, f"[[ ## {n} ## ]]\n", f.annotation is str) for n, f in ins.items())
    return Plan(
        signature_ref=weakref.ref(signature),
        inputs=inputs,
        outputs=outputs,
        output_names=tuple(outs),
        by_name={o.name: o for o in outputs},
        system=None,
        reminder=reminder_text,
        any_optional_output=any(o.fill for o in outputs),
        extra=dict(extra or {}),
        reader=canonical_reader(tuple(outs)),
        parsed=tuple(o for o in outputs if o.parse is not None),
        roles=roles_of(signature),
        reminder_quiet=reminder_quiet,
        render=request_renderer(inputs, reminder_text),
    )


_IMMUTABLE = (str, int, float, bool, type(None), bytes, tuple, frozenset)


def _default(field: Field) -> Any:
    """pydantic's ``get_default(call_default_factory=True)``: a fresh copy of a mutable default."""
    if field.default_factory is not None:
        return field.default_factory()
    value = field.default
    return value if type(value) in _IMMUTABLE else copy.deepcopy(value)


def fill_defaults(plan: Plan, fields: dict[str, Any]) -> dict[str, Any]:
    """DSPy's ``apply_output_field_defaults``: outputs in signature order, missing optional ones filled in."""
    completed: dict[str, Any] = {}
    for slot in plan.outputs:
        value = fields.get(slot.name, _NONE)
        if value is not _NONE:
            completed[slot.name] = value
        elif slot.fill == 1:
            completed[slot.name] = _default(slot.field)
        elif slot.fill == 2:
            completed[slot.name] = None
    return completed


def parse_error(plan: Plan, name: str, text: str, completion: str, error: ValueError) -> AdapterParseError:
    """DSPy's error for an output whose text does not parse into its type."""
    return AdapterParseError(
        adapter_name="ChatAdapter",
        signature=plan.signature,
        lm_response=completion,
        message=f"Failed to parse field {name} with value {text} from the LM response. Error message: {error}",
    )
