"""The shadow corpus: divergences promoted into regression cases that CI replays against native code.

A case is one JSON object a line in ``shadow/corpus/*.jsonl``: the module type, its signature (typed string,
instructions, field descriptions), inputs, demos, config, the LM's adapter-visible attributes, DSPy's LM
transcript and DSPy's outputs (or error). :func:`check_case` runs today's native module against the recorded
transcript and returns the differences; an empty list means native now behaves like DSPy did.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from ..errors import DspexError, NotReplayableError
from ._compare import Rules, compare_results
from .result import request_diff
from ._jsonsafe import to_jsonable
from ._lm import LMCall, make_replayer

__all__ = ["case_from_record", "case_id", "load_cases", "check_case", "rebuild_signature", "native_factory",
           "NOT_REPLAYABLE"]

NativeFactory = Callable[[str, Any, Mapping[str, Any]], Any]   # (module_type, signature, case) -> module
NOT_REPLAYABLE = "not replayable"   # the first words of check_case's problem for a case data alone cannot rebuild
_KINDS = ("divergence", "candidate_error", "timeout")


def case_from_record(record: Mapping[str, Any]) -> dict[str, Any] | None:
    """A regression case from a log line; None for lines that cannot be replayed (stats, redacted inputs)."""
    if record.get("kind") not in _KINDS or record.get("redacted") or not _well_formed(record):
        return None
    control = record.get("control") or {}
    if not record.get("transcript") and not control.get("error"):
        return None
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


def _well_formed(record: Mapping[str, Any]) -> bool:
    """The parts a case is made of have the types dspex writes (a hand-edited or foreign line may not)."""
    sig = record.get("signature")
    transcript = record.get("transcript")
    checks = (
        isinstance(record.get("module_type"), str),
        isinstance(record.get("inputs") or {}, dict),
        isinstance(record.get("config") or {}, dict),
        isinstance(record.get("lm") or {}, dict),
        isinstance(record.get("control") or {}, dict),
        isinstance((record.get("control") or {}).get("error") or {}, dict),
        sig is None or (isinstance(sig, dict) and isinstance(sig.get("string"), str)
                        and isinstance(sig.get("fields") or {}, dict)),
        transcript is None or (isinstance(transcript, list) and all(isinstance(c, dict) for c in transcript)),
        isinstance(record.get("versions") or {}, dict),
    )
    return all(checks)


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
    """A native Signature from a logged spec, as data: builtins and typing names only, nothing is imported
    (a custom class raises NotReplayableError: pass a factory that builds the module)."""
    from ..signature import data_only, infer_prefix, make_signature

    if not spec or not spec.get("string"):
        raise DspexError("The case has no signature spec; pass a native factory to check_case that builds it.")
    with data_only():
        sig = make_signature(str(spec["string"]), spec.get("instructions") or None,
                             signature_name=str(spec.get("name") or "StringSignature"))
    for name, meta in (spec.get("fields") or {}).items():
        if name not in sig.fields or not isinstance(meta, dict):
            continue
        changes = {}
        if meta.get("desc") not in (None, f"${{{name}}}"):
            changes["desc"] = meta["desc"]
        if meta.get("prefix") not in (None, infer_prefix(name) + ":"):
            changes["prefix"] = meta["prefix"]
        if changes:
            sig = sig.with_updated_fields(name, **changes)
    return sig


def native_factory(module_type: str, signature: Any, case: Mapping[str, Any]) -> Any:
    """The native module of a *built-in* module type (from dspex's own registry; the log's text never picks
    what is imported). Any other type is not replayable without a factory."""
    from .. import registry

    spec = registry.BUILTINS.get(module_type) if isinstance(module_type, str) else None
    cls, why = registry.native_class(spec) if spec is not None else (None, "it is not a built-in module type")
    if cls is None:
        raise NotReplayableError(
            f"module type {module_type!r} has no built-in native class ({why}); pass a factory that builds it: "
            "dspex shadow replay --factory package.module:callable (or check_case(case, factory=...))."
        )
    return cls(signature)


def _calls(transcript: Iterable[Mapping[str, Any]]) -> list[LMCall]:
    """The recorded LM calls; a malformed entry raises NotReplayableError (data, so it is checked, not trusted)."""
    out = []
    for n, c in enumerate(transcript, 1):
        error = c.get("error") if isinstance(c, dict) else None
        if not isinstance(c, dict) or not isinstance(c.get("kwargs") or {}, dict) \
                or not isinstance(c.get("messages") or [], list) or (error and not isinstance(error, dict)):
            raise NotReplayableError(f"LM call {n} of its transcript is malformed")
        exc = RuntimeError(f"{error.get('type')}: {error.get('message')}") if error else None
        out.append(LMCall(messages=c.get("messages"), kwargs=c.get("kwargs") or {}, outputs=c.get("outputs"),
                          error=exc, prompt=c.get("prompt")))
    return out


def _shape_problem(case: Mapping[str, Any]) -> str | None:
    error = case.get("dspy_error")
    wrong = [name for name, ok in (
        ("module_type", isinstance(case.get("module_type"), str)),
        ("inputs", isinstance(case.get("inputs") or {}, dict)),
        ("config", isinstance(case.get("config") or {}, dict)),
        ("demos", isinstance(case.get("demos") or [], list)),
        ("lm", isinstance(case.get("lm") or {}, dict)),
        ("transcript", isinstance(case.get("transcript") or [], list)),
        ("dspy_error", not error or (isinstance(error, dict) and isinstance(error.get("type"), str)
                                     and isinstance(error.get("message"), str))),
    ) if not ok]
    return f"malformed case ({', '.join(wrong)} of the wrong type)" if wrong else None


def check_case(case: Mapping[str, Any], factory: NativeFactory | None = None) -> list[str]:
    """Run the native module on the recorded transcript; the differences from DSPy's recorded behaviour.

    Never raises for what the case holds: a case that data alone cannot rebuild (a custom type, a module type
    without a built-in native class and no ``factory``, malformed parts) gives one problem starting with
    :data:`NOT_REPLAYABLE`.
    """
    shape = _shape_problem(case)
    if shape:
        return [f"{NOT_REPLAYABLE}: {shape}"]
    try:
        signature = rebuild_signature(case.get("signature")) if case.get("signature") else None
    except NotReplayableError as exc:
        if factory is None:
            return [f"{NOT_REPLAYABLE}: {exc}"]
        signature = None   # the factory builds the module (and its signature) itself
    except Exception as exc:  # noqa: BLE001 - a malformed spec is reported, not raised
        return [f"{NOT_REPLAYABLE}: its signature cannot be rebuilt ({type(exc).__name__}: {exc})"]
    try:
        module = (factory or native_factory)(case["module_type"], signature, case)
    except NotReplayableError as exc:
        return [f"{NOT_REPLAYABLE}: {exc}"]
    except Exception as exc:  # noqa: BLE001 - reported as a difference, so the suite says what is missing
        return [f"could not build the native module: {type(exc).__name__}: {exc}"]
    try:
        recorded = _calls(case.get("transcript") or [])
    except NotReplayableError as exc:
        return [f"{NOT_REPLAYABLE}: {exc}"]
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
