"""Shadow mode's process-wide state: settings, counters, the worker pool and the divergence log.

The pool and the log are created on first use and swapped by ``configure`` when their settings change. Any
failure of the shadow machinery itself is counted and swallowed here: it never reaches the caller.
"""

from __future__ import annotations

import hashlib
import logging
import os
import random
import threading
import time
import uuid
from collections import Counter
from typing import TYPE_CHECKING, Any

from ._job import ShadowJob
from ._lm import Transcript, make_recorder
from ._log import DivergenceLog
from ._pool import ShadowPool
from ._settings import ShadowSettings, make_settings
from ._stats import ShadowStats
from .observation import observe

if TYPE_CHECKING:
    from .experiment import ShadowCall

__all__ = ["runtime", "configure", "get_settings", "run_id", "shutdown", "stats", "reset"]

logger = logging.getLogger("dspex.shadow")
_POOL_KEYS = ("workers", "max_queue", "max_abandoned")
_LOG_KEYS = ("log_path", "log_max_bytes", "log_backups")


class _Runtime:
    """Process-wide shadow state: settings, the pool and the log, both created on first use."""

    def __init__(self, settings: ShadowSettings | None = None) -> None:
        self.settings = settings or ShadowSettings()
        self.stats = ShadowStats()
        self.run_id = uuid.uuid4().hex[:12]
        self.pool: ShadowPool | None = None
        self.log: DivergenceLog | None = None
        self._lock = threading.Lock()
        self._rng = random.Random()
        self._telemetry: Any = None
        self._warned_no_lm = False
        self.log_losses: Counter[str] = Counter()

    # --- resources -------------------------------------------------------------------------------------------
    def get_pool(self, s: ShadowSettings) -> ShadowPool:
        pool = self.pool
        if pool is None:
            with self._lock:
                if self.pool is None:
                    self.pool = ShadowPool(s.workers, s.max_queue, s.max_abandoned, self.internal_error)
                pool = self.pool
        return pool

    def get_log(self) -> DivergenceLog:
        log = self.log
        if log is None or log.pid != os.getpid():   # a forked worker gets its own per-process file
            with self._lock:
                if self.log is None or self.log.pid != os.getpid():
                    s = self.settings
                    self.log = DivergenceLog(s.resolved_log_path(), s.log_max_bytes, s.log_backups, self.log_lost)
                log = self.log
        return log

    def write(self, record: dict[str, Any]) -> None:
        if not self.get_log().write(record):
            self.stats.bump((record.get("module_type", "?"), record.get("module_name")), "log_errors")

    def log_lost(self, kind: str) -> None:
        """Every record the log could not write: counted by kind and announced as ``dspex.shadow.dropped``."""
        with self._lock:
            self.log_losses[kind] += 1
        self.emit("dspex.shadow.dropped", {"count": 1}, {"module_type": None, "module_name": None,
                                                         "reason": f"log_{kind}"})

    def maybe_write_stats(self, key: tuple[str, str | None], compared: int) -> None:
        if compared % self.settings.stats_every == 0:
            self.write(self._stats_record(self.stats.module_line(key)))

    def write_all_stats(self) -> None:
        for line in self.stats.module_lines():
            self.write(self._stats_record(line))

    def _stats_record(self, line: dict[str, Any]) -> dict[str, Any]:
        from ._jsonsafe import versions
        from ._record import iso_time

        return {"kind": "stats", "run_id": self.run_id, "pid": os.getpid(), "time": iso_time(time.time()),
                "mode": self.settings.mode, "versions": versions(), **line}

    def emit(self, event: str, measurements: dict[str, Any], metadata: dict[str, Any]) -> None:
        """Telemetry through ``dspex.telemetry.emit`` when that module exists; a handler's failure is ignored."""
        telemetry = self._telemetry
        if telemetry is None:
            try:
                from .. import telemetry as telemetry_module
            except ImportError:
                telemetry_module = False  # type: ignore[assignment]
            telemetry = self._telemetry = telemetry_module
        if telemetry is False or not hasattr(telemetry, "emit"):
            return
        try:
            telemetry.emit(event, measurements, metadata)
        except Exception:  # noqa: BLE001
            logger.debug("telemetry handler for %s failed", event, exc_info=True)

    def internal_error(self, exc: BaseException) -> None:
        self.stats.bump(("<shadow>", None), "internal_errors")
        logger.warning("dspex shadow: internal error (the caller was not affected): %r", exc, exc_info=exc)

    # --- request path ----------------------------------------------------------------------------------------
    def sampled(self, call: ShadowCall, s: ShadowSettings) -> bool:
        rate = s.sample_rate
        if rate >= 1.0:
            return True
        if rate <= 0.0:
            return False
        if call.targeting_key is not None:   # sticky: the same key is always in or always out
            digest = hashlib.blake2b(f"{call.flag_key or call.module_type}\0{call.targeting_key}".encode(),
                                     digest_size=8).digest()
            return int.from_bytes(digest, "big") / 2**64 < rate
        return self._rng.random() < rate

    def prepare(self, call: ShadowCall) -> tuple[ShadowSettings, Transcript | None, Any]:
        """Decide whether this call is shadowed; returns the LM the control should use."""
        s = self.settings
        key = (call.module_type, call.module_name)
        if not s.enabled or not self.sampled(call, s):
            self.stats.bump(key, "sampled_out")
            return s, None, call.lm
        if call.lm is None and s.mode == "replay":
            self.stats.bump(key, "skipped")
            if not self._warned_no_lm:
                self._warned_no_lm = True
                logger.warning("dspex shadow: replay needs the call's LM but the ShadowCall has lm=None; "
                               "calls without an LM are served by the control and not compared.")
            return s, None, call.lm
        transcript = Transcript()
        return s, transcript, (make_recorder(call.lm, transcript) if call.lm is not None else None)

    def enqueue(self, call: ShadowCall, s: ShadowSettings, transcript: Transcript, result: Any,
                error: BaseException | None, seconds: float) -> None:
        try:
            noise = s.mode == "live" and s.noise_rate > 0 and self._rng.random() < s.noise_rate
            job = ShadowJob(call, s, self, observe(result, error, seconds, transcript), noise,
                            started=time.time() - seconds)
            if not self.get_pool(s).submit(job):
                self.stats.bump(job.key, "dropped")
                self.emit("dspex.shadow.dropped", {"count": 1},
                          {"module_type": call.module_type, "module_name": call.module_name, "reason": "queue_full"})
        except Exception as exc:  # noqa: BLE001 - shadow must never fail the caller
            self.internal_error(exc)


