"""The parity gate: flag-file rules, migration stages, parity proof records and the status model.

Nothing here imports dspy: the gate runs in CI jobs and pre-commit hooks where only the flag files, the parity
report and the registry matter. ``dspex parity`` (``dspex.parity.runner``) produces the reports it reads.
"""

from ._flagd import load_with_flagd
from ._modules import ENTRY_POINT_GROUP, ParityModule, declared_modules
from ._problems import Problem
from ._report import ModuleResult, ParityReport, ProofStatus, load_reports, proof_status
from ._rules import check_file, check_flag
from ._stage import STAGES, GateRefusal, StageResult, describe_stage, stage_flag
from ._status import StatusTable, build_status, flag_files, to_markdown
from ._versions import dspy_version, hashing_scheme

__all__ = [
    "load_with_flagd", "ENTRY_POINT_GROUP", "ParityModule", "declared_modules", "Problem", "ModuleResult",
    "ParityReport", "ProofStatus", "load_reports", "proof_status", "check_file", "check_flag", "STAGES",
    "GateRefusal", "StageResult", "describe_stage", "stage_flag", "StatusTable", "build_status", "flag_files",
    "to_markdown",
    "dspy_version", "hashing_scheme",
]
