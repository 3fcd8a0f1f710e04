"""OpenTelemetry for dspex (the ``dspex[otel]`` extra), turned on by :func:`dspex.telemetry.instrument`.

- a span per routed call (``dspex.<module_type>``): module type and name, implementation, reason, variant, flag
  key, decision source; errors recorded on it. It is the current span while the call runs, so OpenFeature's own
  ``TracingHook`` puts its ``feature_flag.evaluation`` event on it and the LM call nests under it;
- each dspex.LM request as a CLIENT child span named ``chat <model>``, with GenAI semantic-convention attributes
  (``gen_ai.operation.name``, ``gen_ai.provider.name``, ``gen_ai.request.*``, ``gen_ai.response.*``,
  ``gen_ai.usage.*``, ``server.address``/``server.port``, ``error.type``);
- metric instruments: ``dspex.calls`` / ``dspex.errors`` / ``dspex.fallbacks`` counters and ``dspex.call.duration``
  / ``dspex.call.own_duration`` / ``dspex.call.lm_wait`` histograms per module type, name and implementation;
  GenAI's ``gen_ai.client.operation.duration`` and ``gen_ai.client.token.usage``; ``dspex.lm.cost``; and the
  shadow counters as observable counters.

Nothing here is imported unless ``instrument()`` is called; without it dspex pays nothing for OpenTelemetry.
"""

from __future__ import annotations

import sys
import time
from typing import Any, Callable, Mapping
from urllib.parse import urlsplit

from opentelemetry import context, metrics, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

import dspex
from dspex import metrics as dspex_metrics
from dspex import telemetry
from dspex.lm import add_observer, remove_observer

__all__ = ["instrument"]

_SHADOW_COUNTERS = ("compared", "diverged", "candidate_errors", "timeouts", "dropped", "sampled_out")


class _Spans:
    """The route watcher: a span per routed call, and the per-call metric instruments."""

    def __init__(self, tracer: Any, meter: Any) -> None:
        self.tracer = tracer
        self.calls = meter.create_counter("dspex.calls", "{call}", "Routed calls")
        self.errors = meter.create_counter("dspex.errors", "{call}", "Routed calls that raised")
        self.fallbacks = meter.create_counter("dspex.fallbacks", "{call}", "Native raised; DSPy answered")
        self.duration = meter.create_histogram("dspex.call.duration", "s", "Routed call latency")
        self.own = meter.create_histogram("dspex.call.own_duration", "s", "Routed call latency minus LM wait")
        self.lm_wait = meter.create_histogram("dspex.call.lm_wait", "s", "Time in dspex.LM requests during a call")

    def start(self, module: Any, operation: str) -> Any:
        mt = type(module).module_type
        attrs = {"dspex.module.type": mt, "dspex.operation": operation}
        name = module._dspex.name
        if name:
            attrs["dspex.module.name"] = name
        span = self.tracer.start_span(f"dspex.{mt}", kind=SpanKind.INTERNAL, attributes=attrs)
        return span, context.attach(trace.set_span_in_context(span)), time.perf_counter()

    def end(self, token: Any, module: Any, operation: str, decision: Any, info: Mapping[str, Any],
            error: BaseException | None) -> None:
        span, ctx_token, start = token
        total = time.perf_counter() - start
        impl = info.get("implementation") or (decision.implementation if decision is not None else "unrouted")
        attrs = {"dspex.module.type": type(module).module_type, "dspex.implementation": impl}
        if module._dspex.name:
            attrs["dspex.module.name"] = module._dspex.name
        if decision is not None:
            span.set_attributes({"dspex.implementation": impl, "dspex.route.reason": info.get("reason", decision.reason),
                                 "dspex.route.source": decision.source,
                                 "dspex.flag.key": decision.flag_key or module._dspex.spec.flag_key,
                                 **({"dspex.flag.variant": decision.variant} if decision.variant else {})})
        if "fallback" in info:
            span.add_event("dspex.router.fallback", {"error.type": info["fallback"]})
            self.fallbacks.add(1, attrs)
        if error is not None:
            span.record_exception(error)
            span.set_attribute("error.type", type(error).__name__)
            span.set_status(Status(StatusCode.ERROR, str(error)[:200]))
            self.errors.add(1, attrs)
        self.calls.add(1, attrs)
        self.duration.record(total, attrs)
        call = dspex_metrics.current_call()
        wait = call["lm_wait_s"] if call is not None else 0.0
        self.lm_wait.record(wait, attrs)
        self.own.record(max(0.0, total - wait), attrs)
        span.end()
        context.detach(ctx_token)


