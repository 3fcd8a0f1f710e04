"""dspex.native.Predict against dspy.Predict: same LM calls, same results, same errors and warnings."""

from __future__ import annotations

import asyncio
import logging
import random
from typing import Any

import dspy
import pytest
from native_support import AsyncScripted, Scripted, chat_answer, run_both

import dspex.native as native
from dspex.errors import ConfigError, UnsupportedTypeError
from dspex.native import Predict, Prediction, settings


class QA(dspy.Signature):
    """Answer the question in one word."""

    question: str = dspy.InputField(desc="a factual question")
    answer: str = dspy.OutputField()


class NativeQA(native.Signature):
    """Answer the question in one word."""

    question: str = native.InputField(desc="a factual question")
    answer: str = native.OutputField()


@pytest.mark.parametrize(
    "sig",
    ["question -> answer", "question: str -> answer: str", QA],
    ids=["string", "typed-string", "dspy-class"],
)
def test_signature_forms_send_what_dspy_sends(sig: Any) -> None:
    theirs, ours, dlm, nlm = run_both(lambda ns: ns.Predict(sig), {"question": "Capital of France?"})
    assert nlm.calls == dlm.calls
    assert ours == theirs and ours.answer == "Paris"
    assert isinstance(ours, Prediction)


def test_native_signature_class_matches_dspy_class() -> None:
    dlm, nlm = Scripted(), Scripted()
    theirs = dspy.Predict(QA)(question="q?", lm=dlm)
    ours = Predict(NativeQA)(question="q?", lm=nlm)
    assert nlm.calls == dlm.calls and ours == theirs


def test_typed_outputs_and_completions() -> None:
    outputs = [chat_answer(answer="3", ok="True"), chat_answer(answer="4", ok="False")]
    theirs, ours, dlm, nlm = run_both(
        lambda ns: ns.Predict("question -> answer: int, ok: bool"), {"question": "1+2?"}, outputs=outputs
    )
    assert nlm.calls == dlm.calls
    assert ours.answer == 3 and ours.ok is True
    assert ours.completions.answer == theirs.completions.answer == [3, 4]
    assert repr(ours) == repr(theirs)


CONFIG_CASES = [
    # (constructor config, per-call config, LM defaults)
    ({}, {}, {}),
    ({"temperature": 0.3}, {}, {}),
    ({}, {"n": 3}, {}),
    ({}, {"n": 3, "temperature": 0.0}, {}),  # 0.0 counts as unset: forced to 0.7
    ({}, {"n": 3, "temperature": 0.15}, {}),
    ({}, {"n": 3, "temperature": 0.16}, {}),
    ({}, {"n": 2}, {"temperature": 0.5}),
    ({}, {"n": 2, "temperature": 0.0}, {"temperature": 0.5}),  # `0.0 or 0.5` -> 0.5: not forced
    ({}, {}, {"n": 4}),
    ({}, {}, {"num_generations": 2}),
    ({}, {}, {"n": 4, "temperature": 0.9}),
    ({"n": 2}, {"n": 1}, {}),
    ({"rollout_id": 1, "temperature": 1.0}, {"rollout_id": 2}, {}),
    ({}, {"max_tokens": 100, "stop": ["x"]}, {"max_tokens": 50}),
]


@pytest.mark.parametrize("ctor,per_call,lm_defaults", CONFIG_CASES, ids=repr)
def test_config_and_temperature_rule_match_dspy(ctor: dict, per_call: dict, lm_defaults: dict) -> None:
    theirs, ours, dlm, nlm = run_both(
        lambda ns: ns.Predict("question -> answer", **ctor),
        {"question": "q", "config": dict(per_call)},
        lm_defaults=lm_defaults,
    )
    assert nlm.calls == dlm.calls
    assert ours == theirs


def test_per_call_config_does_not_leak_into_module() -> None:
    p = Predict("question -> answer", temperature=0.2)
    p(question="q", lm=Scripted(), config={"n": 3})
    assert p.config == {"temperature": 0.2}


