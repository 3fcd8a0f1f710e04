"""Memory over many distinct signatures: what is still alive after the modules are gone and ``gc.collect()``.

Each round builds a module on a *distinct* signature string, calls it once (so every per-signature cache is
filled: input plan, adapter plan, output parsers) and drops it. The report is the RSS growth after collection
per phase, the bytes retained per signature, and how many native ``Signature`` classes are still alive (the weak
caches must let each one die once nothing else holds it). Phases: ``dspex.native.Predict``,
``dspex.native.ChainOfThought`` and the routed ``dspex.Predict`` forced to native, each over ``--signatures``
(default 20,000). No dspy is imported.

    .venv/bin/python benchmarks/memory.py [--signatures 20000] [--json PATH]

Flat means: RSS growth per signature well under 1 KB (before the fix each signature kept ~7-9 KB alive) and
one live Signature class (the base) at the end of every phase.
"""

from __future__ import annotations

import argparse
import gc
import json
import re
import sys
import time
from pathlib import Path
from typing import Any, Callable

_OUT = re.compile(r"`\[\[ ## (\w+) ## \]\]`")


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * 4096 / 1e6


def instant_lm(messages: list[dict[str, Any]] | None = None, **kwargs: Any) -> list[str]:
    """Answers every output field the prompt asks for (``reasoning`` included), in ChatAdapter's format."""
    wanted = [n for n in _OUT.findall(messages[-1]["content"]) if n != "completed"]
    return ["\n\n".join(f"[[ ## {name} ## ]]\nok" for name in wanted) + "\n\n[[ ## completed ## ]]"]


def live_signatures() -> int:
    from dspex.signature import SignatureMeta

    return sum(1 for o in gc.get_objects() if isinstance(o, SignatureMeta))


def phase(name: str, make: Callable[[str], Any], n: int) -> dict[str, Any]:
    for i in range(200):   # warm-up: imports, first-use allocations, allocator pools
        _round(make, f"warm{i}")
    gc.collect()
    before, t0 = rss_mb(), time.perf_counter()
    samples = []
    for i in range(n):
        _round(make, f"s{i}")
        if (i + 1) % max(1, n // 5) == 0:
            gc.collect()
            samples.append(round(rss_mb() - before, 1))
    gc.collect()
    grown = rss_mb() - before
    return {"phase": name, "signatures": n, "rss_growth_mb": round(grown, 1),
            "bytes_per_signature": round(grown * 1e6 / n), "rss_growth_over_time_mb": samples,
            "live_signature_classes": live_signatures(), "seconds": round(time.perf_counter() - t0, 1)}


def _round(make: Callable[[str], Any], tag: str) -> None:
    module = make(f"question_{tag} -> answer_{tag}")
    module(**{f"question_{tag}": "hi"})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--signatures", type=int, default=20_000)
    parser.add_argument("--json", default=None, help="also write the numbers here")
    args = parser.parse_args(argv)

    import dspex
    import dspex.native as dn

    dn.settings.configure(lm=instant_lm)
    dspex.configure(lm=instant_lm, implementation_preference="native_first")
    results = [
        phase("native.Predict", dn.Predict, args.signatures),
        phase("native.ChainOfThought", dn.ChainOfThought, args.signatures),
        phase("routed dspex.Predict (native)", lambda s: dspex.Predict(s, implementation="native"), args.signatures),
    ]
    for r in results:
        print(f"{r['phase']:<32} {r['signatures']:>6} signatures: RSS +{r['rss_growth_mb']:>6.1f} MB "
              f"({r['bytes_per_signature']:>5} B/signature; over time {r['rss_growth_over_time_mb']}), "
              f"live Signature classes {r['live_signature_classes']}, {r['seconds']}s")
    flat = all(r["bytes_per_signature"] < 1000 and r["live_signature_classes"] <= 1 for r in results)
    print("memory flat" if flat else "memory NOT flat")
    if args.json:
        Path(args.json).write_text(json.dumps({"results": results, "flat": flat}, indent=2))
    return 0 if flat else 1


if __name__ == "__main__":
    sys.exit(main())
