"""Predict's plain path (exactly the inputs, nothing else) against its general path and against dspy.Predict.

One pipeline serves every call; a plain call (``Predict._plain_lm`` finds its LM) is the default ChatAdapter's
round trip read from the signature's cached plan, and may only be taken when DSPy's general preparation
(``Predict._preprocess``) would have nothing to do. Each case below either is plain and must equal DSPy, or has
something that forces the general preparation (and must still equal DSPy): spies on both tell which ran, so the
tests fail if the plain path is used when it must not be, or is never used at all.
"""

from __future__ import annotations

from typing import Any, Iterator

import dspy
import pytest
from native_support import AsyncScripted, Scripted, chat_answer, run_both

import dspex.native as native
from dspex.adapters import ChatAdapter
from dspex.native import Predict, settings


@pytest.fixture
def plain_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    seen: list[Any] = []
    general: list[Any] = []
    plain_lm, preprocess = Predict._plain_lm, Predict._preprocess

    def spy_plain_lm(self: Predict, *args: Any, **kwargs: Any) -> Any:
        lm = plain_lm(self, *args, **kwargs)
        if lm is not None:   # the plain round trip serves this call
            seen.append(self)
        return lm

    def spy_preprocess(self: Predict, *args: Any, **kwargs: Any) -> Any:
        general.append(self)
        return preprocess(self, *args, **kwargs)

    monkeypatch.setattr(Predict, "_plain_lm", spy_plain_lm)
    monkeypatch.setattr(Predict, "_preprocess", spy_preprocess)
    yield seen


def _same(theirs: Any, ours: Any, dlm: Scripted, nlm: Scripted) -> None:
    assert nlm.calls == dlm.calls
    assert ours == theirs and repr(ours) == repr(theirs)
    assert ours.completions._completions == dict(theirs.completions.items())


@pytest.mark.parametrize("module", ["Predict", "ChainOfThought"])
@pytest.mark.parametrize(
    "signature, inputs, outputs",
    [
        ("question -> answer", {"question": "Capital of France?"}, [chat_answer(answer="Paris")]),
        ("question, context: list[str] -> answer: int, sure: bool", {"question": "6x7", "context": ["a", "b"]},
         [chat_answer(reasoning="r", answer="42", sure="True")]),
        ("q -> a: int", {"q": "x"}, ["[[ ## a ## ]]\nnot a number\n\n[[ ## completed ## ]]"]),  # parse error: JSON retry
        ("q -> a", {"q": "x"}, [""]),  # empty completion: DSPy's error, after the JSON retry
        ("q -> a", {"q": "x"}, ["  [[ ## a ## ]] tail\nbody\n[[ ## reasoning ## ]]\nwhy"]),  # indented header
        ("q -> a", {"q": "x"}, [{"text": "[[ ## reasoning ## ]]\nr\n[[ ## a ## ]]\nA", "logprobs": {"x": 1}}]),
        ("q -> a", {"q": 1}, [chat_answer(reasoning="r", a="A")]),  # a non-str input value, rendered by DSPy's rules
        ("q -> a: int", {"q": "x"}, [chat_answer(reasoning="r", a="1"), chat_answer(reasoning="r", a="2")]),
    ],
)
def test_plain_calls_equal_dspy(plain_calls: list[Any], module: str, signature: str, inputs: dict[str, Any],
                                outputs: list[Any]) -> None:
    outcome = []
    for ns in (dspy, native):
        lm = Scripted(outputs)
        try:
            outcome.append((getattr(ns, module)(signature)(**inputs, lm=lm), None, lm))
        except Exception as exc:  # noqa: BLE001 - compared below
            outcome.append((None, exc, lm))
    (theirs, their_exc, dlm), (ours, our_exc, nlm) = outcome
    assert nlm.calls == dlm.calls
    if their_exc is not None:
        assert type(our_exc).__name__ == type(their_exc).__name__ and str(our_exc) == str(their_exc)
    else:
        _same(theirs, ours, dlm, nlm)
    assert len(plain_calls) == 1  # the plain path served this call


def _sig_with_config_input() -> str:
    return "config, question -> answer"