def test_demos_per_call_and_on_module() -> None:
    demos = [dspy.Example(question="1+1?", answer="2"), {"question": "2+2?", "answer": "4"}]
    _, _, dlm, nlm = run_both(lambda ns: ns.Predict("question -> answer"), {"question": "q", "demos": demos})
    assert nlm.calls == dlm.calls and len(nlm.calls[0]["messages"]) == 6

    dp, np_ = dspy.Predict("question -> answer"), Predict("question -> answer")
    dp.demos = np_.demos = demos
    dlm, nlm = Scripted(), Scripted()
    dp(question="q", lm=dlm)
    np_(question="q", lm=nlm)
    assert nlm.calls == dlm.calls


def test_per_call_signature_overrides() -> None:
    _, ours, dlm, nlm = run_both(
        lambda ns: ns.Predict("question -> answer"),
        {"question": "q", "signature": "question -> answer: int"},
        outputs=[chat_answer(answer="5")],
    )
    assert nlm.calls == dlm.calls and ours.answer == 5


def test_reassigned_signature_is_used() -> None:
    p = Predict("question -> answer")
    p(question="q", lm=Scripted())
    p.signature = native.Signature("question -> answer: int")
    assert p(question="q", lm=Scripted([chat_answer(answer="7")])).answer == 7


def test_lm_resolution_order() -> None:
    call_lm, module_lm, default_lm = Scripted(), Scripted(), Scripted()
    p = Predict("question -> answer")
    with settings.context(lm=default_lm):
        p(question="q")
        assert len(default_lm.calls) == 1
        p.set_lm(module_lm)
        assert p.get_lm() is module_lm
        p(question="q")
        assert len(module_lm.calls) == 1
        p(question="q", lm=call_lm)
        assert len(call_lm.calls) == 1 and len(module_lm.calls) == 1 and len(default_lm.calls) == 1


def test_configure_sets_process_default_and_context_overrides() -> None:
    global_lm, local_lm = Scripted(), Scripted()
    saved = settings._global["lm"]
    try:
        settings.configure(lm=global_lm)
        assert settings.lm is global_lm
        with settings.context(lm=local_lm):
            assert settings.lm is local_lm
        assert settings.lm is global_lm
    finally:
        settings.configure(lm=saved)
    with pytest.raises(ConfigError, match="nope"):
        settings.configure(nope=1)


def test_no_lm_is_a_clear_error() -> None:
    with settings.context(lm=None):
        with pytest.raises(ValueError) as info:
            Predict("question -> answer")(question="q")
    assert isinstance(info.value, ConfigError)
    assert "lm=" in str(info.value) and "dspex.configure" in str(info.value)


def test_string_lm_gives_dspys_message() -> None:
    with pytest.raises(ValueError) as theirs:
        dspy.Predict("question -> answer")(question="q", lm="openai/gpt-4o-mini")
    with pytest.raises(ValueError) as ours:
        Predict("question -> answer")(question="q", lm="openai/gpt-4o-mini")
    assert str(ours.value) == str(theirs.value)


def test_non_callable_lm_rejected_like_dspy() -> None:
    with pytest.raises(ValueError) as theirs:
        dspy.Predict("question -> answer")(question="q", lm=42)
    with pytest.raises(ValueError) as ours:
        Predict("question -> answer")(question="q", lm=42)
    assert type(ours.value) is ValueError and str(ours.value) == str(theirs.value)


def test_positional_args_error_matches_dspy() -> None:
    for sig in ("question, context -> answer", QA):
        with pytest.raises(ValueError) as theirs:
            dspy.Predict(sig)("q")
        with pytest.raises(ValueError) as ours:
            Predict(sig)("q")
        assert str(ours.value) == str(theirs.value)

        async def both() -> tuple[str, str]:
            msgs = []
            for module in (dspy.Predict(sig), Predict(sig)):
                try:
                    await module.acall("q")
                except ValueError as exc:
                    msgs.append(str(exc))
            return msgs[0], msgs[1]

        a, b = asyncio.run(both())
        assert a == b


def test_new_signature_keyword_rejected() -> None:
    with pytest.raises(AssertionError, match="new_signature is no longer a valid keyword argument."):
        Predict("question -> answer")(question="q", new_signature="a -> b", lm=Scripted())


def warnings_of(module: Any, caplog: pytest.LogCaptureFixture, logger: str, **kwargs: Any) -> list[str]:
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger=logger):
        module(lm=Scripted(), **kwargs)
    return [r.getMessage() for r in caplog.records if r.name == logger]


