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


PLAYBOOK_APP = '''
import dspy
import dspex
import dspex.native as dn


class MyRAG(dspy.Module):
    def __init__(self):
        super().__init__()
        self.generate = dspy.ChainOfThought("question -> answer")

    def forward(self, question):
        return self.generate(question=question)


class MyRAGNative(dn.Module):
    def __init__(self):
        super().__init__()
        self.generate = dn.ChainOfThought("question -> answer")

    def forward(self, question):
        return self.generate(question=question)


RoutedRAG = dspex.register("my_rag", native=MyRAGNative, dspy=MyRAG)
'''


def _playbook_blocks() -> list[str]:
    """The python code blocks of the playbook's "Your own module types" section, verbatim."""
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "migration" / "playbook.md").read_text()
    section = text.split("## Your own module types", 1)[1]
    return re.findall(r"```python\n(.*?)```", section, re.S)


def test_the_playbook_s_user_module_runs_verbatim_in_the_gate_and_the_plugin(tmp_path, monkeypatch, pytester):
    """A user's dspy.Module as written (forward(self, question), no lm= and no invoke hook) is proven by
    `dspex parity` and by the pytest plugin, with the playbook's own code."""
    parity_code, plugin_code = _playbook_blocks()[:2]
    pkg = tmp_path / "my_app"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "rag.py").write_text(PLAYBOOK_APP)
    (pkg / "parity.py").write_text(parity_code)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(registry, "_user", {})
    (tmp_path / "pyproject.toml").write_text('[tool.dspex]\nparity_modules = ["my_app.parity:rag"]\n')
    out = tmp_path / "parity.json"
    try:
        assert main(["parity", "--examples", "15", "--seed", "3", "--module", "my_rag", "--report", str(out),
                     "--corpus", str(tmp_path)]) == 0
        assert json.loads(out.read_text())["modules"]["my_rag"]["proven"]
        pytester.syspathinsert(str(tmp_path))
        pytester.makepyfile(test_app=plugin_code)
        monkeypatch.chdir(pytester.path)
        result = pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider")
        result.assert_outcomes(passed=2)
    finally:
        for name in [m for m in sys.modules if m == "my_app" or m.startswith("my_app.")]:
            sys.modules.pop(name)
