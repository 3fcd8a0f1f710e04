"""``dspex demo``: the product in one screen, on embedded defaults (no network, no API key).

Stage 1 runs a small program through DSPy and through native with the same local LM and shows, side by side,
that the prompts and answers are identical and what each call cost.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Any, Callable

import click

__all__ = ["demo", "PROGRAM"]


@dataclass(frozen=True)
class Step:
    module: str
    signature: str
    inputs: dict[str, Any]


PROGRAM = (
    Step("ChainOfThought", "question -> answer: int", {"question": "What is 17 plus 25?"}),
    Step("Predict", "text -> sentiment: Literal['positive', 'negative', 'neutral']", {"text": "I love this library"}),
    Step("Predict", "question, hints: list[str] -> answer: int", {"question": "What is 6 times 7?", "hints": ["multiply"]}),
)


def _per_call_us(fns: list[Callable[[], Any]], calls: int, rounds: int = 5) -> list[float]:
    """Median microseconds per call of each function, batches interleaved round by round so that a noisy
    moment on the machine hits every side alike (the method of benchmarks/run.py, shortened)."""
    times: list[list[float]] = [[] for _ in fns]
    batch = max(1, calls // rounds)
    for _ in range(rounds):
        for fn, out in zip(fns, times):
            start = time.perf_counter()
            for _ in range(batch):
                fn()
            out.append((time.perf_counter() - start) / batch * 1e6)
    return [statistics.median(t) for t in times]


def _side_by_side(console: Any, calls: int) -> bool:
    from rich.table import Table

    import dspex.native as native

    from ._demo_lm import DemoLM, make_dspy_lm

    try:
        import dspy
    except ImportError:
        console.print("[yellow]DSPy is not installed: showing native only. pip install 'dspex[dspy]' to compare.[/]")
        dspy = None

    from rich.markup import escape

    table = Table(title="Stage 1: one program through DSPy and through native (local scripted LM)", expand=True)
    table.add_column("module and signature", overflow="fold", ratio=5)
    table.add_column("answer", overflow="fold", ratio=3)
    for col in ("same\nprompt", "DSPy\nus/call", "native\nus/call", "speed\n-up"):
        table.add_column(col, justify="right", no_wrap=True)
    all_same = True
    for step in PROGRAM:
        native_lm = DemoLM()
        native_mod = getattr(native, step.module)(step.signature)
        native_pred = native_mod(**step.inputs, lm=native_lm)
        native_call = lambda: native_mod(**step.inputs, lm=native_lm)  # noqa: E731
        row_native = ", ".join(f"{k}={v!r}" for k, v in native_pred.items() if k != "reasoning")
        title = escape(f"{step.module}({step.signature!r})")
        if dspy is None:
            (native_us,) = _per_call_us([native_call], calls)
            table.add_row(title, escape(row_native), "-", "-", f"{native_us:.0f}", "-")
            continue
        dspy_lm = make_dspy_lm()
        dspy_mod = getattr(dspy, step.module)(step.signature)
        dspy_pred = dspy_mod(**step.inputs, lm=dspy_lm)
        dspy_us, native_us = _per_call_us([lambda: dspy_mod(**step.inputs, lm=dspy_lm), native_call], calls)
        same_prompt = dspy_lm.last == native_lm.last
        same_answer = dict(dspy_pred.items()) == dict(native_pred.items())
        all_same &= same_prompt and same_answer
        row_dspy = ", ".join(f"{k}={v!r}" for k, v in dspy_pred.items() if k != "reasoning")
        table.add_row(
            title,
            escape(row_native if same_answer else f"DSPy: {row_dspy}; native: {row_native}"),
            "[green]yes[/]" if same_prompt and same_answer else "[red]NO[/]",
            f"{dspy_us:.0f}",
            f"{native_us:.0f}",
            f"{dspy_us / native_us:.0f}x",
        )
    console.print(table)
    return all_same


@click.command(help="Run the demo on embedded defaults: no network, no API key. Stages: native vs DSPy side by "
               "side; a rollout at 0/30/100% native; shadow mode with a planted bug; one module through every stage.")
@click.option("--calls", default=200, show_default=True, type=click.IntRange(1), help="Calls per module when timing.")
def demo(calls: int) -> int:
    from rich.console import Console

    console = Console()
    ok = _side_by_side(console, calls)
    if not ok:
        console.print("[red]Native and DSPy differed: this is a bug, please report it.[/]")
        return 1
    console.print("[green]Prompts and answers identical; native is the fast path.[/]\n")
    try:
        import dspy  # noqa: F401
    except ImportError:
        console.print("[yellow]Stages 2-4 route between DSPy and native: pip install 'dspex[dspy]' to see them.[/]")
        return 0
    from ._demo_rollout import rollout_stage, shadow_stage
    from ._demo_stages import stages_stage

    ok = rollout_stage(console)
    console.print()
    ok = shadow_stage(console) and ok
    console.print()
    ok = stages_stage(console) and ok
    console.print("\n[green]Demo complete.[/]" if ok else "\n[red]Some stage did not behave as expected (see above).[/]")
    return 0 if ok else 1