@pytest.mark.parametrize(
    "why, make, call, lm_defaults",
    [
        ("per-call config", lambda ns: ns.Predict("question -> answer"), {"question": "q", "config": {}}, None),
        ("module config asks for samples", lambda ns: ns.Predict("question -> answer", n=3), {"question": "q"}, None),
        ("module config with tool keys", lambda ns: ns.Predict("question -> answer", tool_choice="auto"),
         {"question": "q"}, None),
        ("lm's own temperature is no number", lambda ns: ns.Predict("question -> answer"), {"question": "q"},
         {"temperature": True}),
        ("lm samples n=3", lambda ns: ns.Predict("question -> answer"), {"question": "q"}, {"n": 3}),
        ("lm num_generations", lambda ns: ns.Predict("question -> answer"), {"question": "q"}, {"num_generations": 2}),
        ("missing input", lambda ns: ns.Predict("question, ctx -> answer"), {"question": "q"}, None),
        ("extra input", lambda ns: ns.Predict("question -> answer"), {"question": "q", "other": 1}, None),
        ("input named config", lambda ns: ns.Predict(_sig_with_config_input()), {"question": "q", "config": {}}, None),
        ("per-call demos", lambda ns: ns.Predict("question -> answer"),
         {"question": "q", "demos": [{"question": "d", "answer": "D"}]}, None),
    ],
)
def test_calls_with_something_to_do_take_the_general_path(plain_calls: list[Any], why: str, make: Any,
                                                          call: dict[str, Any], lm_defaults: Any) -> None:
    outputs = [chat_answer(answer="Paris")] * (3 if lm_defaults or "samples" in why else 1)
    theirs, ours, dlm, nlm = run_both(make, call, outputs=outputs, lm_defaults=lm_defaults)
    _same(theirs, ours, dlm, nlm)
    assert plain_calls == [], why


@pytest.mark.parametrize("module", ["Predict", "ChainOfThought"])
@pytest.mark.parametrize("config, lm_defaults, signature, outputs", [
    ({"max_tokens": 7}, None, "q -> a", [chat_answer(reasoning="r", a="A")]),
    ({"temperature": 0.7, "rollout_id": 3}, {"temperature": 0.0}, "q -> a", [chat_answer(reasoning="r", a="A")]),
    ({"temperature": 0.0}, {"temperature": 1.0}, "q -> a", [chat_answer(reasoning="r", a="A")]),   # 0.0: the LM's own
    ({"temperature": 0.5}, None, "q -> a: int", ["[[ ## a ## ]]\nnot a number\n\n[[ ## completed ## ]]"]),   # JSON retry
    ({"temperature": 0.5}, None, "q -> a", [""]),   # DSPy's empty-completion error, after the retry
])
def test_a_config_that_only_rides_along_to_the_lm_is_plain(plain_calls: list[Any], module: str, config: dict[str, Any],
                                                           lm_defaults: Any, signature: str, outputs: list[Any]) -> None:
    """A module's config without sampling or tool keys (a temperature, max_tokens) goes to the LM as DSPy sends
    it, the JSON retry gets it too, and the module's own config is left as it was."""
    outcome = []
    for ns in (dspy, native):
        lm, mod = Scripted(outputs, **(lm_defaults or {})), getattr(ns, module)(signature, **config)
        try:
            outcome.append((mod(q="x", lm=lm), None, lm))
        except Exception as exc:  # noqa: BLE001 - compared below
            outcome.append((None, exc, lm))
        predict = mod if module == "Predict" else mod.predict
        assert predict.config == config
    (theirs, their_exc, dlm), (ours, our_exc, nlm) = outcome
    assert nlm.calls == dlm.calls and config.items() <= nlm.calls[0]["kwargs"].items()
    if their_exc is not None:
        assert type(our_exc).__name__ == type(their_exc).__name__ and str(our_exc) == str(their_exc)
    else:
        _same(theirs, ours, dlm, nlm)
    assert len(plain_calls) == 1


@pytest.mark.parametrize("config, lm_defaults", [
    ({"temperature": "hot"}, None), ({}, {"temperature": "hot"}), ({"temperature": 0}, {"temperature": [1]}),
    ({"temperature": None}, {"temperature": b"x"}), ({}, None),
])
def test_dspy_s_sampling_rule_fails_on_a_temperature_it_cannot_compare_even_for_one_sample(
        config: dict[str, Any], lm_defaults: Any) -> None:
    """DSPy compares the temperature with 0.15 before it looks at ``n``; an LM whose ``kwargs`` is None fails on
    ``None.get`` (the last case)."""
    errors = []
    for ns in (dspy, native):
        lm = Scripted(None, **(lm_defaults or {}))
        if lm_defaults is None and not config:
            lm.kwargs = None
        with pytest.raises((TypeError, AttributeError)) as info:
            ns.Predict("question -> answer", **config)(question="q", lm=lm)
        errors.append((type(info.value), str(info.value)))
        assert lm.calls == []
    assert errors[0] == errors[1]


