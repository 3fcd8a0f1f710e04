"""dspex.LM waits between attempts as dspy.LM does: 1, 2, 4 ... s, or what the server asks (a test server on
127.0.0.1 records when each attempt arrived)."""

from __future__ import annotations

import asyncio
import email.utils
import threading
import time
from typing import Any

import pytest

import dspex.lm._retry as retry_mod
from dspex.lm import LM
from dspex.lm.testing import OpenAICompatServer, Reply


class Timed:
    """Serves ``replies`` in order (then "ok"), noting when each request arrived."""

    def __init__(self, *replies: Any) -> None:
        self.replies, self.times, self.lock = list(replies), [], threading.Lock()

    def __call__(self, request: dict[str, Any]) -> Any:
        with self.lock:
            self.times.append(time.monotonic())
            return self.replies.pop(0) if self.replies else "ok"

    def gaps(self) -> list[float]:
        return [b - a for a, b in zip(self.times, self.times[1:])]


def test_the_default_schedule_is_dspys() -> None:
    # dspy.LM (dspy/clients/execution.py): min(2 ** min(attempt, 6), 60) s after its attempt-th failure (0-based)
    assert (retry_mod.BACKOFF_BASE_S, retry_mod.MAX_BACKOFF_S) == (1.0, 60.0)


@pytest.mark.parametrize("lane", ["sync", "async"])
def test_backoff_doubles_after_each_failure(lane: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retry_mod, "BACKOFF_BASE_S", 0.1)   # 0.1, 0.2, 0.4 s: dspy's 1, 2, 4 s, scaled down
    reply = Timed(*[Reply(503)] * 3)
    with OpenAICompatServer(reply) as s:
        lm = LM("openai/test", api_base=s.api_base, api_key="k", cache=False, num_retries=3)
        assert (asyncio.run(lm.acall("x")) if lane == "async" else lm("x")) == ["ok"]
    gaps = reply.gaps()
    assert len(gaps) == 3
    for gap, want in zip(gaps, (0.1, 0.2, 0.4)):   # was a jittered 0-0.25, 0-0.5, 0-1 s: an outage of 1 s failed
        assert want * 0.9 <= gap <= want + 0.15


@pytest.mark.parametrize("header", ["date", "ms", "x-ms", "seconds"])
def test_the_servers_wait_in_every_form_dspy_reads(header: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retry_mod, "MAX_BACKOFF_S", 0.001)
    headers = {"date": {"Retry-After": email.utils.formatdate(time.time() + 2, usegmt=True)},
               "ms": {"retry-after-ms": "600"}, "x-ms": {"x-ms-retry-after-ms": "600"},
               "seconds": {"Retry-After": "0.6"}}[header]
    reply = Timed(Reply(429, headers=headers))
    with OpenAICompatServer(reply) as s:
        lm = LM("openai/test", api_base=s.api_base, api_key="k", cache=False, num_retries=1)
        assert lm("x") == ["ok"]
    assert reply.gaps()[0] >= (0.95 if header == "date" else 0.55)   # was 1 ms for the date and the ms forms


def test_a_wait_too_long_or_malformed_is_capped_or_ignored() -> None:
    assert retry_mod._retry_after({"retry-after": "86400"}) == retry_mod.MAX_RETRY_AFTER_S
    assert retry_mod._retry_after({"retry-after": "soon", "retry-after-ms": "1500"}) == 1.5
    for bad in ("-1", "nan", "inf", "Thu, 99 Foo 2026", ""):
        assert retry_mod._retry_after({"retry-after": bad}) is None    # then the backoff schedule decides
    assert retry_mod._retry_after({"retry-after": "Mon, 01 Jan 2001 00:00:00 GMT"}) == 0.0
