"""The red-team differential kit: run one case through real DSPy 3.4.1 and through dspex.native, compare all.

Independent of ``dspex.parity`` on purpose (its own recording LM, its own snapshots and comparison), so that
a blind spot in one harness is not silently shared by the other.

A case is: how to build the module on each side (``build(ns)`` with ``ns`` either ``dspy`` or ``dspex.native``),
the call's keyword arguments, the LM's script, its ``kwargs``/``supported_params``/``supports_response_schema``,
how the LM is handed over (per call, ``set_lm``, or a settings context), and sync or async. What is compared:
every LM call (messages byte for byte, kwargs with a pydantic ``response_format`` compared by name and schema,
sync vs async entry point), the result (values and types, recursively, key order, completions), the error
(class name and message) and the warnings logged.
"""

from __future__ import annotations

import re

import asyncio
import copy
import enum
import logging
import os
from dataclasses import dataclass, field
from typing import Any, Callable

import dspy
import pydantic

import dspex.native as native

__all__ = [
    "RecLM",
    "Fresh",
    "Boom",
    "Case",
    "Outcome",
    "run",
    "diff",
    "assert_same",
    "chat",
    "examples",
    "typed",
]

# dspy's on-disk/in-memory cache must never answer for the scripted LM (it does not, since __call__ is overridden,
# but keep the global configuration neutral anyway).
dspy.configure_cache(enable_disk_cache=False, enable_memory_cache=False)


def examples(default: int, ci: int) -> int:
    """Hypothesis example counts: small by default (the folder must stay fast), larger under the ``ci`` profile."""
    profile = os.environ.get("HYPOTHESIS_PROFILE") or os.environ.get("DSPEX_PARITY_PROFILE") or ""
    return ci if profile == "ci" else default


@dataclass(frozen=True)
class Fresh:
    """A script entry built anew at call time (generators, objects that must not be deep-copied)."""

    make: Callable[[], Any]


@dataclass(frozen=True)
class Boom:
    """A script entry that raises ``exc(msg)`` from the LM."""

    exc: type[BaseException]
    msg: str = "boom"


class Exhausted(RuntimeError):
    pass


def _deep(value: Any) -> Any:
    try:
        return copy.deepcopy(value)
    except Exception:
        return value


class RecLM(dspy.BaseLM):
    """A real ``dspy.BaseLM`` whose ``__call__``/``acall`` record the call and answer from a script."""

    def __init__(
        self,
        script: list[Any],
        kwargs: dict[str, Any] | None = None,
        supported_params: tuple[str, ...] = (),
        schema: bool = False,
    ) -> None:
        super().__init__(model="redteam/lm", cache=False)
        if kwargs is not None:
            self.kwargs = dict(kwargs)
        self.script = list(script)
        self.calls: list[tuple[str, Any, dict[str, Any]]] = []
        self._sp = set(supported_params)
        self._schema = schema

    @property
    def supported_params(self) -> set[str]:  # type: ignore[override]
        return set(self._sp)

    @property
    def supports_response_schema(self) -> bool:  # type: ignore[override]
        return self._schema

    def _answer(self, mode: str, messages: Any, kwargs: dict[str, Any]) -> Any:
        self.calls.append((mode, _deep(messages), _deep(kwargs)))
        i = len(self.calls) - 1
        if i >= len(self.script):
            raise Exhausted(f"script has {len(self.script)} answers, call #{i + 1}")
        entry = self.script[i]
        if isinstance(entry, Boom):
            raise entry.exc(entry.msg)
        if isinstance(entry, Fresh):
            return entry.make()
        return _deep(entry)

    def __call__(self, prompt: Any = None, messages: Any = None, **kwargs: Any) -> Any:  # type: ignore[override]
        return self._answer("sync", messages, kwargs)

    async def acall(self, prompt: Any = None, messages: Any = None, **kwargs: Any) -> Any:  # type: ignore[override]
        return self._answer("async", messages, kwargs)

    def forward(self, *a: Any, **k: Any) -> Any:  # pragma: no cover - never reached
        raise AssertionError("forward must not run")


def chat(**fields: Any) -> str:
    """A well-formed ChatAdapter completion."""
    return "".join(f"[[ ## {k} ## ]]\n{v}\n\n" for k, v in fields.items()) + "[[ ## completed ## ]]"


