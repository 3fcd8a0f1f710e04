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


_PROGRAM = """
import asyncio, io, json, sys
{imports}
answers = iter(["[[ ## query ## ]]\\nq\\n\\n[[ ## completed ## ]]",
                "[[ ## reasoning ## ]]\\nr\\n\\n[[ ## answer ## ]]\\nParis\\n\\n[[ ## completed ## ]]"] * 2)

class RAG(ns.Module):
    def __init__(self):
        super().__init__()
        self.rewrite = ns.Predict("question -> query")
        self.answer = ns.ChainOfThought("question, query -> answer")

    def forward(self, question):
        return self.answer(question=question, query=self.rewrite(question=question).query)

    async def aforward(self, question):
        query = (await self.rewrite.acall(question=question)).query
        return await self.answer.acall(question=question, query=query)

program = RAG()
with OpenAICompatServer(lambda request: next(answers)) as server:
    lm = LM("openai/test", api_base=server.api_base, api_key="k", cache=False)
    with context(lm=lm):
        program(question="Capital of France?")
        asyncio.run(program.acall(question="And of Peru?"))
out = io.StringIO()
program.inspect_history(n=3, file=out)
keys = ("messages", "prompt", "outputs", "timestamp")
print(json.dumps({{"dspy_loaded": "dspy" in sys.modules, "printed": out.getvalue(),
                  "counts": [len(m.history) for m in (program, program.rewrite, program.answer, program.answer.predict, lm)],
                  "history": [{{k: e[k] for k in keys}} for e in program.history]}}))
"""
_NATIVE = """import dspex.native as ns
from dspex.lm import LM
from dspex.lm.testing import OpenAICompatServer
context = ns.settings.context"""
_DSPY = """import dspy as ns
from dspy import LM
from dspex.lm.testing import OpenAICompatServer
ns.configure_cache(enable_disk_cache=False, enable_memory_cache=False)
context = ns.context"""


def _run(imports: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-c", _PROGRAM.format(imports=imports)], capture_output=True, text=True,
                          timeout=180)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_native_only_program_keeps_module_history_as_dspy_does() -> None:
    # Without DSPy in the process a native program keeps its modules' history itself (DSPy's caller_modules):
    # every enclosing module, sync and async, gets each LM call's entry; inspect_history prints them as DSPy does.
    native_run, dspy_run = _run(_NATIVE), _run(_DSPY)
    assert native_run["dspy_loaded"] is False and dspy_run["dspy_loaded"] is True
    assert native_run["counts"] == dspy_run["counts"] == [4, 2, 2, 2, 4]
    want = io.StringIO()
    pretty_print_history(native_run["history"], 3, file=want)
    assert native_run["printed"] == want.getvalue()
    assert "Capital of France?" in native_run["printed"] and "And of Peru?" in native_run["printed"]


def test_an_entry_without_outputs_prints_its_messages_without_a_response() -> None:
    out = io.StringIO()
    print_history([{"messages": [{"role": "user", "content": "hi"}], "outputs": [], "timestamp": "T"}], file=out)
    assert "hi" in out.getvalue() and "Response:" not in out.getvalue()