@pytest.mark.parametrize(
    "sig,kwargs,count",
    [
        ("question, context -> answer", {"question": "q"}, 1),
        ("question, context -> answer", {"question": "q", "context": "c", "extra": 1, "more": 2}, 1),
        ("question -> answer", {"question": "q", "extra": 1}, 1),
        ("question: str, hint: Optional[str] -> answer", {"question": "q"}, 0),
        ("question: int, tags: list[str] -> answer", {"question": "three", "tags": ["a", 2]}, 2),
        ("question: int, tags: list[str] -> answer", {"question": 3, "tags": ["a"]}, 0),
        ("question: str -> answer", {"question": ["a", "b"]}, 0),
        ("question: Literal['a', 'b'] -> answer", {"question": "c"}, 1),
        ("question: dict[str, int] -> answer", {"question": {"a": "b"}}, 1),
        ("question, context -> answer", {}, 1),
        ("question: int -> answer", {"question": None, "x": 1}, 1),
    ],
    ids=repr,
)
def test_input_warnings_match_dspy(sig: str, kwargs: dict, count: int, caplog: pytest.LogCaptureFixture) -> None:
    theirs = warnings_of(dspy.Predict(sig), caplog, "dspy.predict.predict", **kwargs)
    ours = warnings_of(Predict(sig), caplog, "dspy.predict.predict", **kwargs)   # DSPy's logger, as DSPy's Predict
    assert ours == theirs
    assert len(theirs) == count


def test_type_mismatch_warning_can_be_turned_off(caplog: pytest.LogCaptureFixture) -> None:
    with settings.context(warn_on_type_mismatch=False):
        assert warnings_of(Predict("question: int -> answer"), caplog, "dspy.predict.predict", question="x") == []


def test_input_defaults_filled_like_dspy() -> None:
    class DSig(dspy.Signature):
        question: str = dspy.InputField()
        style: str = dspy.InputField(default="terse")
        answer: str = dspy.OutputField()

    class NSig(native.Signature):
        question: str = native.InputField()
        style: str = native.InputField(default="terse")
        answer: str = native.OutputField()

    dlm, nlm = Scripted(), Scripted()
    dspy.Predict(DSig)(question="q", lm=dlm)
    Predict(NSig)(question="q", lm=nlm)
    assert nlm.calls == dlm.calls and "terse" in nlm.calls[0]["messages"][-1]["content"]


def test_predicted_outputs_kwarg_moves_into_config() -> None:
    prediction = {"type": "content", "content": "Paris"}
    _, _, dlm, nlm = run_both(lambda ns: ns.Predict("question -> answer"), {"question": "q", "prediction": prediction})
    assert nlm.calls == dlm.calls and nlm.calls[0]["kwargs"]["prediction"] == prediction


class Opaque:
    """A class the native adapters do not know how to format."""


def test_unsupported_type_raises_at_construction() -> None:
    sig = native.Signature({"question": (Opaque, native.InputField()), "answer": (str, native.OutputField())})
    with pytest.raises(UnsupportedTypeError) as info:
        Predict(sig)
    assert info.value.field == "question" and "implementation='dspy'" in str(info.value)
    with pytest.raises(UnsupportedTypeError):
        native.ChainOfThought(sig)
    with pytest.raises(UnsupportedTypeError):
        Predict("question -> answer")(question="q", signature=sig, lm=Scripted())


def test_construction_leaves_global_random_alone() -> None:
    random.seed(1234)
    expected = random.random()
    random.seed(1234)
    modules = [Predict("question -> answer") for _ in range(3)]
    assert random.random() == expected
    assert len({m.stage for m in modules}) == 3 and all(len(m.stage) == 16 for m in modules)
    random.seed(1234)
    dspy.Predict("question -> answer")  # DSPy's does advance it: the deliberate difference
    assert random.random() != expected


