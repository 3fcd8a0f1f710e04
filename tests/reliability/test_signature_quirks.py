"""Issue 10 item 9: "__module__ -> answer" builds in DSPy 3.4.1 (the field vanishes into pydantic's create_model)
and "completions -> answer" fails there at call time (after the LM call); native now does the same.

Each case runs real dspy and dspex.native side by side with the same recording LM: same fields, same LM calls
(messages byte for byte), same result or the same exception class and message.
"""

from __future__ import annotations

import asyncio
import warnings
from typing import Any

import dspy
import pytest

import dspex.native as dn
from dspex.signature import Signature

ANSWER = ("[[ ## reasoning ## ]]\nr\n\n[[ ## answer ## ]]\nA\n\n[[ ## completions ## ]]\nC\n\n"
          "[[ ## completed ## ]]")


class Recorder(dspy.BaseLM):
    def __init__(self) -> None:
        super().__init__(model="rec/quirks", cache=False)
        self.calls: list[Any] = []

    def __call__(self, prompt: Any = None, messages: Any = None, **kwargs: Any) -> list[str]:
        self.calls.append(messages)
        return [ANSWER]

    async def acall(self, prompt: Any = None, messages: Any = None, **kwargs: Any) -> list[str]:
        return self(prompt, messages, **kwargs)


def _outcome(make: Any, signature: str, inputs: dict[str, Any], use_async: bool) -> tuple[Any, list[Any]]:
    lm = Recorder()
    module = make(signature)
    try:
        if use_async:
            result = asyncio.run(module.acall(**inputs, lm=lm))
        else:
            result = module(**inputs, lm=lm)
        return ("ok", dict(result.items())), lm.calls
    except Exception as exc:  # noqa: BLE001 - the error is the outcome compared
        return (type(exc).__name__, str(exc)), lm.calls


@pytest.mark.parametrize("signature", ["__module__ -> answer", "q, __module__ -> answer", "q -> answer, __module__",
                                       "__module__: int -> answer"])
def test_a_module_dunder_field_vanishes_as_in_dspy(signature):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs, ours = dspy.Signature(signature), Signature(signature)
    assert list(ours.fields) == list(theirs.fields)
    assert ours.instructions == theirs.instructions


@pytest.mark.parametrize("use_async", [False, True], ids=["call", "acall"])
@pytest.mark.parametrize("kind,signature,inputs", [
    ("predict", "__module__ -> answer", {"__module__": "m"}),
    ("predict", "completions -> answer", {"completions": "c"}),
    ("predict", "question, completions -> answer", {"question": "q", "completions": "c"}),
    ("cot", "completions -> answer", {"completions": "c"}),
    ("predict", "question -> completions", {"question": "q"}),
])
def test_calls_end_like_dspy(kind, signature, inputs, use_async):
    theirs_cls, ours_cls = (dspy.Predict, dn.Predict) if kind == "predict" else (dspy.ChainOfThought, dn.ChainOfThought)
    theirs, their_calls = _outcome(theirs_cls, signature, inputs, use_async)
    ours, our_calls = _outcome(ours_cls, signature, inputs, use_async)
    assert ours == theirs
    assert our_calls == their_calls and len(our_calls) >= 1    # the LM was called, as in DSPy, before any error
