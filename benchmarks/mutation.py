"""Mutation testing of the native side, scored by the parity gate: how many small bugs would the gate catch?

mutmut (``pip install -e '.[mutation]'``) mutates ``dspex/signature``, ``dspex/adapters`` and ``dspex/native``
(``[tool.mutmut]`` in pyproject.toml) and runs ``benchmarks/mutation_check.py`` against each mutant: the parity
gate (``dspex parity``) at a fixed seed and budget, without shrinking. A mutant is *killed* when the gate finds a
difference from DSPy 3.4.1, *timed out* when it makes the gate hang, *not reached* when no generated case calls
the mutated function, and *survived* otherwise. ``benchmarks/mutation_equivalent.toml`` lists the mutants that
cannot change behaviour (and the functions the gate does not cover by design), each with its reason.

    python benchmarks/mutation.py --sample 200 --seed 1            # a sample: well under an hour on 2 cores
    python benchmarks/mutation.py --examples 1000                  # every mutant at the CI budget (hours)
    python benchmarks/mutation.py --from build/mutation.json --status survived --examples 3000   # escalate
    python benchmarks/mutation.py --from build/mutation.json --status survived --examples 1000 --ci-budget  # CI's
    python benchmarks/mutation.py --from build/mutation.json --status killed --direct --examples 3000 \
        --gate-seeds 20261125,7,8                                  # the nightly budget, without mutmut's runs

``--direct`` runs each named mutant's check in a process of its own (mutmut's documented ``MUTANT_UNDER_TEST``),
skipping mutmut's clean and coverage runs of the whole gate, which at the nightly budget take hours: for
re-checking mutants an earlier run reached. Its verdicts go to the report only.

The score is ``(killed + timed out) / (all - equivalent - out of scope)``. The run writes a JSON report (default
``build/mutation.json``) that ``--from`` reads back, e.g. to re-check survivors at a larger (nightly) budget.
"""

from __future__ import annotations

import argparse
import fnmatch
import glob
import json
import os
import random
import subprocess
import sys
import time
import tomllib
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EQUIVALENT_FILE = ROOT / "benchmarks" / "mutation_equivalent.toml"
STATUS = {1: "killed", 3: "killed", 0: "survived", 5: "not reached", 33: "not reached", 36: "timeout",
          24: "timeout", -24: "timeout", 152: "timeout", 255: "timeout", None: "not checked"}
KILLED = ("killed", "timeout")

_GENERATE = """
import os, sys
from mutmut.__main__ import (copy_also_copy_files, copy_src_dir, create_mutants, set_mutant_under_test,
                             setup_source_paths)
set_mutant_under_test("mutant_generation")
os.makedirs("mutants", exist_ok=True)
copy_src_dir(); copy_also_copy_files(); setup_source_paths(); create_mutants(int(sys.argv[1]))
"""


def _mutmut_env(examples: int, seeds: str, timeout: int) -> dict[str, str]:
    env = dict(os.environ, DSPEX_MUTATION_EXAMPLES=str(examples), DSPEX_MUTATION_SEEDS=seeds,
               DSPEX_MUTATION_TIMEOUT=str(timeout))
    env.pop("HYPOTHESIS_PROFILE", None)
    return env


def generate(children: int, log: Any) -> list[str]:
    """Write the mutants (cheap when nothing changed: mutmut keeps them by file mtime) and list their names."""
    subprocess.run([sys.executable, "-c", _GENERATE, str(children)], cwd=ROOT, check=True, stdout=log, stderr=log)
    return sorted(name for meta in glob.glob(str(ROOT / "mutants" / "dspex" / "**" / "*.meta"), recursive=True)
                  for name in json.loads(Path(meta).read_text())["exit_code_by_key"])


def statuses() -> dict[str, str]:
    out: dict[str, str] = {}
    for meta in glob.glob(str(ROOT / "mutants" / "dspex" / "**" / "*.meta"), recursive=True):
        for name, code in json.loads(Path(meta).read_text())["exit_code_by_key"].items():
            out[name] = STATUS.get(code, "suspicious")
    return out


