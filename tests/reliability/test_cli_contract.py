"""Issue 10 item 8: the CLI contract for every verb: exit 0 success, 1 a failing verdict, 2 bad usage or unreadable
input; one clear line naming the file and what to do, never a traceback; names printed as text, never markup;
and the kill switch works whatever else is misconfigured."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import dspy
import pytest

import dspex.shadow as shadow
from dspex.cli import main

ROOT = Path(__file__).resolve().parents[2]
NAMES = ["rag[alpha]", "rag[beta]", "[link=http://evil.example]click[/link]", "x[/]y", "esc\x1b[31mred"]


@pytest.fixture
def log(tmp_path: Path) -> Path:
    """A real divergence log: every module name above diverges on 3 calls."""
    path = tmp_path / "logs" / "div.jsonl"
    shadow.reset(shadow.ShadowSettings(log_path=str(path), timeout_s=5))
    for name in NAMES:
        for i in range(3):
            call = shadow.ShadowCall("predict", name, {"q": f"q{i}"}, object(),
                                     lambda l: dspy.Prediction(answer="a"), lambda l: dspy.Prediction(answer="b"))
            shadow.run_shadow(call)
    assert shadow.shutdown(timeout=10)
    return path


def _run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def test_module_names_print_as_text_never_markup(log, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "400")     # one table row per line: names are not wrapped
    code, out, _ = _run(capsys, "shadow", "report", str(log), "--min-comparisons", "1")
    assert code == 0
    for shown in ("predict:rag[alpha]", "predict:rag[beta]", "predict:[link=http://evil.example]click[/link]",
                  "predict:x[/]y", "predict:esc\\x1b[31mred"):
        assert shown in out, shown
    assert "\x1b" not in out


@pytest.mark.parametrize("content", ["garbage\n\x00\x01 not json\n", None], ids=["garbage", "flag-file"])
def test_report_replay_promote_refuse_files_without_log_lines(tmp_path, capsys, content):
    path = tmp_path / "input.jsonl"
    if content is None:
        shutil.copyfile(ROOT / "flags" / "production.flagd.json", path)
    else:
        path.write_text(content)
    for verb in (["report"], ["replay"], ["promote", "--to", str(tmp_path / "corpus")]):
        code, _, err = _run(capsys, "shadow", verb[0], str(path), *verb[1:])
        assert code == 2, verb
        assert str(path) in err and err.strip().count("\n") == 0 and err.startswith("error:")


def test_log_lines_with_wrong_field_types_are_skipped_and_counted(log, tmp_path, capsys):
    bad = [
        {"kind": "divergence", "module_type": "predict", "fields": 5, "control": "x"},
        {"kind": "stats", "module_type": "predict", "run_id": "r", "counts": {"compared": "many"}},
        {"kind": "divergence", "module_type": ["predict"], "control": {"duration_ms": "fast"}},
        {"kind": "divergence", "module_type": "predict", "inputs": [1], "transcript": "t", "signature": "s"},
        {"kind": "stats", "module_type": "predict", "counts": {}, "latency_ms": [[1]]},
        ["not", "an", "object"],
    ]
    with open(log, "a") as fh:
        for b in bad:
            fh.write(json.dumps(b) + "\n")
    code, out, _ = _run(capsys, "shadow", "report", str(log), "--json")
    assert code == 0 and len(json.loads(out)["bad_lines"]) == len(bad)
    code, out, _ = _run(capsys, "shadow", "replay", str(log))
    assert code in (0, 1) and f"{len(bad)} unreadable line(s)" in out
    code, out, _ = _run(capsys, "shadow", "promote", str(log), "--to", str(tmp_path / "corpus"))
    assert code == 0 and f"{len(bad)} unreadable line(s)" in out
    code, _, _ = _run(capsys, "status", "--shadow-log", str(log))
    assert code == 0


@pytest.mark.parametrize("args,needle", [
    (["shadow", "report", "{log}", "--threshold", "5"], "between 0 and 1"),
    (["shadow", "report", "{log}", "--min-comparisons", "0"], "at least 1"),
    (["shadow", "promote", "{log}", "--module", "nosuch"], "nosuch"),
    (["shadow", "promote", "{log}", "--to", "{log}"], "is a file"),
    (["status", "--flags-dir", "{tmp}/nope/"], "nope"),
    (["parity", "--corpus", "{tmp}/nonexistent"], "nonexistent"),
    (["parity", "--report", "{log}/under-a-file/report.json"], "cannot be written"),
    (["flags", "check", "{tmp}/no-such.flagd.json"], "no-such.flagd.json"),
])
def test_wrong_inputs_exit_2_with_one_line_naming_them(log, tmp_path, capsys, args, needle):
    args = [a.format(log=log, tmp=tmp_path) for a in args]
    code, out, err = _run(capsys, *args)
    assert code == 2, (out, err)
    assert needle in err and out == ""          # parity --report fails before the suite runs, not after


def test_shadow_report_accepts_a_percentage(log, capsys):
    code, out, _ = _run(capsys, "shadow", "report", str(log), "--threshold", "50%", "--json")
    assert code == 0 and json.loads(out)["threshold"] == 0.5


def _nested(depth: int) -> str:
    return '{"flags": {"dspex.predict": ' + "[" * depth + "]" * depth + "}}"


def test_deeply_nested_flag_files_are_refused_without_a_traceback(tmp_path, capsys):
    path = tmp_path / "deep.flagd.json"
    path.write_text(_nested(100_000))
    code, out, err = _run(capsys, "flags", "check", str(path))
    assert code == 1 and "nested too deeply" in out + err
    code, _, err = _run(capsys, "flags", "stage", "predict", "off", "--file", str(path))
    assert code == 1 and str(path) in err


def test_status_marks_a_file_flagd_rejects(tmp_path, capsys):
    flags = tmp_path / "flags"
    flags.mkdir()
    shutil.copyfile(ROOT / "flags" / "production.flagd.json", flags / "production.flagd.json")
    (flags / "staging.flagd.json").write_text('{"flags": {"dspex.predict": {"state": "ENABLED", "variants": '
                                              '{"dspy": "dspy"}, "defaultVariant": "dspy", "note": "x"}}}')
    code, out, _ = _run(capsys, "status", "--markdown", "--flags-dir", str(flags))
    assert code == 0
    row = next(line for line in out.splitlines() if line.startswith("| `predict`"))
    assert "invalid (flagd rejects the file)" in row and "canary" in row


def test_the_kill_switch_works_when_a_parity_module_declaration_is_broken(tmp_path, capsys):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n[tool.dspex]\n'
                                             'parity_modules = ["no_such_package.mod:factory"]\n')
    path = tmp_path / "production.flagd.json"
    shutil.copyfile(ROOT / "flags" / "production.flagd.json", path)
    code, out, err = _run(capsys, "flags", "stage", "predict", "off", "--file", str(path))
    assert code == 0, err
    assert "warning:" in err and "no_such_package" in err
    assert json.loads(path.read_text())["flags"]["dspex.predict"]["state"] == "DISABLED"


def test_an_unexpected_error_is_one_line_not_a_traceback(tmp_path, capsys, monkeypatch):
    import dspex.gate._status as status_mod

    def boom(*args, **kwargs):
        raise KeyError("internal")

    monkeypatch.setattr(status_mod, "build_status", boom)
    monkeypatch.setattr("dspex.gate.build_status", boom)
    code, _, err = _run(capsys, "status", "--flags-dir", str(ROOT / "flags"))   # flags found: no warning line
    assert code == 2 and err.count("\n") == 1 and "DSPEX_DEBUG" in err
