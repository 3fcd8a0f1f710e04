"""save/load, copies and load_state of programs holding dspex modules, against the same program on DSPy."""

from __future__ import annotations

import copy
import json
import logging
import pickle
from pathlib import Path
from typing import Any

import cloudpickle
import dspy
import pytest

import dspex
from program_support import FieldLM, KINDS, build, demos_of, instructions_of, trainset


def _compiled(kind: str, ns: Any) -> Any:
    program = build(kind, ns)
    compiled = dspy.LabeledFewShot(k=2).compile(program, trainset=trainset(kind))
    for _, p in compiled.named_predictors():
        p.signature = p.signature.with_instructions(f"Tuned for {kind}.")
    return compiled


@pytest.mark.parametrize("kind", KINDS)
def test_saved_json_and_pickle_match_dspy_and_load_both_ways(kind: str, route: str, tmp_path: Path) -> None:
    p, q = _compiled(kind, dspy), _compiled(kind, dspex)
    p.save(str(tmp_path / "p.json")), q.save(str(tmp_path / "q.json"))
    pj, qj = json.loads((tmp_path / "p.json").read_text()), json.loads((tmp_path / "q.json").read_text())
    pj.pop("metadata"), qj.pop("metadata")
    assert qj == pj
    p.save(str(tmp_path / "p.pkl")), q.save(str(tmp_path / "q.pkl"))
    pp, qp = cloudpickle.loads((tmp_path / "p.pkl").read_bytes()), cloudpickle.loads((tmp_path / "q.pkl").read_bytes())
    pp.pop("metadata"), qp.pop("metadata")
    assert qp.keys() == pp.keys()
    for name in pp:
        assert qp[name]["demos"] == pp[name]["demos"] and qp[name]["signature"] == pp[name]["signature"]
    for source in ("p.json", "q.json", "p.pkl", "q.pkl"):
        for ns in (dspy, dspex):
            fresh = build(kind, ns)
            fresh.load(str(tmp_path / source), allow_pickle=True)
            assert demos_of(fresh) == demos_of(p) and instructions_of(fresh) == instructions_of(p)
            assert fresh(**trainset(kind)[0].inputs()).toDict() == p(**trainset(kind)[0].inputs()).toDict()


@pytest.mark.parametrize("kind", KINDS)
def test_load_state_is_all_or_nothing_like_dspy(kind: str, route: str) -> None:
    state = _compiled(kind, dspy).dump_state()
    broken = dict(state)
    broken.pop(sorted(broken)[-1])             # one predictor's state is missing
    for ns in (dspy, dspex):
        program = build(kind, ns)
        before = (demos_of(program), instructions_of(program))
        with pytest.raises(KeyError):
            program.load_state(broken)
        assert (demos_of(program), instructions_of(program)) == before


def test_a_saved_custom_lm_class_is_refused_unless_trusted_as_dspy_does(route: str) -> None:
    program_p, program_q = build("classifier", dspy), build("classifier", dspex)
    for program in (program_p, program_q):
        program.set_lm(FieldLM())
    state = program_p.dump_state()
    assert state["classify"]["lm"]["_dspy_lm_class"] == "program_support.FieldLM"
    assert program_q.dump_state() == state
    errors = []
    for ns in (dspy, dspex):
        fresh = build("classifier", ns)
        with pytest.raises(ValueError, match="Refusing to import custom serialized LM class") as info:
            fresh.load_state(state)
        errors.append(str(info.value))
        assert fresh.classify.lm is None
    assert errors[0] == errors[1]


def test_saved_dspy_lm_comes_back_as_dspy_lm(route: str, tmp_path: Path) -> None:
    lm = dspy.LM("openai/gpt-4o-mini", api_base="http://127.0.0.1:9/v1", api_key="k", temperature=0.3)
    p, q = build("rag", dspy), build("rag", dspex)
    p.set_lm(lm), q.set_lm(lm)
    assert q.dump_state() == p.dump_state()
    fresh = build("rag", dspex)
    fresh.load_state(q.dump_state())
    assert isinstance(fresh.generate.predict.lm, dspy.LM)
    assert fresh.generate.predict.lm.kwargs["temperature"] == 0.3
    assert "api_base" not in fresh.generate.predict.lm.kwargs   # an untrusted state never redirects the LM


