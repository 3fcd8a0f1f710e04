"""An agent parity case (signature, tools, LM script, how it is called) and the run that compares both sides.

The same routine builds DSPy's agent and native's from the case (only the library differs), each with its own
scripted LM and its own freshly compiled tools, and the harness's ``run_side`` / ``compare`` judge what a caller
and the LM can observe. One documented normalisation comes first (``dspex.shadow.tracebacks``): a failing
tool's observation quotes a traceback whose frames inside DSPy's or dspex's own files differ by construction,
so those frames are dropped, and a library exception class is compared by name, in prompts, results, logs
and error messages; everything else stays byte for byte.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
from dataclasses import dataclass, field
from typing import Any, Callable, Literal

import dspy

from ..shadow.tracebacks import normalize_value, strip_library_frames
from ._agent_tools import ToolSpec, build_tools
from ._agent_values import as_dspy
from ._case import LMSpec, SignatureSpec, build_signature, run_with_names
from ._compare import Difference, compare, show
from ._side import SideRun, run_side
from ._snapshot import ExcInfo, snapshot_result, unaddress
from .harness import ParityResult, dspy_kit, native_kit
from .scripted_lm import ScriptedLM

__all__ = ["AgentCase", "AgentLM", "run_agent_case", "describe_agent", "normalize_side", "as_dspy"]

_ASPECTS = frozenset({"construct", "calls", "error", "result", "logs", "inputs"})


class AgentLM(ScriptedLM):
    """A ScriptedLM that may declare native function calling and native reasoning, as provider LMs do."""

    def __init__(self, script: Any = (), *, supports_function_calling: bool = False,
                 supports_reasoning: bool = False, **options: Any) -> None:
        super().__init__(script, **options)
        self._fc = supports_function_calling
        self._reasoning = supports_reasoning

    @property
    def supports_function_calling(self) -> bool:  # type: ignore[override]
        return self._fc

    @property
    def supports_reasoning(self) -> bool:  # type: ignore[override]
        return self._reasoning


@dataclass
class AgentCase:
    module: Literal["react", "react_v2"]
    signature: SignatureSpec
    tools: tuple[ToolSpec, ...]
    inputs: dict[str, Any]
    lm: LMSpec = field(default_factory=LMSpec)
    max_iters: int | None = None             # constructor max_iters (None: the default, 20)
    call_max_iters: int | None = None        # per-call max_iters=
    config: dict[str, Any] | None = None     # per-call config= (n, temperature, ...)
    adapter: Literal["chat", "json", "chat_no_fallback", "chat_fc", "xml"] = "chat"
    mode: Literal["sync", "async"] = "sync"
    function_calling: bool = False           # the LM declares native function calling
    reasoning: bool = False                  # the LM declares native reasoning
    history: Any = None                      # ReActV2: a history= given per call (list of message dicts)
    kind: str = "generated"

    def __repr__(self) -> str:
        return f"{self.kind} ({self.mode})\n{describe_agent(self)}"


def describe_agent(case: AgentCase) -> str:
    spec = case.signature
    sig = spec.raw if spec.raw is not None else spec.as_string()
    tools = "\n".join(f"    {t}" for t in case.tools)
    return (
        f"case: {case.module} {spec.form} signature {sig!r} instructions={show(spec.instructions, 120)}\n"
        f"  adapter={case.adapter} max_iters={case.max_iters} call_max_iters={case.call_max_iters} "
        f"config={case.config} fc={case.function_calling} reasoning={case.reasoning}\n"
        f"  inputs={show(case.inputs, 300)} history={show(case.history, 300)}\n  tools=\n{tools}\n"
        f"  lm.kwargs={case.lm.kwargs} supported_params={case.lm.supported_params} "
        f"schema={case.lm.supports_response_schema}\n  script={show(case.lm.script, 3000)}"
    )


def _factory(case: AgentCase, side: str) -> Callable[[], Any]:
    def build() -> Any:
        if side == "dspy":
            lib, kit = dspy, dspy_kit()
        else:
            import dspex.native as lib

            kit = dspy_kit() if case.signature.form == "dspy_class" else native_kit(case.signature)
        signature = build_signature(case.signature, kit)
        tools = build_tools(case.tools, side)
        cls = lib.ReAct if case.module == "react" else lib.ReActV2
        kwargs = {} if case.max_iters is None else {"max_iters": case.max_iters}
        return cls(signature, tools=tools, **kwargs)

    return build


def _call_kwargs(case: AgentCase) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    if case.call_max_iters is not None:
        kwargs["max_iters"] = case.call_max_iters
    if case.config is not None:
        kwargs["config"] = case.config
    if case.history is not None:
        kwargs["history"] = copy.deepcopy(case.history)
    return kwargs


def _adapter_context(case: AgentCase, module: Any) -> Any:
    """Each library's own way to choose the adapter; ``chat_fc`` is a ChatAdapter with native function calling."""
    if case.adapter == "chat":
        return contextlib.nullcontext()
    if isinstance(module, dspy.Module):
        lib: Any = dspy
        context = dspy.context
    else:
        import dspex.native as lib

        context = lib.settings.context
    adapter = {
        "json": lambda: lib.JSONAdapter(),
        "chat_no_fallback": lambda: lib.ChatAdapter(use_json_adapter_fallback=False),
        "chat_fc": lambda: lib.ChatAdapter(use_native_function_calling=True),
        "xml": lambda: lib.XMLAdapter(),   # (the turns are scripted for chat and JSON: the prompts and errors compare)
    }[case.adapter]()
    return context(adapter=adapter)


