"""Held-out runs of the adapters (XMLAdapter, TwoStepAdapter with its extraction LM, JSONAdapter on a real
``dspy.LM``'s capabilities) through DSPy 3.4.1 and dspex.native, independent of ``dspex.parity``.

The adapter is each library's own class, configured in each library's own settings, as a program does. The main
LM is this folder's ``RecLM`` (declared capabilities, function calling included) or :class:`RecDspyLM`, a real
``dspy.LM`` whose capability answers DSPy works out from the model, the engine and the call's client options,
with only the network call replaced by the script. A TwoStepAdapter gets a ``RecLM`` of its own for extraction.
Compared: every call of both LMs (mode, messages, kwargs), the result, the error and the warnings.
"""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass, field
from typing import Any, Callable

import dspy
from diff_support import Outcome, RecLM, _Capture, _kwargs, _msg_diff, _prediction, _unaddressed, documented_mapping

import dspex.native as native

__all__ = ["AdapterCase", "RecDspyLM", "FcLM", "assert_same_adapter"]

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "true")   # DSPy's model metadata: the bundled snapshot


class FcLM(RecLM):
    """``RecLM`` that may also declare native function calling."""

    def __init__(self, script: list[Any], kwargs: dict[str, Any] | None, params: tuple[str, ...], schema: bool,
                 fc: bool) -> None:
        super().__init__(script, kwargs, params, schema)
        self._fc = fc

    @property
    def supports_function_calling(self) -> bool:  # type: ignore[override]
        return self._fc


class RecDspyLM(dspy.LM):
    """A real ``dspy.LM`` (its capability properties untouched) answering from a ``RecLM``'s script."""

    def __init__(self, model: str, engine: str, script: list[Any], kwargs: dict[str, Any] | None) -> None:
        super().__init__(model, engine=engine, cache=False)
        if kwargs is not None:
            self.kwargs = dict(kwargs)
        self.rec = RecLM(script)

    @property
    def calls(self) -> list[Any]:
        return self.rec.calls

    def __call__(self, prompt: Any = None, messages: Any = None, **kwargs: Any) -> Any:  # type: ignore[override]
        return self.rec(prompt=prompt, messages=messages, **kwargs)

    async def acall(self, prompt: Any = None, messages: Any = None, **kwargs: Any) -> Any:  # type: ignore[override]
        return await self.rec.acall(prompt=prompt, messages=messages, **kwargs)


@dataclass
class AdapterCase:
    """``adapter``: chat | xml | xml-nofallback | two-step | json | json-nofc. ``model``: (model, engine) for a RecDspyLM."""

    build: Callable[[Any], Any]
    call: dict[str, Any] | Callable[[Any], dict[str, Any]]   # or call(ns): each library's own values
    script: list[Any]
    adapter: str
    extraction: list[Any] = field(default_factory=list)
    lm_kwargs: dict[str, Any] | None = None
    params: tuple[str, ...] = ()
    schema: bool = False
    fc: bool = False
    model: tuple[str, str] | None = None
    mode: str = "sync"
    label: str = ""


def _adapter(ns: Any, case: AdapterCase, extraction: Any) -> Any:
    kind = case.adapter
    if kind == "xml":
        return ns.XMLAdapter()
    if kind == "xml-nofallback":
        return ns.XMLAdapter(use_json_adapter_fallback=False)
    if kind == "two-step":
        return ns.TwoStepAdapter(extraction)
    if kind == "chat":
        return ns.ChatAdapter()
    return ns.JSONAdapter(use_native_function_calling=kind == "json")


def run(case: AdapterCase, ns: Any) -> Outcome:
    if case.model is not None:
        lm: Any = RecDspyLM(*case.model, case.script, case.lm_kwargs)
    else:
        lm = FcLM(case.script, case.lm_kwargs, case.params, case.schema, case.fc)
    extraction = RecLM(case.extraction)
    out = Outcome()
    cap = _Capture()
    loggers = [logging.getLogger(), logging.getLogger("dspy")]
    for logger in loggers:
        logger.addHandler(cap)
    try:
        out.stage = "build"
        module = case.build(ns)
        out.stage = "call"
        ctx = (dspy.context if ns is dspy else native.settings.context)(lm=lm, adapter=_adapter(ns, case, extraction))
        call = case.call(ns) if callable(case.call) else case.call
        with ctx:
            if case.mode == "sync":
                result = module(**call)
            else:
                result = asyncio.run(module.acall(**call))
        out.raw = result
        out.result = _prediction(result)
    except Exception as e:  # noqa: BLE001 - errors are compared
        out.error = (type(e).__name__, str(e))
        out.exc = e
    finally:
        for logger in loggers:
            logger.removeHandler(cap)
    out.calls = [(who, mode, _unaddressed(msgs), _kwargs(kw))
                 for who, rec in (("lm", lm), ("extraction", extraction)) for mode, msgs, kw in rec.calls]
    out.warnings = cap.messages
    return out


def assert_same_adapter(case: AdapterCase) -> tuple[Outcome, Outcome]:
    a, b = run(case, dspy), run(case, native)
    problems = []
    if a.error != b.error and not documented_mapping(a, b):
        problems.append(f"error: dspy={a.error!r}\n        native={b.error!r}")
    if len(a.calls) != len(b.calls):
        problems.append(f"call count: dspy={[c[0] for c in a.calls]} native={[c[0] for c in b.calls]}")
    for i, (x, y) in enumerate(zip(a.calls, b.calls)):
        if x[:2] != y[:2]:
            problems.append(f"call {i}: {x[:2]} vs {y[:2]}")
        if x[2] != y[2]:
            problems.append(f"call {i} ({x[0]}) messages differ:\n{_msg_diff(x[2], y[2])}")
        if x[3] != y[3]:
            problems.append(f"call {i} ({x[0]}) kwargs: dspy={x[3]!r}\n        native={y[3]!r}")
    if a.result != b.result:
        problems.append(f"result: dspy={a.result!r}\n        native={b.result!r}")
    if a.warnings != b.warnings:
        problems.append(f"warnings: dspy={a.warnings!r}\n        native={b.warnings!r}")
    assert not problems, f"native differs from DSPy ({case.label}):\n" + "\n".join(problems)
    return a, b
