"""A hung LM does not hang the caller: ``call_timeout_s`` bounds one routed call on every route, sync and async.

Without the setting nothing changes (dspex adds no deadline of its own; dspex.LM's requests time out after its
``timeout=``, 120 s by default). With it, the caller gets CallTimeoutError naming the module and the setting; the
hung call runs on in the background until its LM returns (Python cannot stop a thread).
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import dspy
import pytest

import dspex
from dspex.errors import CallTimeoutError


class HungLM:
    """An LM (plain callable) that does not answer until released."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.calls = 0

    def __call__(self, messages: list[dict[str, Any]], **kwargs: Any) -> list[str]:
        self.calls += 1
        self.release.wait(30)
        return ["[[ ## answer ## ]]\nlate\n\n[[ ## completed ## ]]"]


@pytest.fixture
def hung() -> Any:
    lm = HungLM()
    yield lm
    lm.release.set()


@pytest.mark.parametrize("route", ["native", "dspy", "shadow"])
def test_a_hung_lm_times_out_the_call_on_every_route(route: str, hung: HungLM, tmp_path: Any) -> None:
    dspex.configure(lm=hung, call_timeout_s=0.3, module_overrides={"predict": route},
                    shadow={"log_path": str(tmp_path / "logs")})
    module = dspex.Predict("question -> answer", name="qa")
    start = time.perf_counter()
    with pytest.raises(CallTimeoutError, match=r"dspex.predict 'qa' did not answer within call_timeout_s=0.3 s"):
        module(question="q")
    assert time.perf_counter() - start < 5
    assert isinstance(CallTimeoutError("x"), TimeoutError)
    loop = asyncio.new_event_loop()
    try:
        start = time.perf_counter()
        with pytest.raises(CallTimeoutError):
            loop.run_until_complete(module.acall(question="q"))
        assert time.perf_counter() - start < 5
    finally:
        hung.release.set()                             # the LM answers again: calls work as before
        loop.close()
    assert module(question="q").answer == "late"


def test_without_the_setting_a_slow_call_is_waited_for(tmp_path: Any) -> None:
    class SlowLM(HungLM):
        def __call__(self, messages: list[dict[str, Any]], **kwargs: Any) -> list[str]:
            time.sleep(0.4)
            return ["[[ ## answer ## ]]\nslow\n\n[[ ## completed ## ]]"]

    dspex.configure(lm=SlowLM(), module_overrides={"predict": "native"})
    assert dspex.Predict("question -> answer")(question="q").answer == "slow"
    assert dspex.router.settings().call_timeout_s is None


def test_the_deadline_keeps_the_request_and_dspy_settings(tmp_path: Any, events: Any) -> None:
    """The call runs on a worker thread with the caller's context: dspex.request and dspy.context reach it."""
    from reliability_support import EchoLM

    dspex.configure(call_timeout_s=10, module_overrides={"predict": "native"})
    seen = events("dspex.router.route")
    with dspy.context(lm=EchoLM()), dspex.request(targeting_key="user-7", tenant="acme"):
        assert dspex.Predict("question -> answer")(question="hi").answer
    assert seen[-1][2]["implementation"] == "native"


def test_bad_values_name_the_setting() -> None:
    with pytest.raises(dspex.errors.ConfigError, match="call_timeout_s"):
        dspex.configure(call_timeout_s=0)
    with pytest.raises(dspex.errors.ConfigError, match="call_timeout_s"):
        dspex.configure(call_timeout_s="soon")
