"""The differential harness: run real DSPy and native on the same case with the same scripted LM, and compare.

It holds no DSPy logic: it only builds both modules the same way, calls them the same way, and compares what a
caller (and the LM) can observe, per the parity contract in DESIGN.md:

1. the LM receives the same sequence of calls (messages byte for byte, call kwargs, sync/async);
2. the returned outputs are equal in value and Python type, completions included;
3. where DSPy raises, native raises the same exception class with the same message. The documented mapping:
   a raw ``SyntaxError`` / ``TypeError`` from DSPy, or a raw pydantic error raised while DSPy builds a signature
   (``PydanticSchemaGenerationError`` for ``"q: Optional -> a"``, a ``RuntimeError``), may be a
   ``dspex.errors.DspexError`` with a clearer message on the native side; a native exception that subclasses
   DSPy's builtin exception class with the same message is accepted too. Every accepted mapping is a note.

Beyond the contract it also reports hidden-state differences a user can trip on: the global ``random`` draw after
construction, warnings logged during the call, and mutation of the caller's inputs.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import random
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Sequence

import dspy

from ._case import Case, Kit, SignatureSpec, build_signature, run_with_names
from ._compare import ExcInfo, messages_diff, normalize_kwargs, show, snapshot_result, typed
from .scripted_lm import LMCall, ScriptedLM

__all__ = ["SideRun", "Difference", "ParityResult", "run_pair", "run_case", "assert_parity", "dspy_kit", "native_kit", "ALL_ASPECTS", "compare", "describe"]

_RANDOM_SEED = 20261125
# "random" (the global ``random`` draw after construction) is reported as a note unless asked for: native's
# Predict deliberately does not advance the global ``random`` the way DSPy's ``Predict.__init__`` does.
_DEFAULT_ASPECTS = frozenset({"construct", "calls", "error", "result", "logs", "inputs"})
ALL_ASPECTS = _DEFAULT_ASPECTS | {"random"}


def _disable_dspy_cache() -> None:
    # Our LM overrides __call__ and so bypasses DSPy's cache anyway; this makes the intent explicit.
    dspy.configure_cache(enable_disk_cache=False, enable_memory_cache=False)


_disable_dspy_cache()


def dspy_kit() -> Kit:
    return Kit(dspy.Signature, dspy.InputField, dspy.OutputField)


def native_kit() -> Kit:
    from dspex.signature import InputField, OutputField, Signature

    return Kit(Signature, InputField, OutputField)


@dataclass
class SideRun:
    """Everything one implementation did for one case."""

    name: str
    construct_error: ExcInfo | None = None
    error: ExcInfo | None = None
    result: Any = None
    snapshot: dict[str, Any] | None = None
    calls: list[LMCall] = field(default_factory=list)
    logs: list[str] = field(default_factory=list)
    random_draw: float | None = None
    inputs_before: Any = None
    inputs_after: Any = None
    seconds: float = 0.0


@dataclass
class Difference:
    aspect: str
    detail: str

    def __str__(self) -> str:
        return f"[{self.aspect}] {self.detail}"


@dataclass
class ParityResult:
    dspy: SideRun
    native: SideRun
    differences: list[Difference] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    description: str = ""

    @property
    def ok(self) -> bool:
        return not self.differences

    @property
    def unsupported(self) -> bool:
        """Native refused the signature as unsupported (the router sends such modules to DSPy)."""
        err = self.native.construct_error
        return err is not None and err.name == "UnsupportedTypeError"

    def report(self) -> str:
        head = "native == DSPy" if self.ok else f"{len(self.differences)} difference(s) between DSPy and native"
        lines = [head]
        if self.description:
            lines.append(self.description)
        lines += [f"- {d}" for d in self.differences]
        lines += [f"note: {n}" for n in self.notes]
        for side in (self.dspy, self.native):
            err = side.construct_error or side.error
            lines.append(f"{side.name}: {len(side.calls)} LM call(s); {'raised ' + str(err) if err else 'returned'}")
        return "\n".join(lines)


# --- running one side ----------------------------------------------------------------------------------------------
Invoke = Callable[[Any, Any, dict[str, Any], dict[str, Any]], Any]


def default_invoke(module: Any, lm: Any, inputs: dict[str, Any], call_kwargs: dict[str, Any]) -> Any:
    positional = call_kwargs.pop("__positional__", ())
    return module(*positional, **{**inputs, **call_kwargs, **({"lm": lm} if lm is not None else {})})


async def default_ainvoke(module: Any, lm: Any, inputs: dict[str, Any], call_kwargs: dict[str, Any]) -> Any:
    positional = call_kwargs.pop("__positional__", ())
    return await module.acall(*positional, **{**inputs, **call_kwargs, **({"lm": lm} if lm is not None else {})})


@contextmanager
def _capture_warnings() -> Iterator[list[str]]:
    """Warning-level log records (root and DSPy's non-propagating logger) and Python warnings, in order."""
    seen: list[str] = []
    records: list[logging.LogRecord] = []  # kept alive so identity checks stay valid

    class _Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if not any(r is record for r in records):
                records.append(record)
                seen.append(f"log {record.levelname}: {record.getMessage()}")

    handler = _Collect(level=logging.WARNING)
    loggers = [logging.getLogger(), logging.getLogger("dspy")]
    for lg in loggers:
        lg.addHandler(handler)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield seen
        seen.extend(f"warning {w.category.__name__}: {w.message}" for w in caught)
    finally:
        for lg in loggers:
            lg.removeHandler(handler)


def _run_side(
    name: str,
    factory: Callable[[], Any],
    lm: Any,
    inputs: dict[str, Any],
    call_kwargs: dict[str, Any],
    mode: str,
    names: dict[str, Any],
    invoke: Invoke,
    ainvoke: Callable[..., Any],
) -> SideRun:
    side = SideRun(name)
    side.calls = getattr(lm, "calls", [])
    saved = random.getstate()
    random.seed(_RANDOM_SEED)
    try:
        module = run_with_names(names, factory)
    except Exception as exc:  # noqa: BLE001 - construction failures are compared, not propagated
        side.construct_error = ExcInfo.of(exc, "construct")
        return side
    finally:
        side.random_draw = random.random()
        random.setstate(saved)
    inputs = copy.deepcopy(inputs)
    call_kwargs = copy.deepcopy(call_kwargs)
    side.inputs_before = typed(inputs)
    start = time.perf_counter()
    with _capture_warnings() as logs:
        try:
            if mode == "async":
                side.result = asyncio.run(ainvoke(module, lm, inputs, call_kwargs))
            else:
                side.result = invoke(module, lm, inputs, call_kwargs)
        except Exception as exc:  # noqa: BLE001
            side.error = ExcInfo.of(exc, "call")
    side.seconds = time.perf_counter() - start
    side.logs = logs
    side.inputs_after = typed(inputs)
    if side.error is None:
        side.snapshot = snapshot_result(side.result)
    return side


# --- comparing -----------------------------------------------------------------------------------------------------
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
    if a.exc_type.__module__ == "builtins" and issubclass(b.exc_type, a.exc_type) and a.message == b.message:
        notes.append(f"native raised {b.name}, a subclass of DSPy's {a.name}, with the same message")
        return
    out.append(Difference("error", f"dspy={a}\n  native={b}"))


def _compare_calls(a: list[LMCall], b: list[LMCall], out: list[Difference]) -> None:
    if len(a) != len(b):
        out.append(Difference("calls", f"LM call count differs: dspy={len(a)} native={len(b)}"))
    for index, (ca, cb) in enumerate(zip(a, b)):
        if ca.mode != cb.mode:
            out.append(Difference("calls", f"call {index}: dspy used {ca.mode}, native used {cb.mode}"))
        if typed(ca.messages) != typed(cb.messages):
            out.append(Difference("calls", f"call {index} messages differ:\n{messages_diff(ca.messages, cb.messages)}"))
        ka, kb = normalize_kwargs(ca.kwargs), normalize_kwargs(cb.kwargs)
        if ka != kb:
            keys = sorted(set(ka) | set(kb))
            detail = "; ".join(
                f"{k}: dspy={show(ca.kwargs.get(k, '<absent>'))} native={show(cb.kwargs.get(k, '<absent>'))}"
                for k in keys
                if ka.get(k) != kb.get(k)
            )
            out.append(Difference("calls", f"call {index} kwargs differ: {detail}"))
        if typed(ca.prompt) != typed(cb.prompt):
            out.append(Difference("calls", f"call {index} prompt= differs: dspy={ca.prompt!r} native={cb.prompt!r}"))
    if len(a) != len(b) and min(len(a), len(b)) < max(len(a), len(b)):
        longer, who = (a, "dspy") if len(a) > len(b) else (b, "native")
        extra = longer[min(len(a), len(b))]
        out.append(Difference("calls", f"first extra call ({who}) kwargs={show(extra.kwargs)}"))


def _compare_results(a: SideRun, b: SideRun, out: list[Difference]) -> None:
    if a.snapshot is None or b.snapshot is None:
        return
    for key in dict.fromkeys([*a.snapshot, *b.snapshot]):
        va, vb = a.snapshot.get(key, "<absent>"), b.snapshot.get(key, "<absent>")
        if va != vb:
            out.append(Difference("result", f"{key}: dspy={show(va)}\n  native={show(vb)}"))


def compare(a: SideRun, b: SideRun, aspects: frozenset[str] = _DEFAULT_ASPECTS) -> tuple[list[Difference], list[str]]:
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
        out.append(Difference("logs", f"warnings during the call differ:\n  dspy={a.logs}\n  native={b.logs}"))
    if "inputs" in aspects and (a.inputs_after == a.inputs_before) != (b.inputs_after == b.inputs_before):
        out.append(Difference("inputs", "one implementation mutated the caller's inputs and the other did not"))
    return out, notes


# --- entry points --------------------------------------------------------------------------------------------------
def run_pair(
    dspy_factory: Callable[[], Any],
    native_factory: Callable[[], Any],
    inputs: dict[str, Any],
    script: Sequence[Any] = (),
    *,
    lm_options: dict[str, Any] | None = None,
    make_lm: Callable[[], Any] | None = None,
    call_kwargs: dict[str, Any] | None = None,
    mode: str = "sync",
    names: dict[str, Any] | None = None,
    invoke: Invoke = default_invoke,
    ainvoke: Callable[..., Any] = default_ainvoke,
    aspects: frozenset[str] = _DEFAULT_ASPECTS,
    pass_lm: bool = True,
    description: str = "",
) -> ParityResult:
    """Run any pair of module factories on the same inputs and LM script, and compare them.

    ``make_lm`` overrides the default fresh ``ScriptedLM(script, **lm_options)`` per side (e.g. a RaisingLM).
    ``invoke(module, lm, inputs, call_kwargs)`` / ``ainvoke`` call a module; the default passes ``lm=``.
    """
    lm_options = lm_options or {}
    build_lm = make_lm or (lambda: ScriptedLM(script, **lm_options))
    runs = []
    for name, factory in (("dspy", dspy_factory), ("native", native_factory)):
        lm = build_lm()
        runs.append(
            _run_side(name, factory, lm if pass_lm else None, inputs, call_kwargs or {}, mode, names or {}, invoke, ainvoke)
        )
        if not pass_lm:
            runs[-1].calls = lm.calls
    differences, notes = compare(runs[0], runs[1], aspects)
    return ParityResult(runs[0], runs[1], differences, notes, description)


def _factory(case: Case, side: str) -> Callable[[], Any]:
    def build() -> Any:
        if side == "dspy":
            lib, kit = dspy, dspy_kit()
        else:
            import dspex.native as lib

            kit = dspy_kit() if case.signature.form == "dspy_class" else native_kit()
        signature = build_signature(case.signature, kit)
        cls = lib.Predict if case.module == "predict" else lib.ChainOfThought
        module = cls(signature, **case.module_config)
        if case.demos is not None and case.demos_via == "attribute":
            module.demos = _demos(case)
        return module

    return build


def _demos(case: Case) -> list[Any]:
    return [dspy.Example(**copy.deepcopy(d.values)) if d.as_example else copy.deepcopy(d.values) for d in case.demos or ()]


def describe(case: Case) -> str:
    spec: SignatureSpec = case.signature
    sig = spec.raw if spec.raw is not None else spec.as_string()
    return (
        f"case: {case.module} {spec.form} signature {sig!r} instructions={show(spec.instructions, 120)}\n"
        f"  inputs={show(case.inputs, 300)}\n  config={case.config} module_config={case.module_config} "
        f"lm.kwargs={case.lm.kwargs} supported_params={case.lm.supported_params} "
        f"schema={case.lm.supports_response_schema}\n  demos={show(case.demos, 300)}\n  script={show(case.lm.script, 400)}"
        + (f"\n  call signature=: {case.call_signature.form} instructions={show(case.call_signature.instructions, 120)}"
           if case.call_signature is not None else "")
    )


def _case_invokers(case: Case) -> tuple[Invoke, Callable[..., Any]]:
    """Invokers that add the case's per-call ``signature=``, built with the called module's own library."""
    if case.call_signature is None:
        return default_invoke, default_ainvoke
    spec = case.call_signature
    names = dict(spec.names)

    def add_signature(module: Any, call_kwargs: dict[str, Any]) -> None:
        kit = dspy_kit() if isinstance(module, dspy.Module) or spec.form == "dspy_class" else native_kit()
        call_kwargs["signature"] = run_with_names(names, lambda: build_signature(spec, kit))

    def invoke(module: Any, lm: Any, inputs: dict[str, Any], call_kwargs: dict[str, Any]) -> Any:
        add_signature(module, call_kwargs)
        return default_invoke(module, lm, inputs, call_kwargs)

    async def ainvoke(module: Any, lm: Any, inputs: dict[str, Any], call_kwargs: dict[str, Any]) -> Any:
        add_signature(module, call_kwargs)
        return await default_ainvoke(module, lm, inputs, call_kwargs)

    return invoke, ainvoke


def run_case(case: Case, mode: str = "sync", aspects: frozenset[str] = _DEFAULT_ASPECTS) -> ParityResult:
    """Build ``dspy.Predict``/``ChainOfThought`` and the native twin from ``case``; run and compare them."""
    call_kwargs: dict[str, Any] = {}
    if case.config is not None:
        call_kwargs["config"] = case.config
    if case.demos is not None and case.demos_via == "call":
        call_kwargs["demos"] = _demos(case)
    if case.positional:
        call_kwargs["__positional__"] = case.positional
    lm_options = {
        "kwargs": case.lm.kwargs,
        "supported_params": case.lm.supported_params,
        "supports_response_schema": case.lm.supports_response_schema,
    }
    invoke, ainvoke = _case_invokers(case)
    return run_pair(
        _factory(case, "dspy"),
        _factory(case, "native"),
        case.inputs,
        case.lm.script,
        lm_options=lm_options,
        call_kwargs=call_kwargs,
        mode=mode,
        names=dict(case.signature.names),
        aspects=aspects,
        invoke=invoke,
        ainvoke=ainvoke,
        pass_lm=case.pass_lm,
        description=describe(case),
    )


def assert_parity(case: Case, mode: str = "sync", aspects: frozenset[str] = _DEFAULT_ASPECTS) -> ParityResult:
    """``run_case``, raising ``AssertionError`` with a readable report when native and DSPy differ."""
    result = run_case(case, mode, aspects)
    if not result.ok:
        raise AssertionError(result.report())
    return result