@pytest.mark.parametrize("kind", KINDS)
def test_copies_are_independent_and_reset_copy_clears_demos(kind: str, route: str, caplog: Any) -> None:
    q = _compiled(kind, dspex)
    with caplog.at_level(logging.WARNING):
        deep, dc, reset = q.deepcopy(), copy.deepcopy(q), q.reset_copy()
    assert "Failed to deep copy" not in caplog.text
    for clone in (deep, dc):
        assert type(clone) is type(q) and demos_of(clone) == demos_of(q)
        for (_, a), (_, b) in zip(clone.named_predictors(), q.named_predictors()):
            assert a is not b and a.demos is not b.demos
            a.demos.append(dspy.Example(x=1))
            assert len(a.demos) == len(b.demos) + 1
        for name, module in vars(clone).items():
            if isinstance(module, dspex.router.RoutedModule):
                assert module._dspex is not getattr(q, name)._dspex and module._dspex._engine is None
    assert all(p.demos == [] for _, p in reset.named_predictors())
    assert demos_of(q) != {n: [] for n, _ in q.named_predictors()}
    # each copy runs, on its own state
    inputs = trainset(kind)[0].inputs()
    assert reset(**inputs).toDict() == build(kind, dspy)(**inputs).toDict()


def test_a_routed_module_alone_copies_pickles_and_batches_like_dspy_predict(route: str, caplog: Any) -> None:
    q = dspex.Predict("question -> answer")
    q.demos = [dspy.Example(question="a", answer="b")]
    for clone in (copy.deepcopy(q), q.deepcopy(), cloudpickle.loads(cloudpickle.dumps(q))):
        assert isinstance(clone, dspex.Predict) and isinstance(clone, dspy.Predict) and clone.demos == q.demos
        assert clone(question="hi").toDict() == dspy.Predict("question -> answer", )(question="hi", demos=q.demos).toDict()
    with pytest.raises(pickle.PicklingError):    # as dspy.Predict: its signature class is built at run time
        pickle.dumps(q)
    examples = [dspy.Example(question=f"q{i}").with_inputs("question") for i in range(6)]
    with caplog.at_level(logging.WARNING):
        got = q.batch(examples, num_threads=3, disable_progress_bar=True)
    assert "Failed to deep copy" not in caplog.text
    want = dspy.Predict("question -> answer")
    want.demos = q.demos
    assert [g.toDict() for g in got] == [want(**e.inputs()).toDict() for e in examples]


def test_a_native_constructor_that_raises_never_reaches_the_caller_in_shadow(tmp_path: Path, events: Any) -> None:
    """The candidate's construction is not the caller's business: DSPy answers, with the reason; built once."""
    from program_support import RAGBody, route_to

    built = []

    class Broken:
        def __init__(self) -> None:
            built.append(1)
            raise RuntimeError("native constructor broke")

    Routed = dspex.register("broken_body", native=Broken, dspy=RAGBody)
    route_to("shadow", tmp_path)
    dspex.configure(module_overrides={"broken_body": "shadow"})
    seen = events("dspex.router.route")
    module = Routed()
    for _ in range(3):
        assert module(question="Capital of France?").toDict() == RAGBody()(question="Capital of France?").toDict()
    assert [md["implementation"] for _, _, md in seen] == ["dspy"] * 3
    assert "building the native module raised RuntimeError: native constructor broke" in seen[-1][2]["reason"]
    assert built == [1]


@pytest.mark.parametrize("kind", KINDS)
def test_whole_program_save_and_dspy_load(kind: str, route: str, tmp_path: Path) -> None:
    """save(save_program=True) pickles the whole program (cloudpickle); dspy.load brings back routed modules."""
    q = _compiled(kind, dspex)
    q.save(str(tmp_path / "prog"), save_program=True)
    loaded = dspy.load(str(tmp_path / "prog"), allow_pickle=True)
    inputs = trainset(kind)[0].inputs()
    assert demos_of(loaded) == demos_of(q) and instructions_of(loaded) == instructions_of(q)
    assert loaded(**inputs).toDict() == q(**inputs).toDict() == _compiled(kind, dspy)(**inputs).toDict()
    assert all(isinstance(m, dspex.router.RoutedModule) for m in vars(loaded).values() if isinstance(m, dspy.Module))
