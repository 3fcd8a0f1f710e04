"""Generated signature edits (with_instructions / prepend / append / insert / delete / with_updated_fields),
instructions of every shape, and per-call ``signature=``: prompts, parses and errors must match DSPy."""

from __future__ import annotations

from typing import Any, Optional

import dspy
from diff_strategies import build_signature, signature_spec
from diff_support import Case, assert_same, chat, examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

SETTINGS = dict(deadline=None, suppress_health_check=list(HealthCheck))

INSTRUCTIONS = ["", "Be brief.", "\tTabbed\tinstructions", "CRLF\r\nline", "\n\n  leading blank\n    indented", "   ",
                "ünïcødé ✓ 中文 🚀", "long " * 400, "  a\n\n  b\n", "x\u2028y"]
NEW_NAMES = ["extra", "a", "q", "question", "answer", "reasoning", "zé"]
TYPES = [str, int, Optional[int], list[str], bool]


@st.composite
def edit(draw: Any) -> tuple[Any, ...]:
    op = draw(st.sampled_from(["with_instructions", "prepend", "append", "insert", "delete", "update"]))
    if op == "with_instructions":
        return (op, draw(st.sampled_from(INSTRUCTIONS)))
    if op == "delete":
        return (op, draw(st.sampled_from(NEW_NAMES + ["q", "a"])))
    if op == "update":
        changes = {}
        if draw(st.booleans()):
            changes["desc"] = draw(st.sampled_from([None, "", "new desc", "multi\nline"]))
        if draw(st.booleans()):
            changes["type_"] = draw(st.sampled_from(TYPES))
        return (op, draw(st.sampled_from(NEW_NAMES)), changes)
    kind = draw(st.sampled_from(["InputField", "OutputField"]))
    desc = draw(st.sampled_from([None, "", "d"]))
    typ = draw(st.sampled_from(TYPES + [None]))
    name = draw(st.sampled_from(NEW_NAMES))
    if op == "insert":
        return (op, draw(st.integers(-3, 3)), name, kind, desc, typ)
    return (op, name, kind, desc, typ)


def apply(ns: Any, sig: Any, e: tuple[Any, ...]) -> Any:
    op = e[0]
    if op == "with_instructions":
        return sig.with_instructions(e[1])
    if op == "delete":
        return sig.delete(e[1])
    if op == "update":
        return sig.with_updated_fields(e[1], **e[2])
    if op == "insert":
        _, index, name, kind, desc, typ = e
        field = getattr(ns, kind)() if desc is None else getattr(ns, kind)(desc=desc)
        return sig.insert(index, name, field, typ)
    _, name, kind, desc, typ = e
    field = getattr(ns, kind)() if desc is None else getattr(ns, kind)(desc=desc)
    return getattr(sig, op)(name, field, typ)


@st.composite
def signature_case(draw: Any) -> Case:
    spec = draw(signature_spec(out_types=st.sampled_from([(str, "str"), (int, "int"), (Optional[str], "Optional[str]")])))
    form = draw(st.sampled_from(["string", "class", "dspy"]))
    edits = draw(st.lists(edit(), max_size=4))
    cot = draw(st.booleans())
    per_call = draw(st.integers(0, 3))  # 0: the edited signature goes per call to a module built on the base one
    # Enough answers for whatever fields survive the edits.
    names = ["reasoning", "extra", "a", "q", "question", "answer", "zé"] + [n for n, *_ in spec["outputs"]]
    answer = chat(**{n: "1" for n in dict.fromkeys(names)})
    inputs = {n: f"v-{n}" for n in dict.fromkeys(["q", "question", "extra", "zé", "a"] + [n for n, *_ in spec["inputs"]])}

    def build_sig(ns: Any) -> Any:
        side = dspy if form == "dspy" else ns
        sig = build_signature(ns, spec, form)
        for e in edits:
            sig = apply(side, sig, e)
        return sig

    def build(ns: Any) -> Any:
        if per_call == 0:
            return (ns.ChainOfThought if cot else ns.Predict)(build_signature(ns, spec, form))
        return (ns.ChainOfThought if cot else ns.Predict)(build_sig(ns))

    call: dict[str, Any] = dict(inputs)
    case = Case(build=build, call=call, script=[[answer], ['{"answer": 1}']],
                mode=draw(st.sampled_from(["sync", "async"])),
                label=f"form={form} cot={cot} per_call={per_call} edits={edits!r} spec={spec!r}")
    if per_call == 0 and not cot:
        # The edited signature per call: build it lazily on each side inside the module build.
        def build_with_call_signature(ns: Any) -> Any:
            module = ns.Predict(build_signature(ns, spec, form))
            sig = build_sig(ns)

            class Bound:
                def __init__(self) -> None:
                    self.demos = []

                def set_lm(self, lm: Any) -> None:
                    module.set_lm(lm)

                def __call__(self, **kw: Any) -> Any:
                    return module(signature=sig, **kw)

                async def acall(self, **kw: Any) -> Any:
                    return await module.acall(signature=sig, **kw)

            return Bound()

        case.build = build_with_call_signature
    return case


@settings(max_examples=examples(120, 1200), **SETTINGS)
@given(signature_case())
def test_generated_signature_edits_match_dspy(case: Case) -> None:
    assert_same(case)
