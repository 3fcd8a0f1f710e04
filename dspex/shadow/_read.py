"""Reading divergence logs back: files, folders (every ``*.jsonl*`` inside, rotated and per-process ones
included), glob patterns, and lines that are not what dspex writes.

A log is data from disk: a line is a record only when it is a JSON object of a known ``kind`` whose fields have
the types dspex writes (:func:`_shape_error`); anything else (torn, foreign, hand-edited) is an unreadable line,
counted and named by the report, never a crash.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from numbers import Real
from pathlib import Path
from typing import Any, Iterable, Iterator

__all__ = ["LogRead", "read_logs", "expand_paths", "report_missing", "read_for_cli", "DIVERGENCE_KINDS"]

DIVERGENCE_KINDS = ("divergence", "candidate_error", "timeout")


@dataclass
class LogRead:
    records: list[dict[str, Any]] = field(default_factory=list)
    bad_lines: list[tuple[str, int]] = field(default_factory=list)   # (file, line number): torn, not JSON, foreign
    missing: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)                   # every file read (a fleet's logs: many)

    def divergences(self) -> Iterator[dict[str, Any]]:
        return (r for r in self.records if r.get("kind") in DIVERGENCE_KINDS)

    def stats_lines(self) -> Iterator[dict[str, Any]]:
        return (r for r in self.records if r.get("kind") == "stats")


def report_missing(paths: Iterable[str]) -> bool:
    """For the CLIs: say which given log paths (or glob patterns) match nothing (on stderr); True when some do not."""
    from ..cli import shown

    _, missing = expand_paths(paths)
    if missing:
        print(f"error: no such log file or folder: {', '.join(map(shown, missing))}; pass divergence log files, "
              "folders or a quoted glob such as 'logs/*.jsonl*'.", file=sys.stderr)
    return bool(missing)


def read_for_cli(paths: list[str], empty_ok: bool = False) -> LogRead | None:
    """What report, replay and promote read; None (after one error line on stderr) when the input is unusable:
    a path that matches nothing, files without a single divergence-log line (garbage, a flag file...), or no
    record at all (an empty folder or file: no evidence, which a gate must not read as "nothing diverged").
    ``empty_ok`` (``dspex status``): no record is a warning on stderr, and the empty read is returned."""
    from ..cli import shown

    if report_missing(paths):
        return None
    read = read_logs(paths)
    if not read.records and not read.bad_lines:
        found = f"{len(read.files)} empty file(s)" if read.files else "no *.jsonl* log file"
        print(f"{'warning' if empty_ok else 'error'}: no divergence-log record in {', '.join(map(shown, paths))} "
              f"({found}): no shadow evidence at all. Pass the folder or files that shadow.log_path points at; a "
              "shadow run writes stats lines every stats_every comparisons and at dspex.shutdown().", file=sys.stderr)
        return read if empty_ok else None
    if not read.records and read.bad_lines:
        first = ", ".join(f"{f}:{n}" for f, n in read.bad_lines[:3])
        print(f"error: {len(read.bad_lines)} line(s) and not one dspex divergence-log record in "
              f"{', '.join(map(shown, paths))} (first unreadable: {shown(first)}); "
              "pass the folder or files that shadow.log_path points at.",
              file=sys.stderr)
        return None
    return read


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


def _opt(value: Any, kind: type | tuple[type, ...]) -> bool:
    return value is None or isinstance(value, kind)


def _number(value: Any) -> bool:
    return value is None or (isinstance(value, Real) and not isinstance(value, bool))


def _str_list(value: Any) -> bool:
    return value is None or (isinstance(value, list) and all(isinstance(v, str) for v in value))


def _int_map(value: Any) -> bool:
    return value is None or (isinstance(value, dict) and all(_number(v) and v is not None for v in value.values()))


def _side(value: Any) -> bool:
    return value is None or (isinstance(value, dict) and _number(value.get("duration_ms"))
                             and _opt(value.get("error"), (dict, str)))


def _shape_error(r: dict[str, Any]) -> str | None:
    """Why ``r`` is not a record dspex writes (None when it is one)."""
    kind = r.get("kind")
    if kind not in (*DIVERGENCE_KINDS, "stats"):
        return f"unknown kind {kind!r}"
    if not isinstance(r.get("module_type"), str) or not _opt(r.get("module_name"), str):
        return "module_type/module_name"
    if not all(_opt(r.get(k), str) for k in ("run_id", "id", "time")):
        return "run_id/id/time"
    if kind == "stats":
        latency = r.get("latency_ms")
        ok_latency = latency is None or (isinstance(latency, list) and all(
            isinstance(p, list) and len(p) in (2, 7) and all(_number(x) and x is not None for x in p[:6])
            and _number(p[6 % len(p)]) for p in latency))
        if not (isinstance(r.get("counts"), dict) and _int_map(r["counts"]) and _int_map(r.get("noise_fields"))
                and _int_map(r.get("fields")) and ok_latency):
            return "stats counts"
        return None
    checks = (_str_list(r.get("fields")), _str_list(r.get("redacted")), _opt(r.get("inputs"), dict),
              _opt(r.get("prompt_diff"), str), _side(r.get("control")), _side(r.get("candidate")),
              _opt(r.get("transcript"), list), _opt(r.get("signature"), dict), _opt(r.get("versions"), dict))
    return None if all(checks) else "field types"


def read_logs(paths: Iterable[str | Path]) -> LogRead:
    files, missing = expand_paths(paths)
    out = LogRead(missing=missing, files=[str(f) for f in files])
    for f in files:
        try:
            fh = open(f, encoding="utf-8", errors="replace")
        except OSError:
            out.bad_lines.append((str(f), 0))
            continue
        with fh:
            for n, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except (ValueError, RecursionError):
                    out.bad_lines.append((str(f), n))
                    continue
                if isinstance(record, dict) and _shape_error(record) is None:
                    record.setdefault("_source", f"{f}:{n}")
                    out.records.append(record)
                else:
                    out.bad_lines.append((str(f), n))
    return out
