"""A composite-module parity case (MultiChainComparison, BestOfN, Refine, Parallel, majority) and its run.

One routine builds DSPy's module and native's from the case (only the library differs; an inner signature built
with each library's kit, the inner module and the user program per library, the same reward function), each side
with its own scripted LM (``_composite_lm``) under its own default-LM and adapter settings, and the harness's
``run_side`` / ``compare`` judge the LM calls (messages, call kwargs and the LM copies' own kwargs), the result,
the error, the log lines and what the modules print (BestOfN and Refine print failed attempts).

Two documented normalisations: ``Parallel``'s error lines quote each pair's module repr, and a signature's repr
is the libraries' own (pydantic's ``Field(...)`` vs native's ``InputField(...)``), so each side's module reprs are
replaced by a placeholder in its log lines; with several threads the LM calls and log lines come in no fixed
order and are compared as multisets.
"""

from __future__ import annotations

import contextlib
import copy
import io
import logging
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Literal

import dspy

from ._case import LMSpec, SignatureSpec, build_signature, run_with_names
from ._compare import Difference, compare, show
from ._composite_lm import RequestLM, TapeLM
from ._composite_programs import build_inner, make_reward
from ._side import SideRun, run_side
from ._snapshot import snapshot_result, typed
from .harness import ParityResult, dspy_kit, native_kit

__all__ = ["CompositeCase", "run_composite_case", "describe_composite"]

_ASPECTS = frozenset({"construct", "calls", "error", "result", "logs", "inputs"})
_STDOUT = logging.getLogger("dspex.parity.stdout")
Module = Literal["multi_chain_comparison", "best_of_n", "refine", "parallel", "majority"]


@dataclass
class CompositeCase:
    module: Module
    signature: SignatureSpec
    inputs: dict[str, Any] = field(default_factory=dict)
    lm: LMSpec = field(default_factory=LMSpec)
    options: dict[str, Any] = field(default_factory=dict)     # constructor keywords (M, N, threshold, ...)
    inner: str = "predict"                                     # BestOfN / Refine / Parallel: the wrapped module
    reward: str = "length"
    table: tuple[Any, ...] = ()                                # reward "table": scores in call order
    payload: Any = None                # MCC: completions; Parallel: examples; majority: (form, completions, normalize, field)
    adapter: Literal["chat", "json", "chat_no_fallback"] = "chat"
    mode: Literal["sync", "async"] = "sync"
    repeat: int = 1
    threads: float = 1                                         # Parallel: num_threads (>1: the LM answers by request)
    kind: str = "generated"
    # BestOfN / Refine: what an optimised program carries into each attempt's copy of the wrapped module
    inner_demos: tuple[Any, ...] = ()                          # DemoSpecs, set on every predictor
    inner_config: dict[str, Any] = field(default_factory=dict)  # a predictor config, set on every predictor
    inner_lock: bool = False                                   # the wrapped module holds a lock (not deep-copyable)

    def __repr__(self) -> str:
        return f"{self.kind} ({self.mode})\n{describe_composite(self)}"


def describe_composite(case: CompositeCase) -> str:
    spec = case.signature
    return (
        f"case: {case.module} inner={case.inner} {spec.form} signature {spec.as_string()!r} "
        f"instructions={show(spec.instructions, 120)}\n  options={case.options} reward={case.reward} "
        f"table={case.table} adapter={case.adapter} repeat={case.repeat} threads={case.threads}\n"
        f"  inner_demos={show(case.inner_demos, 300)} inner_config={case.inner_config} inner_lock={case.inner_lock}\n"
        f"  inputs={show(case.inputs, 300)}\n  payload={show(case.payload, 600)}\n"
        f"  lm.kwargs={case.lm.kwargs} supported_params={case.lm.supported_params} "
        f"schema={case.lm.supports_response_schema}\n  script={show(case.lm.script, 3000)}"
    )


class _Built:
    """What a side's factory made: the module, and what the call needs from the same library."""

    def __init__(self, module: Any, lib: Any, extra: Any = None) -> None:
        self.module, self.lib, self.extra = module, lib, extra

    def __repr__(self) -> str:
        return f"<{type(self.module).__name__}>"


def _lib(side: str) -> Any:
    if side == "dspy":
        return dspy
    import dspex.native as native

    return native


