"""``dspex status``: one row per module type: native or DSPy-only, parity proof, stage per flag file, shadow.

The same model renders as a rich table for people and as Markdown for ``docs/migration/status.md``; the
Markdown holds nothing that changes from run to run unless the facts do (registry, flag files, reports, logs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from .. import registry
from ._flagd import load_with_flagd
from ._report import ParityReport, proof_status
from ._rules import PREFIX
from ._stage import describe_stage

__all__ = ["ModuleStatus", "StatusTable", "build_status", "to_markdown", "flag_files"]


@dataclass
class ModuleStatus:
    module_type: str
    native: bool
    native_note: str
    parity: str
    proven: bool
    stages: dict[str, str] = field(default_factory=dict)   # environment -> stage
    shadow: str = ""

    @property
    def implementation(self) -> str:
        """The status table's implementation cell: ``native + DSPy``, or ``DSPy-only: <why>``."""
        if self.native:
            return "native + DSPy"
        return self.native_note if self.native_note.startswith("DSPy-only") else f"DSPy-only: {self.native_note}"


@dataclass
class StatusTable:
    rows: list[ModuleStatus]
    environments: list[str]
    reports: list[str]
    shadow_logs: list[str]


_PIPELINE = {"dev": 0, "development": 0, "test": 1, "staging": 2, "production": 3, "prod": 3}


def flag_files(folder: str | Path) -> list[Path]:
    """Flag files in pipeline order (dev, staging, production), others after them by name."""
    files = Path(folder).glob("*.flagd.json")
    return sorted(files, key=lambda p: (_PIPELINE.get(_environment(p), 9), p.name))


def _short(why: str) -> str:
    """The registry's reason without its trailing exception detail, for a table cell."""
    return why.split(" (", 1)[0] if "not importable" in why else why


def _environment(path: Path) -> str:
    return path.name.removesuffix(".json").removesuffix(".flagd")


def _stages(files: Sequence[Path]) -> dict[str, dict[str, Any]]:
    """Each file's flags as flagd loads them; a file flagd rejects has no stages (the provider would keep
    whatever it loaded last, or nothing), so it shows as ``invalid``."""
    out: dict[str, dict[str, Any]] = {}
    for path in files:
        data, problems = load_with_flagd(path)
        flags = data.get("flags") if isinstance(data, dict) else None
        out[_environment(path)] = flags if isinstance(flags, dict) and not problems else {"__unreadable__": True}
    return out


def _shadow_summary(module_type: str, shadow_modules: dict[str, Any]) -> str:
    from ..shadow.report import cost_cells

    parts = []
    for key, m in sorted(shadow_modules.items()):
        if key != module_type and not key.startswith(module_type + ":"):
            continue
        label = "" if key == module_type else key.split(":", 1)[1] + ": "
        canary = cost_cells(m.get("costs"))[1] if m.get("costs") else None
        parts.append(f"{label}{m['rate']:.2%} of {m['comparisons']} ({m['verdict']})"
                     + (f"; canary: {canary}" if canary else ""))
    return "; ".join(parts) or "no shadow data"


def build_status(flags_dir: str | Path, reports: Sequence[ParityReport] = (), shadow_logs: Sequence[str] = (),
                 installed_dspy: str | None = None) -> StatusTable:
    files = flag_files(flags_dir)
    stages = _stages(files)
    shadow_modules: dict[str, Any] = {}
    if shadow_logs:
        from ..shadow.report import build_report

        shadow_modules = build_report(shadow_logs)["modules"]
    rows = []
    for module_type in registry.module_types():
        native, why = registry.native_class(registry.lookup(module_type))
        if native is None:
            parity, proven = "n/a (DSPy-only)", False
        elif reports:
            proof = proof_status(module_type, list(reports), installed_dspy)
            parity, proven = proof.text, proof.proven
        else:
            parity, proven = "no report given (--parity REPORT)", False
        row = ModuleStatus(module_type, native is not None, "native available" if native is not None else _short(why),
                           parity, proven)
        for env, flags in stages.items():
            row.stages[env] = ("invalid (flagd rejects the file)" if "__unreadable__" in flags
                               else describe_stage(flags.get(PREFIX + module_type)))
        if shadow_logs:
            row.shadow = _shadow_summary(module_type, shadow_modules)
        rows.append(row)
    return StatusTable(rows, list(stages), [r.path for r in reports], list(shadow_logs))


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(table: StatusTable) -> str:
    header = ["module type", "implementation", "parity", *table.environments]
    if table.shadow_logs:
        header.append("shadow (divergence, verdict)")
    lines = [
        "# Per-module migration status",
        "",
        "Generated by `dspex status --markdown"
        + "".join(f" --parity {p}" for p in table.reports)
        + "`; do not edit by hand (tests/gate fails when it is stale). Stages: `dspy` -> `shadow` -> "
        "`canary N%` -> `native`; `off` is the kill switch. See [the playbook](playbook.md).",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
    ]
    for row in table.rows:
        impl = row.implementation
        cells = [f"`{row.module_type}`", impl, row.parity, *(row.stages[e] for e in table.environments)]
        if table.shadow_logs:
            cells.append(row.shadow)
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"
