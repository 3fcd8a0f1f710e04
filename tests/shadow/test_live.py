"""Live mode: the candidate calls the LM itself; a noise baseline separates real divergence from sampling noise."""

from __future__ import annotations

import threading

import dspy

import dspex.shadow as shadow
from dspex.shadow.report import build_report


class NoisyLM(dspy.BaseLM):
    """A deterministic answer; a confidence that changes between repeated asks of an even-numbered question.

    So DSPy run twice on the same input disagrees with itself on ``confidence`` for half of the inputs, exactly
    as often as the candidate disagrees with it: sampling noise, not a bug.
    """

    def __init__(self):
        super().__init__(model="noisy/test")
        self.calls = 0
        self._asked: dict[str, int] = {}
        self._lock = threading.Lock()

    def __call__(self, prompt=None, messages=None, **kwargs):
        question = messages[-1]["content"].split("[[ ## question ## ]]\n", 1)[-1].split("\n", 1)[0]
        with self._lock:
            self.calls += 1
            nth = self._asked[question] = self._asked.get(question, -1) + 1
        confidence = "high" if nth and int(question[1:]) % 2 == 0 else "low"
        return [f"[[ ## answer ## ]]\n{question.upper()}\n\n[[ ## confidence ## ]]\n{confidence}\n\n"
                "[[ ## completed ## ]]"]


def test_live_mode_with_noise_baseline(log_path):
    shadow.configure(mode="live", noise_rate=1.0, workers=2)
    lm = NoisyLM()
    control = dspy.Predict("question -> answer, confidence")
    native = dspy.Predict("question -> answer, confidence")

    def candidate(l, q):
        pred = native(question=q, lm=l)
        if q.endswith("7"):                                    # a real bug on one input in ten
            return dspy.Prediction(answer="wrong", confidence=pred.confidence)
        return pred

    n = 60
    for i in range(n):
        call = shadow.ShadowCall("predict", None, {"question": f"q{i}"}, lm,
                                 lambda l, i=i: control(question=f"q{i}", lm=l),
                                 lambda l, i=i: candidate(l, f"q{i}"), signature=control.signature)
        assert shadow.run_shadow(call).answer == f"Q{i}"
    assert shadow.shutdown(timeout=10)
    assert lm.calls == 3 * n                                   # control, candidate, and the noise rerun
    s = shadow.stats()
    assert s["noise_runs"] == n and s["compared"] == n
    assert s["by_module"]["predict"]["noise_fields"]["confidence"] == n // 2
    assert "answer" not in s["by_module"]["predict"]["noise_fields"]

    report = build_report([log_path], min_comparisons=10)
    fields = report["modules"]["predict"]["fields"]
    assert fields["answer"]["real"] is True and fields["answer"]["count"] == 6
    assert fields["answer"]["noise_rate"] == 0.0
    assert fields["confidence"]["real"] is False               # no worse than DSPy against itself
    module = report["modules"]["predict"]
    assert module["real_divergent"] < module["divergent"]
    assert module["real_divergent"] >= 6