def test_module_demos_and_a_configured_adapter_take_the_general_path(plain_calls: list[Any]) -> None:
    module = Predict("question -> answer")
    module.demos = [{"question": "d", "answer": "D"}]
    lm = Scripted()
    module(question="q", lm=lm)
    assert len(lm.calls[0]["messages"]) == 4 and plain_calls == []

    class Loud(ChatAdapter):
        def format_task_description(self, signature: Any) -> str:
            return "LOUD"

    with settings.context(adapter=Loud()):
        Predict("question -> answer")(question="q", lm=lm)
    assert lm.calls[-1]["messages"][0]["content"].endswith("LOUD") and plain_calls == []


def test_reassigned_signature_is_seen_on_the_next_plain_call(plain_calls: list[Any]) -> None:
    module = Predict("question -> answer")
    lm = Scripted([chat_answer(answer="A", score="3")])
    module(question="q", lm=lm)
    module.signature = native.Signature("question -> answer, score: int")
    pred = module(question="q", lm=lm)
    assert pred.score == 3 and "`score` (int)" in lm.calls[-1]["messages"][0]["content"]
    # the call after the reassignment re-plans first, so it stays on the plain path (an optimizer or a routed
    # module's engine reassigns signatures: their calls must not drop to the general path for good)
    assert len(plain_calls) == 2
    assert module(question="q", lm=lm).score == 3 and len(plain_calls) == 3


def test_lm_none_in_the_call_falls_to_the_configured_lm_like_dspy(plain_calls: list[Any]) -> None:
    module = Predict("question -> answer")
    module.set_lm(Scripted([chat_answer(answer="module lm")]))
    configured = Scripted([chat_answer(answer="configured lm")])
    with settings.context(lm=configured):
        assert module(question="q").answer == "module lm"
        assert module(question="q", lm=None).answer == "configured lm"  # DSPy: kwargs.pop("lm", self.lm) or settings.lm
    assert len(plain_calls) == 2


def test_a_subclass_forward_is_called_like_dspy(plain_calls: list[Any]) -> None:
    """DSPy's Module.__call__ runs ``self.forward``: a subclass that rewrites the inputs sees them rewritten."""

    def subclass(ns: Any) -> Any:
        class Shouting(ns.Predict):
            def forward(self, **kwargs: Any) -> Any:
                kwargs["question"] = kwargs["question"].upper()
                return super().forward(**kwargs)

        return Shouting("question -> answer")

    theirs, ours, dlm, nlm = run_both(subclass, {"question": "quiet please"})
    _same(theirs, ours, dlm, nlm)
    assert "QUIET PLEASE" in nlm.calls[0]["messages"][-1]["content"]
    assert len(plain_calls) == 1  # forward -> _run still takes the plain path inside


def test_a_subclass_aforward_is_awaited_like_dspy() -> None:
    import asyncio

    def subclass(ns: Any) -> Any:
        class Tagged(ns.Predict):
            async def aforward(self, **kwargs: Any) -> Any:
                kwargs["question"] = "tagged: " + kwargs["question"]
                return await super().aforward(**kwargs)

        return Tagged("question -> answer")

    calls = []
    for ns in (dspy, native):
        lm = AsyncScripted()
        asyncio.run(subclass(ns).acall(question="q", lm=lm))
        calls.append(lm.calls)
    assert calls[0] == calls[1] and "tagged: q" in calls[1][0]["messages"][-1]["content"]


