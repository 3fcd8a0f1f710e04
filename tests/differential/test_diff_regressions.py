"""One minimal test per difference the red team found (each failed before its fix), plus the documented ones."""

from __future__ import annotations

import warnings
from typing import Any

import dspy
import pytest
from diff_support import Case, assert_same, chat, diff

import dspex.native as native


def _module_with_field(kind: str, **kw: Any) -> Any:
    def build(ns: Any) -> Any:
        class Sig(ns.Signature):
            q: str = ns.InputField(**(kw if kind == "in" else {}))
            a: str = ns.OutputField(**(kw if kind == "out" else {}))

        return ns.Predict(Sig)

    return build


@pytest.mark.parametrize("kind", ["in", "out"])
@pytest.mark.parametrize("kw", [{"desc": None}, {"desc": None, "description": "pd"}, {"description": None}],
                         ids=["desc=None", "desc=None+description", "description=None"])
def test_explicit_none_desc_renders_none_like_dspy(kind: str, kw: dict[str, Any]) -> None:
    # DSPy stores an explicit desc=None (or description=None) and its prompt reads "`q` (str): None".
    a, _ = assert_same(Case(build=_module_with_field(kind, **kw), call={"q": "x"}, script=[[chat(a="y")]]))
    assert ": None\n" in a.calls[0][1][0]["content"]


@pytest.mark.parametrize("kw", [{"desc": None}, {"desc": 5}, {"description": None}])
def test_dspy_signature_with_odd_desc_handed_to_native(kw: dict[str, Any]) -> None:
    def build(ns: Any) -> Any:
        class Sig(dspy.Signature):
            q: str = dspy.InputField(**kw)
            a: str = dspy.OutputField()

        return ns.Predict(Sig)

    assert_same(Case(build=build, call={"q": "x"}, script=[[chat(a="y")]]))


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_cot_rationale_field_from_dspy_keeps_desc_none_and_default(mode: str) -> None:
    for field in (lambda: dspy.OutputField(desc=None), lambda: dspy.OutputField(desc="x", default="dflt")):
        case = Case(build=lambda ns, f=field: ns.ChainOfThought("q -> a: int", rationale_field=f()),
                    call={"q": "x"}, script=[[chat(a="1")], ['{"a": 1}']], mode=mode)
        assert_same(case)


def test_prefix_and_format_warn_deprecated_like_dspy() -> None:
    for kw in ({"prefix": "P:"}, {"format": str}, {"prefix": "P:", "format": str}):
        seen = []
        for ns in (dspy, native):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                ns.OutputField(**kw)  # the warning must point at this line
            seen.append([(w.category, str(w.message), w.filename, w.lineno) for w in caught])
        assert seen[0] == seen[1] and seen[0]


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("cot", [False, True])
def test_demos_none_is_dspys_type_error(mode: str, cot: bool) -> None:
    for how in ("call", "module"):
        case = Case(build=lambda ns: (ns.ChainOfThought if cot else ns.Predict)("q -> a"),
                    call={"q": "x", "demos": None} if how == "call" else {"q": "x"},
                    script=[[chat(reasoning="r", a="1")]], mode=mode, demos=None)
        if how == "module":
            case.demos = lambda ns: None  # module.demos = None
        a, _ = assert_same(case)
        assert a.error == ("TypeError", "'NoneType' object is not iterable")


@pytest.mark.parametrize("lm", ["openai/gpt-4o-mini", 42, 0.5])
def test_string_or_non_callable_lm_raises_dspys_value_error(lm: Any) -> None:
    case = Case(build=lambda ns: ns.Predict("q -> a"), call={"q": "x", "lm": lm}, script=[], lm_via="set_lm")
    a, b = assert_same(case)
    assert a.error is not None and a.error[0] == "ValueError"


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("given", [None, 5, object()], ids=["None", "int", "object"])
def test_per_call_non_signature_fails_like_dspy(mode: str, given: Any) -> None:
    case = Case(build=lambda ns: ns.Predict("q -> a"), call={"q": "x", "signature": given},
                script=[[chat(a="1")]], mode=mode)
    a, _ = assert_same(case)
    assert a.error is not None and a.error[0] == "AttributeError"


