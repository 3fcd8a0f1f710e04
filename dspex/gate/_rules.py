"""dspex's rules for a flag file, on top of flagd's own loader.

Errors block (exit 1): a flag key that is not ``dspex.<known module type>``, a variant other than ``native``,
``dspy``, ``shadow`` (value equal to the name), a default or targeting result naming a variant the flag lacks,
``fractional`` weights that are not integers adding up to 100, targeting flagd's evaluator refuses on every call
(not a JSON-logic object, an operator it does not know: :mod:`._evaluator`), ``native`` or ``shadow`` reachable for a
DSPy-only module, and, given parity reports, ``native`` reachable for a module not proven on the installed DSPy.
Warnings inform: targeting computed at run time, or a rollout recorded under another hashing scheme.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from .. import registry
from ._evaluator import targeting_problems
from ._flagd import load_with_flagd
from ..registry import IMPLEMENTATIONS
from ._problems import Problem
from ._report import ParityReport, proof_status
from ._targeting import buckets, outcomes, reachable
from ._versions import HASHING_METADATA_KEY, hashing_scheme

__all__ = ["check_file", "check_flag", "IMPLEMENTATIONS", "PREFIX"]

PREFIX = "dspex."


def _known_types() -> list[str]:
    return sorted(registry.module_types())


def _check_variants(file: str, key: str, flag: dict[str, Any], out: list[Problem]) -> None:
    variants = flag.get("variants") if isinstance(flag.get("variants"), dict) else {}
    for name, value in variants.items():
        if name not in IMPLEMENTATIONS:
            out.append(Problem(file, key, f"unknown variant {name!r}: dspex routes only on {list(IMPLEMENTATIONS)}; "
                                          f"rename or remove it (use `targeting` for who gets which)."))
        elif value != name:
            out.append(Problem(file, key, f"variant {name!r} has value {value!r}; set it to {name!r} "
                                          "(a variant's value is the implementation that runs)."))
    default = flag.get("defaultVariant")
    if default not in (None, "") and default not in variants:
        out.append(Problem(file, key, f"defaultVariant {default!r} is not one of the flag's variants "
                                      f"{sorted(variants)}; add that variant or change the default."))
    refused, unknown = targeting_problems(file, key, flag)
    out += refused
    if refused and not isinstance(flag.get("targeting"), dict):
        return
    found = outcomes(flag.get("targeting"))
    for name in sorted(found.variants - set(variants)):
        out.append(Problem(file, key, f"targeting returns {name!r}, which is not one of the flag's variants "
                                      f"{sorted(variants)}; fix the rule or add the variant."))
    for op in (op for op in found.dynamic if op not in unknown):
        out.append(Problem(file, key, f"targeting computes the variant at run time ({op!r}); the gate cannot check "
                                      "which implementation it selects, so review it by hand.", "warning"))
    for args in found.fractionals:
        _check_fractional(file, key, args, out)


def _check_fractional(file: str, key: str, args: list[Any], out: list[Problem]) -> None:
    total = 0
    for bucket in buckets(args):
        ok = isinstance(bucket, list) and 1 <= len(bucket) <= 2 and isinstance(bucket[0], str)
        weight = bucket[1] if ok and len(bucket) == 2 else 1
        if not ok or not isinstance(weight, int) or isinstance(weight, bool) or weight < 0:
            out.append(Problem(file, key, f"fractional bucket {bucket!r} must be [\"variant\", weight] with a "
                                          "non-negative integer weight (flagd drops the whole rule otherwise)."))
            return
        total += weight
    if total != 100:
        out.append(Problem(file, key, f"fractional weights add up to {total}; make them add up to 100 (dspex "
                                      "reads them as percentages: `dspex flags stage MODULE canary --percent N`)."))


def check_flag(file: str, key: str, flag: Any, reports: Sequence[ParityReport] = (),
               installed_dspy: str | None = None) -> list[Problem]:
    """dspex's rules for one flag (flagd's own checks are :func:`load_with_flagd`'s job)."""
    out: list[Problem] = []
    if not key.startswith(PREFIX):
        return [Problem(file, key, "dspex does not read this flag (keys are `dspex.<module_type>`); move it to "
                                   "another flag file or rename it.", "warning")]
    module_type = key[len(PREFIX):]
    if module_type not in registry.module_types():
        return [Problem(file, key, f"unknown module type {module_type!r}; known types are {_known_types()}. Fix the "
                                   "key, or register your type with dspex.register and declare it in "
                                   "[tool.dspex] parity_modules so the gate can load it.")]
    if not isinstance(flag, dict):
        return [Problem(file, key, "a flag must be a JSON object.")]
    _check_variants(file, key, flag, out)
    served = reachable(flag)
    native, why = registry.native_class(registry.lookup(module_type))
    if native is None:
        for name in sorted(served & {"native", "shadow"}):
            out.append(Problem(file, key, f"{name!r} is reachable but {module_type} is DSPy-only ({why}); serve "
                                          f"`dspy` (`dspex flags stage {module_type} dspy --file {file}`)."))
    elif reports and "native" in served:
        proof = proof_status(module_type, list(reports), installed_dspy)
        if not proof.proven:
            out.append(Problem(file, key, f"'native' is reachable but {module_type} is not proven at parity: "
                                          f"{proof.text}. Run `dspex parity --module {module_type} --report "
                                          f"parity-{module_type}.json` and add `--parity parity-{module_type}.json` "
                                          "(a report of its own: --report rewrites the file it names), or serve "
                                          "`dspy`/`shadow` until it passes."))
    recorded = (flag.get("metadata") or {}).get(HASHING_METADATA_KEY) if isinstance(flag.get("metadata"), dict) else None
    if recorded and outcomes(flag.get("targeting")).fractionals:
        current = hashing_scheme()
        if str(recorded).split(" (")[0] != current.split(" (")[0]:
            out.append(Problem(file, key, f"this rollout was staged under hashing {recorded!r} but the installed "
                                          f"flagd hashes {current!r}: users change buckets; do not mix resolvers "
                                          "for one rollout (see docs/migration/flags.md).", "warning"))
    return out


def check_file(path: str | Path, reports: Sequence[ParityReport] = (), installed_dspy: str | None = None) -> list[Problem]:
    """Every problem in one flag file: flagd's loader first, then dspex's rules per flag."""
    file = str(path)
    data, problems = load_with_flagd(path)
    if data is None:
        return problems
    flags = data.get("flags")
    if not isinstance(flags, dict):
        return problems or [Problem(file, None, "no `flags` object; see docs/migration/flags.md for the format.")]
    for key, flag in flags.items():
        problems += check_flag(file, key, flag, reports, installed_dspy)
    return problems
