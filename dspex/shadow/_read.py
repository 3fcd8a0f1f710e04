"""Reading divergence logs back: files, folders (every ``*.jsonl*`` inside, rotated ones included), bad lines."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

__all__ = ["LogRead", "read_logs", "expand_paths", "report_missing"]


@dataclass
class LogRead:
    records: list[dict[str, Any]] = field(default_factory=list)
    bad_lines: list[tuple[str, int]] = field(default_factory=list)   # (file, line number): torn or not JSON
    missing: list[str] = field(default_factory=list)

    def divergences(self) -> Iterator[dict[str, Any]]:
        return (r for r in self.records if r.get("kind") in ("divergence", "candidate_error", "timeout"))

    def stats_lines(self) -> Iterator[dict[str, Any]]:
        return (r for r in self.records if r.get("kind") == "stats")


def report_missing(paths: Iterable[str]) -> bool:
    """For the CLIs: say which given log paths do not exist (on stderr); True when some do not."""
    missing = [p for p in paths if not Path(p).exists()]
    if missing:
        import sys

        print(f"error: no such log file or folder: {', '.join(missing)}", file=sys.stderr)
    return bool(missing)


def expand_paths(paths: Iterable[str | Path]) -> tuple[list[Path], list[str]]:
    files: list[Path] = []
    missing: list[str] = []
    for p in map(Path, paths):
        if p.is_dir():
            files += sorted(f for f in p.iterdir() if f.is_file() and ".jsonl" in f.name and not f.name.endswith(".lock"))
        elif p.is_file():
            files.append(p)
        else:
            missing.append(str(p))
    return files, missing


def read_logs(paths: Iterable[str | Path]) -> LogRead:
    files, missing = expand_paths(paths)
    out = LogRead(missing=missing)
    for f in files:
        with open(f, encoding="utf-8", errors="replace") as fh:
            for n, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    out.bad_lines.append((str(f), n))
                    continue
                if isinstance(record, dict):
                    record.setdefault("_source", f"{f}:{n}")
                    out.records.append(record)
                else:
                    out.bad_lines.append((str(f), n))
    return out
