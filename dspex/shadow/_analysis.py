"""What the report computes from logs: per-module rates with Wilson intervals, noise-aware fields, latency.

Denominators come from the ``stats`` lines each process writes (cumulative per run), because matches are not
logged. Live-mode noise (control vs itself) is subtracted per field the way twitter/diffy does: a field counts
as a real divergence only when the candidate's rate beats the noise rate by both a relative and an absolute
margin.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from typing import Any, Iterable

from ._read import LogRead

__all__ = ["wilson", "analyse", "percentile"]

Z95 = 1.959963984540054


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval for k successes in n trials (0..1 when n is 0)."""
    if n <= 0:
        return 0.0, 1.0
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    index = min(len(values) - 1, max(0, math.ceil(q * len(values)) - 1))
    return values[index]


def _summary(values: list[float]) -> dict[str, float | None]:
    return {"median": statistics.median(values) if values else None, "p95": percentile(values, 0.95),
            "n": len(values)}


def _costs(pairs: list[tuple[Any, ...]]) -> dict[str, Any] | None:
    """Honest paired costs: each side's own compute (its duration minus its LM wait), LM calls and tokens per call,
    and what a canary changes end to end: the same LM wait plus native's own compute instead of DSPy's. The replayed
    candidate never waits for the LM, so its duration is never shown as a latency."""
    full = [p for p in pairs if len(p) >= 7]
    if not full:
        return None
    c_own = [max(0.0, p[0] - p[2]) for p in full]
    d_own = [max(0.0, p[1] - p[3]) for p in full]
    saves = [c - d for c, d in zip(c_own, d_own)]
    tokens = [p[6] for p in full if p[6] is not None]
    control_total = statistics.median(p[0] for p in full)
    return {
        "n": len(full),
        "dspy": {"own_ms": statistics.median(c_own), "lm_wait_ms": statistics.median(p[2] for p in full),
                 "total_ms": control_total, "lm_calls_per_call": sum(p[4] for p in full) / len(full),
                 "tokens_per_call": sum(tokens) / len(tokens) if tokens else None},
        "native": {"own_ms": statistics.median(d_own), "lm_calls_per_call": sum(p[5] for p in full) / len(full)},
        "canary": {"dspy_ms": control_total, "saves_ms": statistics.median(saves),
                   "native_ms": control_total - statistics.median(saves)},
    }


def _record_costs(r: dict[str, Any]) -> tuple[Any, ...] | None:
    c, d = r.get("control") or {}, r.get("candidate") or {}
    keys = ("duration_ms", "lm_wait_ms", "lm_calls")
    if any(c.get(k) is None for k in keys) or any(d.get(k) is None for k in keys):
        return None
    return (c["duration_ms"], d["duration_ms"], c["lm_wait_ms"], d["lm_wait_ms"], c["lm_calls"], d["lm_calls"],
            c.get("tokens"))


def _module_key(r: dict[str, Any]) -> str:
    name = r.get("module_name")
    return f"{r.get('module_type')}:{name}" if name else str(r.get("module_type"))


def _last_stats(lines: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The latest cumulative stats line per (run, module), grouped by module."""
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for line in lines:
        key = (str(line.get("run_id")), _module_key(line))
        prev = latest.get(key)
        if prev is None or (line.get("counts", {}).get("compared", 0) + line.get("counts", {}).get("timeouts", 0)
                            >= prev.get("counts", {}).get("compared", 0) + prev.get("counts", {}).get("timeouts", 0)):
            latest[key] = line
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for (_, module), line in latest.items():
        grouped[module].append(line)
    return grouped


def analyse(read: LogRead, threshold: float = 0.02, min_comparisons: int = 200, examples: int = 3,
            noise_rel: float = 0.2, noise_abs: float = 0.01) -> dict[str, Any]:
    lines_by_module: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in read.divergences():
        lines_by_module[_module_key(r)].append(r)
    stats = _last_stats(read.stats_lines())
    modules: dict[str, Any] = {}
    for module in sorted(set(lines_by_module) | set(stats)):
        lines = lines_by_module.get(module, [])
        counts: Counter[str] = Counter()
        noise_fields: Counter[str] = Counter()
        latency: list[tuple[Any, ...]] = []
        for s in stats.get(module, []):
            counts.update(s.get("counts", {}))
            noise_fields.update(s.get("noise_fields", {}))
            latency += [tuple(p) for p in s.get("latency_ms", [])]
        kinds = Counter(r.get("kind") for r in lines)
        logged = len(lines)
        comparisons = max(counts["compared"] + counts["timeouts"], logged)
        divergent = max(counts["diverged"] + counts["candidate_errors"] + counts["timeouts"], logged)
        field_counts: Counter[str] = Counter()
        for r in lines:
            field_counts.update(r.get("fields") or [])
            if r.get("prompt_diff"):
                field_counts["<prompt>"] += 1
        noise_runs = counts["noise_runs"]
        fields: dict[str, Any] = {}
        for name, k in field_counts.most_common():
            rate = k / comparisons if comparisons else 0.0
            noise = noise_fields[name] / noise_runs if noise_runs else None
            real = noise is None or (rate - noise > noise_abs and rate > noise * (1 + noise_rel))
            fields[name] = {"count": k, "rate": rate, "noise_rate": noise, "real": real}
        noise_only = sum(
            1 for r in lines
            if r.get("kind") == "divergence" and not r.get("prompt_diff") and r.get("fields")
            and not any(fields.get(f, {}).get("real", True) for f in r["fields"])
        )
        real_divergent = max(0, divergent - noise_only)
        low, high = wilson(real_divergent, comparisons)
        if not latency:
            latency = [_record_costs(r) or (r["control"]["duration_ms"], r["candidate"]["duration_ms"]) for r in lines
                       if (r.get("control") or {}).get("duration_ms") is not None
                       and (r.get("candidate") or {}).get("duration_ms") is not None]
        ready = comparisons >= min_comparisons and high <= threshold
        if comparisons < min_comparisons:
            why = f"only {comparisons} comparisons; need at least {min_comparisons}"
        else:
            why = f"95% upper bound {high:.2%} {'<=' if ready else '>'} threshold {threshold:.2%}"
        modules[module] = {
            "comparisons": comparisons, "divergent": divergent, "real_divergent": real_divergent,
            "noise_only": noise_only, "kinds": dict(kinds), "rate": real_divergent / comparisons if comparisons else 0.0,
            "ci95": [low, high], "fields": fields, "noise_runs": noise_runs,
            "dropped": counts["dropped"], "sampled_out": counts["sampled_out"], "log_errors": counts["log_errors"],
            "latency_ms": {"control": _summary([p[0] for p in latency])},
            "costs": _costs(latency),
            "examples": [{"id": r.get("id"), "kind": r.get("kind"), "fields": r.get("fields"),
                          "inputs": r.get("inputs"), "source": r.get("_source")} for r in lines[:examples]],
            "verdict": "ready for canary" if ready else "not ready",
            "verdict_reason": why,
        }
    runs = {str(r.get("run_id")) for r in read.records if r.get("run_id")}
    return {"modules": modules, "threshold": threshold, "min_comparisons": min_comparisons,
            "bad_lines": [f"{f}:{n}" for f, n in read.bad_lines], "missing": read.missing,
            "files": len(read.files), "runs": len(runs)}
