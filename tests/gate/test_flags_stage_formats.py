"""`dspex flags stage` on files as people have them: CRLF line endings stay CRLF (only the flag's lines change),
a new ``{}`` file gets its ``flags`` object, and a file it cannot edit is refused with the reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dspex.cli import main
from dspex.gate import check_file

VARIANTS = {"native": "native", "dspy": "dspy", "shadow": "shadow"}


def _crlf_file(path: Path) -> bytes:
    doc = {"flags": {k: {"state": "ENABLED", "variants": VARIANTS, "defaultVariant": "dspy"}
                     for k in ("dspex.predict", "dspex.chain_of_thought")}}
    raw = (json.dumps(doc, indent=2).replace("\n", "\r\n") + "\r\n").encode()
    path.write_bytes(raw)
    return raw


@pytest.mark.parametrize("stage", [["shadow"], ["canary", "--percent", "10"], ["off"]])
def test_a_crlf_file_keeps_crlf_and_only_the_flag_changes(tmp_path, capsys, stage):
    path = tmp_path / "f.flagd.json"
    before = _crlf_file(path)
    assert main(["flags", "stage", "chain_of_thought", *stage, "--file", str(path)]) == 0, capsys.readouterr()
    after = path.read_bytes()
    assert after.count(b"\n") == after.count(b"\r\n"), "a line lost its CR"
    lines_before, lines_after = before.split(b"\r\n"), after.split(b"\r\n")
    head = lines_before.index(b'  "flags": {') + 1       # predict, untouched, comes first: byte for byte
    assert lines_after[:head + 9] == lines_before[:head + 9]
    assert lines_after[-3:] == lines_before[-3:]
    assert check_file(path) == []


def test_adding_a_flag_to_a_crlf_file_keeps_crlf(tmp_path, capsys):
    path = tmp_path / "f.flagd.json"
    before = _crlf_file(path)
    assert main(["flags", "stage", "react", "dspy", "--file", str(path)]) == 0, capsys.readouterr()
    after = path.read_bytes()
    assert after.count(b"\n") == after.count(b"\r\n") and after.startswith(before[:-len(b"\r\n  }\r\n}\r\n")])


@pytest.mark.parametrize("text", ["{}", "{}\n", '{\n  "metadata": {"owner": "ml"}\n}\n'])
def test_a_new_file_without_flags_gets_its_first_flag(tmp_path, capsys, text):
    path = tmp_path / "f.flagd.json"
    path.write_text(text)
    assert main(["flags", "stage", "predict", "dspy", "--file", str(path)]) == 0, capsys.readouterr()
    data = json.loads(path.read_text())
    assert data["flags"]["dspex.predict"]["defaultVariant"] == "dspy"
    assert data.get("metadata", {"owner": "ml"}) == {"owner": "ml"}
    assert check_file(path) == []


@pytest.mark.parametrize("text,reason", [('{"flags": []}', "must be a dictionary"), ("[]", "flagd rejects the file"),
                                         ("garbage", "cannot parse")])
def test_a_file_stage_cannot_edit_is_refused_with_the_reason(tmp_path, capsys, text, reason):
    path = tmp_path / "f.flagd.json"
    path.write_text(text)
    assert main(["flags", "stage", "predict", "dspy", "--file", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("refused:") and reason in err
    assert not err.rstrip().endswith("fix it first:")
    assert path.read_text() == text
