"""The flag source: the OpenFeature client of domain ``dspex``, its provider, and a per-version variant cache.

Why a cache: a flag without targeting has one answer per flag-file version, so it is resolved once and kept
until the provider reports a change (PROVIDER_CONFIGURATION_CHANGED / READY); evaluating it through the SDK on
every call would cost 25 us. Flags with targeting (``fractional``, rules on attributes) come back with a
non-STATIC reason and are evaluated per call, except inside ``dspex.request(targeting_key=...)``: flagd's answer
is then a pure function of the flag file's version, the flag and the evaluation context (targeting key and
attributes), which flagd re-derives on every evaluation (JSON-logic walk, CBOR, murmur3, ~100 us here). That
answer is kept per (flag, context) until the flags change, when the flag is served by flagd's own in-process
evaluator (file or sync) and its rule does not read ``$flagd.timestamp``. Without a request targeting key every
call is a new user and is evaluated. Cached answers skip the SDK's hooks, as the static cache always has. A
generation counter keeps an evaluation that raced a reload from caching a stale answer.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any, Callable

from openfeature import api
from openfeature.evaluation_context import EvaluationContext
from openfeature.event import EventDetails, ProviderEvent
from openfeature.exception import ErrorCode
from openfeature.flag_evaluation import Reason
from openfeature.provider.no_op_provider import NoOpProvider

from dspex import registry, telemetry
from dspex.errors import FlagFileError

from ._context import current_request
from ._providers import PROVIDER_SCHEME, ShutDownProvider, flagd_provider_for, is_flag_file, validate_flag_file

__all__ = ["DOMAIN", "IMPLEMENTATIONS", "FlagOutcome", "FlagSource", "flagd_provider_for", "validate_flag_file",
           "is_flag_file", "PROVIDER_SCHEME"]

DOMAIN = "dspex"
IMPLEMENTATIONS = frozenset(registry.IMPLEMENTATIONS)   # the registry's names, as a set for the per-call check
_log = logging.getLogger("dspex.router")
_CACHEABLE = (Reason.STATIC, Reason.DISABLED, "STATIC", "DISABLED")
_CACHEABLE_ERRORS = (ErrorCode.FLAG_NOT_FOUND, ErrorCode.TYPE_MISMATCH)
_KEYED_MAX = 100_000      # sticky (flag, context) answers kept per flag-file version
_UNKNOWN = object()


@dataclass(frozen=True, slots=True)
class FlagOutcome:
    """What one flag said: an implementation, or None (fall to preference) with why."""

    implementation: str | None
    variant: str | None
    why: str                 # "variant 'on' (STATIC)", "DISABLED (kill switch)", "not found", ...
    problem: bool = False    # an error worth reporting (once)


class _OncePerEpisode(logging.Filter):
    """flagd's file watcher logs a full traceback on every poll while the file is malformed or missing.

    Let one line per episode through, with the error folded into it and no traceback; and none at all about a
    file no bound provider reads: a closed provider's watcher polls once more after shutdown, and would report
    a deleted (temporary) flag file as an error of the process that has long moved on.
    """

    def __init__(self) -> None:
        super().__init__()
        self.seen: set[str] = set()
        self.live_files: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        filename = getattr(exc, "filename", None)
        if isinstance(exc, OSError) and isinstance(filename, str) and filename not in self.live_files:
            return False
        msg = record.getMessage()
        if msg in self.seen:
            return False
        self.seen.add(msg)
        if exc is not None:
            record.msg, record.args = f"{msg} ({type(exc).__name__}: {exc})", None
            record.exc_info, record.exc_text = None, None
        return True


def _file_of(provider: Any) -> str | None:
    """The flag file a flagd FILE provider reads (None for any other provider)."""
    path = getattr(getattr(provider, "config", None), "offline_flag_source_path", None)
    return path if isinstance(path, str) else None


_filter = _OncePerEpisode()
logging.getLogger("openfeature.contrib").addFilter(_filter)


class FlagSource:
    """One per process: binds providers to domain ``dspex`` and answers ``evaluate(flag_key, make_context)``."""

    def __init__(self) -> None:
        self.client = api.get_client(DOMAIN)
        self.provider: Any = None
        self.owned = False           # we built the provider (so shutdown is ours)
        self.description = "no flag source"
        self._cache: dict[str, FlagOutcome] = {}
        self._keyed: dict[tuple[Any, ...], FlagOutcome] = {}     # sticky targeted answers (see the docstring)
        self._keyable: dict[str, bool] = {}                       # per flag: may its targeted answers be kept?
        self._gen = 0
        self._reported: set[tuple[str, str]] = set()
        self._in_error = False
        self._lock = threading.Lock()
        self.client.add_handler(ProviderEvent.PROVIDER_CONFIGURATION_CHANGED, self._on_change)
        self.client.add_handler(ProviderEvent.PROVIDER_READY, self._on_ready)
        self.client.add_handler(ProviderEvent.PROVIDER_ERROR, self._on_error)

    # --- provider lifecycle ----------------------------------------------------------------------------------
    def bind(self, provider: Any, description: str, owned: bool) -> None:
        old, old_owned = self.provider, self.owned
        try:
            api.set_provider_and_wait(provider, domain=DOMAIN)
        except Exception as exc:
            raise FlagFileError(f"Flag provider for {description} failed to start: {exc}") from exc
        with self._lock:
            self.provider, self.owned, self.description = provider, owned, description
            self._reported.clear()
            self._in_error = False
            _filter.seen.clear()
            _filter.live_files = {path} if (path := _file_of(provider)) else set()
            self.invalidate()
        if old is not None and old is not provider and old_owned:
            old.shutdown()

    def close(self, shut_down: bool = False) -> None:
        """Unbind the provider (shutting it down when we built it). ``shut_down``: ``dspex.shutdown()`` did it, so
        later calls are told once per flag (their decisions carry the reason) instead of silently routing by
        preference."""
        provider, owned = self.provider, self.owned
        if provider is None:
            return
        stopped = ShutDownProvider(self.description) if shut_down else None
        try:
            if stopped is not None:
                api.set_provider_and_wait(stopped, domain=DOMAIN)
        except Exception:  # noqa: BLE001 - e.g. at interpreter exit, when no thread may start: just unbind
            stopped = None
        if stopped is not None:
            self.provider, self.owned, self.description = stopped, False, "dspex after shutdown()"
            self._reported.clear()
        else:
            api.set_provider(NoOpProvider(), domain=DOMAIN)
            self.provider, self.owned, self.description = None, False, "no flag source"
        _filter.live_files = set()
        self.invalidate()
        if owned:
            provider.shutdown()

    def invalidate(self) -> None:
        self._gen += 1
        self._cache = {}
        self._keyed = {}
        self._keyable = {}

    # --- events (run on the SDK's event thread pool) ---------------------------------------------------------
    def _on_change(self, details: EventDetails) -> None:
        self.invalidate()

    def _on_ready(self, details: EventDetails) -> None:
        self.invalidate()
        if self._in_error:
            self._in_error = False
            _filter.seen.clear()
            _log.warning("dspex flags: %s recovered; routing on the new flags", self.description)
            self._report("dspex.router.flags", "recovered", self.description)

    def _on_error(self, details: EventDetails) -> None:
        if self.provider is None or self._in_error:
            return
        self._in_error = True
        message = details.message or "provider error"
        _log.warning("dspex flags: %s: %s; keeping the last good flags until it is fixed", self.description, message)
        self._report("dspex.router.flags", "provider_error", message)

    def _report(self, event: str, kind: str, message: str, flag_key: str | None = None) -> None:
        if telemetry.has_listeners(event):
            telemetry.emit(event, {}, {"kind": kind, "message": message, "flag_key": flag_key, "source": self.description})

    # --- evaluation ------------------------------------------------------------------------------------------
    def cached(self, flag_key: str) -> FlagOutcome | None:
        return self._cache.get(flag_key)

    def _rule(self, flag_key: str) -> Any:
        """The flag's targeting as flagd's in-process evaluator holds it, or ``_UNKNOWN`` for other providers."""
        resolver = getattr(self.provider, "resolver", None)
        store = getattr(getattr(resolver, "evaluator", None), "_flag_store", None)
        get = getattr(store, "get_flag", None)
        if get is None:
            return _UNKNOWN
        flag = get(flag_key)
        return _UNKNOWN if flag is None else flag.targeting

    def keyable(self, flag_key: str) -> bool:
        """Whether the flag's targeted answers may be kept per (targeting key, attributes) until the flags
        change: served by flagd's own evaluator, and its rule does not read ``$flagd.timestamp``."""
        ok = self._keyable.get(flag_key)
        if ok is None:
            rule = self._rule(flag_key)
            import json

            ok = rule is not _UNKNOWN and "$flagd.timestamp" not in json.dumps(rule, default=str)
            self._keyable[flag_key] = ok
        return ok

    def evaluate(self, flag_key: str, make_context: Callable[[], EvaluationContext]) -> FlagOutcome:
        hit = self._cache.get(flag_key)
        if hit is not None:
            return hit
        gen = self._gen
        req = current_request()
        if req is None or req.targeting_key is None:
            return self._evaluate(flag_key, make_context(), gen, None)
        context = make_context()
        try:
            key: tuple[Any, ...] | None = (flag_key, context.targeting_key,
                                           tuple(sorted(context.attributes.items())))
            kept = self._keyed.get(key)   # type: ignore[arg-type]
        except TypeError:   # an unhashable attribute value: evaluate every time
            key, kept = None, None
        if kept is not None:
            return kept
        return self._evaluate(flag_key, context, gen, key)

    def _evaluate(self, flag_key: str, context: EvaluationContext, gen: int, key: tuple[Any, ...] | None) -> FlagOutcome:
        details = self.client.get_string_details(flag_key, "", context)
        outcome, cacheable = self._interpret(flag_key, details)
        if key is not None and not cacheable and not outcome.problem and gen == self._gen and self.keyable(flag_key):
            keyed = self._keyed
            if len(keyed) >= _KEYED_MAX:
                keyed = self._keyed = {}
            keyed[key] = outcome
        if outcome.problem:
            key = (flag_key, outcome.why)
            if key not in self._reported:
                self._reported.add(key)
                _log.warning("dspex flags: flag %s %s; routing by implementation_preference", flag_key, outcome.why)
                self._report("dspex.router.flags", "flag_error", outcome.why, flag_key)
        if cacheable and gen == self._gen:
            cache = dict(self._cache)
            cache[flag_key] = outcome
            if gen == self._gen:
                self._cache = cache
        return outcome

    def _interpret(self, flag_key: str, d: Any) -> tuple[FlagOutcome, bool]:
        if d.error_code is not None:
            code = getattr(d.error_code, "value", d.error_code)
            if d.error_code == ErrorCode.FLAG_NOT_FOUND:
                why = f"not found in {self.description}"
            else:
                why = f"error {code}: {d.error_message or 'no message'}"
            return FlagOutcome(None, d.variant, why, problem=True), d.error_code in _CACHEABLE_ERRORS
        cacheable = d.reason in _CACHEABLE
        if d.reason in (Reason.DISABLED, "DISABLED"):
            return FlagOutcome(None, None, "is DISABLED (kill switch)"), cacheable
        value = d.value
        reason = getattr(d.reason, "value", d.reason)
        if value == "" and d.variant is None:
            return FlagOutcome(None, None, f"has no default variant ({reason})"), cacheable
        if value not in IMPLEMENTATIONS:
            why = f"variant {d.variant!r} has value {value!r}; expected one of {sorted(IMPLEMENTATIONS)}"
            return FlagOutcome(None, d.variant, why, problem=True), cacheable
        return FlagOutcome(value, d.variant, f"variant {d.variant!r} ({reason})"), cacheable
