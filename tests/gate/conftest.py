"""Gate tests: the CLI is called in-process (``dspex.cli.main([...])``); pytester drives the plugin tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def flags_copy(tmp_path: Path) -> Path:
    """A private copy of the repository's flag files (tests edit them)."""
    target = tmp_path / "flags"
    shutil.copytree(ROOT / "flags", target)
    return target


@pytest.fixture
def shadow_log(tmp_path: Path) -> Path:
    """A real shadow log: 10 Predict calls, the candidate differs from DSPy on 2 (questions q0 and q5)."""
    import dspy

    import dspex.shadow as shadow
    from dspex.shadow import ShadowSettings

    class LM(dspy.BaseLM):
        def __init__(self) -> None:
            super().__init__(model="scripted/gate")

        def __call__(self, prompt=None, messages=None, **kwargs):  # type: ignore[override]
            return ["[[ ## answer ## ]]\nfine\n\n[[ ## completed ## ]]"]

    log = tmp_path / "logs" / "divergences.jsonl"
    shadow.reset(ShadowSettings(log_path=str(log), timeout_s=5.0))
    try:
        control = dspy.Predict("question -> answer")
        for i in range(10):
            def candidate(lm, i=i):   # makes DSPy's LM call (replayed), then differs on 2 of 10 questions
                answer = control(question=f"q{i}", lm=lm).answer
                return dspy.Prediction(answer=answer if i % 5 else "different")

            shadow.run_shadow(shadow.ShadowCall("predict", None, {"question": f"q{i}"}, LM(),
                                                lambda lm, i=i: control(question=f"q{i}", lm=lm), candidate,
                                                signature=control.signature))
        assert shadow.shutdown(timeout=10)
    finally:
        shadow.reset()
    return log