class _LMSpans:
    """The dspex.LM observer: a CLIENT span per request, GenAI attributes and metrics."""

    def __init__(self, tracer: Any, meter: Any) -> None:
        self.tracer = tracer
        self.op_duration = meter.create_histogram("gen_ai.client.operation.duration", "s", "GenAI operation duration")
        self.tokens = meter.create_histogram("gen_ai.client.token.usage", "{token}", "Tokens used per request")
        self.cost = meter.create_counter("dspex.lm.cost", "USD", "Cost of dspex.LM requests (server or pricing=)")

    def lm_start(self, lm: Any, payload: dict[str, Any], streaming: bool) -> Any:
        url = urlsplit(lm._wire.url)
        attrs = {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
                 "gen_ai.request.model": payload.get("model", ""), "server.address": url.hostname or "",
                 "server.port": url.port or (443 if url.scheme == "https" else 80)}
        for key, name in (("temperature", "gen_ai.request.temperature"), ("max_tokens", "gen_ai.request.max_tokens"),
                          ("top_p", "gen_ai.request.top_p"), ("seed", "gen_ai.request.seed"),
                          ("n", "gen_ai.request.choice.count")):
            if payload.get(key) is not None:
                attrs[name] = payload[key]
        if "gen_ai.request.max_tokens" not in attrs and payload.get("max_completion_tokens") is not None:
            # the token limit as dspy.LM sends it to OpenAI (``dspex/lm/_dialect.py``)
            attrs["gen_ai.request.max_tokens"] = payload["max_completion_tokens"]
        if streaming:
            attrs["gen_ai.request.stream"] = True
        span = self.tracer.start_span(f"chat {attrs['gen_ai.request.model']}", kind=SpanKind.CLIENT, attributes=attrs)
        return span, attrs, time.perf_counter()

    def lm_end(self, token: Any, lm: Any, response: dict[str, Any] | None, usage: dict[str, Any],
               cost: float | None, error: BaseException | None, cached: bool) -> None:
        if token is None:   # a cache hit: no request went out
            return
        span, attrs, start = token
        metric_attrs = {k: attrs[k] for k in ("gen_ai.operation.name", "gen_ai.provider.name", "gen_ai.request.model",
                                              "server.address", "server.port")}
        if response is not None:
            if response.get("model"):
                span.set_attribute("gen_ai.response.model", response["model"])
                metric_attrs["gen_ai.response.model"] = response["model"]
            if response.get("id"):
                span.set_attribute("gen_ai.response.id", response["id"])
            reasons = [c.get("finish_reason") for c in response.get("choices") or [] if c.get("finish_reason")]
            if reasons:
                span.set_attribute("gen_ai.response.finish_reasons", reasons)
        for key, name, kind in (("prompt_tokens", "gen_ai.usage.input_tokens", "input"),
                                ("completion_tokens", "gen_ai.usage.output_tokens", "output")):
            if usage.get(key) is not None:
                span.set_attribute(name, usage[key])
                self.tokens.record(usage[key], {**metric_attrs, "gen_ai.token.type": kind})
        if cost is not None:
            span.set_attribute("dspex.lm.cost_usd", cost)
            self.cost.add(cost, metric_attrs)
        if error is not None:
            span.record_exception(error)
            span.set_attribute("error.type", type(error).__name__)
            span.set_status(Status(StatusCode.ERROR, str(error)[:200]))
            metric_attrs["error.type"] = type(error).__name__
        self.op_duration.record(time.perf_counter() - start, metric_attrs)
        span.end()


def _shadow_counters(meter: Any) -> None:
    def read(counter: str) -> Callable[[Any], Any]:
        def callback(options: Any) -> Any:
            shadow = sys.modules.get("dspex.shadow")
            if shadow is None:
                return []
            for label, counts in shadow.stats().get("by_module", {}).items():
                yield metrics.Observation(counts.get(counter, 0), {"dspex.module": label})
        return callback

    for counter in _SHADOW_COUNTERS:
        meter.create_observable_counter(f"dspex.shadow.{counter}", [read(counter)], "{call}", f"Shadow {counter}")


def instrument(tracer_provider: Any = None, meter_provider: Any = None, flag_hooks: bool = True) -> Callable[[], None]:
    tracer = trace.get_tracer("dspex", dspex.__version__, tracer_provider=tracer_provider)
    meter = metrics.get_meter("dspex", dspex.__version__, meter_provider=meter_provider)
    spans, lm_spans = _Spans(tracer, meter), _LMSpans(tracer, meter)
    _shadow_counters(meter)
    dspex_metrics.enable()                 # its accumulator gives each span the call's LM wait
    telemetry.add_watcher(spans)           # after metrics' watcher: started inside it, ended before it
    add_observer(lm_spans)
    hook = None
    if flag_hooks:
        from openfeature.contrib.hook.opentelemetry import TracingHook

        from dspex.router import flag_client

        hook = TracingHook()
        flag_client().add_hooks([hook])

    def uninstrument() -> None:
        telemetry.remove_watcher(spans)
        remove_observer(lm_spans)
        dspex_metrics.disable()
        if hook is not None:
            from dspex.router import flag_client

            client = flag_client()
            client.hooks = [h for h in client.hooks if h is not hook]

    return uninstrument
