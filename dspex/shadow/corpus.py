"""The shadow corpus: divergences promoted into regression cases that CI replays against native code.

A case is one JSON object a line in ``shadow/corpus/*.jsonl``: the module type, its signature (typed string,
instructions, field descriptions), inputs, demos, config, the LM's adapter-visible attributes, DSPy's LM
transcript and DSPy's outputs (or error). :func:`check_case` runs today's native module against the recorded
transcript and returns the differences; an empty list means native now behaves like DSPy did.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from ..errors import DspexError
from ._compare import Rules, compare_results
from ._diff import request_diff
from ._jsonsafe import to_jsonable
from ._lm import LMCall, make_replayer

__all__ = ["case_from_record", "case_id", "load_cases", "check_case", "rebuild_signature", "native_factory"]

NativeFactory = Callable[[str, Any, Mapping[str, Any]], Any]   # (module_type, signature, case) -> module
_CLASS_NAMES = {"react": "ReAct", "best_of_n": "BestOfN"}


def case_from_record(record: Mapping[str, Any]) -> dict[str, Any] | None:
    """A regression case from a log line; None for lines that cannot be replayed (stats, redacted inputs)."""
    if record.get("kind") not in ("divergence", "candidate_error", "timeout") or record.get("redacted"):
        return None
    if not record.get("transcript") and not record.get("control", {}).get("error"):
        return None
    control = record.get("control") or {}
    case = {
        "module_type": record.get("module_type"),
        "module_name": record.get("module_name"),
        "signature": record.get("signature"),
        "inputs": record.get("inputs") or {},
        "demos": record.get("demos"),
        "config": record.get("config"),
        "lm": record.get("lm") or {},
        "transcript": record.get("transcript") or [],
        "dspy_output": control.get("output"),
        "dspy_error": control.get("error"),
        "dspy_version": (record.get("versions") or {}).get("dspy"),
        "source": {"log_id": record.get("id"), "time": record.get("time"), "kind": record.get("kind"),
                   "fields": record.get("fields"), "prompt_differed": bool(record.get("prompt_diff"))},
    }
    case["case_id"] = case_id(case)
    return case


def case_id(case: Mapping[str, Any]) -> str:
    """Stable across promotions of the same call, so promoting a log twice adds nothing."""
    keyed = {k: case.get(k) for k in ("module_type", "signature", "inputs", "demos", "config", "transcript")}
    return hashlib.sha256(json.dumps(keyed, sort_keys=True, default=repr).encode()).hexdigest()[:16]


def load_cases(directory: str | Path) -> list[dict[str, Any]]:
    """Every case in ``directory/*.jsonl``, in file then line order; a malformed line raises naming it."""
    cases: list[dict[str, Any]] = []
    for path in sorted(Path(directory).glob("*.jsonl")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                case = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DspexError(f"{path}:{n} is not a JSON case ({exc}); fix or delete that line.") from exc
            case.setdefault("_source", f"{path}:{n}")
            cases.append(case)
    return cases


def rebuild_signature(spec: Mapping[str, Any] | None) -> Any:
    """A native Signature from a logged spec (types by name, so custom classes need a custom factory)."""
    from ..signature import infer_prefix, make_signature

    if not spec or not spec.get("string"):
        raise DspexError("The case has no signature spec; pass a native factory to check_case that builds it.")
    sig = make_signature(spec["string"], spec.get("instructions") or None, signature_name=spec.get("name") or "StringSignature")
    for name, meta in (spec.get("fields") or {}).items():
        changes = {}
        if meta.get("desc") not in (None, f"${{{name}}}"):
            changes["desc"] = meta["desc"]
        if meta.get("prefix") not in (None, infer_prefix(name) + ":"):
            changes["prefix"] = meta["prefix"]
        if changes:
            sig = sig.with_updated_fields(name, **changes)
    return sig


def native_factory(module_type: str, signature: Any, case: Mapping[str, Any]) -> Any:
    """The native module for a built-in module type: ``dspex.native.<Class>(signature)``."""
    from .. import native  # noqa: PLC0415 - the native room may still be growing; resolved at call time

    name = _CLASS_NAMES.get(module_type) or re.sub(r"(?:^|_)(\w)", lambda m: m.group(1).upper(), module_type)
    cls = getattr(native, name, None)
    if cls is None:
        raise DspexError(f"dspex.native has no {name} for module type {module_type!r}; pass factory= to check_case.")
    return cls(signature)


def _calls(transcript: Iterable[Mapping[str, Any]]) -> list[LMCall]:
    out = []
    for c in transcript:
        error = c.get("error")
        exc = RuntimeError(f"{error['type']}: {error['message']}") if error else None
        out.append(LMCall(messages=c.get("messages"), kwargs=c.get("kwargs") or {}, outputs=c.get("outputs"),
                          error=exc, prompt=c.get("prompt")))
    return out


def check_case(case: Mapping[str, Any], factory: NativeFactory | None = None) -> list[str]:
    """Run the native module on the recorded transcript; the differences from DSPy's recorded behaviour."""
    factory = factory or native_factory
    try:
        signature = rebuild_signature(case.get("signature")) if case.get("signature") else None
        module = factory(case["module_type"], signature, case)
    except Exception as exc:  # noqa: BLE001 - reported as a difference, so the suite says what is missing
        return [f"could not build the native module: {type(exc).__name__}: {exc}"]
    recorded = _calls(case.get("transcript") or [])
    attrs = dict(case.get("lm") or {})
    attrs["supported_params"] = set(attrs.get("supported_params") or ())
    replayer = make_replayer(recorded, attrs=attrs, normalize=to_jsonable)
    extra: dict[str, Any] = {}
    if case.get("demos"):
        extra["demos"] = case["demos"]
    if case.get("config"):
        extra["config"] = dict(case["config"])
    result, error = None, None
    try:
        result = module(**dict(case.get("inputs") or {}), lm=replayer, **extra)
    except Exception as exc:  # noqa: BLE001
        error = exc
    problems: list[str] = []
    for cand_index, rec_index in replayer.mismatches:
        rec = recorded[rec_index] if rec_index is not None else None
        problems.append(f"LM call {cand_index + 1} differs from DSPy's:\n"
                        + request_diff(rec, replayer.requests[cand_index], cand_index + 1))
    unused = replayer.unused()
    if unused and error is None:
        problems.append(f"native never made DSPy's LM call(s) {[i + 1 for i in unused]}")
    dspy_error = case.get("dspy_error")
    if dspy_error:
        if error is None:
            problems.append(f"DSPy raised {dspy_error['type']}: {dspy_error['message']!r}; native returned "
                            f"{to_jsonable(result)!r}")
        elif (type(error).__name__, str(error)) != (dspy_error["type"], dspy_error["message"]):
            problems.append(f"DSPy raised {dspy_error['type']}: {dspy_error['message']!r}; native raised "
                            f"{type(error).__name__}: {error}")
        return problems
    if error is not None:
        return problems + [f"native raised {type(error).__name__}: {error}"]
    rules = Rules(comparators={})
    for name, d in compare_results(case.get("dspy_output"), to_jsonable(result), signature, rules).items():
        problems.append(f"field {name!r}: DSPy {d['control']!r}, native {d['candidate']!r} ({d['comparator']})")
    return problems
