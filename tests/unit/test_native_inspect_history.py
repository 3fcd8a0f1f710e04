"""A native-only program's ``inspect_history`` prints what ``dspy.inspect_history`` prints for the same history
(DSPy 3.4.1's ``pretty_print_history``): messages of every content kind, tool calls in either shape, several
completions, colours on a terminal and plain text in a file."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from typing import Any

from dspy.utils.inspect_history import pretty_print_history
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dspex.native._history import print_history

TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)


def _part() -> st.SearchStrategy[dict[str, Any]]:
    b64 = st.builds(lambda m, d: {"url": f"data:{m};base64,{d}"}, st.sampled_from(["image/png", "x"]), TEXT)
    return st.one_of(
        st.builds(lambda t: {"type": "text", "text": t}, TEXT),
        st.builds(lambda u: {"type": "image_url", "image_url": u}, st.one_of(b64, st.builds(lambda t: {"url": t}, TEXT))),
        st.builds(lambda f, d: {"type": "input_audio", "input_audio": {"format": f, "data": d}}, TEXT, TEXT),
        st.builds(lambda k, info: {"type": k, k: info}, st.sampled_from(["file", "input_file"]),
                  st.dictionaries(st.sampled_from(["filename", "file_id", "file_data"]), TEXT)),
        st.builds(lambda t: {"type": t}, st.sampled_from(["refusal", "thinking"])),
    )


def _tool_call() -> st.SearchStrategy[dict[str, Any]]:
    arguments = st.one_of(TEXT, st.builds(json.dumps, st.dictionaries(TEXT, st.integers())), st.dictionaries(TEXT, TEXT))
    return st.one_of(
        st.builds(lambda n, a: {"function": {"name": n, "arguments": a}}, TEXT, arguments),
        st.builds(lambda n, a: {"name": n, "args": a}, TEXT, st.dictionaries(TEXT, st.integers())),
        st.builds(lambda a: {"function": {}, "arguments": a}, arguments),
    )


def _message() -> st.SearchStrategy[dict[str, Any]]:
    content = st.one_of(TEXT, st.lists(_part(), max_size=4), st.none())
    calls = st.one_of(st.none(), st.lists(_tool_call(), max_size=2))
    return st.builds(lambda r, c, t: {"role": r, "content": c, **({"tool_calls": t} if t is not None else {})},
                     st.sampled_from(["system", "user", "assistant", "tool"]), content, calls)


def _output() -> st.SearchStrategy[Any]:
    as_dict = st.builds(lambda t, c: {"text": t, **({"tool_calls": c} if c else {})},
                        st.one_of(st.none(), TEXT), st.lists(_tool_call(), max_size=2))
    return st.one_of(TEXT, as_dict)


def _entry() -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(
        lambda m, p, o, ts: {"messages": m, "prompt": p, "outputs": o, **({"timestamp": ts} if ts else {})},
        st.one_of(st.none(), st.just([]), st.lists(_message(), min_size=1, max_size=3)), TEXT,
        st.lists(_output(), min_size=1, max_size=3), st.one_of(st.none(), TEXT))


def _printed(fn: Any, history: list[dict[str, Any]], n: int, to_file: bool, capsys: Any) -> str:
    if to_file:
        out = io.StringIO()
        fn(history, n, file=out)
        return out.getvalue()
    capsys.readouterr()
    fn(history, n)
    return capsys.readouterr().out


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(history=st.lists(_entry(), max_size=4), n=st.integers(-1, 5), to_file=st.booleans())
def test_print_history_prints_what_dspy_prints(history: list[dict[str, Any]], n: int, to_file: bool, capsys: Any) -> None:
    assert _printed(print_history, history, n, to_file, capsys) == \
        _printed(pretty_print_history, history, n, to_file, capsys)


_NATIVE_ONLY = """
import io, json, sys
import dspex.native as native
from dspex.lm import LM
from dspex.lm.testing import OpenAICompatServer
from dspex.native._history import print_history
answers = iter(["[[ ## answer ## ]]\\n42\\n\\n[[ ## completed ## ]]", "[[ ## answer ## ]]\\n7\\n\\n[[ ## completed ## ]]"])
module = native.Predict("question -> answer")
with OpenAICompatServer(lambda request: next(answers)) as server:
    lm = LM("openai/test", api_base=server.api_base, api_key="k", cache=False)
    module(question="six times seven?", lm=lm)
    module(question="a week has how many days?", lm=lm)
out = io.StringIO()
print_history(lm.history, 2, file=out)
keys = ("messages", "prompt", "outputs", "timestamp")
print(json.dumps({"dspy_loaded": "dspy" in sys.modules, "printed": out.getvalue(),
                  "history": [{k: e[k] for k in keys} for e in lm.history]}))
"""


def test_real_entries_of_a_native_only_program_print_like_dspy_s() -> None:
    # A native-only program (no DSPy in the process) over dspex.LM: its history entries, printed natively, read as
    # DSPy prints the same entries.
    done = subprocess.run([sys.executable, "-c", _NATIVE_ONLY], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    assert got["dspy_loaded"] is False and len(got["history"]) == 2
    want = io.StringIO()
    pretty_print_history(got["history"], 2, file=want)
    assert got["printed"] == want.getvalue()
    assert "six times seven?" in got["printed"] and "[[ ## answer ## ]]\n7" in got["printed"]


def test_an_entry_without_outputs_prints_its_messages_without_a_response() -> None:
    out = io.StringIO()
    print_history([{"messages": [{"role": "user", "content": "hi"}], "outputs": [], "timestamp": "T"}], file=out)
    assert "hi" in out.getvalue() and "Response:" not in out.getvalue()
