"""Every precedence rule, with its reason: call > constructor > module_overrides > flag > preference;
native unavailable; fallback when native raises; the adaptive circuit."""

from __future__ import annotations

import pytest

import dspex
from dspex.errors import NativeUnavailableError
from routing_helpers import flag


@pytest.fixture
def routed(flagfile, lm, events):
    """Flags say native for predict; returns the route-event list."""
    flagfile.write({"dspex.predict": flag("native"), "dspex.chain_of_thought": flag("native")})
    dspex.configure(lm=lm, flags=str(flagfile))
    return events("dspex.router.route")


def last(seen):
    return seen[-1][2]["implementation"], seen[-1][2]["reason"]


def test_call_beats_constructor_beats_override_beats_flag(routed):
    dspex.configure(module_overrides={"predict": "dspy"})
    p = dspex.Predict("question -> answer", implementation="native")
    assert p(question="a", implementation="dspy").answer == "A:a"
    assert last(routed) == ("dspy", "implementation='dspy' given to the call")
    p(question="b")
    assert last(routed) == ("native", "implementation='native' given to the constructor")
    dspex.Predict("question -> answer")(question="c")
    assert last(routed) == ("dspy", "module_overrides['predict']='dspy' (dspex.configure())")


def test_override_by_instance_name_beats_override_by_type(routed):
    dspex.configure(module_overrides={"predict": "dspy", "hot_path": "native"})
    dspex.Predict("question -> answer", name="hot_path")(question="x")
    assert last(routed) == ("native", "module_overrides['hot_path']='native' (dspex.configure())")


def test_flag_beats_preference(routed):
    dspex.configure(implementation_preference="dspy_first")
    dspex.Predict("question -> answer")(question="x")
    assert last(routed) == ("native", "flag dspex.predict variant 'native' (STATIC)")


@pytest.mark.parametrize(
    "preference, expected",
    [("auto", "dspy"), ("dspy_first", "dspy"), ("native_first", "native")],
)
def test_preference_without_flag_source(lm, events, preference, expected):
    dspex.configure(lm=lm, implementation_preference=preference)
    seen = events("dspex.router.route")
    assert dspex.Predict("question -> answer")(question="x").answer == "A:x"
    assert last(seen) == (expected, f"implementation_preference={preference!r} (no flag source configured)")


def test_an_input_named_implementation_is_an_input(lm, events):
    dspex.configure(lm=lm)
    seen = events("dspex.router.route")
    p = dspex.Predict("question, implementation -> answer")
    assert p(question="q", implementation="native").answer == "A:q"
    assert seen[-1][2]["source"] == "preference"


def test_bad_implementation_value_is_a_config_error(lm):
    with pytest.raises(dspex.errors.ConfigError, match="implementation='fast'"):
        dspex.Predict("question -> answer", implementation="fast")


def test_native_unavailable_falls_back_to_dspy_with_the_reason(routed):
    registered = dspex.register("only_dspy", dspy=lambda *a, **k: (lambda **kw: "dspy answer"))
    dspex.configure(module_overrides={"only_dspy": "native"})
    assert registered()(question="x") == "dspy answer"
    impl, reason = last(routed)
    assert impl == "dspy"
    assert reason == ("module_overrides['only_dspy']='native' (dspex.configure()); native unavailable "
                      "(no native implementation registered) -> dspy")


def test_native_unavailable_without_fallback_is_a_clear_error(routed):
    registered = dspex.register("only_dspy2", dspy=lambda *a, **k: (lambda **kw: "dspy answer"))
    dspex.configure(module_overrides={"only_dspy2": "native"}, allow_fallback=False)
    with pytest.raises(NativeUnavailableError, match=r"dspex.only_dspy2 was routed to native by module_overrides"):
        registered()(question="x")


def test_unsupported_signature_type_makes_native_unavailable(routed, monkeypatch):
    import dspex.signature as signature_pkg

    monkeypatch.setattr(signature_pkg, "unsupported_fields", lambda sig: {"answer": "type not supported natively"},
                        raising=False)
    p = dspex.Predict("question -> answer")
    assert p(question="u").answer == "A:u"
    impl, reason = last(routed)
    assert impl == "dspy"
    assert "native unavailable (unsupported field types: field `answer`: type not supported natively)" in reason


def test_preference_native_first_with_native_unavailable_goes_dspy_quietly(lm, events):
    dspex.configure(lm=lm, implementation_preference="native_first", allow_fallback=False)
    seen = events("dspex.router.route")
    registered = dspex.register("only_dspy3", dspy=lambda *a, **k: (lambda **kw: "ok"))
    assert registered()() == "ok"
    assert last(seen)[0] == "dspy"


class Boom(Exception):
    pass


