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


SHADOW_CODE = """
import sys
import dspex

class LM:
    '''Counts the calls made to it and to its rollout copies.'''
    def __init__(self, box=None):
        self.box, self.kwargs = (box if box is not None else [0]), {}
    def copy(self, **kwargs):
        new = LM(self.box)
        new.kwargs = {**self.kwargs, **kwargs}
        return new
    def __call__(self, messages=None, **kwargs):
        self.box[0] += 1
        return ["[[ ## reasoning ## ]]\\nr\\n\\n[[ ## answer ## ]]\\nParis\\n\\n[[ ## completed ## ]]"]

own, default = LM(), LM()
dspex.configure(lm=default, module_overrides={"chain_of_thought": "shadow", "best_of_n": "shadow"},
                shadow={"log_path": "shadow"})
cot = dspex.ChainOfThought("question -> answer")
cot.set_lm(own)
best = dspex.BestOfN(module=cot, N=2, reward_fn=lambda args, pred: 0.0, threshold=1.0)
assert "dspy" not in sys.modules and type(best)._shape == "native"
answer = best(question="q").answer
dspex.shutdown(timeout=10)
stats = dspex.shadow.stats()["by_module"]["best_of_n"]
print(answer, own.box[0], default.box[0], stats["compared"], stats["diverged"], stats["candidate_errors"])
"""


def test_native_shaped_shadow_candidate_replays_an_lm_its_module_holds(tmp_path) -> None:
    """The candidate of a native-shaped module is the module itself: its predictors' own LMs (here the rollout
    copies of the ChainOfThought's) are served by the replayer per call (``dspex.native.lm_stand_in``), never
    called again: the control's two attempts are the only LM calls."""
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'scratch'\n")
    out = subprocess.run([sys.executable, "-c", SHADOW_CODE], capture_output=True, text=True, cwd=tmp_path,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["Paris", "2", "0", "1", "0", "0"]
