"""The suite runner behind ``dspex parity``: one Hypothesis property per module type, run programmatically.

For every module type with a native implementation (built-ins from the registry, user types declared in
``[tool.dspex] parity_modules`` or the ``dspex.modules`` entry point group) it runs the differential harness on
``examples`` generated cases with a recorded seed, keeps the shrunk failing case with its difference, then
replays that module's cases from ``shadow/corpus/``. The result is a :class:`dspex.gate.ParityReport`.

The properties (:class:`Target`, :func:`collect_targets`) are built in ``_targets``; this module's public names
include them, as they always did.
"""

from __future__ import annotations

import datetime
import logging
import random
import time
import traceback
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed

from ..errors import DspexError
from ..environment import dspex_version, dspy_version
from ..gate import ModuleResult, ParityModule, ParityReport
from ._engine import fresh_draws, shrink_budget
from ._targets import Target, builtin_targets, collect_targets, user_target

__all__ = ["Target", "ParityModule", "builtin_targets", "user_target", "collect_targets", "prove", "run_suite"]

_PHASES = (Phase.explicit, Phase.generate, Phase.target, Phase.shrink)   # no database, no "explain" pass
Progress = Callable[[str, int], None]   # (module_type, examples so far)


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
        with shrink_budget(shrink_seconds), fresh_draws():
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
