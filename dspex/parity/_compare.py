"""Canonical, type-carrying snapshots of what each implementation produced, and readable diffs between them.

Equality here is strict on purpose: ``True`` and ``'True'`` differ, ``1`` and ``1.0`` differ, ``0.0`` and ``-0.0``
differ, NaN equals NaN, dict key order matters, and a pydantic model is equal only to an instance of the very
same class with equal fields.
"""

from __future__ import annotations

import difflib
import enum
import math
import re
from dataclasses import dataclass
from typing import Any

__all__ = ["typed", "ExcInfo", "Difference", "compare", "DOCUMENTED_MAPPINGS", "snapshot_result", "normalize_kwargs", "messages_diff", "show", "unaddress"]


def typed(value: Any, _depth: int = 0) -> Any:
    """A hashable-free canonical form that keeps every value's exact type."""
    if _depth > 50:
        return ("<deep>", repr(value)[:200])
    t = type(value)
    nxt = _depth + 1
    if value is None or t in (bool, int, str, bytes):
        return (t.__name__, value)
    if t is float:
        return ("float", "nan" if math.isnan(value) else repr(value))
    if isinstance(value, enum.Enum):
        return (_qual(t), t, "enum", value.name, typed(value.value, nxt))
    if t is dict or isinstance(value, dict):
        return (_qual(t), "dict", [(typed(k, nxt), typed(v, nxt)) for k, v in value.items()])
    if t in (list, tuple) or isinstance(value, (list, tuple)):
        return (_qual(t), [typed(v, nxt) for v in value])
    if isinstance(value, (set, frozenset)):
        return (_qual(t), sorted((typed(v, nxt) for v in value), key=repr))
    if t.__name__ == "method" and hasattr(value, "__self__"):  # a field name shadowed by a method: compare by name
        return ("method", value.__name__)
    dump = getattr(value, "model_dump", None)
    if callable(dump) and hasattr(type(value), "model_fields"):
        fields = {k: getattr(value, k, None) for k in type(value).model_fields}
        return (_qual(t), t, "model", typed(fields, nxt))
    if isinstance(value, (int, float, str)):  # int/str/float subclasses (IntEnum handled above)
        return (_qual(t), t, repr(value))
    return (_qual(t), t, "object", unaddress(repr(value)))


# A default repr ends "object at 0x7f...": the address differs between DSPy's copy of an input and native's
# (pydantic copies a model's fields), and it never says anything about parity. The same repr reaches prompts,
# warnings and error messages, so those are compared without addresses too.
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def unaddress(text: str) -> str:
    return _ADDRESS.sub(" at 0x…", text)


def _unaddressed(value: Any) -> Any:
    """Messages with every string unaddressed: a prompt renders an input's default repr, address and all."""
    if type(value) is str:
        return unaddress(value)
    if type(value) is list:
        return [_unaddressed(v) for v in value]
    if type(value) is dict:
        return {k: _unaddressed(v) for k, v in value.items()}
    return value


def _qual(t: type) -> str:
    return f"{t.__module__}.{t.__qualname__}"


@dataclass(frozen=True)
class ExcInfo:
    """An exception reduced to what the parity contract compares (class name and message) plus the class."""

    name: str
    message: str
    exc_type: type
    stage: str  # "construct" or "call"

    @classmethod
    def of(cls, exc: BaseException, stage: str) -> "ExcInfo":
        return cls(type(exc).__name__, unaddress(str(exc)), type(exc), stage)

    def __str__(self) -> str:
        return f"[{self.stage}] {self.name}: {self.message}"


def snapshot_result(result: Any) -> dict[str, Any]:
    """What a caller can observe of a returned Prediction (or any other result of a user module).

    Each observation is taken separately, so a missing API on one side shows up as its own difference
    (``"<error: AttributeError ...>"``) instead of hiding the others.
    """
    if type(result).__name__ == "Repeated":  # several calls of one module: one snapshot per call, and whether
        # two calls handed back the very same mutable object (a cache leaking a value a caller may mutate)
        return {"calls": [snapshot_result(r) for r in result], "shared": _observe(lambda: _shared(result))}
    snap: dict[str, Any] = {"class": type(result).__name__}
    if not hasattr(result, "_store") and not hasattr(result, "completions"):
        snap["value"] = typed(result)
        return snap
    snap["keys"] = _observe(lambda: [typed(k) for k in result.keys()])
    snap["items"] = _observe(lambda: [(k, typed(v)) for k, v in result.items()])
    snap["attributes"] = _observe(lambda: [(k, typed(getattr(result, k))) for k in result.keys()])
    snap["getitem"] = _observe(lambda: [(k, typed(result[k])) for k in result.keys()])
    snap["toDict"] = _observe(lambda: typed(result.toDict()))
    snap["len"] = _observe(lambda: len(result))
    snap["completions"] = _observe(lambda: [(k, typed(list(v))) for k, v in result.completions.items()])
    snap["completions_len"] = _observe(lambda: len(result.completions))
    snap["completion_0"] = _observe(lambda: [(k, typed(v)) for k, v in result.completions[0].items()])
    # The rest of the Prediction API a caller reaches for: iteration, get, membership, completions by attribute.
    snap["iter"] = _observe(lambda: [typed(k) for k in result])
    snap["get"] = _observe(lambda: [(k, typed(result.get(k)), typed(result.get(f"{k}_absent", 0))) for k in result.keys()])
    snap["contains"] = _observe(lambda: [(k in result, f"{k}_absent" in result) for k in result.keys()])
    snap["completions_attr"] = _observe(lambda: [(k, typed(list(getattr(result.completions, k))), k in result.completions)
                                                 for k, _ in result.completions.items()])
    snap["completions_absent"] = _observe(lambda: getattr(result.completions, "no_such_field"))
    snap["repr"] = _observe(lambda: repr(result))
    return snap


def _shared(results: Any) -> list[tuple[int, str]]:
    first: dict[int, int] = {}
    out = []
    for index, prediction in enumerate(results):
        for key, value in prediction.items():
            if isinstance(value, (list, dict, set)) or hasattr(value, "model_dump"):
                if first.setdefault(id(value), index) != index:
                    out.append((index, key))
    return out


def _observe(fn: Any) -> Any:
    try:
        return fn()
    except Exception as exc:  # noqa: BLE001 - an observation failing is itself the observation
        return f"<error: {type(exc).__name__}: {exc}>"


def normalize_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    """LM call kwargs in comparable form; a pydantic ``response_format`` class is its name and JSON schema."""
    out: dict[str, Any] = {}
    for key, value in kwargs.items():
        if isinstance(value, type) and hasattr(value, "model_json_schema"):
            try:
                schema = value.model_json_schema()
            except Exception as exc:  # noqa: BLE001
                schema = f"<schema error: {type(exc).__name__}: {exc}>"
            out[key] = ("pydantic-class", value.__name__, typed(schema))
        else:
            out[key] = typed(value)
    return out


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