_runtime = _Runtime()
_swap_lock = threading.Lock()


def runtime() -> _Runtime:
    """The current runtime (``reset`` replaces it)."""
    return _runtime


def configure(settings: ShadowSettings | None = None, /, **changes: Any) -> ShadowSettings:
    """Apply settings (on top of the current ones, or of ``settings`` when given); returns the result."""
    with _swap_lock:
        rt = _runtime
        new = make_settings(settings or rt.settings, **changes)
        old_pool = old_log = None
        if any(getattr(new, k) != getattr(rt.settings, k) for k in _POOL_KEYS):
            old_pool, rt.pool = rt.pool, None
        if any(getattr(new, k) != getattr(rt.settings, k) for k in _LOG_KEYS):
            old_log, rt.log = rt.log, None
        rt.settings = new
    if old_pool is not None:
        old_pool.close(timeout=0)      # queued candidates still finish; its threads then exit
    if old_log is not None:
        old_log.close()
    return new


def get_settings() -> ShadowSettings:
    return _runtime.settings


def run_id() -> str:
    """This shadow runtime's id (in every log line it writes); ``reset`` starts a new one."""
    return _runtime.run_id


def stats() -> dict[str, Any]:
    """Counters (compared, matched, diverged, candidate_errors, timeouts, dropped, ...) plus per module."""
    rt = _runtime
    snap = rt.stats.snapshot()
    pool = rt.pool
    snap["pending"] = pool.pending if pool is not None else 0
    snap["abandoned_threads"] = pool.abandoned if pool is not None else 0
    snap["log_path"] = str(rt.log.path if rt.log is not None else rt.settings.resolved_log_path())
    snap["log_losses"] = dict(rt.log_losses)
    snap["run_id"] = rt.run_id
    return snap


def shutdown(timeout: float | None = 5.0) -> bool:
    """Drain pending candidates (up to ``timeout`` seconds), write per-module stats lines, close the log.

    Returns False when work was still pending at the deadline. Later shadow calls start a fresh pool.
    """
    rt = _runtime
    with _swap_lock:
        pool, rt.pool = rt.pool, None
    drained = pool.close(timeout) if pool is not None else True
    rt.write_all_stats()
    log, rt.log = rt.log, None
    if log is not None:
        log.close()
    return drained


def reset(settings: ShadowSettings | None = None) -> None:
    """Forget counters and settings (tests, or a fresh run id); pending work is drained briefly first."""
    global _runtime
    shutdown(timeout=1.0)
    with _swap_lock:
        _runtime = _Runtime(settings)
