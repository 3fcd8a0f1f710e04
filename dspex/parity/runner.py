"""The suite runner behind ``dspex parity``: one Hypothesis property per module type, run programmatically.

For every module type with a native implementation (built-ins from the registry, user types declared in
``[tool.dspex] parity_modules`` or the ``dspex.modules`` entry point group) it runs the differential harness on
``examples`` generated cases with a recorded seed, keeps the shrunk failing case with its difference, then
replays that module's cases from ``shadow/corpus/``. The result is a :class:`dspex.gate.ParityReport`.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
import random
import time
import traceback
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from .. import registry
from ..errors import DspexError
from ..environment import dspex_version, dspy_version
from ..gate import ModuleResult, ParityModule, ParityReport, declared_modules
from ._case import Case, LMSpec, SignatureSpec
from ._hunt_cases import hunt_cases
from .harness import ParityResult, describe, run_case, run_pair
from .strategies import bad_signature_strings, cases, garbage_responses, lm_exceptions

__all__ = ["Target", "ParityModule", "builtin_targets", "user_target", "collect_targets", "prove", "run_suite"]

_PHASES = (Phase.explicit, Phase.generate, Phase.target, Phase.shrink)   # no database, no "explain" pass
_HARNESS_MODULE = {"predict": "predict", "chain_of_thought": "cot"}   # module type -> harness case module
Progress = Callable[[str, int], None]   # (module_type, examples so far)


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


@contextmanager
def _quiet_dspy() -> Iterator[None]:
    """DSPy prints every warning through its own handler; the harness captures them, the terminal need not.

    Python warnings raised while modules are built are silenced too; the harness records (and compares) the
    ones raised during calls under its own ``catch_warnings``.
    """
    logger = logging.getLogger("dspy")
    saved = list(logger.handlers)
    for handler in saved:
        logger.removeHandler(handler)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for handler in saved:
            logger.addHandler(handler)


@contextmanager
def _shrink_budget(seconds: float) -> Iterator[None]:
    """Cap Hypothesis' shrinking time (its engine's own limit, 300 s by default) so a CI run stays bounded."""
    from hypothesis.internal.conjecture import engine

    saved = engine.MAX_SHRINKING_SECONDS
    engine.MAX_SHRINKING_SECONDS = seconds  # type: ignore[assignment]
    try:
        yield
    finally:
        engine.MAX_SHRINKING_SECONDS = saved


def prove(target: Target, examples: int, seed: int, progress: Progress | None = None,
          shrink_seconds: float = 60.0, shrink: bool = True) -> ModuleResult:
    """Run ``target``'s property on ``examples`` cases; a failure is shrunk (unless ``shrink`` is off: mutation
    runs only need the verdict) and kept with its difference."""
    state: dict[str, Any] = {"calls": 0, "first_failure": None, "last": None}

    @settings(max_examples=examples, database=None, deadline=None, report_multiple_bugs=False, print_blob=False,
              phases=_PHASES if shrink else _PHASES[:-1],
              verbosity=Verbosity.quiet, suppress_health_check=list(HealthCheck))
    @given(target.strategy)
    def prop(example: Any) -> None:
        state["calls"] += 1
        if state["first_failure"] is None and progress is not None:
            progress(target.module_type, state["calls"])
        try:
            result = target.check(example)
        except Exception as exc:   # noqa: BLE001 - a crash in the suite is a failure too, kept with its traceback
            state["last"] = (example, "".join(traceback.format_exception(exc)).strip(), type(exc).__name__)
            state["first_failure"] = state["first_failure"] or state["calls"]
            raise
        if not result.ok:
            state["last"] = (example, result.report(), "difference")
            state["first_failure"] = state["first_failure"] or state["calls"]
            raise AssertionError(result.report())

    start = time.perf_counter()
    outcome = ModuleResult(target.module_type, "proven", target.source)
    try:
        with _shrink_budget(shrink_seconds):
            hypothesis_seed(seed)(prop)()
    except Exception as exc:   # noqa: BLE001 - Hypothesis re-raises the shrunk failure; anything else is an error
        if state["last"] is None:   # raised outside the check: the strategies themselves are broken
            outcome.status, outcome.note = "error", f"the case generator raised {type(exc).__name__}: {exc}"
            outcome.failure = {"kind": "suite error", "case": "", "first_failing_example": None,
                               "diff": "".join(traceback.format_exception(exc)).strip()}
        else:
            example, diff, kind = state["last"]
            outcome.status = "failed"
            outcome.failure = {"kind": kind, "case": repr(example), "diff": diff,
                               "first_failing_example": state["first_failure"]}
    first = state["first_failure"]
    outcome.examples_run = first if first is not None else state["calls"]
    outcome.shrink_calls = state["calls"] - outcome.examples_run
    outcome.seconds = round(time.perf_counter() - start, 3)
    return outcome


def _check_corpus(result: ModuleResult, target: Target, corpus: list[dict[str, Any]]) -> None:
    from ..shadow.corpus import check_case

    mine = [c for c in corpus if c.get("module_type") == target.module_type]
    result.corpus_cases = len(mine)
    for case in mine:
        problems = check_case(case, target.corpus_factory)
        if problems:
            result.corpus_failures.append({"case_id": case.get("case_id"), "source": case.get("_source"),
                                           "problems": problems})
    if result.corpus_failures and result.status == "proven":
        result.status = "failed"


def default_corpus_dir() -> Path:
    from ..environment import project_root

    return project_root() / "shadow" / "corpus"


BUDGET_ENV = "DSPEX_PARITY_BUDGET"


def module_budgets(default: int, text: str | None = None) -> dict[str, int]:
    """Examples per module type from ``DSPEX_PARITY_BUDGET`` (``"predict=1000,react=400"``); unlisted module types
    get ``default``. CI splits its time this way, so a new native module joins the gate with a budget of its own
    instead of stretching every module's."""
    import os

    text = os.environ.get(BUDGET_ENV, "") if text is None else text
    budgets: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, count = part.partition("=")
        if not name.strip() or not count.strip().isdigit() or int(count) < 1:
            raise DspexError(f"{BUDGET_ENV}={text!r}: write module_type=examples pairs separated by commas, "
                             f"e.g. predict=1000,chain_of_thought=600 (bad part {part!r}).")
        budgets[name.strip()] = int(count)
    return budgets


