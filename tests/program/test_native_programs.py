"""Programs written against ``dspex.native`` alone have DSPy's program API, and their states move to and from DSPy.

The same tutorial programs, built with ``dspex.native`` modules (``dn.Module`` subclasses), load what the DSPy
program saved and save what it loads; copies, reset, load_state and batch behave as DSPy's do; and all of it works
in a process where DSPy cannot be imported at all.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import dspy
import pytest

import dspex.native as dn
from program_support import BUILTIN_KINDS as KINDS, FieldLM, build, demos_of, instructions_of, trainset


def native_program(kind: str) -> Any:
    """``build(kind, dn)``, with the program class a dn.Module (the user's code, DSPy-free)."""
    source = build.__code__  # noqa: F841 - the same shapes as program_support.build, written against dn
    if kind == "classifier":
        from program_support import Classify

        class Classifier(dn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.classify = dn.Predict(Classify)

            def forward(self, sentence: str) -> Any:
                return self.classify(sentence=sentence)

        return Classifier()
    from program_support import retrieve

    if kind == "rag":
        class RAG(dn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.generate = dn.ChainOfThought("context: list[str], question -> answer")

            def forward(self, question: str) -> Any:
                return self.generate(context=retrieve(question), question=question)

        return RAG()
    if kind == "two_hop":
        class TwoHop(dn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.hop = dn.ChainOfThought("question -> query")
                self.answer = dn.Predict("context: list[str], question -> answer")

            def forward(self, question: str) -> Any:
                query = self.hop(question=question).query
                return self.answer(context=retrieve(query), question=question)

        return TwoHop()

    from program_support import Person  # noqa: F401 - named in the signature string

    class Extractor(dn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.extract = dn.Predict("text -> person: Person")

        def forward(self, text: str) -> Any:
            return self.extract(text=text)

    return Extractor()


@pytest.mark.parametrize("kind", KINDS)
def test_native_program_api_names_match_dspy(kind: str) -> None:
    p, n = build(kind, dspy), native_program(kind)
    assert [x for x, _ in n.named_predictors()] == [x for x, _ in p.named_predictors()]
    assert [x for x, _ in n.named_parameters()] == [x for x, _ in p.named_parameters()]
    assert [x for x, _ in n.named_sub_modules()] == [x for x, _ in p.named_sub_modules()]


@pytest.mark.parametrize("kind", KINDS)
def test_states_move_between_dspy_and_native_programs(kind: str, tmp_path: Path) -> None:
    p = dspy.LabeledFewShot(k=3).compile(build(kind, dspy), trainset=trainset(kind))
    for _, pred in p.named_predictors():
        pred.signature = pred.signature.with_instructions("Be brief.")
    p.save(str(tmp_path / "p.json"))
    n = native_program(kind)
    n.load(str(tmp_path / "p.json"))
    assert demos_of(n) == demos_of(p) and instructions_of(n) == instructions_of(p)
    p_lm, n_lm = FieldLM(), FieldLM()
    inputs = trainset(kind)[0].inputs()
    with dspy.context(lm=p_lm):
        want = p(**inputs)
    with dn.settings.context(lm=n_lm):
        got = n(**inputs)
    assert n_lm.calls == p_lm.calls and got.toDict() == want.toDict()
    n.save(str(tmp_path / "n.json"))
    state_n, state_p = json.loads((tmp_path / "n.json").read_text()), json.loads((tmp_path / "p.json").read_text())
    assert set(state_n.pop("metadata")["dependency_versions"]) <= set(state_p.pop("metadata")["dependency_versions"])
    for name in state_p:
        assert state_n[name]["demos"] == state_p[name]["demos"]
        assert state_n[name]["signature"] == state_p[name]["signature"]
    fresh = build(kind, dspy)
    fresh.load(str(tmp_path / "n.json"))
    assert demos_of(fresh) == demos_of(p) and instructions_of(fresh) == instructions_of(p)


def test_native_load_state_is_all_or_nothing_and_copies_are_independent() -> None:
    n = native_program("two_hop")
    n.hop.predict.demos = [{"question": "a", "reasoning": "r", "query": "q"}]
    state = n.dump_state()
    broken = {"hop.predict": state["hop.predict"]}         # "answer" missing
    fresh = native_program("two_hop")
    with pytest.raises(KeyError):
        fresh.load_state(broken)
    assert fresh.hop.predict.demos == []
    deep, reset = n.deepcopy(), n.reset_copy()
    assert deep.hop.predict.demos == n.hop.predict.demos and deep.hop.predict is not n.hop.predict
    deep.hop.predict.demos.append({"question": "b"})
    assert len(n.hop.predict.demos) == 1 and reset.hop.predict.demos == []
    seen = []
    n.map_named_predictors(lambda p: seen.append(p) or p)
    assert seen == [n.hop.predict, n.answer]


def test_a_native_program_works_where_dspy_cannot_be_imported(tmp_path: Path) -> None:
    script = textwrap.dedent(f"""
        import json, sys
        sys.modules["dspy"] = None          # any import of dspy now fails
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        import dspex.native as dn

        class QA(dn.Module):
            def __init__(self):
                super().__init__()
                self.cot = dn.ChainOfThought("question -> answer")
                self.tools = [dn.Predict("text -> summary")]
            def forward(self, question):
                return self.cot(question=question)

        def lm(messages, **kw):
            return ["[[ ## reasoning ## ]]\\nr\\n\\n[[ ## answer ## ]]\\nParis\\n\\n[[ ## completed ## ]]"]

        qa = QA()
        qa.set_lm(lm)
        qa.cot.predict.demos = [{{"question": "q", "reasoning": "r", "answer": "a"}}]
        qa.save({str(tmp_path / "qa.json")!r})
        other = QA()
        other.load({str(tmp_path / "qa.json")!r})
        assert other.cot.predict.demos == qa.cot.predict.demos
        assert [n for n, _ in qa.named_predictors()] == ["cot.predict", "tools[0]"]
        rows = [dn.Prediction(question=f"q{{i}}").with_inputs("question") for i in range(4)]   # DSPy's batch: .inputs()
        out = qa.batch(rows, num_threads=2)
        assert [r.answer for r in out] == ["Paris"] * 4
        assert qa.reset_copy().cot.predict.demos == [] and qa.deepcopy().cot.predict.demos == qa.cot.predict.demos
        print("ok", "dspy" in sys.modules and sys.modules["dspy"] is not None)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok False"
