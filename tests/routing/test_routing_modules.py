"""The registry, the routed classes (construction, lazy sides, signatures), user modules, async, shadow hand-off."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import dspy
import pydantic
import pytest

import dspex
from dspex import registry
from dspex.dspy_backend import to_dspy_signature
from dspex.errors import ConfigError, DSPyNotInstalledError
from routing_helpers import flag


# --- registry ---------------------------------------------------------------------------------------------------
def test_registry_lists_builtins_and_says_which_are_dspy_only():
    assert set(registry.module_types()) >= {"predict", "chain_of_thought", "react", "multi_chain_comparison",
                                           "best_of_n", "refine", "program_of_thought"}
    assert registry.implementations("predict")["native"] == "available"
    assert registry.implementations("chain_of_thought")["native"] == "available"
    pot = registry.implementations("program_of_thought")
    assert "DSPy-only by design" in pot["native"] and pot["dspy"].startswith("available")
    assert registry.lookup("predict").flag_key == "dspex.predict"


def test_registry_unknown_type_and_bad_registrations():
    with pytest.raises(ConfigError, match="Unknown module type 'nope'"):
        registry.lookup("nope")
    with pytest.raises(ConfigError, match="built-in"):
        dspex.register("predict", native=object)
    with pytest.raises(ConfigError, match="lower_snake_case"):
        dspex.register("My RAG", native=object)
    with pytest.raises(ConfigError, match="at least one"):
        dspex.register("empty_one")


def test_dspy_adapter_reports_missing_dspy(monkeypatch):
    from dspex.dspy_backend import DSPyBackend

    monkeypatch.setitem(sys.modules, "dspy", None)    # import dspy -> ImportError
    with pytest.raises(DSPyNotInstalledError, match=r"dspex\[dspy\]"):
        DSPyBackend(registry.lookup("predict")).create("question -> answer")


# --- routed classes ---------------------------------------------------------------------------------------------
def test_a_routed_module_is_dspy_s_module_and_builds_native_lazily_once(lm):
    dspex.configure(lm=lm, module_overrides={"predict": "native"})
    p = dspex.Predict("question -> answer")
    assert isinstance(p, dspy.Predict) and isinstance(p, dspex.Predict)   # DSPy is loaded: p *is* DSPy's module
    assert p._dspex._engine is None
    p(question="1"), p(question="2")
    engine = p._dspex._engine
    assert isinstance(engine.instance, dspex.native.Predict) and p._dspex.engine(p) is engine
    assert engine.instance._dspex_twin is p   # its trace entries and callbacks name the module DSPy knows


def test_constructor_args_reach_both_sides(lm):
    cot = dspex.ChainOfThought("question -> answer", temperature=0.3, name="cot1")
    assert cot.predict.config == {"temperature": 0.3}
    assert cot._dspex.engine(cot).instance.predict.config == {"temperature": 0.3}
    assert cot._dspex.name == "cot1"
    assert repr(cot) == repr(dspy.ChainOfThought("question -> answer", temperature=0.3))   # DSPy's own repr


def test_malformed_signature_fails_at_construction_like_dspy():
    with pytest.raises(ValueError, match="exactly one '->'"):
        dspex.Predict("question answer")


def test_native_signature_class_is_converted_for_dspy(lm):
    class QA(dspex.Signature):
        """Answer briefly."""

        question: str = dspex.InputField(desc="the question")
        answer: str = dspex.OutputField()

    converted = to_dspy_signature(QA)
    assert issubclass(converted, dspy.Signature) and converted is to_dspy_signature(QA)
    assert converted.instructions == "Answer briefly."
    assert list(converted.input_fields) == ["question"] and list(converted.output_fields) == ["answer"]
    assert converted.input_fields["question"].json_schema_extra["desc"] == "the question"
    dspex.configure(lm=lm, module_overrides={"predict": "dspy"})
    p = dspex.Predict(QA)
    assert p(question="c").answer == "A:c"
    assert p.signature.instructions == "Answer briefly."


def test_converted_signature_matches_dspy_own_prompt():
    """The DSPy side of a native signature renders the same prompt as the user's dspy signature would."""
    from dspy.adapters import ChatAdapter

    class QA(dspex.Signature):
        """Answer briefly."""

        question: str = dspex.InputField(desc="the question")
        n: int = dspex.InputField(ge=1)
        answer: list[str] = dspex.OutputField()

    class DQA(dspy.Signature):
        """Answer briefly."""

        question: str = dspy.InputField(desc="the question")
        n: int = dspy.InputField(ge=1)
        answer: list[str] = dspy.OutputField()

    a = ChatAdapter().format(to_dspy_signature(QA), [], {"question": "q", "n": 2})
    b = ChatAdapter().format(DQA, [], {"question": "q", "n": 2})
    assert a == b


