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
    files: list[str] = field(default_factory=list)                   # every file read (a fleet's logs: many)

    def divergences(self) -> Iterator[dict[str, Any]]:
        return (r for r in self.records if r.get("kind") in ("divergence", "candidate_error", "timeout"))

    def stats_lines(self) -> Iterator[dict[str, Any]]:
        return (r for r in self.records if r.get("kind") == "stats")


def report_missing(paths: Iterable[str]) -> bool:
    """For the CLIs: say which given log paths (or glob patterns) match nothing (on stderr); True when some do not."""
    _, missing = expand_paths(paths)
    if missing:
        import sys

        print(f"error: no such log file or folder: {', '.join(missing)}; pass divergence log files, folders "
              "or a quoted glob such as 'logs/*.jsonl*'.", file=sys.stderr)
    return bool(missing)


def _is_log_file(f: Path) -> bool:
    return f.is_file() and ".jsonl" in f.name and not f.name.endswith(".lock")


def expand_paths(paths: Iterable[str | Path]) -> tuple[list[Path], list[str]]:
    """Files to read: a file as is, a folder's ``*.jsonl*`` (rotated and per-process files included), and a glob
    pattern's matches (``logs/*/divergences.*.jsonl*``, ``**`` recursive), so a fleet's logs read as one."""
    import glob

    files: dict[Path, None] = {}
    missing: list[str] = []
    for given in paths:
        p = Path(given)
        if p.is_dir():
            files.update((f, None) for f in sorted(p.iterdir()) if _is_log_file(f))
        elif p.is_file():
            files[p] = None
        elif glob.has_magic(str(given)):
            matches = [Path(m) for m in sorted(glob.glob(str(given), recursive=True))]
            found = [f for m in matches for f in (sorted(m.iterdir()) if m.is_dir() else [m]) if _is_log_file(f)]
            if found:
                files.update((f, None) for f in found)
            else:
                missing.append(str(given))
        else:
            missing.append(str(given))
    return list(files), missing


def read_logs(paths: Iterable[str | Path]) -> LogRead:
    files, missing = expand_paths(paths)
    out = LogRead(missing=missing, files=[str(f) for f in files])
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
