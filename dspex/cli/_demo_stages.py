"""Demo stage 4: one module walked through every migration stage on a temporary copy of the flag files.

Each step is what a team runs (``dspex flags stage chain_of_thought <stage> --file ...``): the flag file is
rewritten by the gate, the diff is shown, and real routed calls show what the step changed.
"""

from __future__ import annotations

import shutil
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

__all__ = ["stages_stage", "repo_flag_file"]

MODULE = "chain_of_thought"


def repo_flag_file(name: str = "production.flagd.json") -> Path | None:
    """The repository's flag file (an editable install or a checkout in the cwd), if there is one."""
    here = Path(__file__).resolve().parents[2] / "flags" / name
    for candidate in (here, Path.cwd() / "flags" / name):
        if candidate.is_file():
            return candidate
    return None


def _run_calls(users: int, tag: str) -> tuple[Counter[str], int]:
    import dspex

    seen: Counter[str] = Counter()

    def on_route(event: str, measurements: dict[str, Any], metadata: dict[str, Any]) -> None:
        if metadata.get("module_type") == MODULE:
            seen[metadata.get("implementation", "?")] += 1

    detach = dspex.telemetry.attach("dspex.router.route", on_route)
    cot = dspex.ChainOfThought("question -> answer: int")
    correct = 0
    try:
        for i in range(users):
            with dspex.request(targeting_key=f"{tag}-{i}"):
                correct += cot(question=f"What is {i} plus 1?").answer == i + 1
    finally:
        detach()
    return seen, correct


def stages_stage(console: Any, users: int = 200) -> bool:
    from rich.syntax import Syntax

    import dspex
    from dspex.gate import describe_stage, stage_flag

    from ._demo_lm import make_dspy_lm

    source = repo_flag_file()
    lm = make_dspy_lm()
    ok = True
    console.print(f"Stage 4: walking `{MODULE}` through every stage on a temporary copy of "
                  f"{source if source else 'a fresh production flag file'}")
    with tempfile.TemporaryDirectory(prefix="dspex-demo-") as tmp:
        path = Path(tmp) / "production.flagd.json"
        if source is not None:
            shutil.copyfile(source, path)
        else:
            path.write_text('{\n  "flags": {}\n}\n', encoding="utf-8")
        logs = Path(tmp) / "shadow-logs"
        for stage, percent in (("dspy", None), ("shadow", None), ("canary", 10), ("native", None)):
            result = stage_flag(path, MODULE, stage, percent)
            console.print(f"\n[bold]$ dspex flags stage {MODULE} {stage}"
                          f"{f' --percent {percent}' if percent else ''} --file production.flagd.json[/]")
            if result.diff:
                console.print(Syntax(result.diff, "diff", theme="ansi_dark", background_color="default"))
            else:
                console.print("(no change)")
            dspex.configure(lm=lm, flags=str(path), shadow={"log_path": str(logs)})
            seen, correct = _run_calls(users, stage)
            dspex.shutdown(timeout=10)
            ok &= correct == users
            line = (f"  {users} calls: " + ", ".join(f"{n} {impl}" for impl, n in sorted(seen.items()))
                    + f"; answers correct {correct}/{users}; flag now reads: {describe_stage(_flag(path))}")
            console.print(line)
            if stage == "shadow":
                from dspex.shadow import report

                built = report.build_report([str(logs)])
                mod = built["modules"].get(MODULE, {})
                console.print(f"  shadow report: {mod.get('divergent', 0)}/{mod.get('comparisons', 0)} diverged; "
                              f"verdict: [bold]{mod.get('verdict', '?')}[/] ({mod.get('verdict_reason', '')})")
                ok &= mod.get("divergent", 1) == 0
            if stage == "canary":
                ok &= 0 < seen["native"] < users
            if stage == "native":
                ok &= seen["native"] == users
    return ok


def _flag(path: Path) -> dict[str, Any] | None:
    import json

    return json.loads(path.read_text(encoding="utf-8"))["flags"].get(f"dspex.{MODULE}")