class Celsius(pydantic.BaseModel):
    degrees: float


def test_custom_types_in_a_string_signature_are_found_where_the_user_wrote_them(lm):
    class Local(pydantic.BaseModel):
        text: str

    p = dspex.Predict("question: Local, t: Celsius -> answer")
    assert p._dspex.sig.custom_types == {"Local": Local, "Celsius": Celsius}
    sig = p.signature
    assert sig.input_fields["question"].annotation is Local and sig.input_fields["t"].annotation is Celsius


def test_best_of_n_unwraps_a_routed_inner_module_for_dspy(lm):
    inner = dspex.ChainOfThought("question -> answer")
    best = dspex.BestOfN(inner, N=2, reward_fn=lambda args, pred: 1.0, threshold=1.0)
    assert isinstance(best, dspy.BestOfN) and best.module is inner and isinstance(inner, dspy.ChainOfThought)
    dspex.configure(lm=lm)
    assert best(question="b").answer == "A:b"


def test_dspy_only_builtin_routes_to_dspy_even_when_the_flag_says_native(flagfile, lm, events):
    flagfile.write({"dspex.program_of_thought": flag("native")})
    dspex.configure(lm=lm, flags=str(flagfile))
    seen = events("dspex.router.route")
    pot = dspex.ProgramOfThought("question -> answer")
    assert pot._dspex.static_status()[0] is False
    try:
        pot(question="q")          # DSPy runs it (and may fail on the echo LM's non-code answer or a missing Deno)
    except Exception:
        pass
    md = seen[-1][2]
    assert md["implementation"] == "dspy"
    assert md["reason"].startswith("flag dspex.program_of_thought variant 'native' (STATIC); native unavailable "
                                   "(DSPy-only by design")


# --- user-registered modules ------------------------------------------------------------------------------------
class MyRAGNative:
    def __init__(self, k: int = 2) -> None:
        self.k = k

    def __call__(self, question: str, lm=None):
        return f"native:{question}:{self.k}"

    async def acall(self, question: str, lm=None):
        return f"anative:{question}:{self.k}"


class MyRAG(dspy.Module):
    def __init__(self, k: int = 2) -> None:
        super().__init__()
        self.k = k
        self.answer = dspy.Predict("question -> answer")

    def forward(self, question: str):
        return self.answer(question=question)


def test_user_registered_module_routes_on_its_own_flag(flagfile, lm, events):
    RoutedRAG = dspex.register("my_rag", native=MyRAGNative, dspy=MyRAG)
    assert RoutedRAG.__name__ == "MyRag"
    flagfile.write({"dspex.my_rag": flag("native")})
    dspex.configure(lm=lm, flags=str(flagfile))
    seen = events("dspex.router.route")
    rag = RoutedRAG(k=3, name="docs")
    assert rag(question="w") == "native:w:3"
    assert seen[-1][2]["flag_key"] == "dspex.my_rag" and seen[-1][2]["module_name"] == "docs"
    flagfile.write({"dspex.my_rag": flag("dspy")})
    from routing_helpers import wait_for

    assert wait_for(lambda: getattr(rag(question="w"), "answer", None) == "A:w")
    assert rag.k == 3 and isinstance(rag, MyRAG)


# --- async ------------------------------------------------------------------------------------------------------
def test_acall_routes_both_sides(flagfile, lm, events):
    flagfile.write({"dspex.predict": flag("native"), "dspex.chain_of_thought": flag("dspy")})
    dspex.configure(lm=lm, flags=str(flagfile))
    seen = events("dspex.router.route")

    async def main():
        a = await dspex.Predict("question -> answer").acall(question="x")
        b = await dspex.ChainOfThought("question -> answer").acall(question="y")
        return a, b

    a, b = asyncio.run(main())
    assert (a.answer, b.answer) == ("A:x", "A:y")
    assert [(md["operation"], md["implementation"]) for _, _, md in seen] == [("acall", "native"), ("acall", "dspy")]