def test_async_call_matches_dspy() -> None:
    plain_calls: list[Any] = []

    def plain_lm(messages: Any, **kwargs: Any) -> list[str]:  # no acall: run in a worker thread
        plain_calls.append(messages)
        return [chat_answer(answer="Paris")]

    async def go() -> tuple[Any, ...]:
        dlm, nlm = AsyncScripted(), AsyncScripted()
        theirs = await dspy.Predict("question -> answer").acall(question="q", lm=dlm)
        ours = await Predict("question -> answer").acall(question="q", lm=nlm)
        ours_forward = await Predict("question -> answer").aforward(question="q", lm=plain_lm)
        return theirs, ours, ours_forward, dlm, nlm

    theirs, ours, ours_forward, dlm, nlm = asyncio.run(go())
    assert ours == theirs and ours_forward == theirs and ours.answer == "Paris"
    assert nlm.calls == dlm.calls and nlm.calls[0]["async"] is True
    assert plain_calls == [nlm.calls[0]["messages"]]


def test_module_api() -> None:
    p = Predict("question -> answer", temperature=0.1)
    assert p.get_config() == {"temperature": 0.1}
    p.update_config(n=2)
    assert p.config == {"temperature": 0.1, "n": 2}
    p.lm, p.demos = Scripted(), [{"question": "a", "answer": "b"}]
    p.reset()
    assert p.lm is None and p.demos == [] and p.traces == [] and p.train == []
    assert repr(p) == f"Predict({p.signature!r})"
    assert p.named_predictors() == [("self", p)]
    assert p.forward(question="q", lm=Scripted()).answer == "Paris"


def test_dump_and_load_state_with_dspy() -> None:
    dp = dspy.Predict("question -> answer")
    dp.signature = dp.signature.with_instructions("Be brief.")
    dp.demos = [dspy.Example(question="1+1?", answer="2")]
    state = dp.dump_state()
    p = Predict("question -> answer").load_state(state)
    assert p.signature.instructions == "Be brief."
    assert p.dump_state() == state
    dlm, nlm = Scripted(), Scripted()
    dp(question="q", lm=dlm)
    p(question="q", lm=nlm)
    assert nlm.calls == dlm.calls


def test_callbacks_see_start_and_end() -> None:
    seen: list[tuple[str, Any]] = []

    class CB:
        def on_module_start(self, call_id: str, instance: Any, inputs: dict) -> None:
            # DSPy's shape: the bound arguments of Module.__call__(self, *args, **kwargs).
            assert inputs["args"] == () and set(inputs) == {"args", "kwargs"}
            seen.append(("start", inputs["kwargs"]["question"]))

        def on_module_end(self, call_id: str, outputs: Any, exception: Exception | None) -> None:
            seen.append(("end", outputs.answer if outputs is not None else type(exception).__name__))

    p = Predict("question -> answer", callbacks=[CB()])
    p(question="q", lm=Scripted())
    with pytest.raises(ConfigError), settings.context(lm=None):
        p(question="q2")
    assert seen == [("start", "q"), ("end", "Paris"), ("start", "q2"), ("end", "ConfigError")]
    seen.clear()
    dspy.Predict("question -> answer", callbacks=[CB()])(question="q", lm=Scripted())
    assert seen == [("start", "q"), ("end", "Paris")]


def test_zero_completions_behave_like_dspy() -> None:
    theirs, ours, _, _ = run_both(lambda ns: ns.Predict("question -> answer"), {"question": "q"}, outputs=[])
    assert ours.keys() == theirs.keys() == []
    for p in (ours, theirs):
        with pytest.raises(StopIteration):
            len(p.completions)



@pytest.mark.parametrize("mode", ["sync", "async"])
def test_native_trace_records_each_call_in_both_modes(mode: str) -> None:
    """BestOfN and Refine open a native trace per attempt (DSPy's settings.trace, kept without DSPy); a Predict
    awaited inside one (``asyncio.run`` in a module's forward) records as a sync call does. The gate cannot reach
    the async branch: DSPy 3.4.1's BestOfN and Refine have no async path of their own."""
    from dspex.native import _trace

    lm = AsyncScripted([chat_answer(answer="Paris")])
    p = Predict("question -> answer")
    with _trace.scope() as trace:
        if mode == "sync":
            pred = p(question="Capital of France?", lm=lm)
        else:
            pred = asyncio.run(p.acall(question="Capital of France?", lm=lm))
    assert trace == [(p, {"question": "Capital of France?"}, pred)]
