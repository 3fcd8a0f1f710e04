"""Comparing two sides' runs (their snapshots, from ``_snapshot``) and readable diffs of what differs.

What counts as equal is the snapshots' business (strict, type-carrying: see ``_snapshot``); here the
differences are found, the documented mappings accepted with a note, and each difference shown.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from ._snapshot import ExcInfo, _unaddressed, normalize_kwargs, typed

__all__ = ["Difference", "compare", "DOCUMENTED_MAPPINGS", "messages_diff", "show"]


def messages_diff(a: Any, b: Any, a_name: str = "dspy", b_name: str = "native") -> str:
    """A unified diff of the first differing message (role, content and any extra keys)."""
    if not isinstance(a, list) or not isinstance(b, list):
        return f"{a_name} messages: {a!r}\n{b_name} messages: {b!r}"
    for index in range(max(len(a), len(b))):
        if index >= len(a) or index >= len(b):
            extra, who = (b, b_name) if index >= len(a) else (a, a_name)
            return f"message count differs ({a_name}: {len(a)}, {b_name}: {len(b)}); first extra on {who}:\n{extra[index]!r}"
        ma, mb = a[index], b[index]
        if typed(ma) == typed(mb):
            continue
        if not isinstance(ma, dict) or not isinstance(mb, dict):
            return f"message {index}: {a_name}={ma!r}\n{b_name}={mb!r}"
        lines = [f"message {index} differs"]
        if list(ma.keys()) != list(mb.keys()):
            lines.append(f"  keys: {a_name}={list(ma.keys())} {b_name}={list(mb.keys())}")
        if ma.get("role") != mb.get("role"):
            lines.append(f"  role: {a_name}={ma.get('role')!r} {b_name}={mb.get('role')!r}")
        ca, cb = ma.get("content"), mb.get("content")
        if isinstance(ca, str) and isinstance(cb, str) and ca != cb:
            diff = difflib.unified_diff(
                ca.splitlines(keepends=True), cb.splitlines(keepends=True), f"{a_name}[{index}].content",
                f"{b_name}[{index}].content", n=2,
            )
            lines.append("".join(show_line(d) for d in diff))
        elif typed(ca) != typed(cb):
            lines.append(f"  content: {a_name}={ca!r}\n  {b_name}={cb!r}")
        return "\n".join(lines)
    return ""


def show_line(line: str) -> str:
    """A diff line with invisible trouble made visible: trailing spaces and missing final newlines."""
    body = line[:-1] if line.endswith("\n") else line
    marker = "" if line.endswith("\n") else "⏎(no newline)"
    stripped = body.rstrip(" ")
    if len(stripped) != len(body) and not line.startswith(("---", "+++")):
        body = stripped + "·" * (len(body) - len(stripped))
    return f"{body}{marker}\n"


def show(value: Any, limit: int = 600) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} chars)"


@dataclass
class Difference:
    aspect: str
    detail: str

    def __str__(self) -> str:
        return f"[{self.aspect}] {self.detail}"


# --- comparing -----------------------------------------------------------------------------------------------------
def _no_lm(a: ExcInfo, b: ExcInfo) -> bool:
    return (
        a.name == "ValueError" and a.message.startswith("No LM is loaded.")
        and b.name == "ConfigError" and issubclass(b.exc_type, ValueError) and "lm=" in b.message
    )


# Deliberate differences (docs/parity.md, "Known differences"), beyond the
# general raw-SyntaxError/TypeError/pydantic mapping: (name, predicate on (dspy error, native error)).
DOCUMENTED_MAPPINGS: list[tuple[str, Any]] = [
    ("no LM: native raises ConfigError (a ValueError) naming lm= and dspex.configure", _no_lm),
]


def _compare_errors(a: ExcInfo | None, b: ExcInfo | None, out: list[Difference], notes: list[str]) -> None:
    if a is None and b is None:
        return
    if a is None or b is None:
        which = "only DSPy raised" if b is None else "only native raised"
        out.append(Difference("error", f"{which}: dspy={a} | native={b}"))
        return
    if a.stage != b.stage:
        out.append(Difference("error", f"raised at different stages: dspy={a} | native={b}"))
        return
    if a.name == b.name and a.message == b.message:
        return
    from dspex.errors import DspexError

    raw_pydantic = a.stage == "construct" and a.exc_type.__module__.startswith("pydantic")
    if (issubclass(a.exc_type, (SyntaxError, TypeError)) or raw_pydantic) and issubclass(b.exc_type, DspexError):
        notes.append(f"mapped raw {a.name} to {b.name} (documented mapping): dspy={a.message!r} native={b.message!r}")
        return
    for name, accepts in DOCUMENTED_MAPPINGS:
        if accepts(a, b):
            notes.append(f"documented mapping ({name}): dspy={a.message!r} native={b.message!r}")
            return
    if a.exc_type.__module__ == "builtins" and issubclass(b.exc_type, a.exc_type) and a.message == b.message:
        notes.append(f"native raised {b.name}, a subclass of DSPy's {a.name}, with the same message")
        return
    out.append(Difference("error", f"dspy={a}\n  native={b}"))


def _compare_calls(a: list[Any], b: list[Any], out: list[Difference]) -> None:
    if len(a) != len(b):
        out.append(Difference("calls", f"LM call count differs: dspy={len(a)} native={len(b)}"))
    for index, (ca, cb) in enumerate(zip(a, b)):
        if ca.mode != cb.mode:
            out.append(Difference("calls", f"call {index}: dspy used {ca.mode}, native used {cb.mode}"))
        ma, mb = _unaddressed(ca.messages), _unaddressed(cb.messages)
        if typed(ma) != typed(mb):
            out.append(Difference("calls", f"call {index} messages differ:\n{messages_diff(ma, mb)}"))
        ka, kb = normalize_kwargs(ca.kwargs), normalize_kwargs(cb.kwargs)
        if ka != kb:
            keys = sorted(set(ka) | set(kb))
            detail = "; ".join(
                f"{k}: dspy={show(ca.kwargs.get(k, '<absent>'))} native={show(cb.kwargs.get(k, '<absent>'))}"
                for k in keys
                if ka.get(k) != kb.get(k)
            )
            out.append(Difference("calls", f"call {index} kwargs differ: {detail}"))
        if typed(_unaddressed(ca.prompt)) != typed(_unaddressed(cb.prompt)):
            out.append(Difference("calls", f"call {index} prompt= differs: dspy={ca.prompt!r} native={cb.prompt!r}"))
    if len(a) != len(b) and min(len(a), len(b)) < max(len(a), len(b)):
        longer, who = (a, "dspy") if len(a) > len(b) else (b, "native")
        extra = longer[min(len(a), len(b))]
        out.append(Difference("calls", f"first extra call ({who}) kwargs={show(extra.kwargs)}"))


def _compare_results(a: Any, b: Any, out: list[Difference]) -> None:
    if a.snapshot is None or b.snapshot is None:
        return
    for key in dict.fromkeys([*a.snapshot, *b.snapshot]):
        va, vb = a.snapshot.get(key, "<absent>"), b.snapshot.get(key, "<absent>")
        if va != vb:
            out.append(Difference("result", f"{key}: dspy={show(va)}\n  native={show(vb)}"))


def compare(a: Any, b: Any, aspects: frozenset[str]) -> tuple[list[Difference], list[str]]:
    out: list[Difference] = []
    notes: list[str] = []
    if "construct" in aspects:
        _compare_errors(a.construct_error, b.construct_error, out, notes)
    if a.construct_error or b.construct_error:
        return out, notes
    if a.random_draw != b.random_draw:
        text = "constructing the module left the global `random` in a different state"
        (out.append(Difference("random", text)) if "random" in aspects else notes.append(text))
    if "calls" in aspects:
        _compare_calls(a.calls, b.calls, out)
    if "error" in aspects:
        _compare_errors(a.error, b.error, out, notes)
    if "result" in aspects:
        _compare_results(a, b, out)
    if "logs" in aspects and a.logs != b.logs:
        index = next((i for i, (x, y) in enumerate(zip(a.logs, b.logs)) if x != y), min(len(a.logs), len(b.logs)))
        first_a = a.logs[index] if index < len(a.logs) else "<none>"
        first_b = b.logs[index] if index < len(b.logs) else "<none>"
        out.append(Difference("logs", f"warnings/callback events during the call differ ({len(a.logs)} vs "
                                      f"{len(b.logs)}); first difference at #{index}:\n  dspy={first_a}\n  native={first_b}"))
    if "inputs" in aspects and (a.inputs_after == a.inputs_before) != (b.inputs_after == b.inputs_before):
        out.append(Difference("inputs", "one implementation mutated the caller's inputs and the other did not"))
    return out, notes
