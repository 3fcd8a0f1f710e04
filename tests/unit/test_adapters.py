"""Unit tests for dspex.adapters: exact prompt text, parsing rules, the call path, caching and import hygiene."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import threading
from typing import Any, Optional

import pytest

from adapters_support import Inner, PlainLM, io
from dspex.adapters import ChatAdapter, JSONAdapter
from dspex.adapters._schema import structured_output_model
from dspex.adapters._values import format_field_value
from dspex.errors import AdapterParseError, DspexError
from dspex.signature import InputField, OutputField, Signature


class QA(Signature):
    """Answer the question.

    Be brief."""

    question: str = InputField(desc="what the user asked")
    k: int = InputField()
    answer: str = OutputField()
    score: float = OutputField(desc="confidence", ge=0, le=1)


SYSTEM = """Your input fields are:
1. `question` (str): what the user asked
2. `k` (int):
Your output fields are:
1. `answer` (str): 
2. `score` (float): confidence
Constraints: greater than or equal to: 0, less than or equal to: 1
All interactions will be structured in the following way, with the appropriate values filled in.

[[ ## question ## ]]
{question}

[[ ## k ## ]]
{k}

[[ ## answer ## ]]
{answer}

[[ ## score ## ]]
{score}        # note: the value you produce must be a single float value

[[ ## completed ## ]]
In adhering to this structure, your objective is: 
        Answer the question.
        
        Be brief."""

USER = """[[ ## question ## ]]
Why?

[[ ## k ## ]]
3

Respond with the corresponding output fields, starting with the field `[[ ## answer ## ]]`, then `[[ ## score ## ]]` (must be formatted as a valid Python float), and then ending with the marker for `[[ ## completed ## ]]`."""


def test_chat_format_exact_text() -> None:
    messages = ChatAdapter().format(QA, [], {"question": "Why?", "k": 3})
    assert messages == [{"role": "system", "content": SYSTEM}, {"role": "user", "content": USER}]


def test_json_format_structure_and_reminder() -> None:
    system, user = (m["content"] for m in JSONAdapter().format(QA, [], {"question": "Why?", "k": 3}))
    assert 'Outputs will be a JSON object with the following fields.\n\n{\n  "answer": "{answer}",\n' in system
    assert '"score": "{score}        # note: the value you produce must be a single float value"\n}' in system
    assert user.endswith("Respond with a JSON object in the following order of fields: `answer`, then `score` "
                         "(must be formatted as a valid Python float).")


def test_demo_rendering_incomplete_first_and_stripped() -> None:
    demos = [
        {"question": "full", "k": 1, "answer": "yes  \n", "score": 0.5},
        {"question": "partial", "answer": "maybe"},
        {"question": "dropped"},
    ]
    messages = ChatAdapter().format(QA, demos, {"question": "Why?", "k": 3})
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user", "assistant", "user"]
    assert messages[1]["content"] == (
        "This is an example of the task, though some input or output fields are not supplied.\n\n"
        "[[ ## question ## ]]\npartial"
    )
    assert messages[2]["content"] == (
        "[[ ## answer ## ]]\nmaybe\n\n[[ ## score ## ]]\nNot supplied for this particular example.\n\n"
        "[[ ## completed ## ]]\n"
    )
    assert messages[3]["content"] == "[[ ## question ## ]]\nfull\n\n[[ ## k ## ]]\n1"
    assert messages[4]["content"] == "[[ ## answer ## ]]\nyes  \n\n\n[[ ## score ## ]]\n0.5\n\n[[ ## completed ## ]]\n"


@pytest.mark.parametrize(
    ("is_str", "value", "text"),
    [
        (True, ["a", "b\nc"], "[1] «a»\n[2] «««\n    b\n    c\n»»»"),
        (True, ["only"], "«only»"),
        (True, [], "N/A"),
        (False, ["a"], '["a"]'),
        (False, {"ü": 1.5, "n": None}, '{"ü": 1.5, "n": null}'),
        (False, 1e-9, "1e-09"),
        (False, float("inf"), "inf"),
        (False, [float("inf")], "[null]"),
        (False, None, "None"),
        (False, True, "True"),
        (False, (1, "x"), '[1, "x"]'),
        (False, Inner(x=1), '{"x": 1, "tags": []}'),
    ],
)
def test_format_field_value(is_str: bool, value: Any, text: str) -> None:
    assert format_field_value(is_str, value) == text


def test_str_field_given_int_list_raises_type_error() -> None:
    with pytest.raises(TypeError):
        ChatAdapter().format(QA, [], {"question": [1, 2], "k": 1})


def test_chat_parse_quirks() -> None:
    sig = io({"q": str}, {"a": str, "b": int})[0]
    parse = ChatAdapter().parse
    assert parse(sig, "[[ ## a ## ]] same line\nnext\n[[ ## b ## ]]\n1") == {"a": "same line\nnext", "b": 1}
    assert parse(sig, "[[ ## a ## ]]\nfirst\n[[ ## a ## ]]\nsecond\n[[ ## b ## ]]\n2")["a"] == "first"
    # The header is matched on the stripped line but the value is sliced from the raw one.
    assert parse(sig, "  [[ ## a ## ]]\nx\n[[ ## b ## ]]\n3")["a"] == "]]\nx"
    assert list(parse(sig, "[[ ## b ## ]]\n4\n[[ ## a ## ]]\ny")) == ["a", "b"]


def test_chat_parse_errors_are_dspy_worded() -> None:
    sig = io({"q": str}, {"a": str, "b": int})[0]
    with pytest.raises(AdapterParseError) as info:
        ChatAdapter().parse(sig, "[[ ## a ## ]]\nx")
    assert str(info.value) == (
        "Adapter ChatAdapter failed to parse the LM response. \n\nLM Response: [[ ## a ## ]]\nx \n\n"
        "Expected to find output fields in the LM response: [a, b] \n\n"
        "Actual output fields parsed from the LM response: [a] \n\n"
    )
    with pytest.raises(AdapterParseError, match=r"^Failed to parse field b with value 3.5 from the LM response"):
        ChatAdapter().parse(sig, "[[ ## a ## ]]\nx\n[[ ## b ## ]]\n3.5")
    assert isinstance(info.value, DspexError) and not isinstance(info.value, ValueError)


def test_optional_and_default_outputs_are_filled() -> None:
    class S(Signature):
        q: str = InputField()
        a: str = OutputField()
        o: Optional[int] = OutputField()
        d: list[str] = OutputField(default_factory=list)

    assert ChatAdapter().parse(S, "[[ ## a ## ]]\nx") == {"a": "x", "o": None, "d": []}
    assert JSONAdapter().parse(S, '{"a": "x", "o": "7"}') == {"a": "x", "o": 7, "d": []}


def test_json_parse_finds_object_in_noise_and_reports_substring() -> None:
    sig = io({"q": str}, {"a": str})[0]
    assert JSONAdapter().parse(sig, 'Here: {"a": 1} and {"b": 2}') == {"a": "1"}
    with pytest.raises(AdapterParseError) as info:
        JSONAdapter().parse(sig, "noise [1, 2] {bad")
    assert "LM response cannot be serialized to a JSON object." in str(info.value)


def test_call_postprocess_and_fallback_with_plain_lm() -> None:
    sig = io({"q": str}, {"a": str})[0]
    lm = PlainLM([[{"text": "[[ ## a ## ]]\nhi", "logprobs": [0.1]}, "[[ ## a ## ]]\nyo"]])
    assert ChatAdapter()(lm, {}, sig, [], {"q": "x"}) == [{"a": "hi", "logprobs": [0.1]}, {"a": "yo"}]
    lm = PlainLM([["???"], ['{"a": "json"}']])
    kwargs = {"tools": [1], "temperature": 0.1}
    assert ChatAdapter()(lm, kwargs, sig, [], {"q": "x"}) == [{"a": "json"}]
    assert len(lm.calls) == 2 and kwargs == {"temperature": 0.1}
    assert lm.calls[1]["messages"][0]["content"].startswith("Your input fields are:")
    assert "Respond with a JSON object" in lm.calls[1]["messages"][-1]["content"]
    assert ChatAdapter()(PlainLM([[]]), {}, sig, [], {"q": "x"}) == []
    with pytest.raises(AdapterParseError, match="The LM returned an empty or null response."):
        JSONAdapter()(PlainLM([[{"text": None}]]), {}, sig, [], {"q": "x"})


def test_lm_errors_propagate_without_retry() -> None:
    sig = io({"q": str}, {"a": str})[0]
    calls = []

    def lm(messages: Any = None, **kwargs: Any) -> Any:
        calls.append(messages)
        raise ConnectionError("down")

    with pytest.raises(ConnectionError):
        ChatAdapter()(lm, {}, sig, [], {"q": "x"})
    assert len(calls) == 1


def test_async_uses_acall_when_present_else_thread() -> None:
    sig = io({"q": str}, {"a": str})[0]
    seen: list[str] = []

    class AsyncLM:
        def __call__(self, **kwargs: Any) -> Any:
            raise AssertionError("sync path must not be used when acall exists")

        async def acall(self, messages: Any = None, **kwargs: Any) -> Any:
            seen.append("acall")
            return ["[[ ## a ## ]]\nasync"]

    def sync_lm(messages: Any = None, **kwargs: Any) -> Any:
        seen.append(threading.current_thread().name)
        return ["[[ ## a ## ]]\nthreaded"]

    assert asyncio.run(ChatAdapter().acall(AsyncLM(), {}, sig, [], {"q": "x"})) == [{"a": "async"}]
    assert asyncio.run(ChatAdapter().acall(sync_lm, {}, sig, [], {"q": "x"})) == [{"a": "threaded"}]
    assert seen[0] == "acall" and seen[1] != threading.main_thread().name


def test_response_format_choices() -> None:
    sig = io({"q": str}, {"a": str, "m": Inner})[0]

    class LM(PlainLM):
        supported_params = {"response_format"}
        supports_response_schema = True

    lm = LM([['{"a": "x", "m": {"x": 1}}']])
    JSONAdapter()(lm, {}, sig, [], {"q": "x"})
    fmt = lm.calls[0]["kwargs"]["response_format"]
    assert fmt.__name__ == "DSPyProgramOutputs"
    schema = fmt.model_json_schema()
    assert schema["required"] == ["a", "m"] and schema["additionalProperties"] is False
    assert schema["$defs"]["Inner"]["required"] == ["x", "tags"]
    LM.supports_response_schema = False
    lm = LM([['{"a": "x", "m": {"x": 1}}']])
    JSONAdapter()(lm, {}, sig, [], {"q": "x"})
    assert lm.calls[0]["kwargs"]["response_format"] == {"type": "json_object"}
    with pytest.raises(ValueError, match="open-ended mapping"):
        structured_output_model(io({}, {"d": dict[str, int]})[0]._output_fields)


def test_plan_is_cached_per_signature_and_adapter_class() -> None:
    chat, other_chat, js = ChatAdapter(), ChatAdapter(), JSONAdapter()

    class Fresh(QA):
        """Answer the question.

        Be brief."""

    assert chat.plan(Fresh) is other_chat.plan(Fresh)
    assert chat.plan(Fresh).system is None  # built on first format only
    chat.format(Fresh, [], {}), js.format(Fresh, [], {})
    assert other_chat.plan(Fresh).system == SYSTEM
    assert chat.plan(Fresh) is not chat.plan(QA)
    assert js.plan(QA) is not chat.plan(QA)
    assert js.plan(QA).system != chat.plan(QA).system


def test_import_and_str_only_calls_stay_light() -> None:
    code = textwrap.dedent(
        """
        import sys
        from dspex.adapters import ChatAdapter, JSONAdapter
        from dspex.signature import InputField, OutputField, Signature
        class S(Signature):
            q: str = InputField()
            a: str = OutputField()
            n: int = OutputField()
        lm = lambda messages=None, **kw: ["[[ ## a ## ]]\\nx\\n[[ ## n ## ]]\\n3"]
        out = ChatAdapter()(lm, {}, S, [{"q": "d", "a": "e", "n": 1}], {"q": ["l", "m"]})
        assert out[0] == {"a": "x", "n": 3}, out
        assert JSONAdapter().parse(S, '{"a": "x", "n": 3}') == {"a": "x", "n": 3}
        heavy = [m for m in ("pydantic", "json_repair", "dspy", "regex") if m in sys.modules]
        assert not heavy, heavy
        """
    )
    subprocess.run([sys.executable, "-c", code], check=True)
