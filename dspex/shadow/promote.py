"""``dspex shadow promote LOG... --to shadow/corpus/``: turn logged divergences into regression cases.

Cases are appended to ``<dir>/<module_type>.jsonl``; a case already in the corpus (same call, same transcript) is
not added twice. Lines that cannot be replayed (redacted inputs, no transcript, stats) are skipped and counted.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Sequence

from ..errors import DspexError
from ._read import LogRead, read_for_cli, read_logs
from ._settings import project_root
from .corpus import case_from_record, load_cases

__all__ = ["main", "promote"]


def promote(logs: Sequence[str | Path] | LogRead, to: str | Path, module: str | None = None) -> dict[str, int]:
    """Promote every replayable divergence in ``logs``; returns counts (promoted, duplicates, skipped)."""
    target = Path(to)
    if target.exists() and not target.is_dir():
        raise DspexError(f"--to {target} is a file; give the corpus folder (default shadow/corpus/).")
    target.mkdir(parents=True, exist_ok=True)
    known = {c.get("case_id") for c in load_cases(target)}
    counts = {"promoted": 0, "duplicates": 0, "skipped": 0, "bad_lines": 0}
    read = logs if isinstance(logs, LogRead) else read_logs(logs)
    counts["bad_lines"] = len(read.bad_lines)
    for record in read.divergences():
        if module and module not in (record.get("module_type"), record.get("module_name")):
            continue
        case = case_from_record(record)
        if case is None:
            counts["skipped"] += 1
            continue
        if case["case_id"] in known:
            counts["duplicates"] += 1
            continue
        known.add(case["case_id"])
        name = "".join(ch if ch.isalnum() or ch in "_-" else "_" for ch in str(case["module_type"]))
        with open(target / f"{name}.jsonl", "a", encoding="utf-8") as fh:
            fh.write(json.dumps(case, ensure_ascii=False, sort_keys=True) + "\n")
        counts["promoted"] += 1
    return counts


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dspex shadow promote", description=__doc__.splitlines()[0])
    parser.add_argument("logs", nargs="+", help="divergence log files or folders")
    parser.add_argument("--to", default=None, help="corpus folder (default: shadow/corpus/ in the project root)")
    parser.add_argument("--module", default=None, help="only this module type or name")
    args = parser.parse_args(argv)
    read = read_for_cli(args.logs)
    if read is None:
        return 2
    if args.module:
        present = {str(r.get(k)) for r in read.records for k in ("module_type", "module_name") if r.get(k)}
        if args.module not in present:
            from ..cli import plain_text

            print(plain_text(f"error: --module {args.module!r} names no module in {', '.join(args.logs)} (present: "
                             f"{', '.join(sorted(present)) or 'none'})."), file=sys.stderr)
            return 2
    to = Path(args.to) if args.to else project_root() / "shadow" / "corpus"
    try:
        counts = promote(read, to, args.module)
    except DspexError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"promoted {counts['promoted']} case(s) to {to} ({counts['duplicates']} already there, "
          f"{counts['skipped']} not replayable, {counts['bad_lines']} unreadable line(s))")
    return 0
