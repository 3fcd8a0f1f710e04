"""Held-out adapter runs against DSPy 3.4.1: XMLAdapter answers written as this file's own XML (nested values,
escapes, broken tags, the JSON fallback), TwoStepAdapter's prose and its extraction LM's answers, and JSONAdapter
on real ``dspy.LM`` capabilities (models and engines whose answers differ, call options that change DSPy's backend
choice) and on declared ones (function calling with and without native function calling). Identical LM requests,
outputs, errors and warnings."""

from __future__ import annotations

import json
from typing import Any
from xml.sax.saxutils import quoteattr

import dspy
import pytest
from adapter_diff_support import AdapterCase, assert_same_adapter
from diff_strategies import answer_texts, build_signature, json_completion, parse_json_text, signature_spec, values_of
from diff_support import chat, examples, typed
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

SETTINGS = dict(deadline=None, suppress_health_check=list(HealthCheck))
MODELS = ["openai/gpt-4o-mini", "openai/gpt-3.5-turbo", "anthropic/claude-3-5-sonnet-20240620", "ollama_chat/llama3",
          "openai/some-local-model", "gemini/gemini-1.5-pro", "mistral/mistral-large-latest"]
CLIENT_OPTIONS = [{}, {"extra_headers": {"x-test": "1"}}, {"api_base": "http://127.0.0.1:9/v1"}, {"api_key": "k"},
                  {"headers": {"a": "b"}}, {"custom_llm_provider": "openai"}, {"project": "p"}]


def _xml(value: Any, tag: str) -> str:
    """This file's own way of writing a value as XML: lists as <item>s, dicts as child tags or keyed <entry>s."""
    if isinstance(value, list):
        return f"<{tag}>" + "".join(_xml(v, "item") for v in value) + f"</{tag}>"
    if isinstance(value, dict):
        inner = "".join(_xml(v, k) if str(k).isidentifier() else _xml(v, "entry").replace(
            "<entry>", f"<entry key={quoteattr(str(k))}>", 1) for k, v in value.items())
        return f"<{tag}>{inner}</{tag}>"
    text = "" if value is None else str(value)
    return f"<{tag}>{text.replace('&', '&amp;').replace('<', '&lt;')}</{tag}>"


