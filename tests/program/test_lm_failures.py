"""An LM that fails inside a DSPy program: the routed module fails as DSPy's does, and the LM is called as often.

The router answers a native failure by running the call on DSPy (``allow_fallback``, on by default). An exception
the LM itself raised (a rate limit, a timeout) is not native's failure: DSPy would call the same LM again for the
same error, doubling the cost, the history and the callbacks. Found by an independent fuzz run (a failing LM was
called twice on the native route, once on DSPy's).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import dspy
import pytest

import dspex


class RateLimited(RuntimeError):
    pass


class FailingLM(dspy.BaseLM):
    def __init__(self) -> None:
        super().__init__(model="scripted/failing", cache=False)
        self.calls = 0

    def __call__(self, prompt: Any = None, messages: Any = None, **kwargs: Any) -> Any:  # type: ignore[override]
        self.calls += 1
        raise RateLimited("429: slow down")

    async def acall(self, prompt: Any = None, messages: Any = None, **kwargs: Any) -> Any:  # type: ignore[override]
        return self(prompt, messages, **kwargs)


def _outcome(ns: Any, kind: str, mode: str) -> tuple[str, str, int, int]:
    lm = FailingLM()
    seen: list[str] = []

    class Events(dspy.utils.BaseCallback):
        def on_lm_start(self, call_id: str, instance: Any, inputs: dict[str, Any]) -> None:
            seen.append("lm")

    module = {"predict": lambda: ns.Predict("question -> answer"),
              "cot": lambda: ns.ChainOfThought("question -> answer"),
              "react": lambda: ns.ReAct("question -> answer", tools=[lambda q: q], max_iters=2)}[kind]()
    with dspy.context(lm=lm, callbacks=[Events()]):
        with pytest.raises(Exception) as caught:
            if mode == "sync":
                module(question="q")
            else:
                asyncio.run(module.acall(question="q"))
    return type(caught.value).__name__, str(caught.value), lm.calls, len(seen)


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("kind", ["predict", "cot", "react"])
def test_a_failing_lm_is_not_called_again_on_dspy(kind: str, mode: str, tmp_path: Path) -> None:
    want = _outcome(dspy, kind, mode)
    assert want[0] == "RateLimited"
    dspex.configure(module_overrides={t: "native" for t in ("predict", "chain_of_thought", "react")},
                    shadow={"log_path": str(tmp_path / "shadow")})
    events: list[Any] = []
    from dspex import telemetry

    detach = telemetry.attach("dspex.router.fallback", lambda *e: events.append(e))
    try:
        assert _outcome(dspex, kind, mode) == want
    finally:
        detach()
    assert events == []


def test_a_native_failure_of_its_own_still_falls_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fallback stands for native's own failures: one raised before the LM is called goes to DSPy."""
    from program_support import FieldLM

    from dspex import telemetry
    from dspex.native import Predict as NativePredict

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise KeyError("a native bug")

    monkeypatch.setattr(NativePredict, "_run_here", broken)
    dspex.configure(module_overrides={"predict": "native"}, shadow={"log_path": str(tmp_path / "shadow")})
    events: list[Any] = []
    detach = telemetry.attach("dspex.router.fallback", lambda *e: events.append(e))
    try:
        with dspy.context(lm=FieldLM()):
            got = dspex.Predict("question -> answer")(question="q")
    finally:
        detach()
    assert isinstance(got, dspy.Prediction)
    assert [e[2]["error_type"] for e in events] == ["KeyError"]
