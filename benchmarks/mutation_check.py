"""The test mutmut runs against every mutant: the parity gate itself, at a fixed seed and a set budget.

Not part of the test suite (pytest's ``testpaths`` is ``tests/``): ``benchmarks/mutation.py`` points mutmut at
this file and sets the budget through the environment, so one mutant set can be scored at several budgets:
``DSPEX_MUTATION_EXAMPLES`` (cases per module, default 300), ``DSPEX_MUTATION_SEEDS`` (comma-separated, default
the CI seed 20261125) and ``DSPEX_MUTATION_TIMEOUT`` (CPU seconds for the whole check, default 900: CPU, not wall clock, so a
survivor on a busy machine is not mistaken for a mutant that hangs).
Shrinking is off and the run stops at the first failing module: a mutant needs one counterexample to count as
killed, and survivors are what cost time. A mutant that leaves the gate waiting forever uses no CPU, so a watchdog
also ends the check as a timeout when the process uses next to no CPU for two minutes.

mutmut routes every call of a mutated function through two frames of its own (``mutmut/mutation/trampoline.py``).
Two things native does see frames: an agent shows the LM a failing call's traceback five frames deep, and a
signature string's user types are looked up in the caller's frames, starting at the first frame outside dspex.
``hide_trampolines`` makes those frames invisible to both, so the unmutated code passes the gate under mutmut
exactly as it does without it (otherwise every agent case with a failing call would "kill" every mutant).
mutmut also renames each function it copies (``xǁChainOfThoughtǁforward__mutmut_orig``), and Python words some
errors with the function's qualified name (a call with a stray positional argument); ``unmangle_code_names``
gives the copies their function's qualified name back.
"""

from __future__ import annotations

import os
import signal
import traceback
from typing import Any, Iterator

CI_SEED = 20261125
TIMEOUT_EXIT = 36   # the exit status mutmut files under "timeout"


def budget() -> tuple[int, list[int], int]:
    examples = int(os.environ.get("DSPEX_MUTATION_EXAMPLES", "300"))
    seeds = [int(s) for s in os.environ.get("DSPEX_MUTATION_SEEDS", str(CI_SEED)).split(",") if s.strip()]
    return examples, seeds, int(os.environ.get("DSPEX_MUTATION_TIMEOUT", "900"))


def _time_out(signum: int, frame: Any) -> None:
    # A mutant that loops forever (or makes every call crawl) must not stall the run; os._exit because the
    # harness would otherwise catch an exception raised here as one side's error.
    os._exit(TIMEOUT_EXIT)


def watch_for_hangs(window: float = 120.0, least_cpu: float = 0.2) -> Any:
    """Exit as a timeout when the process has used next to no CPU for ``window`` seconds: a mutant that leaves
    a thread waiting forever (a future never resolved) uses no CPU, so the CPU-time limit alone never fires.
    Returns the event that stops the watch: mutmut runs the clean check in its own process, which must not be
    ended once the check is over."""
    import threading
    import time

    stop = threading.Event()

    def watch() -> None:
        last = time.process_time()
        while not stop.wait(window):
            now = time.process_time()
            if now - last < least_cpu:
                os._exit(TIMEOUT_EXIT)
            last = now

    threading.Thread(target=watch, name="mutation-hang-watch", daemon=True).start()
    return stop


def hide_trampolines() -> None:
    """Tracebacks skip mutmut's trampoline frames, and frame walks take them for dspex's own (see the module
    docstring). Both sides of a comparison are formatted by the same ``traceback`` module, so DSPy's tracebacks,
    which hold no such frames, are unchanged."""
    try:
        from mutmut.mutation import trampoline
    except ImportError:   # not under mutmut: nothing to hide
        return
    walk = getattr(traceback, "_walk_tb_with_full_positions", None)
    if walk is None or getattr(walk, "hides_trampolines", False):
        return
    path = trampoline.__file__

    def walk_without_trampolines(tb: Any) -> Iterator[Any]:
        for frame, positions in walk(tb):
            if frame.f_code.co_filename != path:
                yield frame, positions

    walk_without_trampolines.hides_trampolines = True  # type: ignore[attr-defined]
    traceback._walk_tb_with_full_positions = walk_without_trampolines  # type: ignore[attr-defined]
    # dspex's frame walks skip frames of modules named dspex.* (dspex.signature.* for class namespaces); the
    # trampoline only ever wraps a dspex function, so it is one of those frames. Set after import: the name is
    # read from the frame's globals at walk time and by nothing else that runs now.
    vars(trampoline)["__name__"] = "dspex.signature._mutmut_trampoline"


MUTATED_PACKAGES = ("dspex.signature", "dspex.adapters", "dspex.native")


def unmangle_code_names() -> None:
    """Give mutmut's copies of each function (``xǁChainOfThoughtǁforward__mutmut_orig``, ``..._mutmut_3``) the
    code names of the function they stand for, so the errors Python words from them (``ChainOfThought.forward()
    takes 1 positional argument but 2 were given``) read as without mutmut. Every mutated module is imported
    first: one imported lazily later would keep its mangled names."""
    import importlib
    import pkgutil
    import sys

    for package in MUTATED_PACKAGES:
        for info in pkgutil.walk_packages(importlib.import_module(package).__path__, package + "."):
            importlib.import_module(info.name)
    for name, module in list(sys.modules.items()):
        if name.startswith(MUTATED_PACKAGES):
            for key, table in list(vars(module).items()):
                if key.startswith("mutants_") and key.endswith("__mutmut") and isinstance(table, dict):
                    _rename(module, key[len("mutants_"):-len("__mutmut")], table)


