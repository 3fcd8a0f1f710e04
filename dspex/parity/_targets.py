"""What ``dspex parity`` proves: one :class:`Target` (a strategy of examples and a check) per module type.

Built-in module types get theirs from the harness's strategies (here for Predict and ChainOfThought, and from
``_agent_targets``, ``_composite_targets`` and ``_adapter_targets``); user module types from a declared
:class:`dspex.gate.ParityModule`. ``runner`` proves them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from hypothesis import strategies as st

from .. import registry
from ..gate import ParityModule, declared_modules
from ._case import Case, LMSpec, SignatureSpec
from ._hunt_cases import hunt_cases
from .harness import ParityResult, describe, run_case, run_pair
from .strategies import bad_signature_strings, cases, garbage_responses, lm_exceptions

__all__ = ["Target", "BuiltinExample", "builtin_targets", "user_target", "collect_targets"]

_HARNESS_MODULE = {"predict": "predict", "chain_of_thought": "cot"}   # module type -> harness case module


@dataclass(frozen=True)
class Target:
    """One module type's parity property: a strategy of examples and a check returning a ParityResult."""

    module_type: str
    strategy: Any
    check: Callable[[Any], ParityResult]
    source: str = "builtin"
    corpus_factory: Callable[..., Any] | None = None   # for check_case; None = dspex.native's class


@dataclass(frozen=True)
class BuiltinExample:
    """A generated case for a built-in module plus how it is run (sync/async) and what it stresses."""

    kind: str
    case: Case
    mode: str = "sync"

    def __repr__(self) -> str:
        return f"{self.kind} ({self.mode})\n{describe(self.case)}"


def _with_script(case: Case, script: tuple[Any, ...]) -> Case:
    return dataclasses.replace(case, lm=dataclasses.replace(case.lm, script=script))


def _builtin_strategy(module: str) -> Any:
    base, mode = cases(modules=(module,)), st.sampled_from(["sync", "async"])
    generated = st.builds(BuiltinExample, st.just("generated"), base, mode)
    hunting = st.builds(BuiltinExample, st.just("wrong-shape hunt"), hunt_cases(modules=(module,)), mode)

    def lm_raises(case: Case, exc: Any, at: int, mode: str) -> BuiltinExample:
        script = list(case.lm.script)
        script[at] = exc
        return BuiltinExample("lm raises", _with_script(case, tuple(script)), mode)

    def garbage(case: Case, first: Any, second: Any, mode: str) -> BuiltinExample:
        return BuiltinExample("garbage LM output", _with_script(case, (first, second, second)), mode)

    def bad_signature(text: str) -> BuiltinExample:
        answer = ["[[ ## a ## ]]\n1\n\n[[ ## completed ## ]]"]
        case = Case(module, SignatureSpec(fields=(), raw=text, form="string"), {"q": "x"}, LMSpec((answer, ['{"a": "1"}'])))  # type: ignore[arg-type]
        return BuiltinExample("bad signature", case)

    # Weighted by kind: 4/9 hunting cases (typed fields meet wrong-shape answers), 2/9 general ones, 1/9 for each
    # error kind. (``st.one_of`` would not do it: it draws among its *distinct* strategies evenly.)
    kinds = {
        "generated": generated,
        "hunting": hunting,
        "lm raises": st.builds(lm_raises, base, lm_exceptions, st.integers(0, 1), mode),
        "garbage": st.builds(garbage, base, garbage_responses, garbage_responses, mode),
        "bad signature": st.builds(bad_signature, bad_signature_strings()),
    }
    weights = {"generated": 2, "hunting": 4}
    return st.sampled_from([k for k in kinds for _ in range(weights.get(k, 1))]).flatmap(kinds.__getitem__)


def builtin_targets() -> dict[str, Target]:
    """The built-in module types the harness knows how to generate cases for."""
    from ._agent_targets import agent_targets
    from ._composite_targets import composite_targets

    targets = {
        mt: Target(mt, _builtin_strategy(mod), lambda ex: run_case(ex.case, ex.mode))
        for mt, mod in _HARNESS_MODULE.items()
    }
    targets.update(agent_targets(Target))   # react, react_v2 (dspex/parity/_agent_targets.py)
    targets.update(composite_targets(Target))   # MultiChainComparison, BestOfN, Refine, Parallel, majority
    return targets


def user_target(pm: ParityModule) -> Target:
    options = dict(pm.run_pair_options)

    def check(example: tuple[dict[str, Any], Any]) -> ParityResult:
        inputs, script = example
        return run_pair(pm.dspy_factory, pm.native_factory, inputs, script, **options)

    return Target(pm.module_type, st.tuples(pm.inputs, pm.script), check, pm.source,
                  corpus_factory=lambda module_type, signature, case: pm.native_factory())


def collect_targets(declared: Sequence[ParityModule] | None = None) -> tuple[dict[str, Target], dict[str, str]]:
    """``(targets, missing)``: a property per native-capable module type, and why the others have none."""
    declared = declared_modules() if declared is None else declared
    targets: dict[str, Target] = {}
    missing: dict[str, str] = {}
    builtins = builtin_targets()
    for module_type in registry.module_types():
        native, _ = registry.native_class(registry.lookup(module_type))
        if native is None:
            continue   # DSPy-only: nothing to prove
        if module_type in builtins:
            targets[module_type] = builtins[module_type]
        else:
            missing[module_type] = ("native implementation present but no parity property: declare a ParityModule "
                                    "in [tool.dspex] parity_modules (or add cases for it to dspex.parity)")
    from ._adapter_targets import adapter_targets

    targets.update(adapter_targets(Target))   # XMLAdapter, TwoStepAdapter, JSONAdapter's structured outputs
    for pm in declared:
        targets[pm.module_type] = user_target(pm)
        missing.pop(pm.module_type, None)
    return targets, missing
