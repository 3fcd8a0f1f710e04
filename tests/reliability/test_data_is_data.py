"""Issue 10 item 6: replay, promote and the parity corpus never import a module named by log content.

A log line whose signature names ``p7evil`` (a module sitting in the working directory that leaves a marker when
imported) goes through ``python -m dspex shadow replay``, ``promote`` and ``dspex parity --corpus``, each in a
subprocess whose working directory (and so ``sys.path[0]``) holds that module.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

EVIL = "from pathlib import Path\nPath(__file__).with_name('IMPORTED').write_text('ran')\nclass p7evil(str): pass\n"


def _record(signature: str, module_type: str = "predict") -> dict:
    user = "[[ ## question ## ]]\nq\n\nRespond with the corresponding output fields."
    return {
        "kind": "divergence", "id": "x1-div", "run_id": "r1", "module_type": module_type, "module_name": None,
        "signature": {"string": signature, "instructions": None, "fields": {}, "name": None},
        "inputs": {"question": "q"}, "redacted": [], "demos": None, "config": None,
        "lm": {"model": "m", "kwargs": {}, "supported_params": [], "supports_response_schema": False},
        "transcript": [{"messages": [{"role": "user", "content": user}], "kwargs": {},
                        "outputs": ["[[ ## answer ## ]]\nA\n\n[[ ## completed ## ]]"]}],
        "control": {"output": {"answer": "A"}, "error": None, "duration_ms": 1.0},
        "candidate": {"output": {"answer": "B"}, "error": None, "duration_ms": 1.0},
        "fields": ["answer"], "versions": {"dspy": "3.4.1"},
    }


def _run(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dspex", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


def _setup(tmp_path: Path, record: dict) -> Path:
    (tmp_path / "p7evil.py").write_text(EVIL)
    log = tmp_path / "div.jsonl"
    log.write_text(json.dumps(record) + "\n")
    return log


def test_replay_never_imports_a_module_named_in_the_log_and_says_not_replayable(tmp_path):
    log = _setup(tmp_path, _record("question: p7evil -> answer"))
    done = _run(tmp_path, "shadow", "replay", str(log), "--json")
    assert not (tmp_path / "IMPORTED").exists()
    assert "Traceback" not in done.stderr
    (result,) = json.loads(done.stdout)
    assert result["status"] == "not_replayable" and "p7evil" in result["problems"][0]
    assert "--factory" in result["problems"][0]


def test_a_module_type_from_the_log_is_never_looked_up_as_code(tmp_path):
    log = _setup(tmp_path, _record("question -> answer", module_type="p7evil"))
    done = _run(tmp_path, "shadow", "replay", str(log), "--json")
    assert not (tmp_path / "IMPORTED").exists()
    (result,) = json.loads(done.stdout)
    assert result["status"] == "not_replayable" and "--factory" in result["problems"][0]


def test_promote_and_parity_corpus_never_import_it_either(tmp_path):
    log = _setup(tmp_path, _record("question: p7evil -> answer"))
    corpus = tmp_path / "corpus"
    promoted = _run(tmp_path, "shadow", "promote", str(log), "--to", str(corpus))
    assert promoted.returncode == 0, promoted.stderr
    assert (corpus / "predict.jsonl").exists()
    parity = _run(tmp_path, "parity", "--module", "predict", "--examples", "1", "--seed", "1", "--corpus", str(corpus))
    assert not (tmp_path / "IMPORTED").exists()
    assert "Traceback" not in parity.stderr
    assert "not replayable" in parity.stdout
