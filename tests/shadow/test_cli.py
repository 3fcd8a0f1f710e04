"""report / replay / promote on a log made here, and a promoted case that fails check_case until native is fixed."""

from __future__ import annotations

import json
import subprocess
import sys
import types

import dspy
import pytest

import dspex.shadow as shadow
from dspex.shadow import promote as promote_cmd
from dspex.shadow import replay as replay_cmd
from dspex.shadow import report as report_cmd
from dspex.shadow._analysis import wilson
from dspex.shadow.corpus import check_case, load_cases
from shadow_support import ScriptedLM


class TestNative:
    """A stand-in native Predict: formats like DSPy; the buggy build appends '!' to answers for questions ending in 3."""

    __test__ = False

    def __init__(self, case, buggy):
        spec = case["signature"]
        self.module = dspy.Predict(dspy.Signature(spec["string"], spec["instructions"]))
        self.buggy = buggy

    def __call__(self, lm, **inputs):
        pred = self.module(lm=lm, **inputs)
        if self.buggy and inputs["question"].endswith("3"):
            return dspy.Prediction(answer=pred.answer + "!")
        return pred


def buggy(module_type, signature, case):
    return TestNative(case, buggy=True)


def fixed(module_type, signature, case):
    return TestNative(case, buggy=False)


@pytest.fixture
def shadow_log(log_path):
    lm = ScriptedLM()
    control = dspy.Predict("question -> answer")
    case = {"signature": {"string": "question -> answer", "instructions": control.signature.instructions}}
    candidate = TestNative(case, buggy=True)
    for i in range(20):
        call = shadow.ShadowCall("predict", "qa", {"question": f"q{i}"}, lm,
                                 lambda l, i=i: control(question=f"q{i}", lm=l),
                                 lambda l, i=i: candidate(lm=l, question=f"q{i}"), signature=control.signature)
        shadow.run_shadow(call)
    assert shadow.shutdown(timeout=10)
    return log_path


def test_report_json(shadow_log, capsys):
    assert report_cmd.main([str(shadow_log), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    module = report["modules"]["predict:qa"]
    assert (module["comparisons"], module["divergent"]) == (20, 2)
    assert module["rate"] == 0.1
    assert module["ci95"] == pytest.approx(list(wilson(2, 20)))
    assert 0.02 < module["ci95"][0] < 0.1 < module["ci95"][1] < 0.35
    assert module["fields"]["answer"]["count"] == 2
    assert module["verdict"] == "not ready" and "need at least 200" in module["verdict_reason"]
    assert module["latency_ms"]["control"]["median"] is not None
    assert {ex["inputs"]["question"] for ex in module["examples"]} == {"q3", "q13"}
    assert report_cmd.main([str(shadow_log), "--json", "--min-comparisons", "10", "--threshold", "0.5"]) == 0
    assert json.loads(capsys.readouterr().out)["modules"]["predict:qa"]["verdict"] == "ready for canary"
    assert report_cmd.main([str(shadow_log), "--fail-unready"]) == 1       # rich table path, not ready
    assert "predict:qa" in capsys.readouterr().out


def test_wilson_interval_known_values():
    low, high = wilson(0, 200)
    assert low == pytest.approx(0.0, abs=1e-12) and high == pytest.approx(0.01884, abs=1e-4)
    low, high = wilson(10, 100)
    assert (low, high) == (pytest.approx(0.05523, abs=1e-4), pytest.approx(0.17437, abs=1e-4))


def test_promote_then_check_case_fails_until_native_is_fixed(shadow_log, tmp_path, capsys):
    corpus = tmp_path / "corpus"
    assert promote_cmd.main([str(shadow_log), "--to", str(corpus)]) == 0
    assert "promoted 2 case(s)" in capsys.readouterr().out
    assert promote_cmd.main([str(shadow_log), "--to", str(corpus)]) == 0
    second = capsys.readouterr().out
    assert "promoted 0 case(s)" in second and "(2 already there" in second
    cases = load_cases(corpus)
    assert len(cases) == 2 and (corpus / "predict.jsonl").exists()
    case = cases[0]
    assert case["module_type"] == "predict" and case["signature"]["string"] == "question: str -> answer: str"
    assert case["dspy_output"] == {"answer": f"echo {case['inputs']['question']}"}
    assert len(case["transcript"]) == 1 and case["transcript"][0]["messages"][0]["role"] == "system"
    for case in cases:
        problems = check_case(case, buggy)
        assert len(problems) == 1 and problems[0].startswith("field 'answer': DSPy 'echo q")
        assert check_case(case, fixed) == []


def test_check_case_reports_prompt_differences(shadow_log, tmp_path):
    promote_cmd.promote([shadow_log], tmp_path / "c")
    case = load_cases(tmp_path / "c")[0]

    def reworded(module_type, signature, c):
        module = dspy.Predict(dspy.Signature("question -> answer", "Say it differently."))
        return lambda lm, **inputs: module(lm=lm, **inputs)

    problems = check_case(case, reworded)
    assert problems and problems[0].startswith("LM call 1 differs from DSPy's:")
    assert "+        Say it differently." in problems[0]


def test_replay_command_says_which_divergences_are_fixed(shadow_log, monkeypatch, capsys):
    factories = types.ModuleType("shadow_test_factories")
    factories.buggy, factories.fixed = buggy, fixed
    monkeypatch.setitem(sys.modules, "shadow_test_factories", factories)
    assert replay_cmd.main([str(shadow_log), "--factory", "shadow_test_factories:buggy"]) == 1
    assert "0 of 2 logged divergence(s) fixed" in capsys.readouterr().out
    assert replay_cmd.main([str(shadow_log), "--factory", "shadow_test_factories:fixed", "--json"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert [r["status"] for r in results] == ["fixed", "fixed"]
    assert replay_cmd.main([str(shadow_log) + ".missing"]) == 2


def test_module_entry_point(shadow_log):
    out = subprocess.run([sys.executable, "-m", "dspex.shadow", "report", str(shadow_log), "--json"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["modules"]["predict:qa"]["divergent"] == 2
    bad = subprocess.run([sys.executable, "-m", "dspex.shadow", "frobnicate"], capture_output=True, text=True,
                         timeout=120)
    assert bad.returncode == 2 and "unknown command" in bad.stderr


@pytest.mark.parametrize("command", [report_cmd, replay_cmd, promote_cmd], ids=["report", "replay", "promote"])
def test_a_missing_log_path_is_named_and_exits_2(command, tmp_path, capsys):
    gone = tmp_path / "no-such-log.jsonl"
    assert command.main([str(gone)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no such log file or folder:") and str(gone) in err
