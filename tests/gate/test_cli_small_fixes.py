"""Small CLI contracts: the gate's advice for an unproven module works when followed (it used to suggest
`dspex parity --module M --report REPORT`, which rewrote a full report with one module, so the next check refused
the others); `--module` with a report of other modules warns; `demo --calls` below 1 is a usage error."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from dspex.cli import main
from dspex.gate import ModuleResult, ParityReport, dspy_version


def _full_report(path: Path, predict: str) -> Path:
    ParityReport(dspy_version(), "0.1.0", 1, 30, "2026-01-01T00:00:00+00:00",
                 modules={"predict": ModuleResult("predict", predict, examples_run=30),
                          "chain_of_thought": ModuleResult("chain_of_thought", "proven", examples_run=30)}).write(path)
    return path


def test_following_the_gates_advice_for_an_unproven_module_passes_the_gate(flags_copy, tmp_path, capsys,
                                                                            monkeypatch):
    monkeypatch.chdir(tmp_path)
    dev = str(flags_copy / "dev.flagd.json")            # native for predict and chain_of_thought
    full = _full_report(tmp_path / "parity.json", predict="failed")
    assert main(["flags", "check", dev, "--parity", str(full)]) == 1
    err = capsys.readouterr().err
    advice = re.search(r"Run `(dspex parity [^`]+)` and add `--parity ([^`]+)`", err)
    assert advice and "--report REPORT" not in err, err
    command = shlex.split(advice.group(1))[1:] + ["--examples", "3", "--seed", "1"]
    assert main(command) == 0
    capsys.readouterr()
    assert main(["flags", "check", dev, "--parity", str(full), "--parity", advice.group(2)]) == 0, capsys.readouterr()
    assert set(ParityReport.read(full).modules) == {"predict", "chain_of_thought"}   # the full report is intact


def test_a_one_module_run_over_a_fuller_report_warns(tmp_path, capsys):
    full = _full_report(tmp_path / "parity.json", predict="proven")
    assert main(["parity", "--module", "predict", "--examples", "2", "--seed", "1", "--report", str(full)]) == 0
    err = capsys.readouterr().err
    assert "warning: --report" in err and "['chain_of_thought']" in err


@pytest.mark.parametrize("calls", ["-1", "0"])
def test_demo_refuses_fewer_than_one_call(calls, capsys):
    assert main(["demo", "--calls", calls]) == 2
    assert "--calls" in capsys.readouterr().err
