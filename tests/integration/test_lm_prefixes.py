"""``ollama/``, ``ollama_chat/``, ``groq/`` and ``openrouter/`` models: dspex.LM sends the requests dspy.LM 3.4.1
sends with ``api_base`` on loopback. DSPy's lm15 engine has a door for each of these prefixes (lm15 router.py
``LITELLM_PROVIDER_PREFIXES``), so ``n > 1`` is ``n`` requests without ``n``, the model id without its prefix and
the token limit as ``max_tokens``; a call lm15 does not carry goes through LiteLLM, one request carrying ``n``.

Where DSPy's LiteLLM side cannot talk to an OpenAI-compatible server (``ollama_chat/``: LiteLLM refuses ``n`` and
posts to Ollama's own ``/api/chat``; ``groq/``: LiteLLM fails reading the answer, "'ModelResponse' object has no
attribute 'service_tier'"; ``ollama/``: LiteLLM posts to ``/api/generate``), there is nothing to compare: dspex.LM
keeps LiteLLM's request shape there.
"""

from __future__ import annotations

import asyncio
from typing import Any, Callable

import dspy
import pytest
from test_lm_wire import ANSWER, KWARGS, MESSAGES, _both, one_choice

import dspex.native as native
from dspex.lm import LM
from dspex.lm.testing import OpenAICompatServer

MODELS = ["ollama_chat/llama3", "ollama/llama3", "groq/llama-3.1-8b-instant", "openrouter/meta-llama/llama-3-8b"]
_UNSERVABLE_LITELLM = ("ollama_chat/", "ollama/", "groq/")   # (ollama/: LiteLLM posts to /api/generate)


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("n", [1, 3])
@pytest.mark.parametrize("init,call", [({}, {}), ({"max_tokens": 7, "temperature": 0.0}, {"temperature": 0.9})])
def test_n_completions_are_n_requests_as_dspy_sends_them(model: str, n: int, init: dict[str, Any],
                                                        call: dict[str, Any]) -> None:
    with OpenAICompatServer(one_choice) as s:
        theirs, ours = _both(s, model, lambda lm: lm("q", n=n, **call), **init)
    assert ours[1] == theirs[1] and len(ours[1]) == n and "n" not in ours[1][0]
    assert ours[1][0]["model"] == model.partition("/")[2]
    assert ours[0] == theirs[0] == [ANSWER] * n
    assert ours[2]["usage"] == theirs[2]["usage"]


def _sides(model: str, call: Callable[[Any], Any]) -> tuple[tuple[Any, list[Any]], tuple[Any, list[Any]]]:
    """(outcome, request bodies) for dspy.LM, then dspex.LM; an exception is an outcome."""
    sides = []
    with OpenAICompatServer(one_choice) as s:
        for cls in (dspy.LM, LM):
            s.requests.clear()
            lm = cls(model, api_base=s.api_base, api_key="k", cache=False, num_retries=0)
            try:
                outcome: Any = call(lm)
            except Exception as exc:   # noqa: BLE001 - only DSPy's LiteLLM side fails here, checked by the callers
                outcome = exc
            sides.append((outcome, list(s.requests)))
    return sides[0], sides[1]


def _litellm_unservable(model: str, theirs: Any, our_requests: list[Any], n: int | None) -> bool:
    """DSPy failed on its LiteLLM side for a prefix LiteLLM cannot serve here: dspex.LM sent LiteLLM's shape."""
    if not (isinstance(theirs, Exception) and model.startswith(_UNSERVABLE_LITELLM)):
        return False
    assert len(our_requests) == 1 and our_requests[0].get("n") == n
    return True


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("case", sorted(set(KWARGS) - {"n None"}))
def test_each_key_is_sent_as_dspy_sends_it(case: str, model: str) -> None:
    kwargs = {"n": 2, **KWARGS[case]}
    (theirs, their_requests), (ours, our_requests) = _sides(model, lambda lm: lm("q", **kwargs))
    if _litellm_unservable(model, theirs, our_requests, 2):
        return
    assert our_requests == their_requests
    if "logprobs" not in case:   # (DSPy's lm15 side reads a choice's logprobs into its own shape)
        assert ours == theirs


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("case", sorted(MESSAGES))
def test_messages_are_sent_as_dspy_sends_them(case: str, model: str) -> None:
    (theirs, their_requests), (ours, our_requests) = _sides(model, lambda lm: lm(messages=MESSAGES[case], n=2))
    if _litellm_unservable(model, theirs, our_requests, 2):
        return
    assert our_requests == their_requests and ours == theirs


@pytest.mark.parametrize("model", MODELS)
def test_predict_n_async_over_both_lms(model: str) -> None:
    def call(lm: Any) -> Any:
        predict = (dspy.Predict if isinstance(lm, dspy.LM) else native.Predict)("question -> answer", n=3)
        return asyncio.run(predict.acall(question="q", lm=lm)).completions.answer

    with OpenAICompatServer(one_choice) as s:
        theirs, ours = _both(s, model, call, max_tokens=9)
    assert ours[0] == theirs[0] == ["Paris"] * 3
    assert ours[1] == theirs[1] and len(ours[1]) == 3


def test_an_environment_gateway_keeps_litellm(monkeypatch: pytest.MonkeyPatch) -> None:
    """``OPENROUTER_API_BASE`` set: DSPy keeps LiteLLM for openrouter/ (one request with n, LiteLLM's usage ask)."""
    with OpenAICompatServer(one_choice) as s:
        monkeypatch.setenv("OPENROUTER_API_BASE", s.api_base)
        theirs, ours = _both(s, "openrouter/meta-llama/llama-3-8b", lambda lm: lm("q", n=2))
    assert ours[1] == theirs[1] and len(ours[1]) == 1 and ours[1][0]["n"] == 2
