"""Demo stages that need the router: a rollout by flag file (0%, 30%, 100% native) and a shadow run.

Every stage writes real flagd files into a temporary folder and routes real calls through the OpenFeature client;
nothing here is simulated except the LM, which answers locally and instantly.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

__all__ = ["rollout_stage", "shadow_stage", "flag_file"]


def flag_file(path: Path, flags: dict[str, dict[str, Any]]) -> Path:
    """Write a flagd file holding ``flags`` (each a flag body) and return its path."""
    doc = {"$schema": "https://flagd.dev/schema/v0/flags.json", "flags": flags}
    path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    return path


def canary(percent: int) -> dict[str, Any]:
    """A fractional flag: ``percent`` of targeting keys on native, sticky per key."""
    return {
        "state": "ENABLED",
        "variants": {"native": "native", "dspy": "dspy", "shadow": "shadow"},
        "defaultVariant": "dspy",
        "targeting": {"fractional": [["native", percent], ["dspy", 100 - percent]]},
    }


def _count_routes(module_type: str) -> tuple[Counter[str], Any]:
    import dspex

    seen: Counter[str] = Counter()

    def on_route(event: str, measurements: dict[str, Any], metadata: dict[str, Any]) -> None:
        if metadata.get("module_type") == module_type:
            seen[metadata.get("implementation", "?")] += 1

    return seen, dspex.telemetry.attach("dspex.router.route", on_route)


def rollout_stage(console: Any, users: int = 200) -> bool:
    """The same program under one flag file at 0%, 30% and 100% native: answers never change, traffic moves."""
    from rich.table import Table

    import dspex

    from ._demo_lm import make_dspy_lm

    lm = make_dspy_lm()
    table = Table(title=f"Stage 2: a rollout is a one-number diff of flags/*.flagd.json ({users} users)")
    for col in ("dspex.chain_of_thought", "native calls", "dspy calls", "answers correct", "sticky on re-run", "us/call"):
        table.add_column(col, justify="right")
    ok = True
    with tempfile.TemporaryDirectory(prefix="dspex-demo-") as tmp:
        path = Path(tmp) / "production.flagd.json"
        for percent in (0, 30, 100):
            flag_file(path, {"dspex.chain_of_thought": canary(percent)})
            dspex.configure(lm=lm, flags=str(path), implementation_preference="auto")
            cot = dspex.ChainOfThought("question -> answer: int")
            seen, detach = _count_routes("chain_of_thought")
            first: dict[str, str] = {}
            correct = 0
            start = time.perf_counter()
            try:
                for run in range(2):
                    for i in range(users):
                        key = f"user-{i}"
                        with dspex.request(targeting_key=key):
                            before = seen.copy()
                            pred = cot(question=f"What is {i} plus {i}?")
                        impl = next(iter((seen - before).elements()), "?")
                        if run == 0:
                            first[key] = impl
                            correct += pred.answer == 2 * i
                        else:
                            ok &= first[key] == impl
            finally:
                detach()
            per_call_us = (time.perf_counter() - start) / (2 * users) * 1e6
            native_n = sum(1 for v in first.values() if v == "native")
            ok &= correct == users
            table.add_row(f"{percent}% native", str(native_n), str(users - native_n), f"{correct}/{users}",
                          "yes" if ok else "NO", f"{per_call_us:.0f}")
        dspex.shutdown(timeout=5)
    console.print(table)
    return ok


def shadow_stage(console: Any, calls: int = 60) -> bool:
    """A native module with a planted bug runs in shadow: callers get DSPy's answers, the report names the bug."""
    import dspy

    import dspex
    import dspex.native

    from ._demo_lm import make_dspy_lm

    class BuggyNativeMath(dspex.native.Predict):
        """Planted bug: off by one whenever the question multiplies."""

        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            pred = super().__call__(*args, **kwargs)
            if "times" in kwargs.get("question", ""):
                pred["answer"] = pred["answer"] + 1
            return pred

    WordMath = dspex.register("word_math", native=BuggyNativeMath, dspy=dspy.Predict)
    lm = make_dspy_lm()
    ok = True
    with tempfile.TemporaryDirectory(prefix="dspex-demo-") as tmp:
        log_dir = Path(tmp) / "shadow-logs"
        shadow_flag = dict(canary(0), defaultVariant="shadow")
        shadow_flag.pop("targeting")
        path = flag_file(Path(tmp) / "staging.flagd.json", {"dspex.word_math": shadow_flag})
        dspex.configure(lm=lm, flags=str(path), shadow={"log_path": str(log_dir)})
        math = WordMath("question -> answer: int")
        for i in range(calls):
            op = "times" if i % 3 == 0 else "plus"
            pred = math(question=f"What is {i} {op} 3?")
            ok &= pred.answer == (i * 3 if op == "times" else i + 3)   # the caller always gets DSPy's answer
        dspex.shutdown(timeout=10)
        from dspex.shadow import report

        built = report.build_report([str(log_dir)], min_comparisons=20)
    found = built["modules"].get("word_math", {})
    fields = ", ".join(f"{name} ({info['count']}x)" for name, info in found.get("fields", {}).items()) or "none"
    low, high = found.get("ci95", (0.0, 1.0))
    console.print(
        f"Stage 3: {calls} calls to a module with a planted native bug, routed to [bold]shadow[/]. "
        f"Callers got DSPy's answer every time: {'yes' if ok else 'NO'}.\n"
        f"  shadow report: {found.get('divergent', 0)}/{found.get('comparisons', 0)} calls diverged "
        f"(95% CI {low:.0%}-{high:.0%}); diverging fields: {fields}; verdict: {found.get('verdict', '?')}"
    )
    for example in found.get("examples", [])[:2]:
        console.print(f"  e.g. inputs {json.dumps(example.get('inputs'), ensure_ascii=False)} -> field(s) {example.get('fields')}")
    return ok and "answer" in found.get("fields", {})
