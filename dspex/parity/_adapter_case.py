"""An adapter parity case (XMLAdapter, TwoStepAdapter, JSONAdapter's structured outputs) and its run.

The module is DSPy's or native's Predict / ChainOfThought built from the same signature spec; the adapter is each
library's own class, configured for the call in each library's settings (``dspy.context`` / native
``settings.context``), exactly as a program configures it. A TwoStepAdapter gets its own scripted extraction LM
per side, whose calls are compared after the main LM's. The LM declares the capabilities DSPy's adapters read
(``supported_params``, ``supports_response_schema``, ``supports_function_calling``), or is a real ``dspy.LM``
(:class:`PlannedLM`) whose capabilities DSPy itself works out from its model, engine and the call's options.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Literal

import dspy

from ._agent_case import AgentLM
from ._case import DemoSpec, LMSpec, SignatureSpec, build_signature
from ._compare import compare, show
from ._side import default_ainvoke, default_invoke, run_side
from .harness import ParityResult, dspy_kit, native_kit
from .scripted_lm import ScriptedLM

__all__ = ["AdapterCase", "run_adapter_case", "ADAPTERS"]

_ASPECTS = frozenset({"construct", "calls", "error", "result", "logs", "inputs"})
ADAPTERS = ("xml", "xml_no_fallback", "two_step", "json", "json_no_fc")


@dataclass
class AdapterCase:
    adapter: Literal["xml", "xml_no_fallback", "two_step", "json", "json_no_fc"]
    module: Literal["predict", "cot"]
    signature: SignatureSpec
    inputs: dict[str, Any] = field(default_factory=dict)
    lm: LMSpec = field(default_factory=LMSpec)
    function_calling: bool = False
    extraction: tuple[Any, ...] = ()          # TwoStepAdapter: the extraction LM's script
    demos: tuple[DemoSpec, ...] | None = None
    config: dict[str, Any] | None = None
    mode: Literal["sync", "async"] = "sync"
    kind: str = "generated"
    planned: tuple[str, str] | None = None    # (model, engine): a real dspy.LM's capabilities (PlannedLM)

    def __repr__(self) -> str:
        return f"{self.kind} ({self.mode})\n{describe_adapter_case(self)}"


def describe_adapter_case(case: AdapterCase) -> str:
    spec = case.signature
    return (
        f"case: {case.adapter} adapter, {case.module} {spec.form} signature {spec.as_string()!r} "
        f"instructions={show(spec.instructions, 120)}\n  inputs={show(case.inputs, 300)} config={case.config} "
        f"demos={show(case.demos, 300)}\n  lm.kwargs={case.lm.kwargs} supported_params={case.lm.supported_params} "
        f"schema={case.lm.supports_response_schema} function_calling={case.function_calling} "
        f"dspy.LM(model, engine)={case.planned}\n"
        f"  script={show(case.lm.script, 3000)}\n  extraction={show(case.extraction, 3000)}"
    )


def _adapter(case: AdapterCase, lib: Any, extraction: Any) -> Any:
    if case.adapter == "xml":
        return lib.XMLAdapter()
    if case.adapter == "xml_no_fallback":
        return lib.XMLAdapter(use_json_adapter_fallback=False)
    if case.adapter == "two_step":
        return lib.TwoStepAdapter(extraction)
    return lib.JSONAdapter(use_native_function_calling=case.adapter == "json")


def _factory(case: AdapterCase, side: str) -> Any:
    def build() -> Any:
        if side == "dspy":
            lib, kit = dspy, dspy_kit()
        else:
            import dspex.native as lib

            kit = dspy_kit() if case.signature.form == "dspy_class" else native_kit(case.signature)
        cls = lib.Predict if case.module == "predict" else lib.ChainOfThought
        return cls(build_signature(case.signature, kit))

    return build


def _demos(case: AdapterCase) -> list[Any] | None:
    if case.demos is None:
        return None
    return [dspy.Example(copy.deepcopy(d.values)) if d.as_example else copy.deepcopy(d.values) for d in case.demos]


def _invokers(case: AdapterCase, extraction: Any) -> tuple[Any, Any]:
    def context(module: Any) -> Any:
        native = not isinstance(module, dspy.Module)
        if native:
            import dspex.native as lib

            return lib.settings.context(adapter=_adapter(case, lib, extraction))
        return dspy.context(adapter=_adapter(case, dspy, extraction))

    def invoke(module: Any, lm: Any, inputs: dict[str, Any], call_kwargs: dict[str, Any]) -> Any:
        with context(module):
            return default_invoke(module, lm, inputs, call_kwargs)

    async def ainvoke(module: Any, lm: Any, inputs: dict[str, Any], call_kwargs: dict[str, Any]) -> Any:
        with context(module):
            return await default_ainvoke(module, lm, inputs, call_kwargs)

    return invoke, ainvoke


def _lm(case: AdapterCase) -> Any:
    if case.planned is not None:
        from ._planned_lm import PlannedLM

        return PlannedLM(*case.planned, case.lm.script, case.lm.kwargs)
    return AgentLM(case.lm.script, kwargs=case.lm.kwargs, supported_params=case.lm.supported_params,
                   supports_response_schema=case.lm.supports_response_schema,
                   supports_function_calling=case.function_calling)


def run_adapter_case(case: AdapterCase) -> ParityResult:
    """Run DSPy's and native's module under the case's adapter; compare what the LMs saw and the caller got."""
    call_kwargs: dict[str, Any] = {}
    if case.config is not None:
        call_kwargs["config"] = case.config
    demos = _demos(case)
    if demos is not None:
        call_kwargs["demos"] = demos
    runs = []
    for side in ("dspy", "native"):
        lm = _lm(case)
        extraction = ScriptedLM(case.extraction)
        invoke, ainvoke = _invokers(case, extraction)
        run = run_side(side, _factory(case, side), lm, case.inputs, call_kwargs, case.mode,
                       dict(case.signature.names), invoke, ainvoke)
        run.calls = list(run.calls) + list(extraction.calls)
        runs.append(run)
    differences, notes = compare(runs[0], runs[1], _ASPECTS)
    return ParityResult(runs[0], runs[1], differences, notes, describe_adapter_case(case))
