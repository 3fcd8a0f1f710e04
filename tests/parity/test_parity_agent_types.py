"""Native Predict on signatures with DSPy's agent types (History, Tool, ToolCalls, Reasoning) == DSPy 3.4.1.

Routed modules whose signatures use these types now stay native, so a native Predict handed a dspy.Signature
with them (and dspy values: a dspy.History, dspy.Tool objects) must send the same requests and return the same
values (DSPy's own classes, since the annotations are DSPy's) as dspy.Predict: text tool calls, native function
calling (the ``tools`` kwarg and ``tool_calls`` read back), conversation history with tool results, reasoning.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

import dspy
import pytest
from hypothesis import given
from hypothesis import strategies as st

import dspex.native as native
from dspex.parity._agent_case import AgentLM
from dspex.parity.harness import run_pair

pytestmark = pytest.mark.parity


def search(query: str, limit: int = 3) -> str:
    """Search the web."""
    return query


def calc(x: int, y: int) -> int:
    return x + y


class AgentSig(dspy.Signature):
    """Answer with tools."""

    question: str = dspy.InputField()
    history: dspy.History = dspy.InputField()
    tools: list[dspy.Tool] = dspy.InputField()
    thought: dspy.Reasoning = dspy.OutputField()
    calls: dspy.ToolCalls = dspy.OutputField()


def _history(with_results: bool, ids: bool) -> dspy.History:
    calls = dspy.ToolCalls.from_dict_list([{"id": "a1" if ids else None, "name": "search", "args": {"query": "x"}}])
    if with_results:
        results = dspy.ToolCallResults.from_tool_calls_and_values(calls, ["found «x»"], [False])
        calls = calls.model_copy(update={"tool_call_results": results})
    return dspy.History(messages=[
        {"question": "first?", "thought": "hmm", "calls": calls},
        {"question": "second?", "calls": {"tool_calls": [{"name": "calc", "args": {"x": 1, "y": 2}}]}},
        {"thought": "only an output"},
    ])


def _text_answer(calls: list[dict[str, Any]]) -> str:
    return f"[[ ## thought ## ]]\nLet me see.\n\n[[ ## calls ## ]]\n{json.dumps({'tool_calls': calls})}\n\n[[ ## completed ## ]]"


def _native_answer(calls: list[dict[str, Any]], text: str = "") -> dict[str, Any]:
    return {"text": text, "tool_calls": [
        {"id": f"c{i}", "type": "function", "function": {"name": c["name"], "arguments": json.dumps(c["args"])}}
        for i, c in enumerate(calls)
    ]}


def _adapter(module: Any, kind: str) -> Any:
    if kind == "chat":
        return contextlib.nullcontext()
    lib = dspy if isinstance(module, dspy.Module) else native
    context = dspy.context if lib is dspy else native.settings.context
    adapter = lib.JSONAdapter() if kind == "json" else lib.ChatAdapter(use_native_function_calling=True)
    return context(adapter=adapter)


def check(script: list[Any], adapter: str = "chat", fc: bool = False, reasoning: bool = False,
          history: Any = None, signature: Any = AgentSig, config: dict[str, Any] | None = None) -> Any:
    inputs: dict[str, Any] = {"question": "What is 1+2?", "tools": [dspy.Tool(search), dspy.Tool(calc)]}
    if history is not None:
        inputs["history"] = history

    def invoke(module: Any, lm: Any, inputs: dict[str, Any], call_kwargs: dict[str, Any]) -> Any:
        with _adapter(module, adapter):
            return module(**inputs, lm=lm, **({"config": dict(config)} if config else {}))

    result = run_pair(lambda: dspy.Predict(signature), lambda: native.Predict(signature), inputs, script,
                      make_lm=lambda: AgentLM(script, supports_function_calling=fc, supports_reasoning=reasoning),
                      invoke=invoke)
    assert result.ok, result.report()
    return result


CALLS = [{"name": "search", "args": {"query": "cats"}}, {"name": "calc", "args": {"x": 1, "y": 2}}]


@pytest.mark.parametrize("adapter", ["chat", "json", "chat_fc"])
def test_text_tool_calls(adapter):
    answer = _text_answer(CALLS) if adapter != "json" else json.dumps({"thought": "t", "calls": {"tool_calls": CALLS}})
    result = check([[answer], [answer]], adapter)
    assert type(result.native.result.calls) is dspy.ToolCalls and type(result.native.result.thought) is dspy.Reasoning


@pytest.mark.parametrize("adapter", ["json", "chat_fc"])
def test_native_function_calling(adapter):
    result = check([[_native_answer(CALLS, '{"thought": "t"}')]], adapter, fc=True)
    assert "tools" in result.native.calls[0].kwargs
    assert [c.name for c in result.native.result.calls.tool_calls] == ["search", "calc"]


@pytest.mark.parametrize("adapter", ["chat", "json", "chat_fc"])
@pytest.mark.parametrize(("with_results", "ids"), [(True, True), (True, False), (False, True)])
def test_history_with_tool_results(adapter, with_results, ids):
    answer = _text_answer(CALLS) if adapter != "json" else json.dumps({"thought": "t", "calls": CALLS})
    result = check([[answer], [answer]], adapter, history=_history(with_results, ids))
    roles = [m["role"] for m in result.native.calls[0].messages]
    assert roles[0] == "system" and roles[-1] == "user" and "assistant" in roles


def test_native_reasoning():
    answer = {"text": _text_answer(CALLS).replace("[[ ## thought ## ]]\nLet me see.\n\n", ""),
              "reasoning_content": "deep thoughts"}
    result = check([[answer]], reasoning=True)
    assert result.native.calls[0].kwargs["reasoning_effort"] == "low"
    assert result.native.result.thought == "deep thoughts"


def test_forced_tool_choice_and_reasoning_off():
    config = {"tool_choice": {"type": "function", "function": {"name": "search"}}, "reasoning_effort": None}
    check([[_native_answer(CALLS[:1])]], "json", fc=True, reasoning=True, config=config)
    check([[_text_answer(CALLS)]], "chat", reasoning=True, config=config)


def test_a_text_mentioning_reasoning_content_fails_like_dspy():
    check([[_text_answer(CALLS) + " reasoning_content"]], reasoning=True)


texts = st.text(st.sampled_from("ab {}[]\":,\n#"), max_size=30)


@given(st.lists(texts | st.builds(_text_answer, st.just(CALLS)), min_size=1, max_size=3),
       st.sampled_from(["chat", "json", "chat_fc"]))
def test_any_answer_text(answers, adapter):
    check([[a] for a in answers], adapter)


def test_an_input_dict_with_a_lone_surrogate_key():
    """pydantic cannot dump a dict whose key holds a lone surrogate: DSPy renders it with str(), and so must native."""
    class Sig(dspy.Signature):
        data: dict = dspy.InputField()
        answer: str = dspy.OutputField()

    script = [["[[ ## answer ## ]]\nok\n\n[[ ## completed ## ]]"]]
    inputs = {"data": {"\ud800": 1, "ok": [1]}}
    result = run_pair(lambda: dspy.Predict(Sig), lambda: native.Predict(Sig), inputs, script)
    assert result.ok, result.report()
    assert "{'\\ud800': 1" in result.native.calls[0].messages[-1]["content"]
