"""Adapters and content types, native vs DSPy 3.4.1, in one process run: a Predict call under XMLAdapter,
TwoStepAdapter (its extraction LM included), JSONAdapter asking for a structured-output schema, and ChatAdapter
with a ``dspy.Image`` input and a ``dspy.Code`` output.

Each run is one call against an instant scripted LM (``benchmarks/composite.py``'s), with the adapter configured
in each library's own settings, so what is measured is each implementation's own overhead (formatting, the
response-format schema, parsing, the extraction round trip, the content parts). Runs of the two libraries are
interleaved round by round; the ratio is of the medians. Target: native at least 25x less overhead per call.

Run from the repository root: ``python benchmarks/adapters.py`` (``--quick``, ``--json PATH``).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.composite import _scripted_lm, cli, interleaved  # noqa: E402

_XML = "<answer>Paris</answer>\n<cities><item>Paris</item><item>Lyon</item></cities>"
_CHAT = "[[ ## answer ## ]]\nParis\n\n[[ ## cities ## ]]\n[\"Paris\", \"Lyon\"]\n\n[[ ## completed ## ]]"
_JSON = '{"answer": "Paris", "cities": ["Paris", "Lyon"]}'
_IMAGE = "[[ ## answer ## ]]\nA cat.\n\n[[ ## snippet ## ]]\n```python\nprint('cat')\n```\n\n[[ ## completed ## ]]"
KINDS = ("xml_adapter", "two_step_adapter", "json_adapter", "image_and_code")


def _schema_lm(script: list[str]) -> Any:
    lm = _scripted_lm(script)
    type(lm).supported_params = property(lambda self: {"response_format"})
    type(lm).supports_response_schema = property(lambda self: True)
    return lm


def _workload(lib: Any, kind: str) -> tuple[Callable[[], Any], Any, Callable[[], Any]]:
    """``(run, lm, adapter factory)`` for one call of Predict under the kind's adapter."""
    import dspy

    module = lib.Predict("question -> answer, cities: list[str]")
    if kind == "xml_adapter":
        lm = _scripted_lm([_XML])
        return (lambda: module(question="Capital of France?")), lm, lib.XMLAdapter
    if kind == "two_step_adapter":
        lm = _scripted_lm(["The capital is Paris; Lyon is another city."])
        extraction = _scripted_lm([_CHAT])

        def run() -> Any:
            extraction.rewind()
            return module(question="Capital of France?")

        return run, lm, lambda: lib.TwoStepAdapter(extraction)
    if kind == "json_adapter":
        lm = _schema_lm([_JSON])
        return (lambda: module(question="Capital of France?")), lm, lib.JSONAdapter
    image = dspy.Image("https://img.example/cat.png")
    typed = dspy.Signature({"picture": (dspy.Image, dspy.InputField()), "answer": (str, dspy.OutputField()),
                            "snippet": (dspy.Code["python"], dspy.OutputField())})
    media = lib.Predict(typed)
    return (lambda: media(picture=image)), _scripted_lm([_IMAGE]), lib.ChatAdapter


def _time(run: Callable[[], Any], lm: Any, context: Callable[..., Any], adapter: Any, n: int) -> float:
    with context(lm=lm, adapter=adapter):
        start = time.perf_counter()
        for _ in range(n):
            lm.rewind()
            run()
        return (time.perf_counter() - start) / n


def measure(rounds: int, batch: int) -> list[dict[str, Any]]:
    import dspy

    import dspex.native as native

    dspy.configure_cache(enable_disk_cache=False, enable_memory_cache=False)
    rows = []
    for kind in KINDS:
        d_run, d_lm, d_adapter = _workload(dspy, kind)
        n_run, n_lm, n_adapter = _workload(native, kind)
        outs = []
        for run, lm, make, ctx in ((d_run, d_lm, d_adapter, dspy.context),
                                   (n_run, n_lm, n_adapter, native.settings.context)):
            with ctx(lm=lm, adapter=make()):
                lm.rewind()
                outs.append(repr(dict(run())))
        if outs[0] != outs[1]:
            raise SystemExit(f"{kind}: native and DSPy disagree ({outs[0]} vs {outs[1]}); fix parity first")
        rows.append(interleaved(kind, rounds, lambda: _time(d_run, d_lm, dspy.context, d_adapter(), batch),
                                lambda: _time(n_run, n_lm, native.settings.context, n_adapter(), batch * 5)))
    return rows


def main(argv: list[str] | None = None) -> int:
    return cli(argv, __doc__, measure, "adapters", quick=(3, 5), full=(9, 20))


if __name__ == "__main__":
    raise SystemExit(main())
