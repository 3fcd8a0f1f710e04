"""A result: the comparison of the control's and the candidate's observations of one call.

Scientist's ``Result``. Outputs are compared field by field with the comparators the signature implies (or the
ones configured, see ``_compare``), errors by class name and message, and the LM requests the candidate made
against the control's transcript (a prompt difference is a divergence even when the outputs agree). A result
that is not a match is what the divergence log records (``_record``).
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from typing import Any, Sequence

from ._compare import Rules, compare_errors, compare_results
from ._jsonsafe import error_info, to_jsonable
from ._lm import ShadowReplayError
from ._redact import scrub_secrets
from ._transcript import LMCall

__all__ = ["Result", "noise_fields", "render_request", "request_diff", "positional_mismatches", "transcript_diff",
           "MAX_DIFF_CHARS"]

MAX_DIFF_CHARS = 20_000


@dataclass(frozen=True)
class Result:
    """``kind``: ``divergence`` (outputs, errors or prompts differ, or nothing differs: a match),
    ``candidate_error`` (only the candidate raised) or ``timeout``."""

    kind: str
    differences: dict[str, dict[str, Any]] = field(default_factory=dict)
    prompt_diff: str | None = None
    mismatches: list[dict[str, Any]] = field(default_factory=list)

    @property
    def matched(self) -> bool:
        return self.kind == "divergence" and not self.differences and self.prompt_diff is None

    @property
    def fields(self) -> list[str]:
        """The differing fields, ``<prompt>`` last when the LM requests differ."""
        return sorted(self.differences) + (["<prompt>"] if self.prompt_diff else [])

    @property
    def counter(self) -> str:
        """The stats counter this result bumps."""
        if self.matched:
            return "matched"
        return "candidate_errors" if self.kind == "candidate_error" else "diverged"

    @classmethod
    def of(cls, control: Any, candidate: Any, signature: Any, rules: Rules, check_prompts: bool) -> "Result":
        """Compare two observations. ``check_prompts``: the candidate's requests are comparable to the control's
        (replay mode, or live mode with the call's LM known)."""
        kind, diffs = _outcome_differences(control, candidate, signature, rules)
        prompt_diff, items = (transcript_diff(control.requests, candidate.requests, candidate.mismatches,
                                              candidate.unused) if check_prompts else (None, []))
        return cls(kind, diffs, prompt_diff, items)


def _outcome_differences(control: Any, candidate: Any, signature: Any,
                         rules: Rules) -> tuple[str, dict[str, dict[str, Any]]]:
    ctrl_err, cand_err = control.error, candidate.error
    if ctrl_err is None and cand_err is None:
        return "divergence", compare_results(control.result, candidate.result, signature, rules)
    if ctrl_err is not None and cand_err is not None:
        if compare_errors(ctrl_err, cand_err):
            return "divergence", {}
        return "divergence", {"error": {"control": error_info(ctrl_err), "candidate": error_info(cand_err),
                                        "comparator": "compare_errors"}}
    if cand_err is not None:   # a replay that ran out of recorded calls is the candidate's divergence, not a crash
        return ("divergence" if isinstance(cand_err, ShadowReplayError) else "candidate_error"), {}
    return "divergence", {"error": {"control": error_info(ctrl_err), "candidate": "<returned a result>",
                                    "comparator": "compare_errors"}}


def noise_fields(control: Any, noise: Any, signature: Any, rules: Rules) -> list[str]:
    """The fields in which DSPy disagreed with itself (live mode's noise rerun)."""
    if control.error is None and noise.error is None:
        return sorted(compare_results(control.result, noise.result, signature, rules))
    return [] if compare_errors(control.error, noise.error) else ["error"]


# --- LM requests: the control's (DSPy) against the candidate's (native) ----------------------------------------
def render_request(call: LMCall | None) -> list[str]:
    """One request as lines: each message's role then its content, then the call kwargs as sorted JSON."""
    if call is None:
        return []
    lines: list[str] = []
    if call.prompt is not None:
        lines += ["prompt:", *str(call.prompt).splitlines()]
    for i, message in enumerate(call.messages or []):
        role = message.get("role", "?") if isinstance(message, dict) else "?"
        content = message.get("content", "") if isinstance(message, dict) else message
        if not isinstance(content, str):
            content = json.dumps(to_jsonable(content), ensure_ascii=False, indent=1)
        lines.append(f"--- message {i} ({role}) ---")
        lines += content.splitlines() or [""]
    kwargs = json.dumps(scrub_secrets(to_jsonable(call.kwargs)), ensure_ascii=False, sort_keys=True)
    lines.append(f"--- kwargs: {kwargs}")
    return lines


def request_diff(recorded: LMCall | None, requested: LMCall | None, number: int) -> str:
    """A unified diff of one call: ``-`` the control's (DSPy) request, ``+`` the candidate's."""
    diff = difflib.unified_diff(
        render_request(recorded), render_request(requested),
        fromfile=f"control (dspy) LM call {number}", tofile=f"candidate (native) LM call {number}", lineterm="",
    )
    return "\n".join(diff)


def positional_mismatches(recorded: Sequence[LMCall], requests: Sequence[LMCall]) -> list[tuple[int, int | None]]:
    """Pairs (candidate index, control index or None) where the requests differ, comparing in order."""
    pairs: list[tuple[int, int | None]] = []
    for i, req in enumerate(requests):
        rec = recorded[i] if i < len(recorded) else None
        if rec is None or (rec.messages, rec.kwargs, rec.prompt) != (req.messages, req.kwargs, req.prompt):
            pairs.append((i, i if rec is not None else None))
    return pairs


def transcript_diff(
    recorded: Sequence[LMCall], requests: Sequence[LMCall], mismatches: Sequence[tuple[int, int | None]],
    unused: Sequence[int],
) -> tuple[str | None, list[dict[str, Any]]]:
    """The prompt diff text and a structured list of the mismatches (for the log and the report)."""
    parts: list[str] = []
    items: list[dict[str, Any]] = []
    for cand_index, rec_index in mismatches:
        rec = recorded[rec_index] if rec_index is not None else None
        req = requests[cand_index] if cand_index < len(requests) else None
        if rec is None:
            items.append({"kind": "extra_call", "candidate_call": cand_index + 1})
            parts.append(f"candidate made LM call {cand_index + 1}, which the control never made:\n"
                         + request_diff(None, req, cand_index + 1))
            continue
        what = [k for k, a, b in (("messages", rec.messages, getattr(req, "messages", None)),
                                  ("kwargs", rec.kwargs, getattr(req, "kwargs", None))) if a != b]
        items.append({"kind": "request_differs", "candidate_call": cand_index + 1, "control_call": rec_index + 1,
                      "parts": what})
        parts.append(request_diff(rec, req, cand_index + 1))
    if unused:
        items.append({"kind": "missing_calls", "control_calls": [i + 1 for i in unused]})
        parts.append(f"the control made {len(recorded)} LM call(s); the candidate never made call(s) "
                     f"{', '.join(str(i + 1) for i in unused)}")
    if not parts:
        return None, []
    text = "\n".join(parts)
    if len(text) > MAX_DIFF_CHARS:
        text = text[:MAX_DIFF_CHARS] + f"\n... ({len(text) - MAX_DIFF_CHARS} more characters)"
    return text, items