def test_request_context_holds_across_asyncio_tasks(flagfile, lm, events):
    rule = {"if": [{"==": [{"var": "tenant"}, "acme"]}, "native", "dspy"]}
    flagfile.write({"dspex.predict": flag("dspy", targeting=rule)})
    dspex.configure(lm=lm, flags=str(flagfile))
    p = dspex.Predict("question -> answer")

    async def one(tenant: str, i: int):
        with dspex.request(targeting_key=f"k{i}", tenant=tenant):
            await asyncio.sleep(0.001 * (i % 3))
            pred = await p.acall(question=f"{tenant}-{i}")
            return tenant, pred.answer

    async def main():
        return await asyncio.gather(*(one("acme" if i % 2 else "other", i) for i in range(20)))

    seen = events("dspex.router.route")
    results = asyncio.run(main())
    assert all(ans == f"A:{tenant}-{i}" for i, (tenant, ans) in enumerate(results))
    impls = sorted(md["implementation"] for _, _, md in seen)
    assert impls.count("native") == 10 and impls.count("dspy") == 10


def test_request_attributes_cannot_shadow_dspex_fields():
    with pytest.raises(ConfigError, match="module_type"):
        with dspex.request(module_type="x"):
            pass


# --- shadow hand-off --------------------------------------------------------------------------------------------
def test_shadow_decision_hands_a_shadow_call_to_the_runner(flagfile, lm, monkeypatch, events):
    import dspex.shadow as shadow

    got = []

    def fake_run(call):
        got.append(call)
        return call.control(call.lm)

    monkeypatch.setattr(shadow, "run_shadow", fake_run)
    flagfile.write({"dspex.predict": flag("shadow")})
    dspex.configure(lm=lm, flags=str(flagfile))
    with dspex.request(targeting_key="user-9", tenant="acme"):
        pred = dspex.Predict("question -> answer", name="p1")(question="s")
    assert pred.answer == "A:s"
    call = got[0]
    assert (call.module_type, call.module_name, dict(call.inputs)) == ("predict", "p1", {"question": "s"})
    assert call.targeting_key == "user-9" and call.attributes == {"tenant": "acme"}
    assert call.variant == "shadow" and call.flag_key == "dspex.predict" and call.lm is lm
    assert call.signature.signature == "question -> answer"
    assert call.candidate(lm).answer == "A:s"
    assert isinstance(call.control(lm), dspy.Prediction)


def test_shadow_end_to_end_with_the_real_runner(flagfile, lm, tmp_path):
    import dspex.shadow as shadow

    flagfile.write({"dspex.predict": flag("shadow")})
    dspex.configure(lm=lm, flags=str(flagfile), shadow={"log_path": str(tmp_path / "logs")})
    try:
        p = dspex.Predict("question -> answer")
        assert p(question="r").answer == "A:r"
        dspex.shutdown(timeout=5)
        assert lm.calls == 1          # replay: the candidate reused the control's transcript
    finally:
        shadow.reset()



def test_a_mutating_candidate_never_reaches_the_callers_inputs(flagfile, lm, tmp_path):
    """The candidate runs after the caller has its answer: it works on its own copy of the inputs."""
    import threading

    import dspex.shadow as shadow

    seen: list[list[str]] = []
    done = threading.Event()

    class Greedy:  # a native module with a bug: it appends to the caller's list
        def __call__(self, docs: list[str], lm=None):
            docs.append("leaked")
            seen.append(list(docs))
            done.set()
            return "n"

    class Plain:
        def __call__(self, docs: list[str]):
            return "d"

    Mod = dspex.register("greedy_rag", native=Greedy, dspy=Plain)
    flagfile.write({"dspex.greedy_rag": flag("shadow")})
    dspex.configure(lm=lm, flags=str(flagfile), shadow={"log_path": str(tmp_path / "logs")})
    try:
        docs = ["a", "b"]
        assert Mod()(docs=docs) == "d"
        assert done.wait(5)
        dspex.shutdown(timeout=5)
        assert seen == [["a", "b", "leaked"]]   # the candidate did run, and mutated its copy
        assert docs == ["a", "b"]               # the caller's list is untouched
    finally:
        shadow.reset()


# --- import lightness -------------------------------------------------------------------------------------------
def test_import_dspex_and_native_stay_light():
    code = (
        "import sys, dspex, dspex.native\n"
        "heavy = [m for m in ('openfeature', 'dspy', 'pydantic', 'dspex.router') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "p = dspex.Predict('question -> answer')\n"
        "assert 'dspy' not in sys.modules and 'openfeature' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
