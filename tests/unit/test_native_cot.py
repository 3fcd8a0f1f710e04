"""dspex.native.ChainOfThought against dspy.ChainOfThought."""

from __future__ import annotations

import asyncio
from typing import Any

import dspy
import pytest
from native_support import AsyncScripted, Scripted, chat_answer, run_both

import dspex.native as native
from dspex.errors import SignatureError
from dspex.native import ChainOfThought

COT_ANSWER = [chat_answer(reasoning="France's capital is Paris.", answer="Paris")]


class QA(dspy.Signature):
    """Answer the question."""

    question: str = dspy.InputField()
    answer: str = dspy.OutputField(desc="one word")


@pytest.mark.parametrize("sig", ["question -> answer", "question, context: list[str] -> answer", QA], ids=str)
def test_messages_and_result_match_dspy(sig: Any) -> None:
    kwargs: dict[str, Any] = {"question": "Capital of France?"}
    if isinstance(sig, str) and "context" in sig:
        kwargs["context"] = ["a", "b"]
    theirs, ours, dlm, nlm = run_both(lambda ns: ns.ChainOfThought(sig), kwargs, outputs=COT_ANSWER)
    assert nlm.calls == dlm.calls
    assert ours == theirs and ours.reasoning == "France's capital is Paris."
    assert list(ours.keys()) == ["reasoning", "answer"]


def test_signature_gets_reasoning_first() -> None:
    cot = ChainOfThought("question -> answer")
    assert list(cot.predict.signature.output_fields) == ["reasoning", "answer"]
    field = cot.predict.signature.output_fields["reasoning"]
    assert field.desc == "${reasoning}" and field.prefix == "Reasoning:" and field.annotation is str


@pytest.mark.parametrize(
    "make_field",
    [
        lambda ns: None,
        lambda ns: ns.OutputField(desc="Think it through", prefix="Thoughts:"),
        lambda ns: ns.OutputField(),
    ],
    ids=["default", "custom", "bare"],
)
def test_rationale_field_like_dspy(make_field: Any) -> None:
    theirs, ours, dlm, nlm = run_both(
        lambda ns: ns.ChainOfThought("question -> answer", rationale_field=make_field(ns)),
        {"question": "q"},
        outputs=COT_ANSWER,
    )
    assert nlm.calls == dlm.calls and ours == theirs


def test_dspy_field_info_is_read_by_duck_typing() -> None:
    dspy_field = dspy.OutputField(desc="Think it through", prefix="Thoughts:")
    cot = ChainOfThought("question -> answer", rationale_field=dspy_field)
    field = cot.predict.signature.output_fields["reasoning"]
    assert (field.desc, field.prefix, field.annotation) == ("Think it through", "Thoughts:", str)


def test_rationale_field_type_like_dspy() -> None:
    outputs = [chat_answer(reasoning="[\"a\", \"b\"]", answer="x")]
    theirs, ours, dlm, nlm = run_both(
        lambda ns: ns.ChainOfThought("question -> answer", rationale_field_type=list[str]),
        {"question": "q"},
        outputs=outputs,
    )
    assert nlm.calls == dlm.calls and ours == theirs and ours.reasoning == ["a", "b"]


def test_bad_rationale_field_is_a_clear_error() -> None:
    with pytest.raises(SignatureError, match="OutputField"):
        ChainOfThought("question -> answer", rationale_field="reasoning")


def test_config_flows_to_predict() -> None:
    theirs, ours, dlm, nlm = run_both(
        lambda ns: ns.ChainOfThought("question -> answer", temperature=0.4, n=2),
        {"question": "q"},
        outputs=COT_ANSWER * 2,
    )
    assert nlm.calls == dlm.calls and nlm.calls[0]["kwargs"] == {"temperature": 0.4, "n": 2}
    assert ours.completions.answer == theirs.completions.answer == ["Paris", "Paris"]


def test_positional_arguments_match_dspy() -> None:
    with pytest.raises(TypeError) as theirs:
        dspy.ChainOfThought("question -> answer")("q")
    with pytest.raises(TypeError) as ours:
        ChainOfThought("question -> answer")("q")
    assert str(ours.value) == str(theirs.value)


