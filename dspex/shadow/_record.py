"""Building one divergence-log record: the JSON line that report, replay and promote read back.

Everything that could leak is handled here, in one place: input fields named in ``shadow.redact`` or named
like a credential are redacted (also where their values appear inside the recorded prompts); every key named like
a credential (see ``_redact``) in the inputs, demos, config, LM state, transcripts and outputs has its value
replaced, and that value's text is removed from every string of the record; ``clean`` is applied to every
published output value.
"""

from __future__ import annotations

import datetime as _dt
import typing
from typing import Any, Callable, Mapping, Sequence

from ._jsonsafe import error_info, redact_fields, to_jsonable, versions
from ._transcript import LMCall
from ._transcript import lm_cost
from ._redact import REDACTED, Redactor

__all__ = ["signature_spec", "type_name", "transcript_json", "build_record", "iso_time"]


def iso_time(epoch: float) -> str:
    return _dt.datetime.fromtimestamp(epoch, _dt.timezone.utc).isoformat(timespec="milliseconds")


def type_name(annotation: Any) -> str:
    """A type as it would be written in a signature string (``list[str]``, ``Literal['a', 'b']``)."""
    if annotation is None:
        return "str"
    if isinstance(annotation, type) and not typing.get_args(annotation) and typing.get_origin(annotation) is None:
        return annotation.__name__
    return repr(annotation).replace("typing.", "")


def _field_meta(f: Any) -> tuple[Any, Any]:
    desc, prefix = getattr(f, "desc", None), getattr(f, "prefix", None)
    extra = getattr(f, "json_schema_extra", None)
    if isinstance(extra, Mapping):
        desc = extra.get("desc", desc) if desc is None else desc
        prefix = extra.get("prefix", prefix) if prefix is None else prefix
    return desc, prefix


def signature_spec(signature: Any) -> dict[str, Any] | None:
    """Enough of a signature (native or DSPy) to rebuild it: typed string, instructions, field descriptions."""
    if signature is None or not hasattr(signature, "input_fields"):
        return None
    fields: dict[str, Any] = {}
    parts: dict[str, list[str]] = {"input": [], "output": []}
    for kind, mapping in (("input", signature.input_fields), ("output", signature.output_fields)):
        for name, f in mapping.items():
            tname = type_name(getattr(f, "annotation", None))
            desc, prefix = _field_meta(f)
            fields[name] = {"kind": kind, "type": tname, "desc": desc, "prefix": prefix}
            parts[kind].append(f"{name}: {tname}")
    return {
        "string": f"{', '.join(parts['input'])} -> {', '.join(parts['output'])}",
        "instructions": getattr(signature, "instructions", None),
        "fields": fields,
        "name": getattr(signature, "__name__", None),
    }


def transcript_json(calls: Sequence[LMCall]) -> list[dict[str, Any]]:
    out = []
    for c in calls:
        entry: dict[str, Any] = {"messages": to_jsonable(c.messages), "kwargs": to_jsonable(c.kwargs),
                                 "outputs": to_jsonable(c.outputs)}
        if c.prompt is not None:
            entry["prompt"] = to_jsonable(c.prompt)
        if c.error is not None:
            entry["error"] = error_info(c.error)
        out.append(entry)
    return out


def _cleaned(value: Any, clean: Callable[[Any], Any] | None) -> Any:
    value = to_jsonable(value)
    if clean is None:
        return value
    try:
        return to_jsonable(clean(value))
    except Exception as exc:  # noqa: BLE001 - a failing clean hides the value rather than leak it
        return f"<clean failed: {type(exc).__name__}>"


def _lm_side(calls: Sequence[LMCall]) -> dict[str, Any]:
    """What the LM took of one side's duration: the rest is that implementation's own compute."""
    wait_ms, count, tokens = lm_cost(list(calls))
    return {"lm_wait_ms": round(wait_ms, 3), "lm_calls": count, "tokens": tokens}


def build_record(
    *, kind: str, call: Any, settings: Any, run_id: str, call_id: str, started: float, control: Any,
    control_error: BaseException | None, control_s: float, candidate: Any, candidate_error: BaseException | None,
    candidate_s: float | None, differences: Mapping[str, Mapping[str, Any]], prompt_diff: str | None,
    mismatches: list[dict[str, Any]], transcript: Sequence[LMCall], candidate_transcript: Sequence[LMCall] | None,
    lm_attrs: Mapping[str, Any], notes: Mapping[str, Any] | None = None,
    candidate_requests: Sequence[LMCall] | None = None,
) -> dict[str, Any]:
    clean = settings.clean
    inputs = to_jsonable(dict(call.inputs))
    redactor = Redactor(settings.redact_keys)
    named = {r.lower() for r in settings.redact}
    redacted_names = [n for n in inputs if n.lower() in named or redactor.secret(n)]
    redactor.remember((v for k, v in inputs.items() if k in redacted_names and v not in (None, "")), min_len=3)
    diffs = {name: {"control": _cleaned(d["control"], clean), "candidate": _cleaned(d["candidate"], clean),
                    "comparator": d.get("comparator")} for name, d in differences.items()}
    record: dict[str, Any] = {
        "kind": kind,
        "id": f"{call_id}-{kind[:3]}",
        "call_id": call_id,
        "run_id": run_id,
        "time": iso_time(started),
        "mode": settings.mode,
        "module_type": call.module_type,
        "module_name": call.module_name,
        "flag_key": call.flag_key,
        "variant": call.variant,
        "reason": call.reason,
        "targeting_key": REDACTED if "targeting_key" in settings.redact else call.targeting_key,
        "signature": signature_spec(call.signature),
        "inputs": redact_fields(inputs, redacted_names),
        "redacted": redacted_names,
        "demos": to_jsonable(getattr(call, "demos", None)),
        "config": to_jsonable(getattr(call, "config", None)),
        "control": {"output": _cleaned(control, clean) if control_error is None else None,
                    "error": error_info(control_error), "duration_ms": round(control_s * 1000, 3),
                    **_lm_side(transcript)},
        "candidate": {"output": _cleaned(candidate, clean) if candidate_error is None and kind != "timeout" else None,
                      "error": error_info(candidate_error),
                      "duration_ms": None if candidate_s is None else round(candidate_s * 1000, 3),
                      **_lm_side(candidate_requests or ())},
        "differences": diffs,
        "fields": sorted(diffs),
        "prompt_diff": prompt_diff,
        "transcript_mismatch": mismatches,
        "lm": to_jsonable(dict(lm_attrs)),
        "transcript": transcript_json(transcript),
        "versions": versions(),
    }
    if candidate_transcript is not None:
        record["candidate_transcript"] = transcript_json(candidate_transcript)
    if notes:   # what the module type adds (an agent: the first step where the trajectories part, tool replay)
        record["notes"] = to_jsonable(dict(notes))
    for key in _KEYED_SECTIONS:
        if key in record:
            record[key] = redactor.keys(record[key])
    return redactor.strings(redactor.text(record))


# Record sections whose keys are field names, kwargs or LM attributes: secret-named keys there are redacted.
# (Not the record's own keys, e.g. ``targeting_key`` and ``flag_key``, nor the signature spec's field table.)
_KEYED_SECTIONS = ("inputs", "demos", "config", "lm", "transcript", "candidate_transcript", "control", "candidate",
                   "differences", "notes")
