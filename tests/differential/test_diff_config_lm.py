"""Generated configs (n, temperature, rollout_id, from config / lm.kwargs / construction), LM return shapes
(dicts with text/logprobs, None, str, tuple, generator, too few/many completions, LM exceptions), how the LM is
handed over, and sync vs async."""

from __future__ import annotations

from typing import Any

from diff_support import Boom, Case, Fresh, assert_same, chat, examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

SETTINGS = dict(deadline=None, suppress_health_check=list(HealthCheck))

TEMPERATURES = [None, 0, 0.0, 0.15, 0.150001, 0.7, 1, "0.1", -1, False, True]
NS = [None, 0, 1, 2, 3, 5, True, 2.0]


@st.composite
def config_dict(draw: Any) -> dict[str, Any]:
    cfg: dict[str, Any] = {}
    if draw(st.booleans()):
        cfg["n"] = draw(st.sampled_from(NS))
    if draw(st.booleans()):
        cfg["temperature"] = draw(st.sampled_from(TEMPERATURES))
    if draw(st.integers(0, 3)) == 0:
        cfg["rollout_id"] = draw(st.integers(0, 3))
    if draw(st.integers(0, 5)) == 0:
        cfg["num_generations"] = draw(st.sampled_from([2, 3]))
    if draw(st.integers(0, 5)) == 0:
        cfg.update(tools=[{"x": 1}], tool_choice="auto", parallel_tool_calls=draw(st.booleans()))
    if draw(st.integers(0, 5)) == 0:
        cfg["max_tokens"] = 10
    return cfg


def _good(cot: bool, i: int) -> str:
    return chat(reasoning=f"r{i}", answer=str(i)) if cot else chat(answer=str(i))


@st.composite
def lm_output(draw: Any, cot: bool) -> Any:
    count = draw(st.integers(0, 4))
    items: list[Any] = []
    for i in range(count):
        kind = draw(st.integers(0, 9))
        if kind <= 4:
            items.append(_good(cot, i))
        elif kind == 5:
            items.append({"text": _good(cot, i), "logprobs": draw(st.sampled_from([None, {"t": [i]}, [], [i]]))})
        elif kind == 6:
            items.append({"text": draw(st.sampled_from([None, "", _good(cot, i)]))})
        elif kind == 7:
            items.append(draw(st.sampled_from(["", "garbage", None, 5, b"x"])))
        elif kind == 8:
            items.append({"text": _good(cot, i), "tool_calls": [], "extra": 1})
        else:
            items.append(_good(cot, i).replace("\n", "\r\n"))
    shape = draw(st.integers(0, 9))
    if shape == 0:
        return tuple(items)
    if shape == 1:
        return Fresh(lambda items=items: iter(list(items)))
    if shape == 2:
        return draw(st.sampled_from([None, _good(cot, 0), 0, {"text": _good(cot, 0)}]))
    if shape == 3:
        return Boom(draw(st.sampled_from([RuntimeError, ValueError, KeyError, TimeoutError])), "lm failed")
    return items


@st.composite
def config_case(draw: Any) -> Case:
    cot = draw(st.booleans())
    sig = draw(st.sampled_from(["question -> answer", "question -> answer: int", "question: str, ctx: list[str] -> answer"]))
    init_cfg = draw(config_dict())
    call_cfg = draw(config_dict())
    lm_kwargs = draw(st.one_of(st.none(), config_dict()))
    how = draw(st.sampled_from(["call", "set_lm", "context"]))
    script = [draw(lm_output(cot)), draw(lm_output(cot))]
    pass_config = draw(st.sampled_from(["yes", "no", "empty"]))

    def build(ns: Any) -> Any:
        return (ns.ChainOfThought if cot else ns.Predict)(sig, **init_cfg)

    call: dict[str, Any] = {"question": "q?"}
    if pass_config == "yes":
        call["config"] = call_cfg
    elif pass_config == "empty":
        call["config"] = {}
    return Case(build=build, call=call, script=script, lm_kwargs=lm_kwargs, lm_via=how,
                mode=draw(st.sampled_from(["sync", "async"])),
                adapter=draw(st.sampled_from([None, None, "json", "chat-nofallback"])),
                label=f"cot={cot} sig={sig} init={init_cfg}")


@settings(max_examples=examples(150, 1500), **SETTINGS)
@given(config_case())
def test_generated_configs_and_lm_outputs_match_dspy(case: Case) -> None:
    assert_same(case)