def test_async() -> None:
    async def go() -> tuple[Any, Any, Any, Any]:
        dlm, nlm = AsyncScripted(COT_ANSWER), AsyncScripted(COT_ANSWER)
        theirs = await dspy.ChainOfThought("question -> answer").acall(question="q", lm=dlm)
        ours = await ChainOfThought("question -> answer").acall(question="q", lm=nlm)
        return theirs, ours, dlm, nlm

    theirs, ours, dlm, nlm = asyncio.run(go())
    assert ours == theirs and nlm.calls == dlm.calls


def test_module_api_and_repr() -> None:
    cot = ChainOfThought("question -> answer")
    lm = Scripted(COT_ANSWER)
    cot.set_lm(lm)
    assert cot.get_lm() is lm and cot.predict.lm is lm
    assert cot.named_predictors() == [("predict", cot.predict)]
    assert repr(cot) == f"predict = {cot.predict!r}"
    assert repr(cot).startswith("predict = Predict(StringSignature(question -> reasoning, answer")
    assert cot(question="q").answer == "Paris"
    state = cot.dump_state()
    assert list(state) == ["predict"]
    # The saved LM is a custom class: refused from an untrusted state, as DSPy refuses it, and nothing is changed.
    fresh = ChainOfThought("question -> answer")
    with pytest.raises(ValueError, match="Refusing to import custom serialized LM class `native_support.Scripted`"):
        fresh.load_state(state)
    with pytest.raises(ValueError, match="Refusing to import custom serialized LM class"):
        dspy.ChainOfThought("question -> answer").load_state(state)
    assert fresh.predict.lm is None
    # Trusted, the class is imported and rebuilt from its state: this one cannot be (its __init__ sets `model`
    # itself), and both fail with the same error, leaving the module untouched.
    errors = []
    for module in (fresh, dspy.ChainOfThought("question -> answer")):
        with pytest.raises(TypeError) as info:
            module.load_state(state, allow_unsafe_lm_state=True)
        errors.append(str(info.value))
    assert errors[0] == errors[1] and "multiple values for keyword argument 'model'" in errors[0]
    assert fresh.predict.lm is None and fresh.predict.signature.instructions == cot.predict.signature.instructions
    state["predict"]["lm"] = None
    restored = fresh.load_state(state)
    assert restored.predict.signature.instructions == cot.predict.signature.instructions


def test_native_signature_class() -> None:
    class NQA(native.Signature):
        """Answer the question."""

        question: str = native.InputField()
        answer: str = native.OutputField(desc="one word")

    dlm, nlm = Scripted(COT_ANSWER), Scripted(COT_ANSWER)
    theirs = dspy.ChainOfThought(QA)(question="q", lm=dlm)
    ours = ChainOfThought(NQA)(question="q", lm=nlm)
    assert nlm.calls == dlm.calls and ours == theirs


@pytest.mark.parametrize("module", ["Predict", "ChainOfThought"])
def test_an_input_named_self_fails_binding_like_dspy(module: str) -> None:
    """Found by the parity gate (seed 2701539636): the error names the function DSPy's call binds."""
    outcomes = []
    for ns in (dspy, native):
        mod = getattr(ns, module)("a, self -> b")
        found = []
        for call in (lambda: mod(a="x", self=[]), lambda: asyncio.run(mod.acall(a="x", self=[]))):
            with pytest.raises(TypeError) as info:
                call()
            found.append(str(info.value))
        outcomes.append(found)
    assert outcomes[0] == outcomes[1]
    assert "got multiple values for argument 'self'" in outcomes[1][0]


def test_a_forward_of_its_own_is_called_like_dspy() -> None:
    """The call hands its dict of keywords straight to ChainOfThought's own steps, unless a subclass or the
    instance has its own ``forward``: that is called, as DSPy's Module.__call__ calls it."""
    def outcome(ns: Any) -> tuple[Any, ...]:
        class Shouting(ns.ChainOfThought):
            def forward(self, **kwargs: Any) -> Any:
                return super().forward(**{**kwargs, "question": kwargs["question"].upper()})

        patched = ns.ChainOfThought("question -> answer")
        patched.forward = lambda **kwargs: "patched"
        lm = Scripted(COT_ANSWER)
        shouted = Shouting("question -> answer")(question="quiet", lm=lm)
        return shouted.answer, lm.calls[0]["messages"][-1]["content"], patched(question="q")

    assert outcome(dspy) == outcome(native) and "QUIET" in outcome(native)[1]
