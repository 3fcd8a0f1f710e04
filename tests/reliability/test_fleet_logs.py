"""Fleet scale: each process writes its own divergence log (host + pid in the name); `shadow report` merges a
folder or a glob of them into one report, with every process's denominators."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import dspex.shadow as shadow
from dspex.cli import main

_WORKER = textwrap.dedent("""
    import sys
    import dspy
    import dspex
    folder, calls = sys.argv[1], int(sys.argv[2])
    dspex.configure(shadow={"log_path": folder, "timeout_s": 5})
    import dspex.shadow as shadow
    for i in range(calls):
        wrong = i % 4 == 0   # one call in four diverges
        call = shadow.ShadowCall("predict", None, {"q": i}, object(), lambda l: dspy.Prediction(answer="a"),
                                 lambda l, w=wrong: dspy.Prediction(answer="b" if w else "a"))
        assert shadow.run_shadow(call).answer == "a"
    dspex.shutdown(timeout=10)
    print(shadow.stats()["log_path"])
""")


def _run_fleet(folder: Path, workers: int, calls: int) -> list[str]:
    procs = [subprocess.Popen([sys.executable, "-c", _WORKER, str(folder), str(calls)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(workers)]
    paths = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        paths.append(out.strip().splitlines()[-1])
    return paths


def test_each_process_writes_its_own_file_and_report_merges_them(tmp_path, capsys):
    folder = tmp_path / "shared" / "logs"
    paths = _run_fleet(folder, workers=3, calls=40)
    host = socket.gethostname()
    assert len(set(paths)) == 3
    for p in paths:
        name = Path(p).name
        assert name.startswith(f"divergences.{host}.") and name.endswith(".jsonl") and Path(p).parent == folder

    for given in ([str(folder)], [str(folder / "divergences.*.jsonl*")]):
        assert main(["shadow", "report", *given, "--json", "--min-comparisons", "10"]) == 0
        report = json.loads(capsys.readouterr().out)
        m = report["modules"]["predict"]
        assert (m["comparisons"], m["divergent"]) == (120, 30)
        assert (report["files"], report["runs"]) == (3, 3)


def test_a_glob_matching_nothing_is_bad_input(tmp_path, capsys):
    assert main(["shadow", "report", str(tmp_path / "nothing-*.jsonl")]) == 2
    err = capsys.readouterr().err
    assert "nothing-*.jsonl" in err and "Traceback" not in err


def test_a_file_log_path_takes_host_and_pid_placeholders(tmp_path):
    import os

    settings = shadow.ShadowSettings(log_path=str(tmp_path / "div-{host}-{pid}.jsonl"))
    assert settings.resolved_log_path().name == f"div-{socket.gethostname()}-{os.getpid()}.jsonl"
