"""One shadow comparison, run on a worker: the candidate (and in live mode maybe a noise rerun), then compare.

Everything here happens off the request path. The caller already has the control's answer; a job can only
count, log and emit telemetry.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from ._call import ShadowCall
from ._compare import Rules, compare_errors, compare_results
from ._diff import positional_mismatches, transcript_diff
from ._jsonsafe import error_info
from ._lm import LMCall, ShadowReplayError, Transcript, lm_attributes, make_recorder, make_replayer
from ._transcript import lm_cost
from ._record import build_record
from ._settings import ShadowSettings

__all__ = ["ShadowJob", "Outcome", "IN_CANDIDATE"]

# Set while a candidate (or noise rerun) runs, so a routed module nested inside it does not shadow again.
IN_CANDIDATE: contextvars.ContextVar[bool] = contextvars.ContextVar("dspex_shadow_in_candidate", default=False)


class _QuietCandidate(logging.Filter):
    """A candidate's input warnings repeat what the control already logged for the same call: kept out of the
    program's log (they would arrive later, from a worker thread, looking like another call's)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not IN_CANDIDATE.get()


for _name in ("dspex.native.predict", "dspex.native.callbacks"):
    logging.getLogger(_name).addFilter(_QuietCandidate())


@dataclass
class Outcome:
    result: Any = None
    error: BaseException | None = None
    seconds: float = 0.0
    requests: list[LMCall] = field(default_factory=list)
    mismatches: list[tuple[int, int | None]] = field(default_factory=list)
    unused: list[int] = field(default_factory=list)
    extra_calls: int = 0
    noise: "Outcome | None" = None


