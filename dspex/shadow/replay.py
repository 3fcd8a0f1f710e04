"""``dspex shadow replay LOG...``: re-run logged divergences against today's native code; which are fixed?

Each divergence is rebuilt as a corpus case and checked with :func:`dspex.shadow.corpus.check_case` (the
recorded DSPy transcript served back, zero LM calls). Exit code 0 when every replayable divergence is fixed,
1 when some still diverge, 2 on bad arguments or logs without a single record (an empty folder is not a pass).
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path
from typing import Any, Sequence

from ._read import LogRead, read_for_cli, read_logs
from .corpus import NOT_REPLAYABLE, NativeFactory, case_from_record, check_case

__all__ = ["main", "replay"]


def replay(logs: Sequence[str | Path] | LogRead, factory: NativeFactory | None = None) -> list[dict[str, Any]]:
    """One result per logged divergence: id, module, status (fixed | diverges | not_replayable), problems."""
    results = []
    read = logs if isinstance(logs, LogRead) else read_logs(logs)
    for record in read.divergences():
        case = case_from_record(record)
        entry = {"id": record.get("id"), "module_type": record.get("module_type"), "kind": record.get("kind")}
        if case is None:
            why = "redacted inputs" if record.get("redacted") else "no transcript, or parts of the wrong type"
            results.append(entry | {"status": "not_replayable", "problems": [why]})
            continue
        problems = check_case(case, factory)
        if problems and problems[0].startswith(NOT_REPLAYABLE):
            results.append(entry | {"status": "not_replayable", "problems": problems})
            continue
        results.append(entry | {"status": "diverges" if problems else "fixed", "problems": problems})
    return results


def load_factory(spec: str) -> NativeFactory:
    """``package.module:callable`` -> the callable (module_type, signature, case) -> native module."""
    module_name, _, attr = spec.partition(":")
    if not attr:
        raise ValueError(f"--factory takes 'package.module:callable', got {spec!r}")
    return getattr(importlib.import_module(module_name), attr)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dspex shadow replay", description=__doc__.splitlines()[0])
    parser.add_argument("logs", nargs="+", help="divergence log files or folders")
    parser.add_argument("--factory", default=None, help="package.module:callable building native modules")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    try:
        factory = load_factory(args.factory) if args.factory else None
    except Exception as exc:  # noqa: BLE001 - the named module may fail in any way as it imports
        print(f"error: --factory {args.factory}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    read = read_for_cli(args.logs)
    if read is None:
        return 2
    results = replay(read, factory)
    if args.json:
        print(json.dumps(results, indent=2, ensure_ascii=False, default=repr))
    else:
        from ..cli import plain_text

        for r in results:
            print(plain_text(f"{r['status']:>14}  {r['module_type']}  {r['id']}"))
            for p in r["problems"][:3]:
                print(plain_text("                " + p.replace("\n", "\n                ")))
        counts = {s: sum(r["status"] == s for r in results) for s in ("fixed", "diverges", "not_replayable")}
        print(f"{counts['fixed']} of {len(results)} logged divergence(s) fixed, {counts['diverges']} still "
              f"diverge, {counts['not_replayable']} not replayable"
              + (f"; {len(read.bad_lines)} unreadable line(s) skipped" if read.bad_lines else ""))
    return 1 if any(r["status"] == "diverges" for r in results) else 0