def _invokers(case: AgentCase) -> tuple[Any, Any]:
    """ReAct takes ``lm=`` per call; ReActV2 passes only the signature's inputs on, so its LM is set on it."""
    def arguments(module: Any, lm: Any, inputs: dict[str, Any], call_kwargs: dict[str, Any]) -> dict[str, Any]:
        if case.module == "react_v2":
            module.set_lm(lm)
            return {**inputs, **call_kwargs}
        return {**inputs, **call_kwargs, "lm": lm}

    def invoke(module: Any, lm: Any, inputs: dict[str, Any], call_kwargs: dict[str, Any]) -> Any:
        with _adapter_context(case, module):
            return module(**arguments(module, lm, inputs, call_kwargs))

    async def ainvoke(module: Any, lm: Any, inputs: dict[str, Any], call_kwargs: dict[str, Any]) -> Any:
        with _adapter_context(case, module):
            return await module.acall(**arguments(module, lm, inputs, call_kwargs))

    return invoke, ainvoke


# --- the documented normalisation ----------------------------------------------------------------------------------
def _normalized_result(result: Any) -> Any:
    store = getattr(result, "_store", None)
    if not isinstance(store, dict):
        return as_dspy(result)
    clone = copy.copy(result)
    object.__setattr__(clone, "_store", {k: as_dspy(v) for k, v in store.items()})
    return clone


def _unaddressed(value: Any) -> Any:
    """A snapshot without memory addresses: ReActV2's history holds the inputs, so its repr shows each side's own
    copy of an input object (the harness compares prompts and warnings without addresses too)."""
    if type(value) is str:
        return unaddress(value)
    if type(value) in (list, tuple):
        return type(value)(_unaddressed(v) for v in value)
    if type(value) is dict:
        return {k: _unaddressed(v) for k, v in value.items()}
    return value


def normalize_side(side: SideRun) -> SideRun:
    """The side with traceback frames in library files dropped from prompts, results, logs and errors."""
    for call in side.calls:
        call.messages = normalize_value(call.messages)
    side.logs = [strip_library_frames(line) for line in side.logs]
    for name in ("error", "construct_error"):
        err: ExcInfo | None = getattr(side, name)
        if err is not None:
            setattr(side, name, dataclasses.replace(err, message=strip_library_frames(err.message)))
    if side.error is None and side.construct_error is None:
        side.result = _normalized_result(side.result)
        side.snapshot = _unaddressed(snapshot_result(side.result))
    return side


def _predictor_names(factory: Callable[[], Any]) -> Any:
    try:
        return [name for name, _ in factory().named_predictors()]
    except Exception as exc:  # noqa: BLE001 - a construction error is compared by run_side already
        return f"<{type(exc).__name__}>"


def run_agent_case(case: AgentCase) -> ParityResult:
    """Build the DSPy agent and the native twin from ``case``, run both, and compare what can be observed."""
    invoke, ainvoke = _invokers(case)
    options = {"kwargs": case.lm.kwargs, "supported_params": case.lm.supported_params,
               "supports_response_schema": case.lm.supports_response_schema,
               "supports_function_calling": case.function_calling, "supports_reasoning": case.reasoning}
    runs = []
    for side in ("dspy", "native"):
        lm = AgentLM(case.lm.script, **options)
        run = run_side(side, _factory(case, side), lm, case.inputs, _call_kwargs(case), case.mode,
                       dict(case.signature.names), invoke, ainvoke)
        runs.append(normalize_side(run))
    differences, notes = compare(runs[0], runs[1], _ASPECTS)
    if not runs[0].construct_error and not runs[1].construct_error:
        names = [run_with_names(dict(case.signature.names), lambda s=s: _predictor_names(_factory(case, s)))
                 for s in ("dspy", "native")]
        if names[0] != names[1]:
            differences.append(Difference("construct", f"named_predictors differ: dspy={names[0]} native={names[1]}"))
    return ParityResult(runs[0], runs[1], differences, notes, describe_agent(case))