@st.composite
def xml_answer(draw: Any, outs: dict[str, Any]) -> str:
    parts = []
    for name, ann in outs.items():
        style = draw(st.integers(0, 4))
        if style == 0:      # nested XML from a value of the type
            parts.append(_xml(draw(values_of(ann)), name))
        elif style == 1:    # the text unescaped (a raw < or & breaks the document)
            parts.append(f"<{name}>{draw(answer_texts(ann))}</{name}>")
        else:
            text = draw(answer_texts(ann))
            parts.append(f"<{name}>{text.replace('&', '&amp;').replace('<', '&lt;')}</{name}>")
    mutation = draw(st.integers(0, 9))
    if mutation == 1 and parts:
        parts.pop(draw(st.integers(0, len(parts) - 1)))
    elif mutation == 2:
        parts.reverse()
    elif mutation == 3 and parts:
        parts.append(parts[0])
    elif mutation == 4:
        parts = ["Sure! ", *parts, " hope that helps"]
    elif mutation == 5 and parts:
        parts[-1] = parts[-1][: len(parts[-1]) // 2]
    return draw(st.sampled_from(["", "\n", "\n\n"])).join(parts)


@st.composite
def base(draw: Any) -> tuple[dict[str, Any], bool, dict[str, Any], Any, int, dict[str, str]]:
    spec = draw(signature_spec())
    cot = draw(st.booleans())
    outs = {n: ann for n, ann, *_ in spec["outputs"]}
    if cot:
        outs = {"reasoning": str, **outs}
    n = draw(st.sampled_from([1, 1, 2]))
    ins = {name: draw(st.sampled_from(["v", "two words", "<b>&"])) for name, *_ in spec["inputs"]}
    return spec, cot, outs, draw(st.sampled_from(["string", "class", "dspy"])), n, ins


def _builder(spec: dict[str, Any], cot: bool, form: str) -> Any:
    return lambda ns: (ns.ChainOfThought if cot else ns.Predict)(build_signature(ns, spec, form))


def _json_answers(draw: Any, outs: dict[str, Any], n: int) -> list[str]:
    return [draw(json_completion({k: parse_json_text(draw(answer_texts(a))) for k, a in outs.items()}))
            for _ in range(n)]


@st.composite
def xml_case(draw: Any) -> AdapterCase:
    spec, cot, outs, form, n, ins = draw(base())
    script = [[draw(xml_answer(outs)) for _ in range(n)], _json_answers(draw, outs, n)]
    params, schema = draw(st.sampled_from([((), False), (("response_format",), False), (("response_format",), True)]))
    return AdapterCase(_builder(spec, cot, form), {**ins, "config": {"n": n} if n > 1 else {}}, script,
                       draw(st.sampled_from(["xml", "xml", "xml-nofallback"])), params=params, schema=schema,
                       mode=draw(st.sampled_from(["sync", "async"])), label=f"form={form} cot={cot} spec={spec!r}")


@st.composite
def two_step_case(draw: Any) -> AdapterCase:
    spec, cot, outs, form, n, ins = draw(base())
    prose = st.one_of(st.text(max_size=30), st.sampled_from(["The answer is 42.", "", "None", "a\n\nb"]))
    first = draw(st.lists(prose, min_size=n, max_size=n))
    extraction = []
    for _ in range(n):
        fields = {k: draw(answer_texts(a)) for k, a in outs.items()}
        text = chat(**fields)
        extraction.append([text if draw(st.integers(0, 3)) else text[: len(text) // 2]])
        extraction.append(_json_answers(draw, outs, 1))
    return AdapterCase(_builder(spec, cot, form), {**ins, "config": {"n": n} if n > 1 else {}}, [first],
                       "two-step", extraction=extraction, mode=draw(st.sampled_from(["sync", "async"])),
                       label=f"form={form} cot={cot} spec={spec!r}")


@st.composite
def json_case(draw: Any) -> AdapterCase:
    spec, cot, outs, form, n, ins = draw(base())
    script = [_json_answers(draw, outs, n), _json_answers(draw, outs, n)]
    config: dict[str, Any] = {"n": n} if n > 1 else {}
    model = None
    params, schema = draw(st.sampled_from([((), False), (("response_format",), False), (("response_format",), True)]))
    if draw(st.booleans()):
        model = (draw(st.sampled_from(MODELS)), draw(st.sampled_from(["auto", "litellm"])))
        config.update(draw(st.sampled_from(CLIENT_OPTIONS)))
    return AdapterCase(_builder(spec, cot, form), {**ins, "config": config}, script,
                       draw(st.sampled_from(["json", "json-nofc"])), params=params, schema=schema,
                       fc=draw(st.booleans()), model=model, mode=draw(st.sampled_from(["sync", "async"])),
                       label=f"model={model} form={form} cot={cot} spec={spec!r}")


@settings(max_examples=examples(60, 600), **SETTINGS)
@given(xml_case())
def test_xml_adapter_matches_dspy(case: AdapterCase) -> None:
    assert_same_adapter(case)


@settings(max_examples=examples(60, 600), **SETTINGS)
@given(two_step_case())
def test_two_step_adapter_and_its_extraction_lm_match_dspy(case: AdapterCase) -> None:
    assert_same_adapter(case)


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_two_step_with_an_output_named_text_keeps_dspys_field_order(mode: str) -> None:
    """An output named ``text`` takes the extraction signature's input slot (DSPy's dict keeps that key first), so
    the extraction answers ``text`` first; DSPy rebuilds the parse in the task signature's order, and so must
    native (found by the CI gate at seed 20261125: the same keys in another order were kept as they came)."""
    extraction = [[chat(text="t", reasoning="r", question="q")], []]
    case = AdapterCase(lambda ns: ns.ChainOfThought("a -> question, text"), {"a": "x"}, [["prose"]], "two-step",
                       extraction=extraction, mode=mode)
    assert_same_adapter(case)


@settings(max_examples=examples(40, 600), **SETTINGS)
@given(json_case())
def test_json_adapter_on_real_and_declared_capabilities_matches_dspy(case: AdapterCase) -> None:
    assert_same_adapter(case)


def test_a_call_option_that_moves_dspy_lm_to_litellm_changes_the_response_format_on_both_sides() -> None:
    """lm15 gives this Anthropic model no ``response_format``; ``extra_headers`` sends it through LiteLLM, which
    does: DSPy asks for JSON mode, and so must native (it reads capabilities in DSPy's planning scope)."""
    answer = json.dumps({"answer": "Paris"})
    for options, expected in (({}, None), ({"extra_headers": {"x-test": "1"}}, {"type": "json_object"})):
        case = AdapterCase(lambda ns: ns.Predict("question -> answer"), {"question": "q", "config": options},
                           [[answer]], "json", model=("anthropic/claude-3-5-sonnet-20240620", "auto"))
        a, _ = assert_same_adapter(case)
        assert a.calls[0][3].get("response_format") == (None if expected is None else typed(expected))


def get_weather(city: str) -> str:
    """Weather in a city."""
    return "sunny"


class ToolSig(dspy.Signature):
    """Use tools."""

    question: str = dspy.InputField()
    tools: list[dspy.Tool] = dspy.InputField()
    answer: str = dspy.OutputField()
    calls: dspy.ToolCalls = dspy.OutputField()


_CALLED = {"answer": "x", "calls": {"tool_calls": [{"name": "get_weather", "args": {"city": "P"}}]}}
_NATIVE_CALL = [{"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "P"}'}}]


@pytest.mark.parametrize("capability", [((), False, False), (("response_format",), False, True),
                                        (("response_format",), True, False), (("response_format",), True, True),
                                        ("openai/gpt-4o-mini", "auto"), ("anthropic/claude-3-5-sonnet-20240620", "auto"),
                                        ("openai/gpt-3.5-turbo", "litellm")])
@pytest.mark.parametrize("kind", ["json", "json-nofc"])
def test_json_adapter_with_a_tool_calls_output_matches_dspy_for_each_capability(capability, kind) -> None:
    """A ToolCalls output: native function calling (tools in the request, the structured schema without the
    field) or not (JSON mode, the calls written in the JSON), as each capability answer makes DSPy choose."""
    response = [{"text": json.dumps(_CALLED), "tool_calls": _NATIVE_CALL}]
    declared = isinstance(capability[-1], bool)
    case = AdapterCase(lambda ns: ns.Predict(ToolSig), {"question": "q", "tools": [dspy.Tool(get_weather)]},
                       [response, response], kind, params=capability[0] if declared else (),
                       schema=capability[1] if declared else False, fc=capability[2] if declared else False,
                       model=None if declared else capability, label=f"{capability} {kind}")
    a, _ = assert_same_adapter(case)
    assert a.error is None and a.calls
