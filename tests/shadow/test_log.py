"""The divergence log: whole lines under threads and processes, rotation, redaction, secrets, bad paths."""

from __future__ import annotations

import json
import multiprocessing
import threading
import warnings
from pathlib import Path

import dspy

import dspex.shadow as shadow
from dspex.shadow._log import DivergenceLog
from shadow_support import ScriptedLM, divergence_lines

PAYLOAD = "x" * 700


def _write_many(path: str, writer: int, count: int) -> None:
    log = DivergenceLog(Path(path), max_bytes=40_000, backups=200)
    for i in range(count):
        log.write({"kind": "divergence", "writer": writer, "i": i, "payload": PAYLOAD})
    log.close()


def _all_records(path: Path) -> list[dict]:
    records = []
    for f in sorted(path.parent.glob(path.name + "*")):
        if f.name.endswith(".lock"):
            continue
        for line in f.read_text(encoding="utf-8").splitlines():
            records.append(json.loads(line))          # a torn or interleaved line fails here
    return records


def test_processes_and_threads_append_whole_lines_with_rotation(tmp_path):
    path = tmp_path / "div.jsonl"
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_write_many, args=(str(path), w, 150)) for w in range(3)]
    threads = [threading.Thread(target=_write_many, args=(str(path), 10 + w, 150)) for w in range(3)]
    for p in procs + threads:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    for t in threads:
        t.join(60)
    records = _all_records(path)
    assert len(records) == 6 * 150
    assert {(r["writer"], r["i"]) for r in records} == {(w, i) for w in (0, 1, 2, 10, 11, 12) for i in range(150)}
    rotated = sorted(path.parent.glob("div.jsonl.*[0-9]"))
    assert len(rotated) >= 10                                       # ~680 KB through a 40 KB limit
    # a writer still holding the renamed file adds at most its next line before it notices and reopens
    assert all(f.stat().st_size <= 40_000 + 6 * 800 for f in rotated)


def test_rotation_keeps_only_the_configured_backups(tmp_path):
    path = tmp_path / "div.jsonl"
    log = DivergenceLog(path, max_bytes=2_000, backups=2)
    for i in range(50):
        assert log.write({"i": i, "payload": PAYLOAD})
    names = sorted(f.name for f in tmp_path.iterdir() if not f.name.endswith(".lock"))
    assert names == ["div.jsonl", "div.jsonl.1", "div.jsonl.2"]
    assert json.loads(path.read_text().splitlines()[-1])["i"] == 49


def test_unwritable_log_is_reported_once_and_never_fails_the_caller(tmp_path, lm):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where a folder should be")
    shadow.reset(shadow.ShadowSettings(log_path=str(blocker / "logs"), timeout_s=5))
    try:
        control = lambda l: dspy.Prediction(answer="a")               # noqa: E731
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for i in range(5):
                call = shadow.ShadowCall("predict", None, {"q": i}, lm, control, lambda l: dspy.Prediction(answer="b"))
                assert shadow.run_shadow(call).answer == "a"
            shadow.shutdown(timeout=5)
        ours = [w for w in caught if "divergence log" in str(w.message)]
        assert len(ours) == 1 and "shadow.log_path" in str(ours[0].message)
        assert shadow.stats()["log_errors"] >= 5 and shadow.stats()["diverged"] == 5
    finally:
        shadow.reset()


def test_secrets_scrubbed_and_named_inputs_redacted(log_path):
    shadow.configure(redact=["ssn"])
    lm = ScriptedLM(api_key="sk-live-abcdef123456", headers={"Authorization": "Bearer abc.def.ghi.jkl"})
    control_module = dspy.Predict("question, ssn -> answer")

    def control(l):
        return control_module(question="who?", ssn="123-45-6789", lm=l, config={"api_key": "sk-other-99999999"})

    call = shadow.ShadowCall("predict", None, {"question": "who?", "ssn": "123-45-6789"}, lm, control,
                             lambda l: dspy.Prediction(answer="other"), signature=control_module.signature)
    shadow.run_shadow(call)
    shadow.shutdown(timeout=5)
    text = log_path.read_text()
    assert "123-45-6789" not in text                          # not in inputs, nor inside the recorded prompt
    assert "sk-live" not in text and "sk-other" not in text and "abc.def.ghi" not in text
    (line,) = divergence_lines(log_path)
    assert line["inputs"] == {"question": "who?", "ssn": "[REDACTED]"}
    assert line["transcript"][0]["kwargs"]["api_key"] == "[REDACTED]"
    assert line["lm"]["kwargs"]["headers"]["Authorization"] == "[REDACTED]"
    assert "[REDACTED]" in line["transcript"][0]["messages"][-1]["content"]