def run_suite(modules: Sequence[str] = (), examples: int = 100, seed: int | None = None,
              corpus_dir: str | Path | None = None, declared: Sequence[ParityModule] | None = None,
              progress: Progress | None = None, on_module: Callable[[ModuleResult], None] | None = None,
              shrink_seconds: float = 60.0, shrink: bool = True, fail_fast: bool = False) -> ParityReport:
    """Prove every selected module type; ``modules=()`` means all with a native implementation.

    ``fail_fast`` stops at the first module that fails (a mutation run needs one counterexample, not all);
    ``DSPEX_PARITY_BUDGET`` gives listed module types their own number of examples (:func:`module_budgets`)."""
    from ..shadow.corpus import load_cases

    targets, missing = collect_targets(declared)
    unknown = [m for m in modules if m not in targets and m not in missing]
    if unknown:
        raise DspexError(f"No parity suite for module type(s) {unknown}: choose among {sorted({*targets, *missing})} "
                         "(DSPy-only modules have nothing to prove).")
    budgets = module_budgets(examples)
    seed = random.randrange(2**32) if seed is None else seed
    corpus_path = Path(corpus_dir) if corpus_dir is not None else default_corpus_dir()
    corpus = load_cases(corpus_path) if corpus_path.is_dir() else []
    report = ParityReport(dspy_version(), dspex_version(), seed, examples,
                          datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"))
    start = time.perf_counter()
    with _quiet_dspy():
        for module_type in [m for m in (modules or [*targets, *missing])]:
            if module_type in missing:
                result = ModuleResult(module_type, "no_property", note=missing[module_type])
            else:
                result = prove(targets[module_type], budgets.get(module_type, examples), seed, progress,
                               shrink_seconds, shrink)
                _check_corpus(result, targets[module_type], corpus)
            report.modules[module_type] = result
            if on_module is not None:
                on_module(result)
            if fail_fast and result.status in ("failed", "error"):
                break
    report.seconds = time.perf_counter() - start
    return report
