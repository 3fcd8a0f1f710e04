"""``dspex flags stage``: move one module through dspy -> shadow -> canary N% -> native (or off), one flag edit.

Only that flag's JSON text changes (see :mod:`._jsontext`). A canary is a ``fractional`` split with ``native``
as the *first* bucket: flagd maps each targeting key to a fixed point in [0, 100), and the first bucket covers
[0, N), so widening N keeps every key already on native there (reordering buckets would reshuffle everyone).
The hashing scheme in use is recorded in the flag's metadata, because a different flagd core hashes keys
differently. The new file must load with flagd and pass the gate (with the given parity reports) or nothing is
written.
"""

from __future__ import annotations

import copy
import difflib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from .. import registry
from ..cli import shown
from ..errors import DspexError
from ._flagd import load_with_flagd
from ._jsontext import insert_member, replace_member
from ._report import ParityReport
from ._rules import IMPLEMENTATIONS, PREFIX, check_flag
from ._targeting import buckets
from ._versions import HASHING_METADATA_KEY, hashing_scheme

__all__ = ["STAGES", "StageResult", "stage_flag", "describe_stage", "GateRefusal"]

STAGES = ("dspy", "shadow", "canary", "native", "off")
_ORDER = ("state", "variants", "defaultVariant", "targeting", "metadata")


class GateRefusal(DspexError):
    """The requested stage would put the flag file in a state the gate rejects; nothing was written."""


@dataclass
class StageResult:
    file: str
    flag_key: str
    before: str
    after: str
    notes: list[str] = field(default_factory=list)

    @property
    def diff(self) -> str:
        return "".join(difflib.unified_diff(self.before.splitlines(True), self.after.splitlines(True),
                                            f"{self.file} (before)", f"{self.file} (after)"))


def _native_share(flag: dict[str, Any]) -> tuple[int | None, list[Any] | None]:
    """(percent on native in the first bucket, the fractional args) of the flag's canary, if it has one."""
    targeting = flag.get("targeting")
    if isinstance(targeting, dict) and list(targeting) == ["fractional"] and isinstance(targeting["fractional"], list):
        args = targeting["fractional"]
        first = buckets(args)[0] if buckets(args) else None
        if isinstance(first, list) and len(first) == 2 and first[0] == "native":
            return first[1], args
        return None, args
    return None, None


def describe_stage(flag: dict[str, Any] | None) -> str:
    """A flag's stage in the playbook's words: dspy, shadow, canary N%, native, off, or 'custom'."""
    if flag is None:
        return "missing"
    if flag.get("state") == "DISABLED":
        return "off"
    share, args = _native_share(flag)
    if share is not None:
        return f"canary {share}%"
    if flag.get("targeting"):
        return f"custom targeting (default {flag.get('defaultVariant')})"
    return str(flag.get("defaultVariant") or "caller default")


def _new_flag(old: dict[str, Any], stage: str, percent: int | None, notes: list[str]) -> dict[str, Any]:
    flag = copy.deepcopy(old)
    variants = flag.get("variants") if isinstance(flag.get("variants"), dict) else {}
    for name in IMPLEMENTATIONS:
        variants.setdefault(name, name)
    flag["variants"] = variants
    metadata = dict(flag.get("metadata") or {})
    if stage == "off":
        flag["state"] = "DISABLED"
        metadata["stage"] = f"off (kill switch; was {describe_stage(old)})"
    else:
        flag["state"] = "ENABLED"
        flag.pop("targeting", None)
        metadata.pop(HASHING_METADATA_KEY, None)
        flag["defaultVariant"] = {"canary": "dspy"}.get(stage, stage)
        metadata["stage"] = stage if stage != "canary" else f"canary {percent}%"
    if stage == "canary":
        assert percent is not None
        share, args = _native_share(old)
        bucket_by = [args[0]] if args and not isinstance(args[0], list) else []
        if args is not None and share is None:
            notes.append("the old split did not start with a native bucket: keys are reassigned from scratch")
        elif share is not None and percent < share:
            notes.append(f"narrowing {share}% -> {percent}%: keys above {percent} move back to DSPy")
        elif share is not None:
            notes.append(f"widening {share}% -> {percent}%: every key on native stays on native (first bucket grows)")
        flag["targeting"] = {"fractional": [*bucket_by, ["native", percent], ["dspy", 100 - percent]]}
        metadata[HASHING_METADATA_KEY] = hashing_scheme()
    flag["metadata"] = metadata
    return {**{k: flag[k] for k in _ORDER if k in flag}, **{k: v for k, v in flag.items() if k not in _ORDER}}