def _boom_native(*args, **kwargs):
    def call(**kw):
        raise Boom("native broke")
    return call


def test_native_raising_falls_back_to_dspy_and_emits_fallback(routed, events):
    fallbacks = events("dspex.router.fallback")
    Mod = dspex.register("fragile", native=_boom_native, dspy=lambda *a, **k: (lambda **kw: f"dspy:{kw['q']}"))
    dspex.configure(module_overrides={"fragile": "native"})
    assert Mod()(q="z") == "dspy:z"
    assert fallbacks[0][2]["error_type"] == "Boom" and fallbacks[0][2]["module_type"] == "fragile"
    impl, reason = last(routed)
    assert impl == "dspy" and reason.endswith("native raised Boom -> dspy fallback")


def test_no_fallback_when_disallowed_or_forced(routed):
    Mod = dspex.register("fragile2", native=_boom_native, dspy=lambda *a, **k: (lambda **kw: "dspy"))
    dspex.configure(module_overrides={"fragile2": "native"}, allow_fallback=False)
    with pytest.raises(Boom):
        Mod()(q="z")
    dspex.configure(allow_fallback=True)
    with pytest.raises(Boom):
        Mod(implementation="native")(q="z")


def test_fallback_with_the_real_native_module(flagfile, events):
    """Native ChainOfThought gets two unparsable answers (chat, then its JSON retry) and raises
    AdapterParseError; DSPy then answers from the same LM, which has started to answer properly."""
    from routing_helpers import EchoLM

    class GarbageTwice(EchoLM):
        seen = 0

        def __call__(self, prompt=None, messages=None, **kwargs):
            self.seen += 1
            if self.seen <= 2:
                return ["no headers at all"]
            return super().__call__(prompt, messages, **kwargs)

    lm = GarbageTwice()
    flagfile.write({"dspex.chain_of_thought": flag("native")})
    dspex.configure(lm=lm, flags=str(flagfile))
    fallbacks = events("dspex.router.fallback")
    assert dspex.ChainOfThought("question -> answer")(question="f").answer == "A:f"
    assert fallbacks[0][2]["error_type"] == "AdapterParseError"
    assert lm.seen == 3      # native: chat + its JSON retry; DSPy: one call


def test_adaptive_circuit_opens_after_consecutive_native_failures(lm, events):
    state = {"fail": True}

    def native(*a, **k):
        def call(**kw):
            if state["fail"]:
                raise Boom("x")
            return "native"
        return call

    Mod = dspex.register("flaky", native=native, dspy=lambda *a, **k: (lambda **kw: "dspy"))
    dspex.configure(lm=lm, module_overrides={"flaky": "native"},
                    adaptive={"enabled": True, "failure_threshold": 3, "reset_after_s": 0.2})
    seen = events("dspex.router.route")
    circuit = events("dspex.router.circuit")
    m = Mod()
    for _ in range(3):
        assert m() == "dspy"                          # native raised, DSPy answered
    assert circuit[-1][2]["state"] == "open"
    assert m() == "dspy"
    assert last(seen)[1].endswith("adaptive circuit open (consecutive_failures: 3 native failures in a row >= 3) -> dspy")
    state["fail"] = False
    import time

    time.sleep(0.25)
    assert m() == "native"                            # half-open trial succeeds, circuit closes
    assert circuit[-1][2]["state"] == "closed"
    assert m() == "native"
    assert dspex.router.metrics()["flaky"]["native_failures"] == 3


def test_async_native_raising_falls_back_and_async_shadow_uses_arun_shadow(flagfile, lm, events, monkeypatch):
    import asyncio

    import dspex.shadow as shadow

    class AsyncBoom:
        async def acall(self, **kw):
            raise Boom("async native broke")

    fallbacks = events("dspex.router.fallback")
    flagfile.write({"dspex.predict": flag("shadow")})
    dspex.configure(lm=lm, flags=str(flagfile), module_overrides={"afragile": "native"})

    class DSPyish:
        async def acall(self, **kw):
            return f"dspy:{kw['q']}"

    Mod = dspex.register("afragile", native=AsyncBoom, dspy=DSPyish)
    assert asyncio.run(Mod().acall(q="v")) == "dspy:v"
    assert fallbacks[-1][2]["error_type"] == "Boom"

    handed = []

    async def fake_arun(call):
        handed.append(call)
        return await call.acontrol(call.lm)

    monkeypatch.setattr(shadow, "arun_shadow", fake_arun)
    pred = asyncio.run(dspex.Predict("question -> answer").acall(question="s"))
    assert pred.answer == "A:s" and handed[0].reason == "flag dspex.predict variant 'shadow' (STATIC)"
    assert asyncio.run(handed[0].acandidate(lm)).answer == "A:s"
