"""XMLAdapter: DSPy 3.4.1's XML prompt format and parser, natively.

Fields are ``<name>\\nvalue\\n</name>`` blocks (outputs of list, dict and model types as nested XML, with a
skeleton in the system message and the reminder); the LM's answer is parsed with ElementTree inside a
``<dspy_root>`` and each output read by its type's JSON schema (``_xml``), then validated as DSPy does
(``parse_value``, then pydantic's ``validate_python(by_name=True)``, trying each ``anyOf`` branch). The rest
(demos, the JSON fallback on a parse error, LM kwargs) is the ChatAdapter's.
"""

from __future__ import annotations

from typing import Any, Mapping

from ..errors import AdapterParseError
from . import _xml
from ._markers import START, expand_markers
from ._plan import Plan, fill_defaults
from ._schema import type_note
from ._values import format_field_value, serialize_for_json
from .chat import ChatAdapter, _as_signature

__all__ = ["XMLAdapter"]


def _block(name: str, text: str) -> str:
    return f"<{name}>\n{text}\n</{name}>"


class XMLAdapter(ChatAdapter):
    """Ask for, and parse, each output wrapped in ``<name>`` tags."""

    # --- system message and reminder ----------------------------------------------------------------------------
    def format_field_structure(self, signature: Any) -> str:
        parts = ["All interactions will be structured in the following way, with the appropriate values filled in."]
        for group, is_output in ((signature._input_fields, False), (signature._output_fields, True)):
            blocks = []
            for name, field in group.items():
                if is_output and _xml.uses_nested_xml(field.annotation):
                    blocks.append(_xml.xml_schema(name, field.annotation))
                    continue
                text = type_note(name, field)
                if is_output and field.annotation is str:
                    text = _xml.escape(text)
                blocks.append(_block(name, text))
            parts.append("\n\n".join(blocks).strip())
        return "\n\n".join(parts)

    def user_message_output_requirements(self, signature: Any) -> str:
        tags = ", then ".join(f"`<{name}>`" for name in signature._output_fields)
        schemas = [_xml.xml_schema(name, f.annotation) for name, f in signature._output_fields.items()
                   if _xml.uses_nested_xml(f.annotation)]
        nested = f" Use this nested XML structure: {' '.join(schemas)}" if schemas else ""
        return f"Respond with the corresponding output fields wrapped in XML tags {tags}.{nested}"

    def _reminder(self, plan: Plan) -> str:
        """The plan's reminder, or a new rendering when the plan's warned (DSPy renders it, warnings and all, on
        every request)."""
        return plan.reminder if plan.reminder_quiet else self.user_message_output_requirements(plan.signature)

    # --- user and assistant messages --------------------------------------------------------------------------------
    def _inputs_text(self, plan: Plan, values: Mapping[str, Any]) -> str:
        blocks = []
        for slot in plan.inputs:
            if slot.name in values:
                value = values[slot.name]
                serialize_for_json(value)   # DSPy serialises every value first; a failure there is silent too
                blocks.append(_block(slot.name, format_field_value(slot.is_str, value)))
        return "\n\n".join(blocks).strip()

    def _request(self, plan: Plan, inputs: Mapping[str, Any]) -> dict[str, Any]:
        content = "\n\n".join(("", self._inputs_text(plan, inputs), self._reminder(plan), "")).strip()
        message = {"role": "user", "content": content}
        return expand_markers(message) if START in content else message

    def _demo_user_content(self, plan: Plan, demo: Mapping[str, Any], prefix: str) -> str:
        return "\n\n".join((prefix, self._inputs_text(plan, demo), "")).strip()

    def _assistant_content(self, plan: Plan, outputs: Mapping[str, Any], missing: str | None) -> str:
        blocks = []
        for slot in plan.outputs:
            value = outputs.get(slot.name, missing)
            serialized = serialize_for_json(value)
            if _xml.uses_nested_xml(slot.annotation) and isinstance(serialized, (dict, list)):
                blocks.append(_xml.value_to_xml(serialized, slot.name))
                continue
            text = format_field_value(slot.is_str, value)
            blocks.append(_block(slot.name, _xml.escape(text) if slot.is_str else text))
        return "\n\n".join(blocks).strip()

    def format_user_message_content(self, signature: Any, inputs: Mapping[str, Any], prefix: str = "",
                                    suffix: str = "", main_request: bool = False) -> str:
        plan = self.plan(_as_signature(signature))
        parts = [prefix, self._inputs_text(plan, inputs)]
        if main_request:
            parts.append(self._reminder(plan))
        return "\n\n".join((*parts, suffix)).strip()

    # --- parsing ---------------------------------------------------------------------------------------------------
    def _parse(self, plan: Plan, completion: str) -> dict[str, Any]:
        return self.parse(plan.signature, completion)

    def parse(self, signature: Any, completion: str) -> dict[str, Any]:
        import xml.etree.ElementTree as ET

        plan = self.plan(signature)
        sig = plan.signature
        try:
            root = ET.fromstring(f"<dspy_root>{completion}</dspy_root>")
        except ET.ParseError as e:
            raise AdapterParseError(adapter_name="XMLAdapter", signature=sig, lm_response=completion,
                                    message=f"Failed to parse XML: {e}") from e
        elements = _xml.group_children(root)
        fields: dict[str, Any] = {}
        for slot in plan.outputs:
            if slot.name in elements:
                fields[slot.name] = _read_field(sig, slot, elements[slot.name], completion, plan.extra)
        fields = fill_defaults(plan, fields)
        if len(fields) != len(plan.outputs):
            raise AdapterParseError(adapter_name="XMLAdapter", signature=sig, lm_response=completion,
                                    parsed_result=fields)
        return fields