# --- snapshots -----------------------------------------------------------------------------------------------------
def typed(value: Any, depth: int = 0) -> Any:
    """A comparable picture of ``value``: its type name and contents, recursively (nan, -0.0 and sets included)."""
    if depth > 40:
        return ("deep", repr(value)[:200])
    t = type(value)
    name = t.__qualname__
    if value is None or t in (bool, int, str, bytes):
        return (name, value)
    if t is float:
        return (name, repr(value))  # nan == nan, -0.0 != 0.0
    if isinstance(value, enum.Enum):
        return (name, "enum", repr(value.value), value.name)
    if t in (list, tuple):
        return (name, [typed(v, depth + 1) for v in value])
    if t in (set, frozenset):
        return (name, sorted((typed(v, depth + 1) for v in value), key=repr))
    if t is dict:
        return (name, [(typed(k, depth + 1), typed(v, depth + 1)) for k, v in value.items()])
    if isinstance(value, pydantic.BaseModel):
        return (name, "model", [(k, typed(v, depth + 1)) for k, v in value.__dict__.items()],
                sorted(getattr(value, "model_fields_set", set())))
    if hasattr(value, "_store") and hasattr(value, "toDict"):  # an Example/Prediction inside a value
        return ("Record", [(k, typed(v, depth + 1)) for k, v in value._store.items()])
    return (name, repr(value))


def _prediction(pred: Any) -> Any:
    if not (hasattr(pred, "_store") and hasattr(pred, "completions")):
        return ("not-a-prediction", typed(pred))
    out: dict[str, Any] = {
        "class": type(pred).__name__,
        "store": typed(dict(pred._store)),
        "keys": list(pred.keys()),
        "toDict": typed(pred.toDict()),
    }
    out["repr"] = _attempt(lambda: repr(pred))
    out["len"] = _attempt(lambda: len(pred))
    out["items"] = _attempt(lambda: typed(list(pred.items())))
    out["missing_attr"] = _attempt(lambda: pred.no_such_field)
    out["missing_item"] = _attempt(lambda: pred["no_such_field"])
    out["completions_repr"] = _attempt(lambda: repr(pred.completions))
    out["completions_oob"] = _attempt(lambda: pred.completions[99])
    out["first_completion"] = _attempt(lambda: typed(dict(pred.completions[0]._store)))
    comps = pred.completions
    if comps is None:
        out["completions"] = None
    else:
        out["columns"] = [(k, typed(v)) for k, v in comps._completions.items()]
        try:
            n = len(comps)
            out["n"] = n
            out["rows"] = [typed(dict(comps[i]._store)) for i in range(n)]
        except BaseException as e:  # StopIteration for an empty Prediction, kept by both
            out["n"] = ("raises", type(e).__name__)
    return out


def _attempt(fn: Callable[[], Any]) -> Any:
    try:
        return ("value", fn())
    except BaseException as e:  # noqa: BLE001 - StopIteration included (DSPy's empty-Prediction quirk)
        return ("raises", type(e).__name__, str(e))


def _kwargs(kwargs: dict[str, Any]) -> Any:
    out = {}
    for k, v in kwargs.items():
        if isinstance(v, type) and hasattr(v, "model_json_schema"):
            out[k] = ("pydantic-model", v.__name__, v.model_json_schema())
        else:
            out[k] = typed(v)
    return out


@dataclass
class Outcome:
    calls: list[Any] = field(default_factory=list)
    result: Any = None
    error: tuple[str, str] | None = None
    stage: str = ""  # "build" (constructing the signature/module) or "call"
    exc: BaseException | None = None
    warnings: list[str] = field(default_factory=list)
    raw: Any = None


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(("dspy", "dspex")):
            self.messages.append(record.getMessage())


@dataclass
class Case:
    """One differential case. ``build(ns)`` returns a module; ``call`` are the call kwargs (inputs, config=...)."""

    build: Callable[[Any], Any]
    call: dict[str, Any]
    script: list[Any]
    lm_kwargs: dict[str, Any] | None = None
    supported_params: tuple[str, ...] = ()
    schema: bool = False
    mode: str = "sync"  # sync | async
    lm_via: str = "call"  # call | set_lm | context
    adapter: str | None = None  # None | "json" | "chat-nofallback"
    demos: Any = None  # set on the module (module.demos / module.predict.demos)
    positional: tuple[Any, ...] = ()
    label: str = ""  # what the generator chose (shown in failure reports)


def _adapter(ns: Any, kind: str | None) -> Any:
    if kind is None:
        return None
    if kind == "json":
        return ns.JSONAdapter()
    if kind == "chat-nofallback":
        return ns.ChatAdapter(use_json_adapter_fallback=False)
    raise ValueError(kind)


def _set_demos(module: Any, demos: Any) -> None:
    target = module.predict if hasattr(module, "predict") else module
    target.demos = demos


