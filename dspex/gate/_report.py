"""The parity report: what ``dspex parity`` proved, on which DSPy version, and the shrunk case when it failed.

A report is a proof record per module type. A module counts as proven only on the DSPy version the report was
made with: DSPy changes its prompts between releases, so a proof against 3.4.0 says nothing about 3.4.1. The
gate (``dspex flags check --parity``) and ``dspex status`` ask :func:`proof_status`, which says so.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Literal

from ..errors import DspexError
from ._versions import dspy_version

__all__ = ["ModuleResult", "ParityReport", "ProofStatus", "load_reports", "proof_status", "REPORT_SCHEMA"]

REPORT_SCHEMA = 1
Status = Literal["proven", "failed", "no_property", "error"]


@dataclass
class ModuleResult:
    """One module type's outcome. ``failure`` holds the shrunk case (``case``) and the difference (``diff``)."""

    module_type: str
    status: Status
    source: str = "builtin"            # builtin | pyproject | entry_point | pytest
    examples_run: int = 0
    shrink_calls: int = 0
    corpus_cases: int = 0
    corpus_failures: list[dict[str, Any]] = field(default_factory=list)
    failure: dict[str, Any] | None = None
    seconds: float = 0.0
    note: str = ""

    @property
    def proven(self) -> bool:
        return self.status == "proven"

    def to_json(self) -> dict[str, Any]:
        return {"proven": self.proven, **asdict(self)}


@dataclass
class ParityReport:
    dspy_version: str | None
    dspex_version: str
    seed: int | None
    examples: int
    started_at: str
    seconds: float = 0.0
    modules: dict[str, ModuleResult] = field(default_factory=dict)
    path: str = ""                     # where it was read from (not written)

    @property
    def ok(self) -> bool:
        return all(m.status != "failed" and m.status != "error" for m in self.modules.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": REPORT_SCHEMA,
            "dspy_version": self.dspy_version,
            "dspex_version": self.dspex_version,
            "seed": self.seed,
            "examples_per_module": self.examples,
            "started_at": self.started_at,
            "seconds": round(self.seconds, 3),
            "ok": self.ok,
            "modules": {k: m.to_json() for k, m in self.modules.items()},
        }

    def write(self, path: str | Path) -> None:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(self.to_json(), indent=2, ensure_ascii=False, default=repr) + "\n", encoding="utf-8")

    @classmethod
    def read(cls, path: str | Path) -> "ParityReport":
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError) as exc:   # JSONDecodeError and UnicodeDecodeError are ValueErrors
            raise DspexError(f"Parity report {path} cannot be read ({type(exc).__name__}: {str(exc)[:200]}); "
                             f"run `dspex parity --report {path}`.") from None
        not_a_report = DspexError(f"{path} is not a dspex parity report (schema {REPORT_SCHEMA}); "
                                  f"regenerate it with `dspex parity --report {path}`.")
        if not isinstance(data, dict) or data.get("schema") != REPORT_SCHEMA or not isinstance(data.get("modules"), dict):
            raise not_a_report
        names = set(ModuleResult.__dataclass_fields__)
        try:
            modules = {str(k): ModuleResult(**{f: v for f, v in m.items() if f in names})
                       for k, m in data["modules"].items()}
            return cls(data.get("dspy_version"), data.get("dspex_version", "unknown"), data.get("seed"),
                       int(data.get("examples_per_module") or 0), str(data.get("started_at", "")),
                       float(data.get("seconds") or 0.0), modules, str(path))
        except (AttributeError, TypeError, ValueError):   # a hand-edited or foreign file with the right schema tag
            raise not_a_report from None


@dataclass(frozen=True)
class ProofStatus:
    """``proven`` is True only for a passing record made on the installed DSPy; ``text`` says why either way."""

    proven: bool
    text: str
    dspy_version: str | None = None
    when: str = ""


def load_reports(paths: Iterable[str | Path]) -> list[ParityReport]:
    return [ParityReport.read(p) for p in paths]


def proof_status(module_type: str, reports: list[ParityReport], installed: str | None = None) -> ProofStatus:
    """The newest record for ``module_type`` across ``reports``, judged against the installed DSPy."""
    installed = dspy_version() if installed is None else installed
    records = sorted(((r, r.modules[module_type]) for r in reports if module_type in r.modules),
                     key=lambda pair: pair[0].started_at)
    if not records:
        where = ", ".join(r.path or "report" for r in reports) or "no report given"
        return ProofStatus(False, f"no parity record ({where})")
    report, result = records[-1]
    when = report.started_at[:10]
    if report.dspy_version != installed:
        return ProofStatus(False, f"unproven on installed dspy {installed}: last proven run used dspy "
                                  f"{report.dspy_version} ({when}); run `dspex parity` again", report.dspy_version, when)
    if result.status == "proven":
        return ProofStatus(True, f"proven on dspy {report.dspy_version} ({when}, {result.examples_run} examples"
                                 f"{f', {result.corpus_cases} corpus cases' if result.corpus_cases else ''})",
                           report.dspy_version, when)
    reason = {"failed": "FAILED", "no_property": "no parity property", "error": "suite error"}.get(result.status, result.status)
    return ProofStatus(False, f"{reason} on dspy {report.dspy_version} ({when})", report.dspy_version, when)
