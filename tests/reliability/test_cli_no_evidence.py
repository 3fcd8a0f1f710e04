"""No evidence is not a pass: a shadow log folder or file with no record makes report, replay and promote exit 2
(a CI gate pointed at the wrong folder, or run before logs were collected, must not pass on zero comparisons);
``dspex status`` warns on stderr and still prints its table. File names with a newline stay on one line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dspex.cli import main

ROOT = Path(__file__).resolve().parents[2]


def _run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


@pytest.fixture(params=["empty-folder", "empty-file", "blank-lines"])
def no_evidence(request, tmp_path: Path) -> Path:
    if request.param == "empty-folder":
        (tmp_path / "logs").mkdir()
        return tmp_path / "logs"
    path = tmp_path / "divergences.jsonl"
    path.write_text("" if request.param == "empty-file" else "\n\n")
    return path


@pytest.mark.parametrize("verb", [["report", "--fail-unready"], ["report"], ["replay"], ["promote", "--to", "{c}"]],
                         ids=["report-fail-unready", "report", "replay", "promote"])
def test_shadow_verbs_refuse_logs_without_a_record(no_evidence, tmp_path, capsys, verb):
    args = [a.format(c=tmp_path / "corpus") for a in verb]
    code, out, err = _run(capsys, "shadow", args[0], str(no_evidence), *args[1:])
    assert code == 2, (out, err)
    assert err.startswith("error: no divergence-log record in") and str(no_evidence) in err
    assert err.strip().count("\n") == 0 and out == ""
    assert not (tmp_path / "corpus").exists()


def test_status_warns_on_an_empty_shadow_log_and_an_empty_flags_folder(tmp_path, capsys):
    (tmp_path / "logs").mkdir()
    (tmp_path / "flags").mkdir()
    code, out, err = _run(capsys, "status", "--markdown", "--flags-dir", str(tmp_path / "flags"),
                          "--shadow-log", str(tmp_path / "logs"))
    assert code == 0 and "| `predict`" in out
    assert "warning: no divergence-log record in" in err
    assert f"warning: no *.flagd.json file in {tmp_path / 'flags'}" in err


def test_status_with_real_flags_says_nothing_on_stderr(tmp_path, capsys):
    shutil.copytree(ROOT / "flags", tmp_path / "flags")
    code, _, err = _run(capsys, "status", "--markdown", "--flags-dir", str(tmp_path / "flags"))
    assert code == 0 and "warning" not in err


def test_a_newline_in_a_file_name_is_shown_as_an_escape(tmp_path, capsys):
    weird = tmp_path / "new\nline.flagd.json"
    weird.write_text("garbage{{")
    for args in (["flags", "check", str(weird)], ["flags", "stage", "predict", "dspy", "--file", str(weird)],
                 ["shadow", "report", str(tmp_path / "no\nsuch.jsonl")]):
        code, out, err = _run(capsys, *args)
        assert code in (1, 2), args
        assert "new\nline" not in out + err and "no\nsuch" not in out + err, args
        assert "\\n" in out + err, args