def run(case: Case, ns: Any) -> Outcome:
    lm = RecLM(case.script, case.lm_kwargs, case.supported_params, case.schema)
    out = Outcome()
    cap = _Capture()
    root = logging.getLogger()
    dspy_logger = logging.getLogger("dspy")  # does not propagate to the root logger
    root.addHandler(cap)
    dspy_logger.addHandler(cap)
    old_level = root.level
    root.setLevel(logging.WARNING)
    try:
        try:
            out.stage = "build"
            module = case.build(ns)
            out.stage = "call"
            if case.demos is not None:
                _set_demos(module, copy.deepcopy(case.demos) if not callable(case.demos) else case.demos(ns))
            kwargs = dict(case.call)
            if case.lm_via == "call":
                kwargs["lm"] = lm
            elif case.lm_via == "set_lm":
                module.set_lm(lm)
            adapter = _adapter(ns, case.adapter)
            ctx_kwargs: dict[str, Any] = {}
            if case.lm_via == "context":
                ctx_kwargs["lm"] = lm
            if adapter is not None:
                ctx_kwargs["adapter"] = adapter
            ctx = (dspy.context if ns is dspy else native.settings.context)(**ctx_kwargs)
            with ctx:
                if case.mode == "sync":
                    result = module(*case.positional, **kwargs)
                else:
                    result = asyncio.run(module.acall(*case.positional, **kwargs))
            out.raw = result
            out.result = _prediction(result)
        except Exception as e:  # noqa: BLE001 - the point is to compare errors
            out.error = (type(e).__name__, str(e))
            out.exc = e
    finally:
        root.removeHandler(cap)
        dspy_logger.removeHandler(cap)
        root.setLevel(old_level)
    out.calls = [(mode, _unaddressed(msgs), _kwargs(kw)) for mode, msgs, kw in lm.calls]
    out.warnings = cap.messages
    return out


_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def _unaddressed(messages: Any) -> Any:
    """Each side renders its own copy of an input: a default repr's memory address is the one thing that differs."""
    if isinstance(messages, str):
        return _ADDRESS.sub(" at 0x?", messages) if type(messages) is str else messages
    if isinstance(messages, list):
        return [_unaddressed(m) for m in messages]
    if isinstance(messages, dict):
        return {k: _unaddressed(v) for k, v in messages.items()}
    return messages


def diff(case: Case) -> tuple[Outcome, Outcome, list[str]]:
    a = run(case, dspy)
    b = run(case, native)
    problems = []
    if a.error != b.error and not documented_mapping(a, b):
        problems.append(f"error: dspy={a.error!r}\n        native={b.error!r}")
    if len(a.calls) != len(b.calls):
        problems.append(f"call count: dspy={len(a.calls)} native={len(b.calls)}")
    for i, (ca, cb) in enumerate(zip(a.calls, b.calls)):
        if ca[0] != cb[0]:
            problems.append(f"call {i} mode: {ca[0]} vs {cb[0]}")
        if ca[1] != cb[1]:
            problems.append(f"call {i} messages differ:\n{_msg_diff(ca[1], cb[1])}")
        if ca[2] != cb[2]:
            problems.append(f"call {i} kwargs: dspy={ca[2]!r}\n        native={cb[2]!r}")
    if a.result != b.result:
        problems.append(f"result: dspy={a.result!r}\n        native={b.result!r}")
    if a.warnings != b.warnings:
        problems.append(f"warnings: dspy={a.warnings!r}\n        native={b.warnings!r}")
    return a, b, problems


def documented_mapping(a: Outcome, b: Outcome) -> bool:
    """The deliberate, documented error differences (see docs/parity.md, "Known differences").

    1. No LM at all: DSPy's ValueError "No LM is loaded..." <-> native ConfigError (a ValueError) naming ``lm=``.
    2. Building a signature: DSPy's raw SyntaxError / TypeError / pydantic error <-> native SignatureError (or
       another dspex error) with a message that says what to do.
    """
    from dspex.errors import ConfigError, DspexError, SignatureError

    if a.exc is None or b.exc is None:
        return False
    if (type(a.exc) is ValueError and str(a.exc).startswith("No LM is loaded.")
            and isinstance(b.exc, ConfigError) and "lm=" in str(b.exc)):
        return True
    raw = isinstance(a.exc, (SyntaxError, TypeError)) or type(a.exc).__module__.startswith("pydantic")
    if a.stage == b.stage == "build" and isinstance(b.exc, DspexError):
        return raw
    # A per-call ``signature="..."`` string is a signature construction too.
    return a.stage == b.stage == "call" and raw and isinstance(b.exc, SignatureError)


def _msg_diff(a: Any, b: Any) -> str:
    import difflib

    if not (isinstance(a, list) and isinstance(b, list)):
        return f"dspy={a!r}\nnative={b!r}"
    lines = []
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            xs = str(x.get("content", x)).splitlines(keepends=True) if isinstance(x, dict) else [repr(x)]
            ys = str(y.get("content", y)).splitlines(keepends=True) if isinstance(y, dict) else [repr(y)]
            lines.append(f"message {i}:\n" + "".join(
                difflib.unified_diff([repr(s) + "\n" for s in xs], [repr(s) + "\n" for s in ys], "dspy", "native")))
            if isinstance(x, dict) and isinstance(y, dict) and x.get("role") != y.get("role"):
                lines.append(f"roles {x.get('role')} vs {y.get('role')}")
    if len(a) != len(b):
        lines.append(f"message count {len(a)} vs {len(b)}")
    return "\n".join(lines)[:6000]


def assert_same(case: Case) -> tuple[Outcome, Outcome]:
    a, b, problems = diff(case)
    assert not problems, "native differs from DSPy:\n" + "\n".join(problems)
    return a, b