def write_target(path: Path) -> Path:
    """The file an edit of ``path`` must replace: a symlink's final target, never the link itself.

    Renaming over a link would turn it into a regular file and cut it from what it pointed at (a checkout's
    shared flags, a ConfigMap projection). A target inside a kubelet-managed ``..data`` generation is refused:
    the kubelet overwrites it on the next sync, so the edit belongs in the ConfigMap's source.
    """
    if not path.is_symlink():
        return path
    target = Path(os.path.realpath(path))
    if not target.is_file():
        raise GateRefusal(f"{shown(path)} is a symlink to {shown(target)}, which is not a file; point --file at the "
                          "flag file.")
    if any(part.startswith("..") for part in target.parts):
        raise GateRefusal(f"{shown(path)} resolves to {shown(target)}, a Kubernetes ConfigMap projection the kubelet "
                          "rewrites; edit the ConfigMap's source file (the one in your repository) and apply it instead.")
    return target


def _write_checked(path: Path, text: str) -> None:
    """Write beside the target, load that with flagd, then rename over it: a watcher never sees a bad file.

    ``path`` is already the real file (see :func:`write_target`), so a symlink given as ``--file`` stays a link."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        _, problems = load_with_flagd(tmp)
        if problems:   # only if flagd's rules changed under us: keep the old file
            raise GateRefusal("flagd rejects the rewritten file; nothing written:\n" + "\n".join(map(str, problems)))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def stage_flag(file: str | Path, module_type: str, stage: str, percent: int | None = None,
               reports: Sequence[ParityReport] = (), write: bool = True) -> StageResult:
    """Rewrite ``dspex.<module_type>`` in ``file`` for ``stage``; raises GateRefusal when the gate would refuse."""
    path = Path(file)
    if stage not in STAGES:
        raise DspexError(f"Unknown stage {stage!r}; stages are {list(STAGES)}.")
    if (stage == "canary") != (percent is not None):
        raise DspexError("canary needs --percent N (1-99); other stages take no --percent.")
    if percent is not None and not 1 <= percent <= 99:
        raise DspexError(f"--percent {percent}: use 1-99 (stage `native` for 100, `dspy` for 0).")
    # The kill switch works whatever else is misconfigured: `off` needs neither the registry (a user type whose
    # declaration cannot be imported is still switched off) nor the parity gate, only a file flagd loads.
    kill = stage == "off"
    if not kill:
        native, why = registry.native_class(registry.lookup(module_type))
        if native is None and stage in ("shadow", "canary", "native"):
            raise GateRefusal(f"{shown(path)}: flag {PREFIX + module_type!r}: {module_type} is DSPy-only ({why}); stage "
                              f"`{stage}` would route to a native module that does not exist. Keep it on `dspy`.")
    data, problems = load_with_flagd(path)
    if data is None or problems:
        raise GateRefusal(f"{shown(path)} does not load with flagd; fix it first:\n" + "\n".join(map(str, problems)))
    if "flags" in data and not isinstance(data["flags"], dict):
        raise GateRefusal(f"{shown(path)}: `flags` is a {type(data['flags']).__name__}, not an object of flags; "
                          "fix it first (see docs/migration/flags.md for the format).")
    with open(path, encoding="utf-8", newline="") as fh:   # as is: CRLF stays CRLF, every other byte too
        before = fh.read()
    key = PREFIX + module_type
    old = data.get("flags", {}).get(key)
    if kill and old is None and module_type not in registry.module_types():
        raise DspexError(f"{shown(path)} has no flag {key!r} and {module_type!r} is not a known module type; "
                         "nothing to switch off. Check the name (`dspex status` lists the module types).")
    notes: list[str] = []
    new = _new_flag(old if isinstance(old, dict) else {}, stage, percent, notes)
    if "flags" not in data:     # a new file ({}): the flags object comes with its first flag
        after = insert_member(before, [], "flags", {key: new})
    elif old is not None:
        after = replace_member(before, ["flags", key], new)
    else:
        after = insert_member(before, ["flags"], key, new)
    refusals = [] if kill else [p for p in check_flag(str(path), key, new, reports) if p.severity == "error"]
    if refusals:
        raise GateRefusal("the gate refuses this stage; nothing written:\n" + "\n".join(map(str, refusals)))
    result = StageResult(str(path), key, before, after, notes)
    if write and after != before:
        target = write_target(path)
        try:
            _write_checked(target, after)
        except OSError as exc:
            raise GateRefusal(f"{shown(target)} cannot be rewritten ({exc.strerror or exc}); nothing written. "
                              "Check that the file and its folder are writable.") from exc
    return result
