"""OpenTelemetry, checked with the SDK's in-memory exporters: a span per routed call, the LM call as its GenAI
child span, metric instruments, and OpenFeature's own tracing hook on flag evaluations."""

from __future__ import annotations

import subprocess
import sys
from typing import Any, Iterator

import pytest

pytest.importorskip("opentelemetry.sdk")

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import dspex
from telemetry_support import write_flags


@pytest.fixture
def otel() -> Iterator[tuple[InMemorySpanExporter, InMemoryMetricReader]]:
    exporter, reader = InMemorySpanExporter(), InMemoryMetricReader()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    undo = dspex.telemetry.instrument(tracer_provider=tracer_provider, meter_provider=MeterProvider([reader]))
    yield exporter, reader
    undo()


def _metrics(reader: InMemoryMetricReader) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for rm in reader.get_metrics_data().resource_metrics:
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                out[metric.name] = list(metric.data.data_points)
    return out


def test_a_span_per_routed_call_with_the_lm_call_as_its_child(otel: Any, lm: Any, tmp_path: Any) -> None:
    exporter, reader = otel
    flags = write_flags(tmp_path / "f.flagd.json", {"dspex.predict": {
        "state": "ENABLED", "variants": {"native": "native", "dspy": "dspy"}, "defaultVariant": "dspy",
        "targeting": {"fractional": [["native", 100], ["dspy", 0]]}}})
    dspex.configure(lm=lm, flags=flags)
    p = dspex.Predict("question -> answer", name="qa")
    with dspex.request(targeting_key="user-1"):
        assert p(question="q1").answer == "A:q1"
    assert dspex.Predict("question -> answer", implementation="dspy")(question="q2").answer == "A:q2"
    spans = exporter.get_finished_spans()
    routed = [s for s in spans if s.name == "dspex.predict"]
    chats = [s for s in spans if s.name == "chat test"]
    assert len(routed) == 2 and len(chats) == 2
    first = routed[0].attributes
    assert first["dspex.module.type"] == "predict" and first["dspex.module.name"] == "qa"
    assert first["dspex.implementation"] == "native" and first["dspex.flag.key"] == "dspex.predict"
    assert first["dspex.flag.variant"] == "native" and first["dspex.route.source"] == "flag"
    assert "TARGETING_MATCH" in first["dspex.route.reason"]
    assert routed[1].attributes["dspex.implementation"] == "dspy"
    assert routed[1].attributes["dspex.route.source"] == "constructor"
    for chat, parent in zip(chats, routed):
        assert chat.parent is not None and chat.parent.span_id == parent.context.span_id
        assert chat.context.trace_id == parent.context.trace_id
        a = chat.attributes
        assert a["gen_ai.operation.name"] == "chat" and a["gen_ai.request.model"] == "test"
        assert a["gen_ai.response.model"] == "test" and a["gen_ai.usage.input_tokens"] == 1
        assert a["gen_ai.usage.output_tokens"] == 1 and a["server.address"] == "127.0.0.1"
        assert a["gen_ai.response.finish_reasons"] == ("stop",)
    # OpenFeature's own TracingHook: the flag evaluation is an event on the routed call's span
    events = [e for e in routed[0].events if e.name == "feature_flag.evaluation"]
    assert len(events) == 1 and events[0].attributes["feature_flag.key"] == "dspex.predict"
    assert events[0].attributes["feature_flag.result.variant"] == "native"
    m = _metrics(reader)
    calls = {(dp.attributes["dspex.implementation"]): dp.value for dp in m["dspex.calls"]}
    assert calls == {"native": 1, "dspy": 1}
    assert sum(dp.count for dp in m["dspex.call.duration"]) == 2
    assert sum(dp.count for dp in m["gen_ai.client.operation.duration"]) == 2
    tokens = {dp.attributes["gen_ai.token.type"]: dp.sum for dp in m["gen_ai.client.token.usage"]}
    assert tokens == {"input": 2, "output": 2}
    lm_wait = sum(dp.sum for dp in m["dspex.call.lm_wait"])
    total = sum(dp.sum for dp in m["dspex.call.duration"])
    assert 0 < lm_wait <= total


def test_errors_are_recorded_on_the_span(otel: Any, server: Any) -> None:
    exporter, reader = otel
    from dspex.lm.testing import Reply

    server.reply = lambda r: Reply(401, {"error": {"message": "bad key"}})
    dspex.configure(lm=dspex.LM("openai/test", api_base=server.api_base, api_key="k", cache=False))
    with pytest.raises(Exception):
        dspex.Predict("question -> answer", implementation="native")(question="q")
    spans = {s.name: s for s in exporter.get_finished_spans()}
    assert spans["dspex.predict"].status.status_code.name == "ERROR"
    assert spans["chat test"].attributes["error.type"] == "LMAuthenticationError"
    assert {dp.attributes["dspex.implementation"]: dp.value for dp in _metrics(reader)["dspex.errors"]} == {"native": 1}


def test_uninstrumented_and_free_when_opentelemetry_is_absent(tmp_path: Any) -> None:
    code = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name == "opentelemetry" or name.startswith("opentelemetry."):
            raise ImportError("blocked for the test")
sys.meta_path.insert(0, Block())
import dspex, dspex.telemetry
p = dspex.Predict("question -> answer", implementation="native")
print(p(question="q", lm=lambda messages, **kw: ["[[ ## answer ## ]]\\nok"]).answer, dspex.telemetry.watching)
try:
    dspex.telemetry.instrument()
except ImportError as exc:
    print("hint:", "dspex[otel]" in str(exc))
"""
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'scratch'\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["ok", "None", "hint:", "True"]


@pytest.mark.parametrize("model", ["openai/test", "custom_openai/test"])
def test_the_lm_span_names_the_requests_sampling_settings(otel: Any, server: Any, model: str) -> None:
    """dspex.LM sends OpenAI's token limit as ``max_completion_tokens`` (as dspy.LM 3.4.1 does) and a custom
    gateway's as ``max_tokens``: the span's ``gen_ai.request.max_tokens`` is the limit either way."""
    exporter, _ = otel
    lm = dspex.LM(model, api_base=server.api_base, api_key="k", cache=False, temperature=0.5, max_tokens=77)
    lm(messages=[{"role": "user", "content": "hi"}])
    chat = [s for s in exporter.get_finished_spans() if s.name.startswith("chat ")][-1]
    assert chat.attributes["gen_ai.request.max_tokens"] == 77
    assert chat.attributes["gen_ai.request.temperature"] == 0.5