def _factory(case: CompositeCase, side: str) -> Callable[[], _Built]:
    def build() -> _Built:
        lib = _lib(side)
        kit = dspy_kit() if side == "dspy" or case.signature.form == "dspy_class" else native_kit(case.signature)
        if case.module == "majority":
            return _Built(lib.majority, lib)
        signature = build_signature(case.signature, kit)
        if case.module == "multi_chain_comparison":
            return _Built(lib.MultiChainComparison(signature, **case.options), lib)
        if case.module == "parallel":
            pairs = [(build_inner(case.inner, side, lib, signature), copy.deepcopy(ex)) for ex in case.payload]
            return _Built(lib.Parallel(**case.options), lib, pairs)
        inner = build_inner(case.inner, side, lib, signature)
        for _, predictor in inner.named_predictors():
            if case.inner_demos:
                predictor.demos = [dspy.Example(copy.deepcopy(d.values)) if d.as_example else copy.deepcopy(d.values)
                                   for d in case.inner_demos]
            if case.inner_config:
                predictor.config = copy.deepcopy(case.inner_config)
        if case.inner_lock:   # a program holding a client or a lock: each attempt's copy falls back, with a warning
            inner.guard = threading.Lock()
        cls = lib.BestOfN if case.module == "best_of_n" else lib.Refine
        return _Built(cls(inner, reward_fn=make_reward(case.reward, case.table), **case.options), lib)

    return build


def _majority_argument(case: CompositeCase, built: _Built) -> Any:
    form, rows, _, _ = case.payload
    rows = copy.deepcopy(list(rows))
    if form == "list":
        return rows
    lib = built.lib
    signature = None
    if form.endswith("+signature"):
        kit = dspy_kit() if lib is dspy else native_kit()
        signature = build_signature(case.signature, kit)
        if isinstance(signature, str):
            signature = kit.signature(signature)
    pred = lib.Prediction.from_completions(rows, signature=signature)
    return pred if form.startswith("prediction") else pred.completions


def _normalizer(name: str | None) -> Any:
    from ._composite_programs import FRESH_NORMALIZERS, NORMALIZERS

    return NORMALIZERS[name]() if name in FRESH_NORMALIZERS else NORMALIZERS[name]


def _call(case: CompositeCase, built: _Built, inputs: dict[str, Any], call_kwargs: dict[str, Any]) -> Any:
    module = built.module
    if case.module == "majority":
        _, _, normalize, fld = case.payload
        kwargs = {} if normalize == "default" else {"normalize": _normalizer(normalize)}
        if fld is not None:
            kwargs["field"] = fld
        return module(_majority_argument(case, built), **kwargs)
    if case.module == "parallel":
        return _Opaque(module(built.extra, **call_kwargs))
    if case.module == "multi_chain_comparison":
        return module(completions=copy.deepcopy(case.payload), **inputs)
    return module(**inputs)


def _adapter(case: CompositeCase, lib: Any) -> Any:
    if case.adapter == "chat":
        return contextlib.nullcontext()
    adapter = lib.JSONAdapter() if case.adapter == "json" else lib.ChatAdapter(use_json_adapter_fallback=False)
    return dspy.context(adapter=adapter) if lib is dspy else lib.settings.context(adapter=adapter)


@contextlib.contextmanager
def _settings(case: CompositeCase, built: _Built, lm: Any) -> Any:
    """The default LM and the adapter in the side's own settings; what the modules print becomes a log line."""
    lm_context = dspy.context(lm=lm) if built.lib is dspy else built.lib.settings.context(lm=lm)
    out = io.StringIO()
    try:
        with lm_context, _adapter(case, built.lib), contextlib.redirect_stdout(out):
            yield
    finally:
        if out.getvalue():
            _STDOUT.warning("stdout %s", out.getvalue())


def _invokers(case: CompositeCase) -> tuple[Any, Any]:
    def invoke(built: _Built, lm: Any, inputs: dict[str, Any], call_kwargs: dict[str, Any]) -> Any:
        results = []
        with _settings(case, built, lm):
            for _ in range(case.repeat):
                results.append(_call(case, built, inputs, call_kwargs))
        return results[0] if case.repeat == 1 else _Repeated(results)

    async def ainvoke(built: _Built, lm: Any, inputs: dict[str, Any], call_kwargs: dict[str, Any]) -> Any:
        results = []
        with _settings(case, built, lm):
            for _ in range(case.repeat):
                results.append(await built.module.acall(**inputs))
        return results[0] if case.repeat == 1 else _Repeated(results)

    return invoke, ainvoke


