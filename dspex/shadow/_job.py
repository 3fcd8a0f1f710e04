"""The worker's unit of work for one shadow-routed call: observe the candidate, compare, publish what differs.

Everything here happens off the request path. The caller already has the control's answer; a job can only
count, log and emit telemetry.
"""

from __future__ import annotations

import contextvars
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ._compare import Rules
from ._lm import lm_attributes
from ._record import build_record
from ._settings import ShadowSettings
from ._transcript import lm_cost
from .observation import Observation, observe_candidate, observe_control_again
from .result import Result, noise_fields

if TYPE_CHECKING:
    from .experiment import ShadowCall

__all__ = ["ShadowJob", "Outcome"]


@dataclass
class Outcome:
    """What the worker observed: the candidate and, in live mode, maybe a noise rerun of the control."""

    candidate: Observation
    noise: Observation | None = None


@dataclass
class ShadowJob:
    call: "ShadowCall"
    settings: ShadowSettings
    runtime: Any                       # the _Runtime (counters, log, telemetry)
    control: Observation
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
        return self.context.run(self._observe)

    def _observe(self) -> Outcome:
        candidate = observe_candidate(self.call, self.settings.mode, self.control)
        return Outcome(candidate, observe_control_again(self.call) if self.noise else None)

    def finish(self, outcome: Outcome) -> None:
        call, candidate = self.call, outcome.candidate
        rules = Rules.for_module(self.settings, call.module_type, call.module_name)
        if outcome.noise is not None:
            self.runtime.stats.record_noise(self.key, noise_fields(self.control, outcome.noise, call.signature, rules))
        check_prompts = self.settings.mode == "replay" or call.lm is not None
        result = Result.of(self.control, candidate, call.signature, rules, check_prompts)
        c_lm, c_calls, c_tokens = lm_cost(self.control.requests)
        d_lm, d_calls, _ = lm_cost(candidate.requests)
        compared = self.runtime.stats.record_comparison(self.key, result.counter, [] if result.matched else result.fields,
                                                        self.control.seconds * 1000, candidate.seconds * 1000,
                                                        (c_lm, d_lm, c_calls, d_calls, c_tokens))
        if not result.matched:
            self._publish(result, candidate)
        self.runtime.maybe_write_stats(self.key, compared)

    def timed_out(self, elapsed_s: float) -> None:
        self.runtime.stats.bump(self.key, "timeouts")
        candidate = Observation(error=TimeoutError(
            f"The candidate did not finish within shadow.timeout_s={self.timeout_s:g}s "
            f"(abandoned after {elapsed_s:.3f}s)."), seconds=elapsed_s)
        self._publish(Result("timeout"), candidate)

    # --- publishing ------------------------------------------------------------------------------------------
    def _notes(self, candidate: Observation) -> dict[str, Any] | None:
        notes = getattr(self.call, "notes", None)
        if notes is None:
            return None
        try:
            return notes(self.control.result, candidate.result)
        except Exception as exc:  # noqa: BLE001 - notes explain a divergence; they never lose it
            return {"notes_error": f"{type(exc).__name__}: {exc}"}

    def _publish(self, result: Result, candidate: Observation) -> None:
        control, kind = self.control, result.kind
        record = build_record(
            kind=kind, call=self.call, settings=self.settings, run_id=self.runtime.run_id, call_id=self.call_id,
            started=self.started, control=control.result, control_error=control.error,
            control_s=control.seconds, candidate=candidate.result, candidate_error=candidate.error,
            candidate_s=candidate.seconds, differences=result.differences, prompt_diff=result.prompt_diff,
            mismatches=result.mismatches, transcript=control.requests,
            candidate_transcript=candidate.requests if self.settings.mode == "live" else None,
            lm_attrs=lm_attributes(self.call.lm), notes=self._notes(candidate),
            candidate_requests=candidate.requests,
        )
        self.runtime.write(record)
        self.runtime.emit(
            "dspex.shadow.divergence",
            {"control_ms": record["control"]["duration_ms"], "candidate_ms": record["candidate"]["duration_ms"]},
            {"kind": kind, "module_type": self.call.module_type, "module_name": self.call.module_name,
             "fields": record["fields"], "id": record["id"], "prompt_differs": result.prompt_diff is not None},
        )
