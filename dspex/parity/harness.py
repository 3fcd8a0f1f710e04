"""The differential harness: run real DSPy and native on the same case with the same scripted LM, and compare.

It holds no DSPy logic: it only builds both modules the same way, calls them the same way, and compares what a
caller (and the LM) can observe, per the parity contract in DESIGN.md:

1. the LM receives the same sequence of calls (messages byte for byte, call kwargs, sync/async);
2. the returned outputs are equal in value and Python type, completions included;
3. where DSPy raises, native raises the same exception class with the same message. The documented mapping:
   a raw ``SyntaxError`` / ``TypeError`` from DSPy, or a raw pydantic error raised while DSPy builds a signature
   (``PydanticSchemaGenerationError`` for ``"q: Optional -> a"``, a ``RuntimeError``), may be a
   ``dspex.errors.DspexError`` with a clearer message on the native side; a native exception that subclasses
   DSPy's builtin exception class with the same message is accepted too, and so are the deliberate
   differences the lead accepted (``_compare.DOCUMENTED_MAPPINGS``: no LM -> ``ConfigError``). Every accepted
   mapping is recorded as a note on the result.

Beyond the contract it also reports hidden-state differences a user can trip on: the global ``random`` draw after
construction, warnings logged during the call, and mutation of the caller's inputs.
"""

from __future__ import annotations

import contextlib
import copy
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import dspy

from ._case import Case, Kit, RationaleSpec, SignatureSpec, build_signature, run_with_names
from ._compare import Difference, compare, show
from ._side import BrokenCallback, CallbackRecorder, Invoke, SideRun, default_ainvoke, default_invoke, run_side
from .scripted_lm import ScriptedLM

__all__ = [
    "SideRun", "Difference", "ParityResult", "run_pair", "run_case", "assert_parity", "dspy_kit", "native_kit",
    "ALL_ASPECTS", "compare", "describe", "default_invoke", "default_ainvoke",
]

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


def native_kit(spec: Any = None) -> Kit:
    """dspex's vocabulary; with a spec asking for it, dspex's Signature and DSPy's fields (a migrating team's
    class body or dict still holding ``dspy.InputField()``)."""
    from dspex.signature import InputField, OutputField, Signature

    if spec is not None and spec.dspy_fields:
        return Kit(Signature, dspy.InputField, dspy.OutputField)
    return Kit(Signature, InputField, OutputField)


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
            run_side(name, factory, lm if pass_lm else None, inputs, call_kwargs or {}, mode, names or {}, invoke, ainvoke)
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

            kit = dspy_kit() if case.signature.form == "dspy_class" else native_kit(case.signature)
        signature = build_signature(case.signature, kit)
        cls = lib.Predict if case.module == "predict" else lib.ChainOfThought
        config = dict(case.module_config)
        if isinstance(config.get("rationale_field"), RationaleSpec):
            config["rationale_field"] = _rationale(config["rationale_field"], side)
        if case.callbacks:
            config["callbacks"] = [CallbackRecorder()] if case.callbacks != "broken" else [BrokenCallback()]
        module = cls(signature, **config)
        if case.demos is not None and case.demos_via == "attribute":
            module.demos = _demos(case)
        return module

    return build


def _rationale(spec: RationaleSpec, side: str) -> Any:
    kit = native_kit() if side == "native" and spec.native_own else dspy_kit()
    make = kit.output_field if spec.kind == "output" else kit.input_field
    return make(**{k: v for k, v in (("desc", spec.desc), ("prefix", spec.prefix)) if v is not None})


def _demos(case: Case) -> list[Any]:
    return [dspy.Example(copy.deepcopy(d.values)) if d.as_example else copy.deepcopy(d.values) for d in case.demos or ()]


def describe(case: Case) -> str:
    spec: SignatureSpec = case.signature
    sig = spec.raw if spec.raw is not None else spec.as_string()
    return (
        f"case: {case.module} {spec.form}{' (dspy fields)' if spec.dspy_fields else ''} signature {sig!r} instructions={show(spec.instructions, 120)}\n"
        f"  adapter={case.adapter} repeat={case.repeat} callbacks={case.callbacks} inputs={show(case.inputs, 300)}\n  config={case.config} module_config={case.module_config} "
        f"lm.kwargs={case.lm.kwargs} supported_params={case.lm.supported_params} "
        f"schema={case.lm.supports_response_schema}\n  demos={show(case.demos, 300)}\n  script={show(case.lm.script, 400)}"
        + (f"\n  transforms={show(spec.transforms, 300)}" if spec.transforms else "")
        + (f"\n  call signature=: {case.call_signature.form} instructions={show(case.call_signature.instructions, 120)}"
           if case.call_signature is not None else "")
    )


def _adapter_context(case: Case, module: Any) -> Any:
    """Each library's own way to choose the adapter for a call (``dspy.context`` / native ``settings.context``)."""
    if case.adapter == "chat":
        return contextlib.nullcontext()
    if isinstance(module, dspy.Module):
        adapter = dspy.JSONAdapter() if case.adapter == "json" else dspy.ChatAdapter(use_json_adapter_fallback=False)
        return dspy.context(adapter=adapter)
    from dspex.adapters import ChatAdapter, JSONAdapter
    from dspex.native import settings

    adapter = JSONAdapter() if case.adapter == "json" else ChatAdapter(use_json_adapter_fallback=False)
    return settings.context(adapter=adapter)


class Repeated(list):  # type: ignore[type-arg]
    """The results of calling one module several times (``Case.repeat``); snapshotted call by call."""


def _case_invokers(case: Case) -> tuple[Invoke, Callable[..., Any]]:
    """Invokers that call the module ``case.repeat`` times under the case's adapter choice, adding the per-call
    ``signature=`` (built with the called module's own library) to every call, or to every second call when
    repeating, so a stale per-signature cache would show."""
    spec = case.call_signature

    def kwargs_for(module: Any, call_kwargs: dict[str, Any], index: int) -> dict[str, Any]:
        kwargs = copy.copy(call_kwargs)
        if spec is not None and (case.repeat == 1 or index % 2 == 1):
            kit = dspy_kit() if isinstance(module, dspy.Module) or spec.form == "dspy_class" else native_kit(spec)
            kwargs["signature"] = run_with_names(dict(spec.names), lambda: build_signature(spec, kit))
        return kwargs

    def own_lm(module: Any, lm: Any) -> Any:
        if case.lm_via == "module" and lm is not None:
            module.set_lm(lm)
            return None
        return lm

    def invoke(module: Any, lm: Any, inputs: dict[str, Any], call_kwargs: dict[str, Any]) -> Any:
        lm = own_lm(module, lm)
        results = Repeated()
        with _adapter_context(case, module):
            for index in range(case.repeat):
                results.append(default_invoke(module, lm, inputs, kwargs_for(module, call_kwargs, index)))
        return results[0] if case.repeat == 1 else results

    async def ainvoke(module: Any, lm: Any, inputs: dict[str, Any], call_kwargs: dict[str, Any]) -> Any:
        lm = own_lm(module, lm)
        results = Repeated()
        with _adapter_context(case, module):
            for index in range(case.repeat):
                results.append(await default_ainvoke(module, lm, inputs, kwargs_for(module, call_kwargs, index)))
        return results[0] if case.repeat == 1 else results

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
