"""Shadow report and ``dspex status``: paired costs per implementation and the canary's end-to-end change, from a
shadow run over a loopback LM that takes 20 ms, never the replayed candidate's duration as a latency."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import dspex
from dspex.lm.testing import OpenAICompatServer, Reply, chat_completion
from dspex.shadow.report import build_report, main as report_main
from telemetry_support import answer

LM_S = 0.02


def _shadow_run(tmp_path: Path, calls: int = 12) -> tuple[Path, Any]:
    logs = tmp_path / "logs"
    with OpenAICompatServer(lambda r: Reply(200, chat_completion([answer(r)]), delay=LM_S)) as s:
        lm = dspex.LM("openai/test", api_base=s.api_base, api_key="k", cache=False)
        dspex.configure(lm=lm, shadow={"log_path": str(logs / "d.jsonl"), "sample_rate": 1.0, "timeout_s": 10})
        p = dspex.Predict("question -> answer", implementation="shadow")
        for i in range(calls):
            assert p(question=f"q{i}").answer == f"A:q{i}"
        assert dspex.shadow.shutdown(timeout=20)
    return logs, lm


def test_report_gives_own_compute_lm_use_and_the_canary_change(tmp_path: Path, capsys: Any) -> None:
    logs, lm = _shadow_run(tmp_path)
    costs = build_report([logs], min_comparisons=1)["modules"]["predict"]["costs"]
    assert costs["n"] == 12
    dspy_side, native, canary = costs["dspy"], costs["native"], costs["canary"]
    assert dspy_side["lm_wait_ms"] >= LM_S * 1000                       # the control really waited for the LM
    assert dspy_side["total_ms"] >= dspy_side["lm_wait_ms"] and dspy_side["own_ms"] > 0
    assert dspy_side["lm_calls_per_call"] == native["lm_calls_per_call"] == 1.0
    assert dspy_side["tokens_per_call"] == 2.0                          # from the LM's own usage
    # the canary keeps the LM wait: its estimate can never fall below it (a replay time is not a latency)
    assert canary["native_ms"] >= dspy_side["lm_wait_ms"]
    assert canary["native_ms"] == canary["dspy_ms"] - canary["saves_ms"]
    report_main([str(logs), "--min-comparisons", "1"])
    out = capsys.readouterr().out
    assert "native saves" in out or "native adds" in out
    assert f"of {canary['dspy_ms']:.1f} ms per call" in out


def test_status_shows_the_canary_estimate(tmp_path: Path, capsys: Any) -> None:
    logs, _ = _shadow_run(tmp_path, calls=4)
    from dspex.cli import main as cli

    flags = tmp_path / "flags"
    flags.mkdir()
    (flags / "dev.flagd.json").write_text(json.dumps({"flags": {}}))
    assert cli(["status", "--markdown", "--flags-dir", str(flags), "--shadow-log", str(logs)]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("| `predict`"))
    assert "canary: native" in row and "ms per call" in row
