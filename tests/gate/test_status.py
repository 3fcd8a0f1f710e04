"""`dspex status`: one row per module type; docs/migration/status.md is its current output; shadow verdicts."""

from __future__ import annotations

from pathlib import Path

from dspex import registry
from dspex.cli import main
from dspex.gate import ModuleResult, ParityReport, build_status, to_markdown

ROOT = Path(__file__).resolve().parents[2]

REGENERATE = "dspex status --markdown --parity docs/migration/parity-report.json > docs/migration/status.md"


def test_status_page_is_current(monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(registry, "_user", {})   # types other tests registered are not the repository's
    assert main(["status", "--markdown", "--parity", "docs/migration/parity-report.json"]) == 0
    current = capsys.readouterr().out
    assert (ROOT / "docs/migration/status.md").read_text() == current, f"status page is stale: run `{REGENERATE}`"


def test_status_rows(flags_copy):
    report = ParityReport("3.4.1", "0.1.0", 1, 30, "2026-11-25T10:00:00+00:00",
                          modules={"predict": ModuleResult("predict", "proven", examples_run=30)}, path="r.json")
    rows = {r.module_type: r for r in build_status(flags_copy, [report], installed_dspy="3.4.1").rows}
    assert rows["predict"].proven and rows["predict"].stages == {"dev": "native", "staging": "shadow",
                                                                 "production": "canary 10%"}
    assert not rows["chain_of_thought"].proven and "no parity record" in rows["chain_of_thought"].parity
    assert not rows["program_of_thought"].native and rows["program_of_thought"].parity == "n/a (DSPy-only)"
    moved = {r.module_type: r for r in build_status(flags_copy, [report], installed_dspy="3.5.0").rows}
    assert not moved["predict"].proven and "unproven on installed dspy 3.5.0" in moved["predict"].parity
    assert "unproven on installed dspy 3.5.0" in to_markdown(build_status(flags_copy, [report], installed_dspy="3.5.0"))


def test_status_with_a_shadow_log(shadow_log, flags_copy, capsys):
    log = shadow_log
    rows = {r.module_type: r for r in build_status(flags_copy, shadow_logs=[str(log)]).rows}
    assert rows["predict"].shadow.startswith("20.00% of 10 (not ready); canary: native ")
    assert rows["predict"].shadow.endswith(" ms per call")
    assert rows["chain_of_thought"].shadow == "no shadow data"
    assert main(["status", "--markdown", "--flags-dir", str(flags_copy), "--shadow-log", str(log)]) == 0
    assert "| 20.00% of 10 (not ready); canary: native " in capsys.readouterr().out
    assert main(["status", "--flags-dir", str(flags_copy), "--shadow-log", str(log)]) == 0   # the rich table
