"""`dspex flags check`: the repository's flag files pass; each kind of bad flag is rejected, naming file and flag."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import pytest

from dspex.cli import main
from dspex.gate import ModuleResult, ParityReport, check_file, dspy_version

ROOT = Path(__file__).resolve().parents[2]


def test_repository_flag_files_pass(capsys):
    files = sorted(str(p) for p in (ROOT / "flags").glob("*.flagd.json"))
    assert len(files) == 3
    assert main(["flags", "check", *files]) == 0
    assert capsys.readouterr().out.count("ok: ") == 3


def _edit(flags_copy: Path, change: Callable[[dict[str, Any]], None], name: str = "production.flagd.json") -> Path:
    path = flags_copy / name
    data = json.loads(path.read_text())
    change(data["flags"])
    path.write_text(json.dumps(data, indent=2))
    return path


def _set(key: str, **fields: Any) -> Callable[[dict[str, Any]], None]:
    return lambda flags: flags[key].update(fields)


BAD = {
    "unknown key inside a flag": (_set("dspex.react", notes="hi"), "dspex.react", "metadata"),
    "unknown variant": (lambda f: f["dspex.predict"]["variants"].update(canary="native"), "dspex.predict", "unknown variant 'canary'"),
    "variant value differs from name": (lambda f: f["dspex.predict"]["variants"].update(dspy="native"), "dspex.predict", "set it to 'dspy'"),
    "native for program_of_thought": (_set("dspex.program_of_thought", defaultVariant="native"), "dspex.program_of_thought", "DSPy-only"),
    "shadow for a DSPy-only module": (_set("dspex.program_of_thought", targeting={"if": [{"==": [{"var": "tenant"}, "acme"]}, "shadow", "dspy"]}), "dspex.program_of_thought", "'shadow' is reachable"),
    "unknown module type": (lambda f: f.update({"dspex.never_registered": dict(f["dspex.predict"])}), "dspex.never_registered", "unknown module type 'never_registered'"),
    "targeting names a missing variant": (_set("dspex.predict", targeting={"fractional": [["nativ", 10], ["dspy", 90]]}), "dspex.predict", "targeting returns 'nativ'"),
    "weights do not add up": (_set("dspex.predict", targeting={"fractional": [["native", 10], ["dspy", 80]]}), "dspex.predict", "add up to 90"),
    "float weight": (_set("dspex.predict", targeting={"fractional": [["native", 10.5], ["dspy", 89.5]]}), "dspex.predict", "integer weight"),
    "default not a variant": (_set("dspex.chain_of_thought", defaultVariant="fast"), "dspex.chain_of_thought", "defaultVariant 'fast'"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_flags_are_rejected_naming_the_flag(name, flags_copy, capsys):
    change, key, expected = BAD[name]
    path = _edit(flags_copy, change)
    assert main(["flags", "check", str(path)]) == 1
    err = capsys.readouterr().err
    line = next(line for line in err.splitlines() if expected in line)
    assert str(path) in line and f"flag {key!r}" in line, err


def _report(tmp_path: Path, dspy: str | None, **statuses: str) -> Path:
    report = ParityReport(dspy, "0.1.0", 1, 30, "2026-11-25T00:00:00+00:00",
                          modules={m: ModuleResult(m, s, examples_run=30) for m, s in statuses.items()})
    path = tmp_path / f"report-{dspy}.json"
    report.write(path)
    return path


def test_native_for_an_unproven_module_is_rejected_with_a_report(tmp_path, flags_copy, capsys):
    dev = str(flags_copy / "dev.flagd.json")   # native for predict and chain_of_thought
    proven = _report(tmp_path, dspy_version(), predict="proven", chain_of_thought="proven")
    assert main(["flags", "check", dev, "--parity", str(proven)]) == 0
    capsys.readouterr()
    failed = _report(tmp_path, dspy_version(), predict="proven", chain_of_thought="failed")
    assert main(["flags", "check", dev, "--parity", str(failed)]) == 1
    err = capsys.readouterr().err
    assert "flag 'dspex.chain_of_thought'" in err and "FAILED" in err and "dspex.predict" not in err


def test_a_proof_on_another_dspy_version_does_not_count(tmp_path, flags_copy, capsys):
    dev = str(flags_copy / "dev.flagd.json")
    old = _report(tmp_path, "3.3.0", predict="proven", chain_of_thought="proven")
    assert main(["flags", "check", dev, "--parity", str(old)]) == 1
    err = capsys.readouterr().err
    assert "flag 'dspex.predict'" in err and "unproven on installed dspy 3.4.1" in err and "3.3.0" in err


def test_shadow_and_dspy_need_no_proof(tmp_path, flags_copy):
    staging = flags_copy / "staging.flagd.json"   # shadow everywhere native exists
    assert check_file(staging, [ParityReport.read(_report(tmp_path, "3.3.0"))]) == []


def test_malformed_json_is_rejected(flags_copy, capsys):
    path = flags_copy / "dev.flagd.json"
    path.write_text(path.read_text()[:-5])
    assert main(["flags", "check", str(path)]) == 1
    assert str(path) in capsys.readouterr().err