def test_per_call_none_signature_without_lm_reports_the_lm_first() -> None:
    # DSPy resolves the LM before it reads the per-call signature: the no-LM error wins.
    for ns in (dspy, native):
        with pytest.raises(ValueError, match="No LM is"):
            ctx = dspy.context(lm=None) if ns is dspy else native.settings.context(lm=None)
            with ctx:
                ns.Predict("q -> a")(q="x", signature=None)


@pytest.mark.parametrize("instructions", ["\n\n   lead\n  more", "  x\n    y\n z", "\n \n  a"])
def test_dspy_signature_instructions_cleandoc_applied_once(instructions: str) -> None:
    def build(ns: Any) -> Any:
        sig = dspy.Signature({"q": (str, dspy.InputField()), "a": (str, dspy.OutputField())}, instructions)
        return ns.Predict(sig)

    assert_same(Case(build=build, call={"q": "x"}, script=[[chat(a="1")]]))


def test_documented_no_lm_difference_is_the_only_one() -> None:
    case = Case(build=lambda ns: ns.Predict("q -> a"), call={"q": "x", "lm": None}, script=[], lm_via="set_lm")
    a, b, problems = diff(case)
    assert problems == []
    assert a.error is not None and a.error[0] == "ValueError" and b.error is not None and b.error[0] == "ConfigError"


class _Recorder:
    """A module callback that records what it is given; optionally raises, to exercise DSPy's logging."""

    def __init__(self, events: list[Any], fail: bool = False) -> None:
        self.events, self.fail = events, fail

    def __repr__(self) -> str:
        return "Recorder"

    def on_module_start(self, call_id: str, instance: Any, inputs: dict[str, Any]) -> None:
        kwargs = {k: v for k, v in inputs["kwargs"].items() if k != "lm"}
        self.events.append(("start", sorted(inputs), inputs["args"], kwargs))
        if self.fail:
            raise RuntimeError("start broke")

    def on_module_end(self, call_id: str, outputs: Any, exception: Any) -> None:
        self.events.append(("end", None if outputs is None else dict(outputs.items()),
                            None if exception is None else (type(exception).__name__, str(exception))))
        if self.fail:
            raise RuntimeError("end broke")


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("fail", [False, True])
@pytest.mark.parametrize("script", [[[chat(reasoning="r", a="1")]], [["junk"], ["junk"]]], ids=["ok", "parse-error"])
def test_instance_callbacks_see_what_dspy_passes(mode: str, fail: bool, script: list[Any]) -> None:
    # DSPy calls on_module_start with Module.__call__'s bound arguments: {"args": (), "kwargs": {...}}.
    events: dict[str, list[Any]] = {"dspy": [], "dspex.native": []}

    def build(ns: Any) -> Any:
        return ns.Predict("q -> a", callbacks=[_Recorder(events[ns.__name__], fail)])

    assert_same(Case(build=build, call={"q": "x", "config": {"temperature": 0.5}}, script=script, mode=mode))
    assert events["dspy"] == events["dspex.native"] and events["dspy"]


def test_two_step_drops_the_extraction_fallbacks_logprobs_like_dspy() -> None:
    """Found by the gate (two_step_adapter, seed 20261125): the extraction's chat answer fails, its JSON fallback
    answer carries logprobs; DSPy's sync path keeps only the output fields, so no ``logprobs`` in the result."""
    import json

    from adapter_diff_support import AdapterCase, assert_same_adapter

    extraction = [["[[ ## reasoning ## ]]\n\n\n[[ ## b ## ]]\n{}\n\n[[ ## completed ## ]]"],
                  [{"text": json.dumps({"reasoning": "", "b": []}), "logprobs": {"content": [{"token": "a"}]}}]]
    for mode in ("sync", "async"):
        case = AdapterCase(lambda ns: ns.ChainOfThought("a -> b: list"), {"a": "x"}, [[" "]], "two-step",
                           extraction=extraction, mode=mode)
        a, _ = assert_same_adapter(case)
        assert a.error is None


@pytest.mark.parametrize("of", [lambda t: t.Reasoning, lambda t: t.ToolCalls, lambda t: t.Code, lambda t: t.Image,
                                lambda t: list[t.Code]], ids=["Reasoning", "ToolCalls", "Code", "Image", "list[Code]"])
