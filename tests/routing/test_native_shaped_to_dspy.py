"""A routed module built before DSPy was imported (native-shaped) still routes to DSPy: a fresh process, since
the rest of the suite has long imported DSPy."""

from __future__ import annotations

import subprocess
import sys

CODE = """
import dspex
from dspex.lm.testing import OpenAICompatServer
reply = "[[ ## answer ## ]]\\nParis\\n\\n[[ ## completed ## ]]"
with OpenAICompatServer(lambda r: reply) as s:
    dspex.configure(lm=dspex.LM("openai/test", api_base=s.api_base, api_key="k", cache=False))
    p = dspex.Predict("question -> answer")
    assert "dspy" not in __import__("sys").modules
    print(p(question="q", implementation="dspy").answer, p(question="q", implementation="native").answer)
"""


def test_native_shaped_module_routed_to_dspy(tmp_path) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'scratch'\n")
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["Paris", "Paris"]
