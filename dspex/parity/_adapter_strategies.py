"""Hypothesis strategies for the adapter cases: XML answers, TwoStepAdapter's prose and extraction, and the
JSONAdapter capability matrix.

XML answers write each output as its tag: scalars as text (escaped, or not: a raw ``<`` breaks the parse),
nested types as nested XML (``<item>``, ``<entry key=...>``) or as JSON text inside the tag, with corruptions a
sloppy LM makes (a missing or repeated field, an unclosed tag, text around the tags, attributes, CDATA, the
ChatAdapter's format instead); a quarter of the XML cases also take an image, audio, file, document or code input,
whose request is split into content parts, and a sixth an output holding DSPy's own Code type in a list or dict
(which DSPy never writes as nested XML). TwoStepAdapter's main LM answers in prose (or empty, or with logprobs, or
raises) and its extraction LM answers the extractor signature in the ChatAdapter's format (then JSON for the
fallback). JSON cases draw every combination of ``response_format`` support, response-schema support, function
calling and ``use_native_function_calling``, over outputs that allow a schema and outputs that do not
(``dict[...]``); a third of them use a real ``dspy.LM`` (:class:`PlannedLM`) over models and engines whose
capabilities differ, with call options that change DSPy's backend choice.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from hypothesis import strategies as st

from ._adapter_case import AdapterCase
from ._case import FieldSpec, LMSpec, SignatureSpec
from ._completions import chat_completions, jsonable, lm_responses, render_value
from ._content_strategies import media_input
from ._error_strategies import lm_exceptions
from ._planned_lm import PLANNED_MODELS
from ._type_strategies import texts, values_of
from .strategies import demos_for, inputs_for, module_fields, signature_specs

__all__ = ["xml_cases", "two_step_cases", "json_capability_cases", "xml_completions"]

_FORMS = ("string", "class", "dict", "dspy_class")
_modes = st.sampled_from(["sync"] * 4 + ["async"])
_XML_CORRUPTIONS = ["none"] * 6 + ["missing", "unescaped", "unclosed", "chat_instead", "around", "duplicate",
                                   "attribute", "cdata", "empty"]


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;")


@st.composite
def _xml_field(draw: Any, name: str, tp: Any) -> str:
    import dspy   # DSPy's own XML writer: the generator must not borrow the implementation it tests

    uses_nested_xml, value_to_xml = dspy.XMLAdapter._uses_nested_xml, dspy.XMLAdapter._value_to_xml
    value = draw(values_of(tp))
    plain = jsonable(value)
    style = draw(st.sampled_from(["xml", "xml", "json", "text"]))
    if uses_nested_xml(tp) and style == "xml" and isinstance(plain, (dict, list)):
        return value_to_xml(plain, name)
    if style == "json" and not isinstance(value, str):
        return f"<{name}>{_escape(json.dumps(plain, ensure_ascii=False))}</{name}>"
    return f"<{name}>{_escape(draw(render_value(value)))}</{name}>"


@st.composite
def xml_completions(draw: Any, outputs: list[tuple[str, Any]], clean: bool = False) -> str:
    fields = [draw(_xml_field(name, tp)) for name, tp in outputs]
    corruption = "none" if clean else draw(st.sampled_from(_XML_CORRUPTIONS))
    if corruption == "missing" and fields:
        fields.pop(draw(st.integers(0, len(fields) - 1)))
    elif corruption == "unescaped" and outputs:
        fields.append(f"<{outputs[0][0]}>a < b & c</{outputs[0][0]}>")
    elif corruption == "unclosed" and outputs:
        fields.append(f"<{outputs[-1][0]}>dangling")
    elif corruption == "chat_instead":
        return draw(chat_completions(outputs, clean=True))
    elif corruption == "around":
        fields = ["Here you go:\n", *fields, "\nDone."]
    elif corruption == "duplicate" and fields:
        fields.append(fields[0])
    elif corruption == "attribute" and outputs:
        fields[0:1] = [f'<{outputs[0][0]} lang="en">{draw(texts).replace("&", "").replace("<", "")}</{outputs[0][0]}>']
    elif corruption == "cdata" and outputs:
        fields.append(f"<{outputs[0][0]}><![CDATA[<raw> & text]]></{outputs[0][0]}>")
    elif corruption == "empty":
        return ""
    return draw(st.sampled_from(["", "\n", "\n\n"])).join(fields)


@st.composite
def _xml_responses(draw: Any, outputs: list[tuple[str, Any]], n: int) -> Any:
    shape = draw(st.sampled_from(["list"] * 8 + ["dict", "raise", "none"]))
    if shape == "raise":
        return draw(lm_exceptions)
    if shape == "none":
        return [None]
    texts_ = [draw(xml_completions(outputs)) for _ in range(n)]
    return [{"text": t, "logprobs": None} for t in texts_] if shape == "dict" else texts_


def _lm(draw: Any, script: tuple[Any, ...], schema_params: bool = False) -> LMSpec:
    kwargs = draw(st.sampled_from([None, None, {"temperature": 0.0}, {"n": 2, "temperature": 0.5}, {"max_tokens": 9}]))
    params = ("response_format",) if schema_params else draw(st.sampled_from([(), ("response_format",)]))
    return LMSpec(script, kwargs, params, draw(st.booleans()))


def _n(lm: LMSpec, config: dict[str, Any] | None) -> int:
    return int((config or {}).get("n") or (lm.kwargs or {}).get("n") or 1)


@st.composite
def _base(draw: Any) -> tuple[Any, str, dict[str, Any], Any, dict[str, Any] | None]:
    spec = draw(signature_specs(forms=_FORMS, max_inputs=2, max_outputs=3))
    module = draw(st.sampled_from(["predict", "cot"]))
    inputs = draw(inputs_for(spec))
    demos = draw(st.one_of(st.none(), st.none(), demos_for(spec, module)))
    config = draw(st.sampled_from([None, None, {"n": 2}, {"temperature": 0.3}]))
    return spec, module, inputs, demos, config


def _dspy_list_types() -> list[Any]:
    import dspy
    from typing import Optional

    return [list[dspy.Code], Optional[list[dspy.Code]], dict[str, dspy.Code]]   # Code: plain text to generate


_dspy_lists = st.deferred(lambda: st.sampled_from(_dspy_list_types()))


@st.composite
def xml_cases(draw: Any) -> AdapterCase:
    spec, module, inputs, demos, config = draw(_base())
    if draw(st.integers(0, 3)) == 0 and "media" not in inputs:   # an image/audio/file input: split content parts
        field, value = draw(media_input("media"))
        spec = dataclasses.replace(spec, fields=(field, *spec.fields), form="dspy_class", names=())
        inputs = {"media": value, **inputs}
    if draw(st.integers(0, 5)) == 0:   # an output of DSPy's own types in a container: DSPy never nests those
        spec = dataclasses.replace(spec, fields=(*spec.fields, FieldSpec("dspy_items", "output", draw(_dspy_lists))),
                                   form="dspy_class", names=())
    _, outs = module_fields(spec, module)
    adapter = draw(st.sampled_from(["xml", "xml", "xml_no_fallback"]))
    lm = _lm(draw, ())
    n = _n(lm, config)
    script = (draw(_xml_responses(outs, n)), draw(lm_responses(outs, n, "json")))
    return AdapterCase(adapter, module, spec, inputs, LMSpec(script, lm.kwargs, lm.supported_params,  # type: ignore[arg-type]
                       lm.supports_response_schema), demos=demos, config=config, mode=draw(_modes))


@st.composite
def two_step_cases(draw: Any) -> AdapterCase:
    # Now and then a signature with native-feature outputs (ToolCalls beside tools, or Reasoning), whose values the
    # sync call reads from the main response itself (``tool_calls``, ``reasoning_content``), as DSPy's base call does.
    base = draw(st.sampled_from(["plain"] * 4 + ["tool_calls", "reasoning"]))
    spec, module, inputs, demos, config = draw(_tool_calls_base() if base == "tool_calls" else
                                               _reasoning_base() if base == "reasoning" else _base())
    _, outs = module_fields(spec, module)
    lm = _lm(draw, ())
    n = _n(lm, config)
    prose = st.one_of(texts, st.just(""), st.sampled_from(["The answer is 42.", "Paris\nbecause it is.", "None"]))
    first = draw(st.one_of(
        st.lists(prose, min_size=n, max_size=n),
        st.lists(prose.map(lambda t: {"text": t, "logprobs": {"content": []}}), min_size=n, max_size=n),
        st.lists(prose.map(lambda t: {"text": t, **_NATIVE_PARTS[base]}), min_size=n, max_size=n),
        lm_exceptions, st.just([])))
    extraction: list[Any] = []
    for _ in range(n):
        extraction.append(draw(lm_responses(outs, 1, "chat", clean=draw(st.booleans()))))
        extraction.append(draw(lm_responses(outs, 1, "json")))
    return AdapterCase("two_step", module, spec, inputs, LMSpec((first,), lm.kwargs, lm.supported_params,
                       lm.supports_response_schema), extraction=tuple(extraction), demos=demos, config=config,
                       mode=draw(_modes))


_NATIVE_PARTS: dict[str, dict[str, Any]] = {
    "plain": {"reasoning_content": "native thoughts"},
    "reasoning": {"reasoning_content": "native thoughts"},
    "tool_calls": {"tool_calls": [{"id": "c1", "type": "function",
                                   "function": {"name": "_weather", "arguments": '{"city": "Paris"}'}}]},
}


@st.composite
def _reasoning_base(draw: Any) -> tuple[Any, str, dict[str, Any], Any, dict[str, Any] | None]:
    """A ``dspy.Reasoning`` output: DSPy's native reasoning feature (read from the response's reasoning)."""
    import dspy

    spec = SignatureSpec((FieldSpec("question", "input", str), FieldSpec("think", "output", dspy.Reasoning),
                          FieldSpec("answer", "output", str)), "Think, then answer.", "dspy_class")
    return spec, "predict", {"question": draw(texts)}, None, draw(st.sampled_from([None, {"n": 2}]))


# Call options DSPy's backend selection reads: any client key but api_key/api_base/base_url/timeout sends an lm15
# model through LiteLLM, whose capability answers differ (an Anthropic model gains ``response_format``).
_CLIENT_CONFIGS = [None, None, {"extra_headers": {"x-parity": "1"}}, {"api_base": "http://127.0.0.1:9/v1"},
                   {"custom_llm_provider": "openai"}, {"temperature": 0.3, "organization": "org-parity"}]


def _weather(city: str) -> str:
    """Weather in a city."""
    return "sunny"


@st.composite
def _tool_calls_base(draw: Any) -> tuple[Any, str, dict[str, Any], Any, dict[str, Any] | None]:
    """A ``dspy.ToolCalls`` output beside ``tools: list[dspy.Tool]``: the only signature on which function-calling
    support and ``use_native_function_calling`` change the request (tools sent, the schema without the field)."""
    import dspy

    spec = SignatureSpec((FieldSpec("question", "input", str), FieldSpec("tools", "input", list[dspy.Tool]),
                          FieldSpec("answer", "output", str), FieldSpec("calls", "output", dspy.ToolCalls)),
                         "Use the tools.", "dspy_class")
    inputs = {"question": draw(texts), "tools": [dspy.Tool(_weather)]}
    return spec, draw(st.sampled_from(["predict", "cot"])), inputs, None, draw(st.sampled_from([None, {"n": 2}]))


@st.composite
def json_capability_cases(draw: Any) -> AdapterCase:
    spec, module, inputs, demos, config = draw(_tool_calls_base() if draw(st.integers(0, 3)) == 0 else _base())
    _, outs = module_fields(spec, module)
    planned = None
    if draw(st.integers(0, 2)) == 0:   # a real dspy.LM: DSPy works its capabilities out (model, engine, options)
        planned = (draw(st.sampled_from(PLANNED_MODELS)), draw(st.sampled_from(["auto", "litellm"])))
        config = draw(st.sampled_from(_CLIENT_CONFIGS))
    lm = _lm(draw, (), schema_params=draw(st.integers(0, 3)) > 0)
    n = _n(lm, config)
    script = (draw(lm_responses(outs, n, "json", clean=draw(st.booleans()))), draw(lm_responses(outs, n, "json")))
    return AdapterCase(draw(st.sampled_from(["json", "json_no_fc"])), module, spec, inputs,
                       LMSpec(script, lm.kwargs, lm.supported_params, lm.supports_response_schema),
                       function_calling=draw(st.booleans()), demos=demos, config=config, mode=draw(_modes),
                       planned=planned)
