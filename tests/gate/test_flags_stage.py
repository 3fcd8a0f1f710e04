"""`dspex flags stage`: each step rewrites one flag only; widening a canary keeps native users native."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dspex.cli import main
from dspex.gate import ModuleResult, ParityReport, check_file, describe_stage, dspy_version, hashing_scheme, stage_flag
from dspex.gate._jsontext import member_span

JOURNEY = [("dspy", None), ("shadow", None), ("canary", 10), ("canary", 50), ("native", None), ("off", None),
           ("dspy", None)]


def _flags(text: str) -> dict:
    return json.loads(text)["flags"]


def _assert_only_flag_changed(before: str, after: str, key: str) -> None:
    b, a = _flags(before), _flags(after)
    assert list(b) == list(a)
    assert {k: v for k, v in b.items() if k != key} == {k: v for k, v in a.items() if k != key}
    (_, bs, be), (_, as_, ae) = member_span(before, ["flags", key]), member_span(after, ["flags", key])
    assert before[:bs] == after[:as_] and before[be:] == after[ae:], "bytes outside the flag changed"


@pytest.mark.parametrize("module", ["chain_of_thought", "predict"])
def test_every_stage_touches_one_flag(module, flags_copy, capsys):
    path = flags_copy / "production.flagd.json"
    key = f"dspex.{module}"
    for stage, percent in JOURNEY:
        before = path.read_text()
        args = ["flags", "stage", module, stage, "--file", str(path)] + (["--percent", str(percent)] if percent else [])
        assert main(args) == 0, capsys.readouterr()
        after = path.read_text()
        out = capsys.readouterr().out
        _assert_only_flag_changed(before, after, key)
        changed = [line for line in out.splitlines() if line[:1] in "+-" and not line.startswith(("+++", "---"))]
        assert changed, f"stage {stage} printed no diff"
        expected = f"canary {percent}%" if stage == "canary" else stage
        assert describe_stage(_flags(after)[key]) == expected
        assert [p for p in check_file(path) if p.severity == "error"] == []
    final = _flags(path.read_text())[key]
    assert final["state"] == "ENABLED" and final["defaultVariant"] == "dspy" and "targeting" not in final


def test_canary_records_the_hashing_scheme(flags_copy):
    path = flags_copy / "production.flagd.json"
    stage_flag(path, "chain_of_thought", "canary", 25)
    flag = _flags(path.read_text())["dspex.chain_of_thought"]
    assert flag["metadata"]["fractionalHashing"] == hashing_scheme() and "cbor" in hashing_scheme()
    assert flag["targeting"] == {"fractional": [["native", 25], ["dspy", 75]]}


def _native_keys(path: Path, domain: str) -> set[str]:
    """Evaluate 1,000 targeting keys through OpenFeature with flagd's real FILE resolver."""
    from openfeature import api
    from openfeature.contrib.provider.flagd import FlagdProvider
    from openfeature.contrib.provider.flagd.config import ResolverType
    from openfeature.evaluation_context import EvaluationContext
    from openfeature.provider.no_op_provider import NoOpProvider

    provider = FlagdProvider(resolver_type=ResolverType.FILE, offline_flag_source_path=str(path))
    api.set_provider_and_wait(provider, domain=domain)
    try:
        client = api.get_client(domain)
        native = set()
        for i in range(1000):
            details = client.get_string_details("dspex.predict", "", EvaluationContext(targeting_key=f"user-{i}"))
            assert details.error_code is None, details
            if details.value == "native":
                native.add(f"user-{i}")
        return native
    finally:
        api.set_provider(NoOpProvider(), domain=domain)
        provider.shutdown()


def test_widening_keeps_every_native_key_native(flags_copy):
    path = flags_copy / "production.flagd.json"
    stage_flag(path, "predict", "canary", 10)
    at_10 = _native_keys(path, "dspex-gate-test-10")
    result = stage_flag(path, "predict", "canary", 50)
    assert any("widening 10% -> 50%" in n for n in result.notes)
    at_50 = _native_keys(path, "dspex-gate-test-50")
    assert 60 <= len(at_10) <= 140 and 420 <= len(at_50) <= 580
    assert at_10 <= at_50, f"{len(at_10 - at_50)} keys left native when widening"


def test_the_gate_refuses_native_for_a_dspy_only_module(flags_copy, capsys):
    path = flags_copy / "production.flagd.json"
    before = path.read_text()
    for stage in (["native"], ["shadow"], ["canary", "--percent", "10"]):
        assert main(["flags", "stage", "program_of_thought", *stage, "--file", str(path)]) == 1
        assert "DSPy-only" in capsys.readouterr().err
    assert path.read_text() == before


def test_the_gate_refuses_native_for_an_unproven_module(tmp_path, flags_copy, capsys):
    path = flags_copy / "production.flagd.json"
    report = tmp_path / "parity.json"
    ParityReport(dspy_version(), "0.1.0", 1, 30, "2026-11-25T00:00:00+00:00",
                 modules={"chain_of_thought": ModuleResult("chain_of_thought", "failed")}).write(report)
    before = path.read_text()
    assert main(["flags", "stage", "chain_of_thought", "native", "--file", str(path), "--parity", str(report)]) == 1
    err = capsys.readouterr().err
    assert "refused" in err and "dspex.chain_of_thought" in err and "FAILED" in err
    assert path.read_text() == before
    # shadow needs no proof: DSPy still answers every call
    assert main(["flags", "stage", "chain_of_thought", "shadow", "--file", str(path), "--parity", str(report)]) == 0


def test_dry_run_writes_nothing_and_kill_switch_keeps_the_split(flags_copy, capsys):
    path = flags_copy / "production.flagd.json"
    before = path.read_text()
    assert main(["flags", "stage", "predict", "native", "--file", str(path), "--dry-run"]) == 0
    assert "would set" in capsys.readouterr().out and path.read_text() == before
    stage_flag(path, "predict", "off")
    flag = _flags(path.read_text())["dspex.predict"]
    assert flag["state"] == "DISABLED" and flag["targeting"]["fractional"][0] == ["native", 10]
    assert describe_stage(flag) == "off"


def test_a_missing_flag_is_added_at_the_end(flags_copy):
    path = flags_copy / "dev.flagd.json"
    data = json.loads(path.read_text())
    del data["flags"]["dspex.refine"]
    path.write_text(json.dumps(data, indent=2) + "\n")
    before = path.read_text()
    stage_flag(path, "refine", "dspy")
    after = path.read_text()
    assert list(_flags(after))[-1] == "dspex.refine" and _flags(after)["dspex.refine"]["defaultVariant"] == "dspy"
    assert {k: v for k, v in _flags(after).items() if k != "dspex.refine"} == _flags(before)
