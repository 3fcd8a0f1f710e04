"""A configured adapter selects its native twin: ``dspy.configure(adapter=dspy.XMLAdapter())`` or a
``dspy.TwoStepAdapter`` (its extraction LM included) runs natively on the native route, with the LM requests and
results of the DSPy route; an adapter without a twin (a subclass, callbacks) still sends the call to DSPy."""

from __future__ import annotations

import dspy
import pytest

import dspex
from dspex.parity.scripted_lm import ScriptedLM

XML_ANSWER = "<reasoning>r</reasoning><answer>Paris &amp; Rome</answer><n>3</n>"
CHAT_ANSWER = "[[ ## reasoning ## ]]\nr\n\n[[ ## answer ## ]]\nParis\n\n[[ ## n ## ]]\n3\n\n[[ ## completed ## ]]"


def _adapter(kind: str, extraction: ScriptedLM) -> object:
    return {"xml": lambda: dspy.XMLAdapter(), "xml_no_fallback": lambda: dspy.XMLAdapter(use_json_adapter_fallback=False),
            "two_step": lambda: dspy.TwoStepAdapter(extraction)}[kind]()


@pytest.mark.parametrize("kind", ["xml", "xml_no_fallback", "two_step"])
@pytest.mark.parametrize("module", ["predict", "cot"])
def test_a_configured_adapter_runs_natively_as_on_the_dspy_route(kind, module, events):
    seen = events("dspex.router.route")
    runs = {}
    for impl in ("dspy", "native"):
        main = ScriptedLM([["The answer: Paris, three."] if kind == "two_step" else [XML_ANSWER]])
        extraction = ScriptedLM([[CHAT_ANSWER]])
        with dspy.context(lm=main, adapter=_adapter(kind, extraction)):
            cls = dspex.Predict if module == "predict" else dspex.ChainOfThought
            pred = cls("question -> answer, n: int")(question="Capital?", implementation=impl)
        runs[impl] = (dict(pred), [(c.messages, c.kwargs) for c in main.calls + extraction.calls])
        assert seen[-1][2]["implementation"] == impl, seen[-1][2]["reason"]
    assert runs["native"] == runs["dspy"]
    assert runs["native"][1], "the LM was called"


def test_an_adapter_without_a_native_twin_still_routes_to_dspy(events, flagfile):
    from routing_helpers import flag

    class MyXML(dspy.XMLAdapter):
        pass

    flagfile.write({"dspex.predict": flag("native")})
    dspex.configure(flags=str(flagfile))
    seen = events("dspex.router.route")
    lm = ScriptedLM([["<answer>x</answer>"]])
    with dspy.context(lm=lm, adapter=MyXML()):
        dspex.Predict("question -> answer")(question="q")
    assert seen[-1][2]["implementation"] == "dspy"
    assert "MyXML has no parity-proven native twin" in seen[-1][2]["reason"]