def load_equivalents(path: Path = EQUIVALENT_FILE) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """``({mutant: reason}, [(function glob or mutant name, reason)])`` from the equivalents file (an
    ``out_of_scope`` entry names ``functions``, a glob or a list of them, or single ``mutants``)."""
    if not path.exists():
        return {}, []
    data = tomllib.loads(path.read_text())
    mutants = {e["mutant"]: e["reason"] for e in data.get("equivalent", [])}
    scopes = [(glob_, s["reason"]) for s in data.get("out_of_scope", [])
              for key in ("functions", "mutants") if key in s
              for glob_ in ([s[key]] if isinstance(s[key], str) else s[key])]
    return mutants, scopes


def classify(names: list[str], found: dict[str, str]) -> dict[str, tuple[str, str]]:
    """Each mutant's verdict and, for equivalent / out-of-scope ones, the recorded reason."""
    equivalent, scopes = load_equivalents()
    out: dict[str, tuple[str, str]] = {}
    for name in names:
        status, reason = found.get(name, "not checked"), ""
        function = name.partition("__mutmut_")[0]
        scope = next((r for pattern, r in scopes if pattern == name or fnmatch.fnmatchcase(function, pattern)), None)
        if status not in KILLED and name in equivalent:
            status, reason = "equivalent", equivalent[name]
        elif status not in KILLED and scope is not None:
            status, reason = "out of scope", scope
        out[name] = (status, reason)
    return out


def score(verdicts: dict[str, tuple[str, str]]) -> dict[str, Any]:
    counts = Counter(status for status, _ in verdicts.values())
    judged = len(verdicts) - counts["equivalent"] - counts["out of scope"]
    killed = counts["killed"] + counts["timeout"]
    return {"mutants": len(verdicts), **dict(counts), "score": round(killed / judged, 4) if judged else None}


def run(names: list[str], args: argparse.Namespace, log: Any) -> None:
    stats = ROOT / "mutants" / "mutmut-stats.json"
    if stats.exists() and not args.keep_stats:
        stats.unlink()   # which functions the gate reaches depends on the budget and the strategies: collect anew
    env = _mutmut_env(args.examples, args.gate_seeds, args.timeout)
    cmd = [sys.executable, "-m", "mutmut", "run", "--max-children", str(args.max_children), *names]
    result = subprocess.run(cmd, cwd=ROOT, env=env, stdout=log, stderr=log)
    if result.returncode != 0:
        raise SystemExit(f"mutmut failed (exit {result.returncode}); see {log.name}")


_DIRECT = """
import os, sys
from mutmut.__main__ import setup_source_paths
setup_source_paths()
os.chdir("mutants")
import pytest
sys.exit(int(pytest.main(["--rootdir=.", "--tb=native", "-x", "-q", "-p", "no:randomly", "-p", "no:cacheprovider",
                          *sys.argv[1:]])))
"""


