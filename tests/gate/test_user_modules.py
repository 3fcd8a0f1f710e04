"""User module types: declared in [tool.dspex] parity_modules or the dspex.modules entry point group, proven by
`dspex parity`, known to `dspex flags check` and `dspex status`. Also `dspex shadow ...` passes through."""

from __future__ import annotations

import json
import sys
from importlib import metadata

import pytest

from dspex import registry
from dspex.cli import main

MODULE = '''
import dspy
import dspex
import dspex.native
from hypothesis import strategies as st
from dspex.gate import ParityModule


class Echo(dspy.Module):
    def __init__(self):
        super().__init__()
        self.predict = dspy.Predict("text -> reply")

    def forward(self, text, lm=None):
        return self.predict(text=text, lm=lm)


class EchoNative:
    def __init__(self):
        self.predict = dspex.native.Predict("text -> reply")

    def __call__(self, text, lm=None):
        return self.predict(text=text, lm=lm)


dspex.register("echo", native=EchoNative, dspy=Echo)


def parity():
    answer = st.text(alphabet="abc xyz", min_size=1, max_size=8).filter(str.strip)
    return ParityModule("echo", Echo, EchoNative, st.fixed_dictionaries({"text": st.text(max_size=10)}),
                        answer.map(lambda a: ([f"[[ ## reply ## ]]\\n{a}\\n\\n[[ ## completed ## ]]"],)))
'''


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A user project: pyproject.toml declaring the module, its flag file, and a clean registry afterwards."""
    (tmp_path / "echo_module.py").write_text(MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(registry, "_user", {})
    yield tmp_path
    sys.modules.pop("echo_module", None)


def _flag_file(project, default):
    flag = {"state": "ENABLED", "variants": {"native": "native", "dspy": "dspy", "shadow": "shadow"},
            "defaultVariant": default}
    path = project / "flags.flagd.json"
    path.write_text(json.dumps({"flags": {"dspex.echo": flag}}, indent=2))
    return str(path)


def test_pyproject_declared_module_is_proven_and_gated(project, capsys):
    (project / "pyproject.toml").write_text('[tool.dspex]\nparity_modules = ["echo_module:parity"]\n')
    out = project / "parity.json"
    assert main(["parity", "--examples", "10", "--seed", "1", "--module", "echo", "--report", str(out),
                 "--corpus", str(project)]) == 0
    entry = json.loads(out.read_text())["modules"]["echo"]
    assert entry["proven"] and entry["source"] == "pyproject" and entry["examples_run"] == 10
    flags = _flag_file(project, "native")
    assert main(["flags", "check", flags, "--parity", str(out)]) == 0
    assert main(["status", "--markdown", "--parity", str(out), "--flags-dir", str(project)]) == 0
    assert "| `echo` | native + DSPy | proven on dspy" in capsys.readouterr().out


def test_entry_point_declared_module(project, monkeypatch):
    real = metadata.entry_points

    def entry_points(**kw):
        if kw.get("group") == "dspex.modules":
            return [metadata.EntryPoint("echo", "echo_module:parity", "dspex.modules")]
        return real(**kw)

    monkeypatch.setattr(metadata, "entry_points", entry_points)
    out = project / "parity.json"
    assert main(["parity", "--examples", "5", "--module", "echo", "--report", str(out), "--corpus", str(project)]) == 0
    assert json.loads(out.read_text())["modules"]["echo"]["source"] == "entry_point"


def test_undeclared_user_type_is_unknown_to_the_gate(project, capsys):
    assert main(["flags", "check", _flag_file(project, "dspy")]) == 1
    assert "unknown module type 'echo'" in capsys.readouterr().err


def test_bad_declaration_names_the_setting(project, capsys):
    (project / "pyproject.toml").write_text('[tool.dspex]\nparity_modules = ["echo_module:nope"]\n')
    assert main(["parity", "--examples", "1"]) == 2
    assert "parity_modules" in capsys.readouterr().err


def test_shadow_commands_pass_through(capsys):
    assert main(["shadow", "report", "--help"]) == 0
    assert "--min-comparisons" in capsys.readouterr().out
    assert main(["shadow", "replay", "/no/such/log"]) == 2