@pytest.mark.parametrize("config", [{}, {"temperature": 0.3, "max_tokens": 9}])
def test_an_async_plain_call_takes_the_same_round_trip(plain_calls: list[Any], monkeypatch: pytest.MonkeyPatch,
                                                       config: dict[str, Any]) -> None:
    """``acall`` prepares like ``__call__``: a plain call is the plan's async round trip, and equals DSPy's."""
    import asyncio

    from dspex import hooks

    # as in a process without DSPy: no books to keep, so the plan's own round trip serves the call
    monkeypatch.setattr(hooks, "bridge", None)
    monkeypatch.setattr(hooks, "current", lambda: None)
    round_trips: list[Any] = []
    module = Predict("question -> answer", **config)
    chat = ChatAdapter().plan(module.signature)   # the default ChatAdapter's plan (plans are kept per class)
    original = chat.atrip

    async def spy(adapter: Any, *args: Any, **kwargs: Any) -> Any:
        round_trips.append(adapter)
        return await original(adapter, *args, **kwargs)

    monkeypatch.setattr(chat, "atrip", spy)
    module._plan.round_trip = module._plan.around_trip = None   # bound again, through the spy
    calls = []
    for ns, m in ((dspy, dspy.Predict("question -> answer", **config)), (native, module)):
        lm = AsyncScripted([chat_answer(answer="Paris")])
        calls.append((str(asyncio.run(m.acall(question="Capital?", lm=lm))), lm.calls))
    assert calls[0] == calls[1] and config.items() <= calls[1][1][0]["kwargs"].items()
    assert len(plain_calls) == 1 and len(round_trips) == 1


@pytest.mark.parametrize("config", [{}, {"temperature": 0.3}])
def test_with_dspy_loaded_the_round_trip_keeps_dspy_s_lm_books(plain_calls: list[Any],
                                                               monkeypatch: pytest.MonkeyPatch,
                                                               config: dict[str, Any]) -> None:
    """A ``dspy.BaseLM`` that is not a ``dspy.LM`` needs no capability planning: a plain call with DSPy loaded is
    the plan's round trip too, and the LM is called as DSPy's adapter calls it: the same history, answer and
    warnings as DSPy's Predict."""
    import types
    import warnings

    from dspex import hooks

    class ForwardLM(dspy.BaseLM):
        """DSPy's own LM layer (``BaseLM.__call__`` -> ``forward``): history and usage are DSPy's."""

        def forward(self, prompt: Any = None, messages: Any = None, **kwargs: Any) -> Any:
            message = types.SimpleNamespace(content=chat_answer(answer="Paris"))
            return types.SimpleNamespace(choices=[types.SimpleNamespace(message=message)], model="fwd",
                                         usage={"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4})

    assert hooks.current() is not None   # DSPy is loaded here: the bridge is installed
    round_trips: list[Any] = []
    module = Predict("question -> answer", **config)
    chat = ChatAdapter().plan(module.signature)   # the default ChatAdapter's plan (plans are kept per class)
    original = chat.trip

    def spy(adapter: Any, *args: Any, **kwargs: Any) -> Any:
        round_trips.append(adapter)
        return original(adapter, *args, **kwargs)

    monkeypatch.setattr(chat, "trip", spy)
    module._plan.round_trip = module._plan.around_trip = None   # bound again, through the spy
    seen = []
    for m in (dspy.Predict("question -> answer", **config), module):
        lm = ForwardLM(model="fwd")
        with warnings.catch_warnings(record=True) as caught, dspy.settings.context(lm=lm):
            warnings.simplefilter("always")
            pred = m(question="Capital?")
        seen.append((pred.answer, [e["messages"] for e in lm.history], [e["outputs"] for e in lm.history],
                     [e["kwargs"] for e in lm.history], [str(w.message) for w in caught]))
    assert seen[0] == seen[1] and seen[1][0] == "Paris" and len(seen[1][1]) == 1   # the same warnings, too
    assert len(plain_calls) == 1 and len(round_trips) == 1


def test_an_adapter_that_renders_its_own_request_is_called_through_it() -> None:
    """The plain round trip renders with the plan's renderer (ChatAdapter's ``_request``); a subclass with its own
    ``_request`` has no plain plan, so its calls, sync and async, take the general steps and its request."""
    import asyncio

    class Own(ChatAdapter):
        def _request(self, plan: Any, inputs: Any) -> dict[str, Any]:
            return {"role": "user", "content": "own: " + inputs["question"]}

    adapter, signature = Own(), native.Signature("question -> answer")
    assert not adapter.plan(signature).plain and ChatAdapter().plan(signature).plain
    lm = AsyncScripted([chat_answer(answer="A")] * 2)
    assert adapter(lm, {}, signature, [], {"question": "q"})[0] == {"answer": "A"}
    assert asyncio.run(adapter.acall(lm, {}, signature, [], {"question": "q"}))[0] == {"answer": "A"}
    assert [c["messages"][-1]["content"] for c in lm.calls] == ["own: q", "own: q"]