def _test_selection() -> list[str]:
    """The test mutmut runs for each mutant, as ``[tool.mutmut]`` in pyproject.toml names it."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return list(config["tool"]["mutmut"]["pytest_add_cli_args_test_selection"])


def run_direct(names: list[str], args: argparse.Namespace, log: Any) -> dict[str, str]:
    """Each mutant's check as mutmut would run it, without mutmut's runs of the unmutated gate."""
    env, tests = _mutmut_env(args.examples, args.gate_seeds, args.timeout), _test_selection()
    found: dict[str, str] = {}
    for name in names:
        done = subprocess.run([sys.executable, "-c", _DIRECT, *tests], cwd=ROOT, env={**env, "MUTANT_UNDER_TEST": name},
                              stdout=log, stderr=log)
        found[name] = STATUS.get(done.returncode, "suspicious")
        print(f"  {found[name]:12} {name}", flush=True)
    return found


def forget(names: list[str]) -> None:
    """Clear the earlier results of ``names``: a mutant this run does not get to must read "not checked", never
    keep a verdict from another run (other strategies, another budget)."""
    wanted = set(names)
    for meta in glob.glob(str(ROOT / "mutants" / "dspex" / "**" / "*.meta"), recursive=True):
        data = json.loads(Path(meta).read_text())
        codes = data["exit_code_by_key"]
        if wanted & codes.keys():
            codes.update({n: None for n in wanted & codes.keys()})
            Path(meta).write_text(json.dumps(data, indent=4))


def show(name: str) -> str:
    out = subprocess.run([sys.executable, "-m", "mutmut", "show", name], cwd=ROOT, capture_output=True, text=True)
    lines = [line for line in out.stdout.splitlines()[1:] if line.startswith(("+", "-")) and
             not line.startswith(("+++", "---"))]
    return " | ".join(lines)


def _select(all_names: list[str], args: argparse.Namespace) -> list[str]:
    if args.from_report:
        report = json.loads(Path(args.from_report).read_text())
        wanted = set(args.status or ["survived", "not reached"])
        names = [n for n, v in report["mutants"].items() if v["status"] in wanted]
        return [n for n in names if n in set(all_names)]
    names = [n for n in all_names if not args.only or any(fnmatch.fnmatchcase(n, p) for p in args.only)]
    if args.sample and args.sample < len(names):
        names = sorted(random.Random(args.seed).sample(names, args.sample))
    return names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sample", type=int, default=0, help="score this many mutants drawn with --seed (0: all)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the mutant sample")
    parser.add_argument("--only", action="append", help="mutant name glob (repeatable), e.g. 'dspex.adapters.*'")
    parser.add_argument("--from", dest="from_report", help="take the mutants from this report (with --status)")
    parser.add_argument("--status", action="append", help="with --from: statuses to re-check (default survivors)")
    parser.add_argument("--examples", type=int, default=300, help="gate cases per module (CI: 1000)")
    parser.add_argument("--gate-seeds", default="20261125", help="comma-separated gate seeds (CI: 20261125)")
    parser.add_argument("--ci-budget", action="store_true",
                        help="split the budget as CI does (.ci/parity-budget; --examples for the rest: CI's 1000)")
    parser.add_argument("--timeout", type=int, default=None,
                        help="CPU seconds one mutant's gate run may take (default: 600 per 200 examples per seed)")
    parser.add_argument("--max-children", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--keep-stats", action="store_true", help="reuse mutmut's coverage from the last run")
    parser.add_argument("--resume", action="store_true",
                        help="run only the mutants without a result yet (an interrupted run; implies --keep-stats)")
    parser.add_argument("--direct", action="store_true",
                        help="run each mutant's check on its own, without mutmut's clean and coverage runs")
    parser.add_argument("--score-only", action="store_true", help="score the last results; run nothing")
    parser.add_argument("--report", default=str(ROOT / "build" / "mutation.json"))
    parser.add_argument("--show", action="store_true", help="print each surviving mutant's diff")
    args = parser.parse_args(argv)
    if args.timeout is None:   # a survivor runs the whole gate: its limit grows with the budget, or it reads "timeout"
        seeds = len([s for s in args.gate_seeds.split(",") if s.strip()]) or 1
        args.timeout = 600 * max(1, -(-args.examples // 200)) * seeds

    if args.ci_budget:   # read by the gate in every mutant's run (mutmut passes the environment on)
        os.environ["DSPEX_PARITY_BUDGET"] = (ROOT / ".ci" / "parity-budget").read_text().strip()
    Path(args.report).parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with open(Path(args.report).with_suffix(".log"), "a") as log:
        names = _select(generate(args.max_children, log), args)
        split = f" (split: {os.environ['DSPEX_PARITY_BUDGET']})" if os.environ.get("DSPEX_PARITY_BUDGET") else ""
        print(f"{len(names)} mutants; gate: {args.examples} examples a module{split}, seed(s) {args.gate_seeds}",
              flush=True)
        todo = [n for n in names if statuses().get(n, "not checked") == "not checked"] if args.resume else names
        args.keep_stats = args.keep_stats or args.resume
        found = statuses()
        if args.direct and not args.score_only:
            found.update(run_direct(names, args, log))
        elif not args.score_only and todo:
            if not args.resume:
                forget(todo)
            run(todo, args, log)
            found = statuses()
    verdicts = classify(names, found)
    summary = score(verdicts)
    report = {"summary": summary, "examples": args.examples, "split": os.environ.get("DSPEX_PARITY_BUDGET", ""),
              "gate_seeds": args.gate_seeds, "direct": args.direct,
              "sample": args.sample, "sample_seed": args.seed, "seconds": round(time.perf_counter() - start),
              "mutants": {n: {"status": s, "reason": r} for n, (s, r) in verdicts.items()}}
    Path(args.report).write_text(json.dumps(report, indent=1))
    print(json.dumps(summary))
    for name, (status, _) in sorted(verdicts.items()):
        if status not in (*KILLED, "equivalent", "out of scope"):
            print(f"  {status:12} {name}" + (f"\n      {show(name)}" if args.show else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
