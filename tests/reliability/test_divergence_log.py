"""Issue 10 item 5: the divergence log never follows a symlink, never blocks on a FIFO, writes whole lines or
nothing, escapes what UTF-8 cannot hold, and counts and reports every loss (not once, then silence)."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import dspy
import pytest

import dspex.shadow as shadow
from dspex.shadow._log import DivergenceLog

ROOT = Path(__file__).resolve().parents[2]


def _diverge(lm_answer: str = "a", inputs: dict | None = None) -> shadow.ShadowCall:
    """A shadow call whose candidate always differs: one divergence line per call."""
    return shadow.ShadowCall("predict", None, inputs or {"q": "x"}, object(),
                             lambda l: dspy.Prediction(answer=lm_answer), lambda l: dspy.Prediction(answer="other"))


def test_a_symlink_at_the_log_path_is_never_followed(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    log = tmp_path / "div.jsonl"
    log.symlink_to(victim)
    shadow.reset(shadow.ShadowSettings(log_path=str(log), timeout_s=5))
    for _ in range(3):
        assert shadow.run_shadow(_diverge()).answer == "a"
    assert shadow.shutdown(timeout=5)
    assert victim.read_text() == "precious\n"
    assert log.is_symlink()
    assert shadow.stats()["log_losses"]["refused_path"] >= 3


def test_a_lock_symlink_never_creates_its_target_on_rotation(tmp_path):
    path = tmp_path / "div.jsonl"
    target = tmp_path / "elsewhere" / "created-by-rotation"
    (tmp_path / "elsewhere").mkdir()
    Path(f"{path}.lock").symlink_to(target)
    log = DivergenceLog(path, max_bytes=2_000, backups=2)
    for i in range(20):
        assert log.write({"i": i, "pad": "x" * 300})     # lines still written, rotation skipped
    log.close()
    assert not target.exists()
    assert [json.loads(x)["i"] for x in path.read_text().splitlines()] == list(range(20))
    assert log.rotations_skipped > 0


_FIFO_SCRIPT = textwrap.dedent("""
    import json, os, sys, time
    import dspy
    import dspex.shadow as shadow
    fifo = sys.argv[1]
    shadow.reset(shadow.ShadowSettings(log_path=fifo, timeout_s=5))
    for i in range(5):
        call = shadow.ShadowCall("predict", None, {"q": i}, object(), lambda l: dspy.Prediction(answer="a"),
                                 lambda l: dspy.Prediction(answer="b"))
        assert shadow.run_shadow(call).answer == "a"
    t0 = time.monotonic()
    drained = shadow.shutdown(timeout=5)
    print(json.dumps({"seconds": time.monotonic() - t0, "drained": drained, "losses": shadow.stats()["log_losses"]}))
""")


@pytest.mark.parametrize("reader", [False, True])
def test_a_fifo_at_the_log_path_never_blocks_shutdown(tmp_path, reader):
    fifo = tmp_path / "div.jsonl"
    os.mkfifo(fifo)
    rfd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK) if reader else None
    try:
        done = subprocess.run([sys.executable, "-c", _FIFO_SCRIPT, str(fifo)], capture_output=True, text=True,
                              timeout=60, cwd=tmp_path)
    finally:
        if rfd is not None:
            os.close(rfd)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["seconds"] < 5 * 2 and result["drained"]
    assert result["losses"]["refused_path"] >= 5


_ULIMIT_SCRIPT = textwrap.dedent("""
    import json, resource, sys
    from pathlib import Path
    from dspex.shadow._log import DivergenceLog
    resource.setrlimit(resource.RLIMIT_FSIZE, (2500, 2500))
    log = DivergenceLog(Path(sys.argv[1]), max_bytes=10_000_000, backups=1)
    results = [log.write({"i": i, "pad": "x" * 1000}) for i in range(5)]
    log.close()
    print(json.dumps({"results": results, "losses": dict(log.losses)}))
""")


def test_a_file_size_limit_leaves_whole_lines_or_nothing(tmp_path):
    path = tmp_path / "div.jsonl"
    done = subprocess.run([sys.executable, "-c", _ULIMIT_SCRIPT, str(path)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    lines = path.read_bytes().split(b"\n")
    assert lines[-1] == b""                                       # the file ends with a whole line
    assert [json.loads(x)["i"] for x in lines[:-1]] == [0, 1]     # every line parses; no torn third one
    assert result["results"] == [True, True, False, False, False]
    assert sum(result["losses"].values()) == 3


def test_a_lone_surrogate_is_escaped_not_dropped(tmp_path):
    path = tmp_path / "div.jsonl"
    shadow.reset(shadow.ShadowSettings(log_path=str(path), timeout_s=5))
    assert shadow.run_shadow(_diverge(inputs={"q": "bad \ud800 text"})).answer == "a"
    assert shadow.shutdown(timeout=5)
    (line,) = [r for r in map(json.loads, path.read_text(encoding="utf-8").splitlines()) if r["kind"] != "stats"]
    assert line["inputs"] == {"q": "bad \ud800 text"}
    assert shadow.stats()["log_losses"] == {}


def test_every_loss_is_counted_and_each_kind_reported_not_once_then_silent(tmp_path, caplog):
    path = tmp_path / "div.jsonl"
    log = DivergenceLog(path, max_bytes=10_000_000, backups=1)
    loop: dict = {}
    loop["self"] = loop                                            # not encodable: a circular record
    with caplog.at_level(logging.WARNING, logger="dspex.shadow"):
        assert not log.write(loop)
        assert log.write({"ok": 1})
        path.unlink()
        os.mkfifo(path)                                            # now a FIFO: refused at the next open
        log._close()
        assert not log.write({"after": 1})
        assert not log.write({"after": 2})
        log.close()
    assert dict(log.losses) == {"unencodable": 1, "refused_path": 2}
    messages = [r.getMessage() for r in caplog.records if r.name == "dspex.shadow"]
    assert any("could not encode" in m for m in messages)
    assert any("FIFO" in m for m in messages)                     # the second kind is reported too
    assert "3 record(s) not written" in messages[-1]              # and close() sums up every loss