def test_xml_adapter_writes_a_dspex_type_output_as_dspy_writes_its_own(of: Any) -> None:
    """XMLAdapter shows DSPy's own models (``dspy.ToolCalls``...) as one value with their JSON schema, and other
    pydantic models as nested XML; the native twins (``dspex.types``, what native ReActV2's signature holds) were
    shown nested, so the system prompt differed (every native ReActV2 call under XMLAdapter)."""
    import dspex.types as native_types
    from diff_support import RecLM

    sent = []
    for ns, types in ((dspy, dspy), (native, native_types)):
        sig = ns.Signature({"question": (str, ns.InputField()), "out": (of(types), ns.OutputField())})
        lm = RecLM([["<out>x</out>"]] * 2)
        context = dspy.context if ns is dspy else native.settings.context
        with context(adapter=ns.XMLAdapter()):
            try:
                ns.Predict(sig)(question="q", lm=lm)
            except Exception:  # noqa: BLE001 - the answer may not parse as the type: only the request is compared
                pass
        sent.append(lm.calls[0][1])
    assert sent[0] == sent[1]


@pytest.mark.parametrize("response, reasoning", [
    ({"text": "The answer is a.", "reasoning_content": "native thoughts"}, True),    # reasoning_effort, field dropped
    ({"text": "The answer is a.", "reasoning_content": "native thoughts"}, False),   # read from the response
    ({"text": "", "tool_calls": [{"id": "c1", "type": "function",
                                  "function": {"name": "f", "arguments": '{"q": 1}'}}]}, False),   # no text: tool calls
])
def test_two_step_sync_call_is_dspy_s_base_adapter_call(response: dict[str, Any], reasoning: bool) -> None:
    """DSPy's TwoStepAdapter has no ``__call__`` of its own: the base ``Adapter.__call__`` runs its native-feature
    steps (reasoning, citations, tool calls) around the extraction. Native's sync call skipped them: the Reasoning
    field stayed in the prompt, ``reasoning_effort`` was not sent, an empty text with tool calls was an error."""
    from diff_support import RecLM

    class Main(RecLM):
        supports_reasoning = reasoning

    seen = []
    for ns in (dspy, native):
        main = Main([[response]])
        extraction = RecLM([[chat(think="extracted", answer="a")]])
        sig = ns.Signature({"question": (str, ns.InputField()), "think": (dspy.Reasoning, ns.OutputField()),
                            "answer": (str, ns.OutputField())}, "Answer.")
        if "tool_calls" in response:
            sig = ns.Signature({"question": (str, ns.InputField()), "answer": (str, ns.OutputField()),
                                "calls": (dspy.ToolCalls, ns.OutputField())}, "Answer.")
        context = dspy.context if ns is dspy else native.settings.context
        with context(adapter=ns.TwoStepAdapter(extraction_model=extraction)):
            try:
                out: Any = repr(dict(ns.Predict(sig)(question="q", lm=main).items()))
            except Exception as e:  # noqa: BLE001 - compared
                out = (type(e).__name__, str(e))
        seen.append((out, main.calls, extraction.calls))
    assert seen[0] == seen[1]


@pytest.mark.parametrize("text", ["(0A", "((x", "h\n\t((k", "(2d", "(a)", "6", "plain words.", "a (side) note"])
def test_reasoning_text_that_json_repair_rewrites_is_read_as_dspy_reads_it(text: str) -> None:
    """DSPy reads a Reasoning field through ``json_repair``, which reads "(0A" as the string "0A"; native's
    shortcut for plain prose took the text as it is when it held no bracket or quote (parentheses included)."""
    from dspex.adapters import ChatAdapter

    completion = f"[[ ## t ## ]]\n{text}\n\n[[ ## completed ## ]]"
    fields = {"q": (str, dspy.InputField()), "t": (dspy.Reasoning, dspy.OutputField())}
    theirs = dspy.ChatAdapter().parse(dspy.Signature(fields), completion)["t"]
    ours = ChatAdapter().parse(dspy.Signature(fields), completion)["t"]
    assert str(ours) == str(theirs) and repr(ours) == repr(theirs)
