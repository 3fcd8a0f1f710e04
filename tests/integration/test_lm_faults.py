"""dspex.LM against servers that misbehave, and across many event loops (found by an independent tester).

Every server here is started by the test on 127.0.0.1: the OpenAI-compatible test server, or a raw socket server
that answers whatever bytes a case scripts (a cut body, a bad status line, a header over 64 KiB, ...).
"""

from __future__ import annotations

import asyncio
import gc
import os
import socket
import threading
from typing import Any, Iterator

import pytest

from dspex.lm import LM
from dspex.lm.testing import OpenAICompatServer, echo_reply


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts descriptors through /proc")
def test_each_event_loop_closes_its_client_and_socket() -> None:
    with OpenAICompatServer(echo_reply) as s:
        lm = LM("openai/test", api_base=s.api_base, api_key="k", cache=False)
        asyncio.run(lm.acall("warm up"))   # imports and the server's own threads settle first
        gc.collect()
        before = _open_fds()
        for i in range(30):
            assert asyncio.run(lm.acall(f"q{i}")) == [f"q{i}"]
        gc.collect()
        assert lm._wire._aclients == {}          # no client kept for a finished loop
        assert _open_fds() <= before + 2         # was +1 socket per asyncio.run: EMFILE after a few hundred

        # a loop closed without shutdown_asyncgens: its client is dropped when the next loop makes one
        loop = asyncio.new_event_loop()
        assert loop.run_until_complete(lm.acall("manual")) == ["manual"]
        loop.close()
        assert asyncio.run(lm.acall("next")) == ["next"]
        assert lm._wire._aclients == {}


def test_one_loop_keeps_one_client_across_calls() -> None:
    with OpenAICompatServer(echo_reply) as s:
        lm = LM("openai/test", api_base=s.api_base, api_key="k", cache=False)

        async def run() -> tuple[int, Any]:
            await asyncio.gather(*(lm.acall(f"q{i}") for i in range(5)))
            first = (await lm._wire.aclient())
            await lm.acall("again")
            return len(lm._wire._aclients), first is await lm._wire.aclient()

        assert asyncio.run(run()) == (1, True)
