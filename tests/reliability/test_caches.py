"""Issue 10 item 7: per-signature caches are weak, so a signature nobody holds any more is freed.

Each cached value used to hold its own key (an input plan or adapter plan referring to its signature class), so
a ``WeakKeyDictionary`` never let go: 20,000 distinct signatures kept ~150 MB. Each test builds a module on a
fresh signature, calls it (filling every cache), drops it, and checks the signature class died.
(benchmarks/memory.py reports the RSS side over 20,000 signatures.)
"""

from __future__ import annotations

import gc
import re
import weakref
from typing import Any

import dspy
import pytest

import dspex
import dspex.native as dn
from dspex.signature import ensure_signature

_OUT = re.compile(r"`\[\[ ## (\w+) ## \]\]`")


def instant_lm(messages: list[dict[str, Any]] | None = None, **kwargs: Any) -> list[str]:
    wanted = [n for n in _OUT.findall(messages[-1]["content"]) if n != "completed"]
    return ["\n\n".join(f"[[ ## {n} ## ]]\nok" for n in wanted) + "\n\n[[ ## completed ## ]]"]


def json_lm(messages: list[dict[str, Any]] | None = None, **kwargs: Any) -> list[str]:
    return ['{"reasoning": "r", "answer_w": "ok"}']


@pytest.mark.parametrize("make", [
    lambda sig: dn.Predict(sig),
    lambda sig: dn.ChainOfThought(sig),
    lambda sig: dspex.Predict(sig, implementation="native"),
], ids=["native.Predict", "native.ChainOfThought", "routed-native"])
def test_a_called_module_does_not_keep_its_signature_alive(make):
    sig = ensure_signature("question_w -> answer_w")
    gone = weakref.ref(sig)
    module = make(sig)
    # DSPy is loaded here, so the routed module is a DSPy module and its calls join DSPy's own trace (DSPy's
    # state, capped at dspy.settings.max_trace_size); with the trace off, only dspex's caches could hold it.
    with dspy.context(trace=None):
        assert module(question_w="hi", lm=instant_lm).answer_w == "ok"
    inner = getattr(module, "predict", None)       # ChainOfThought's own Predict runs an extended signature
    gone_inner = weakref.ref(inner.signature) if inner is not None else gone
    del module, sig, inner
    gc.collect()
    assert gone() is None and gone_inner() is None


def test_the_json_adapter_plan_does_not_keep_its_signature_alive():
    sig = ensure_signature("question_w -> answer_w")
    gone = weakref.ref(sig)
    module = dn.Predict(sig)
    with dn.settings.context(adapter=dn.JSONAdapter()):
        assert module(question_w="hi", lm=json_lm).answer_w == "ok"
    del module, sig
    gc.collect()
    assert gone() is None