def _read_field(signature: Any, slot: Any, found: list[Any], completion: str, cache: dict[str, Any]) -> Any:
    """One output: each schema branch in turn (the whole schema, then its ``anyOf``), DSPy's validation order.
    The field's JSON schema is built once per plan (pydantic's schema generation is most of a parse's cost), unless
    pydantic warned while building it: DSPy builds it, and warns, on every parse."""
    import pydantic

    from ._coerce import parse_value, type_adapter
    from ._schema import built_quietly

    adapter = type_adapter(slot.annotation)
    key = ("xml_schema", slot.name)
    schema = cache.get(key)
    if schema is None:
        schema, quiet = built_quietly(lambda: _xml.json_schema_of(slot.annotation))
        if quiet:
            cache[key] = schema
    value: Any = None
    error: Exception | None = None
    for candidate in [schema, *schema.get("anyOf", [])]:
        try:
            value = _xml.elements_to_value(found, candidate, schema.get("$defs", {}))
            try:
                return parse_value(value, slot.annotation)
            except pydantic.ValidationError:
                return adapter.validate_python(value, by_name=True)
        except ValueError as e:
            error = e
    raise AdapterParseError(
        adapter_name="XMLAdapter", signature=signature, lm_response=completion,
        message=f"Failed to parse field {_field_text(slot.name, slot.field)} with value {value}: {error}",
    ) from error


def _field_text(name: str, field: Any) -> str:
    """``str()`` of the pydantic ``FieldInfo`` DSPy holds for this field (its error messages quote it)."""
    import pydantic

    kwargs = dict(field.extra)
    if field.default_factory is not None:
        kwargs["default_factory"] = field.default_factory
    elif not field.is_required():
        kwargs["default"] = field.default
    info = pydantic.Field(json_schema_extra=_dspy_extra(field), **kwargs)
    model = pydantic.create_model("DSPyField", value=(field.annotation, info))
    return str(model.model_fields["value"])


def _dspy_extra(field: Any) -> dict[str, Any]:
    """``json_schema_extra`` in the key order DSPy builds it: what the field was declared with first (the string
    parser's ``IS_TYPE_UNDEFINED``, a given ``desc`` / ``prefix``), then its kind and constraints, then the
    defaults the signature filled in (``field.filled``; a later ``with_updated_fields`` keeps their place)."""
    extra = field.json_schema_extra
    given_desc = field.desc is not None and "desc" not in field.filled
    given_prefix = field.prefix is not None and "prefix" not in field.filled
    order = ["IS_TYPE_UNDEFINED", *(["desc"] if given_desc else []), *(["prefix"] if given_prefix else []),
             "__dspy_field_type", "constraints", "prefix", "desc"]
    out = {key: extra[key] for key in order if key in extra}
    out.update({key: value for key, value in extra.items() if key not in out})
    return out