def _rename(module: Any, mangled: str, table: dict[str, Any]) -> None:
    if "ǁ" in mangled:   # a method: xǁClassǁname
        _, owner, name = mangled.split("ǁ", 2)
        qualname = f"{getattr(getattr(module, owner, None), '__qualname__', owner)}.{name}"
    else:   # a module-level function: x_name
        name = qualname = mangled[2:]
    for function in table.values():
        function = getattr(function, "__func__", function)
        code = getattr(function, "__code__", None)
        if code is not None and "__mutmut_" in code.co_name:
            # __name__ stays mangled: mutmut's trampoline looks functions up by it
            function.__code__ = code.replace(co_name=name, co_qualname=qualname)
            function.__qualname__ = qualname


def module_order(mutant: str, module_types: list[str]) -> list[str]:
    """The module types whose own code the mutated file is (``dspex/parity/_touched.py``) run first. Each module's
    property runs on its own seed whatever the order, so the verdict is the same; only a kill comes sooner."""
    from dspex.parity._touched import owners_of

    parts = mutant.split(".")
    first = owners_of("/".join(parts[:3]) + ".py") if len(parts) > 3 else ()
    return sorted(module_types, key=lambda m: m not in first)


def drop_inherited_pools() -> None:
    """mutmut forks each mutant's run from a process that has run the gate (its clean run). Native Parallel
    keeps idle thread pools between calls; a pool inherited across fork has no threads, so a forked run would
    wait forever on it. (A fork-safety gap of native Parallel in its own right: DSPy makes a pool per call.)"""
    import importlib

    executor = importlib.import_module("dspex.native._executor")
    executor._IDLE.clear()   # no lock: the forked run has one thread, and a lock held at fork stays held


# Memo caches of the mutated packages. The forked run inherits them filled by the clean run, which drew the very
# same cases (same seed): a mutated line that only runs on a cache miss would then never run, and its mutant would
# "survive" (found with _sections._is_word, whose header-name cache held every name the gate draws).
CACHES = {
    "dspex.adapters._sections": ["_WORDS"], "dspex.adapters._values": ["_adapters"],
    "dspex.adapters._coerce": ["_adapters"],
    "dspex.adapters.two_step": ["_EXTRACTORS"], "dspex.signature._from_dspy": ["_CACHE"],
    "dspex.signature._types": ["_UNSUPPORTED_CACHE", "_NAME_CACHE"], "dspex.native._inputs": ["_PLANS", "_TYPE_NAMES"],
    "dspex.native._feedback": ["_LISTED"], "dspex.native.refine": ["_HINTED", "_WRAPPERS"],
    "dspex.adapters._history": ["_classes"], "dspex.adapters._roles": ["_derived", "_helpers"],
    "dspex.adapters.chat": ["_lazy"],
}
# Values built on first use and kept in a module global (None until then): the same trap as the caches above
# (found with _history._results_message, whose one-field signature the clean run had already built).
BUILT_ONCE = {
    "dspex.adapters._history": ["_results_signature"], "dspex.native._preprocess": ["_default_adapter"],
    "dspex.native._react_v2_support": ["_types"],
}


def forget_caches() -> None:
    """Start the forked run with empty caches, as a fresh process would (the functools caches and every prompt
    adapter class's plans too)."""
    import importlib
    import sys

    for name, attrs in CACHES.items():
        module = importlib.import_module(name)
        for attr in attrs:
            getattr(module, attr).clear()
    for name, attrs in BUILT_ONCE.items():
        module = importlib.import_module(name)
        for attr in attrs:
            setattr(module, attr, None)
    for name, module in list(sys.modules.items()):
        if name.startswith(MUTATED_PACKAGES) and module is not None:
            for value in list(vars(module).values()):
                if callable(getattr(value, "cache_clear", None)):
                    value.cache_clear()
    chat = importlib.import_module("dspex.adapters.chat").ChatAdapter
    for cls in [chat, *_subclasses(chat)]:
        if "_plans" in vars(cls):
            cls._plans.clear()


def _subclasses(cls: type) -> list[type]:
    out = []
    for sub in cls.__subclasses__():
        out += [sub, *_subclasses(sub)]
    return out


def test_parity_gate_finds_no_difference() -> None:
    hide_trampolines()
    unmangle_code_names()
    drop_inherited_pools()
    forget_caches()
    from dspex.parity.runner import collect_targets, run_suite

    targets, missing = collect_targets()
    order = module_order(os.environ.get("MUTANT_UNDER_TEST", ""), [*targets, *missing])

    examples, seeds, timeout = budget()
    watching = watch_for_hangs()
    previous = signal.signal(signal.SIGVTALRM, _time_out)
    signal.setitimer(signal.ITIMER_VIRTUAL, timeout)
    try:
        for seed in seeds:
            report = run_suite(order, examples, seed, corpus_dir=os.devnull, shrink=False, fail_fast=True)
            failed = [m for m in report.modules.values() if m.status != "proven"]
            assert not failed, "\n".join(f"{m.module_type} (seed {seed}): {m.status} "
                                         f"{m.failure and m.failure['diff'][:2000]}" for m in failed)
    finally:
        watching.set()
        signal.setitimer(signal.ITIMER_VIRTUAL, 0)
        signal.signal(signal.SIGVTALRM, previous)
