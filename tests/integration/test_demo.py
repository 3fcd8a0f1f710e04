"""`dspex demo` end to end: the README's first command must work on embedded defaults (no network, no key)."""

from __future__ import annotations

import subprocess
import sys


def test_demo_runs_every_stage_and_exits_zero(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "dspex", "demo", "--calls", "5"],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "LITELLM_LOCAL_MODEL_COST_MAP": "true", "COLUMNS": "120"},
    )
    assert out.returncode == 0, out.stdout + out.stderr
    text = out.stdout
    assert "Stage 1" in text and "Stage 2" in text and "Stage 3" in text and "Stage 4" in text
    assert "NO" not in text.split()            # every "same prompt" / "sticky" cell says yes
    assert "diverging fields: answer" in text  # the shadow report names the planted bug's field
    assert "Demo complete." in text
    assert "Traceback" not in out.stdout + out.stderr   # e.g. no flag-file watcher outliving its temporary file