class _Opaque:
    """A Parallel result held away from the harness's generic snapshot (``_parallel_snapshot`` takes it)."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "<parallel result>"


class _Repeated(list):  # type: ignore[type-arg]
    """Several calls' results (``repeat``): the snapshot compares them call by call."""


_Repeated.__name__ = "Repeated"


def _make_lm(case: CompositeCase) -> Any:
    options = {"kwargs": case.lm.kwargs, "supported_params": case.lm.supported_params,
               "supports_response_schema": case.lm.supports_response_schema}
    if case.module == "parallel" and case.threads > 1:
        return RequestLM(case.lm.script, **options)
    return TapeLM(case.lm.script, **options)


def _unordered(side: SideRun) -> None:
    side.calls.sort(key=lambda c: repr((c.messages, sorted(c.kwargs.items(), key=repr))))
    side.logs.sort()


def _module_reprs(side: SideRun, built: _Built | None) -> None:
    if built is None or not isinstance(built.extra, list):
        return
    for module, _ in built.extra:
        text = repr(module)
        side.logs = [line.replace(text, "<module>") for line in side.logs]


def _parallel_snapshot(side: SideRun, ordered: bool) -> None:
    """Parallel returns a list (or ``(results, failed examples, exceptions)``): snapshot each Prediction as the
    harness snapshots one (each library's class is its own), exceptions as class and message. With several
    threads the failures are recorded in completion order: then they are compared as multisets."""
    if side.error is not None or side.construct_error is not None:
        return

    def one(value: Any) -> Any:
        if isinstance(value, BaseException):
            return ("exception", type(value).__name__, str(value))
        return snapshot_result(value) if hasattr(value, "_store") else typed(value)

    def snap(result: Any) -> dict[str, Any]:
        if isinstance(result, tuple):
            failed, exceptions = [one(e) for e in result[1]], [one(e) for e in result[2]]
            if not ordered:
                failed, exceptions = sorted(failed, key=repr), sorted(exceptions, key=repr)
            return {"results": [one(r) for r in result[0]], "failed": failed, "exceptions": exceptions}
        return {"results": [one(r) for r in result]}

    result = side.result
    if isinstance(result, _Repeated):
        side.snapshot = {"calls": [snap(r.value) for r in result]}
    else:
        side.snapshot = snap(result.value)


def run_composite_case(case: CompositeCase) -> ParityResult:
    """Build DSPy's module and native's from ``case``, run both, and compare what can be observed."""
    invoke, ainvoke = _invokers(case)
    runs = []
    for side in ("dspy", "native"):
        made: list[_Built] = []
        factory = _factory(case, side)

        def keep(factory: Callable[[], _Built] = factory) -> _Built:
            made.append(factory())
            return made[-1]

        call_kwargs = {"num_threads": case.threads} if case.module == "parallel" else {}
        run = run_side(side, keep, _make_lm(case), case.inputs, call_kwargs, case.mode,
                       dict(case.signature.names), invoke, ainvoke)
        _module_reprs(run, made[0] if made else None)
        if case.module == "parallel":
            _parallel_snapshot(run, ordered=case.threads == 1)
            if case.threads > 1:
                _unordered(run)
        runs.append(run)
    differences, notes = compare(runs[0], runs[1], _ASPECTS)
    if case.module in ("best_of_n", "refine") and not runs[0].construct_error and not runs[1].construct_error:
        names = [run_with_names(dict(case.signature.names), lambda s=s: _predictor_names(case, s))
                 for s in ("dspy", "native")]
        if names[0] != names[1]:
            differences.append(Difference("construct", f"named_predictors differ: dspy={names[0]} native={names[1]}"))
    return ParityResult(runs[0], runs[1], differences, notes, describe_composite(case))


def _predictor_names(case: CompositeCase, side: str) -> Any:
    try:
        return [name for name, _ in _factory(case, side)().module.named_predictors()]
    except Exception as exc:  # noqa: BLE001 - a construction error is compared by run_side already
        return f"<{type(exc).__name__}>"