@dataclass
class ShadowJob:
    call: ShadowCall
    settings: ShadowSettings
    runtime: Any                       # the _Runtime (counters, log, telemetry)
    transcript: list[LMCall]
    control_result: Any
    control_error: BaseException | None
    control_s: float
    noise: bool = False
    started: float = field(default_factory=time.time)
    call_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    context: contextvars.Context = field(default_factory=contextvars.copy_context)

    @property
    def timeout_s(self) -> float:
        return self.settings.timeout_s * (2 if self.noise else 1)

    @property
    def key(self) -> tuple[str, str | None]:
        return (self.call.module_type, self.call.module_name)

    # --- on the worker ---------------------------------------------------------------------------------------
    def run(self) -> Outcome:
        return self.context.run(self._run)

    def _run(self) -> Outcome:
        IN_CANDIDATE.set(True)
        outcome = self._candidate()
        if self.noise:
            outcome.noise = self._rerun_control()
        return outcome

    def _invoke(self, fn: Any, afn: Any, lm: Any) -> tuple[Any, BaseException | None, float]:
        t0 = time.perf_counter()
        try:
            result = fn(lm) if fn is not None else asyncio.run(afn(lm))
            return result, None, time.perf_counter() - t0
        except Exception as exc:  # noqa: BLE001 - the candidate's errors are data here
            return None, exc, time.perf_counter() - t0

    def _candidate(self) -> Outcome:
        call = self.call
        if self.settings.mode == "replay":
            replayer = make_replayer(self.transcript, inner=call.lm)
            result, error, seconds = self._invoke(call.candidate, call.acandidate, replayer)
            return Outcome(result, error, seconds, list(replayer.requests), list(replayer.mismatches),
                           replayer.unused(), replayer.extra_calls)
        own = Transcript()
        lm = make_recorder(call.lm, own) if call.lm is not None else None
        result, error, seconds = self._invoke(call.candidate, call.acandidate, lm)
        requests = own.snapshot()
        mismatches = positional_mismatches(self.transcript, requests) if call.lm is not None else []
        unused = list(range(len(requests), len(self.transcript))) if call.lm is not None else []
        return Outcome(result, error, seconds, requests, mismatches, unused)

    def _rerun_control(self) -> Outcome:
        own = Transcript()
        lm = make_recorder(self.call.lm, own) if self.call.lm is not None else None
        result, error, seconds = self._invoke(self.call.control, self.call.acontrol, lm)
        return Outcome(result, error, seconds, own.snapshot())

    def finish(self, outcome: Outcome) -> None:
        rules = Rules.for_module(self.settings, self.call.module_type, self.call.module_name)
        if outcome.noise is not None:
            self._record_noise(outcome.noise, rules)
        diffs: dict[str, dict[str, Any]] = {}
        ctrl_err, cand_err = self.control_error, outcome.error
        kind = "divergence"
        if ctrl_err is None and cand_err is None:
            diffs = compare_results(self.control_result, outcome.result, self.call.signature, rules)
        elif ctrl_err is not None and cand_err is not None:
            if not compare_errors(ctrl_err, cand_err):
                diffs["error"] = {"control": error_info(ctrl_err), "candidate": error_info(cand_err),
                                  "comparator": "compare_errors"}
        elif cand_err is not None:
            kind = "divergence" if isinstance(cand_err, ShadowReplayError) else "candidate_error"
        else:
            diffs["error"] = {"control": error_info(ctrl_err), "candidate": "<returned a result>",
                              "comparator": "compare_errors"}
        check_prompts = self.settings.mode == "replay" or self.call.lm is not None
        prompt_diff, mismatch_items = (
            transcript_diff(self.transcript, outcome.requests, outcome.mismatches, outcome.unused)
            if check_prompts else (None, [])
        )
        matched = kind == "divergence" and not diffs and prompt_diff is None
        counter = "matched" if matched else ("candidate_errors" if kind == "candidate_error" else "diverged")
        fields = sorted(diffs) + (["<prompt>"] if prompt_diff else [])
        c_lm, c_calls, c_tokens = lm_cost(self.transcript)
        d_lm, d_calls, _ = lm_cost(outcome.requests)
        compared = self.runtime.stats.record_comparison(self.key, counter, [] if matched else fields,
                                                        self.control_s * 1000, outcome.seconds * 1000,
                                                        (c_lm, d_lm, c_calls, d_calls, c_tokens))
        if not matched:
            self._publish(kind, outcome, diffs, prompt_diff, mismatch_items)
        self.runtime.maybe_write_stats(self.key, compared)

    def timed_out(self, elapsed_s: float) -> None:
        self.runtime.stats.bump(self.key, "timeouts")
        outcome = Outcome(error=TimeoutError(
            f"The candidate did not finish within shadow.timeout_s={self.timeout_s:g}s "
            f"(abandoned after {elapsed_s:.3f}s)."), seconds=elapsed_s)
        self._publish("timeout", outcome, {}, None, [])

    # --- publishing ------------------------------------------------------------------------------------------
    def _record_noise(self, noise: Outcome, rules: Rules) -> None:
        if self.control_error is None and noise.error is None:
            fields = sorted(compare_results(self.control_result, noise.result, self.call.signature, rules))
        else:
            fields = [] if compare_errors(self.control_error, noise.error) else ["error"]
        self.runtime.stats.record_noise(self.key, fields)

    def _notes(self, outcome: Outcome) -> dict[str, Any] | None:
        notes = getattr(self.call, "notes", None)
        if notes is None:
            return None
        try:
            return notes(self.control_result, outcome.result)
        except Exception as exc:  # noqa: BLE001 - notes explain a divergence; they never lose it
            return {"notes_error": f"{type(exc).__name__}: {exc}"}

    def _publish(self, kind: str, outcome: Outcome, diffs: dict[str, Any], prompt_diff: str | None,
                 mismatches: list[dict[str, Any]]) -> None:
        record = build_record(
            kind=kind, call=self.call, settings=self.settings, run_id=self.runtime.run_id, call_id=self.call_id,
            started=self.started, control=self.control_result, control_error=self.control_error,
            control_s=self.control_s, candidate=outcome.result, candidate_error=outcome.error,
            candidate_s=outcome.seconds, differences=diffs, prompt_diff=prompt_diff, mismatches=mismatches,
            transcript=self.transcript,
            candidate_transcript=outcome.requests if self.settings.mode == "live" else None,
            lm_attrs=lm_attributes(self.call.lm), notes=self._notes(outcome),
            candidate_requests=outcome.requests,
        )
        self.runtime.write(record)
        self.runtime.emit(
            "dspex.shadow.divergence",
            {"control_ms": record["control"]["duration_ms"], "candidate_ms": record["candidate"]["duration_ms"]},
            {"kind": kind, "module_type": self.call.module_type, "module_name": self.call.module_name,
             "fields": record["fields"], "id": record["id"], "prompt_differs": prompt_diff is not None},
        )
