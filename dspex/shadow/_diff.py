"""Readable differences between the LM requests the control made and those the candidate made."""

from __future__ import annotations

import difflib
import json
from typing import Any, Sequence

from ._jsonsafe import to_jsonable
from ._lm import LMCall
from ._redact import scrub_secrets

__all__ = ["render_request", "request_diff", "positional_mismatches", "transcript_diff", "MAX_DIFF_CHARS"]

MAX_DIFF_CHARS = 20_000


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
