"""``dspex.request`` reaches the worker threads DSPy starts (Evaluate, Module.batch, Parallel, asyncify), as DSPy's
own settings do: a flag targeting the request's attributes routes every worker's call the same way."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import dspy
import pytest

import dspex
from program_support import build, metric, trainset


def _tenant_flags(tmp_path: Path) -> None:
    rule = {"if": [{"==": [{"var": "tenant"}, "acme"]}, "native", "dspy"]}
    flags = {f"dspex.{t}": {"state": "ENABLED", "variants": {"native": "native", "dspy": "dspy"},
                            "defaultVariant": "dspy", "targeting": rule} for t in ("predict", "chain_of_thought")}
    path = tmp_path / "flags.flagd.json"
    path.write_text(json.dumps({"flags": flags}))
    dspex.configure(flags=str(path))


@pytest.fixture
def routes(tmp_path: Path, events: Any) -> list[str]:
    _tenant_flags(tmp_path)
    seen = events("dspex.router.route")
    return seen


def _impls(seen: list[tuple[str, dict, dict]]) -> list[str]:
    return [md["implementation"] for _, _, md in seen]


def test_evaluate_workers_see_the_request(routes: list, tmp_path: Path) -> None:
    program = build("rag", dspex)
    with dspex.request(targeting_key="user-1", tenant="acme"):
        dspy.Evaluate(devset=trainset("rag") * 3, metric=metric, num_threads=4, display_progress=False)(program)
    assert len(routes) == 18 and set(_impls(routes)) == {"native"}


def test_batch_and_parallel_workers_see_the_request(routes: list) -> None:
    program = build("two_hop", dspex)
    examples = [e for e in trainset("two_hop")] * 2
    with dspex.request(tenant="acme"):
        program.batch(examples, num_threads=4, disable_progress_bar=True)
        dspy.Parallel(num_threads=3, disable_progress_bar=True)([(program, e) for e in examples])
    assert len(routes) == 48 and set(_impls(routes)) == {"native"}
    routes.clear()
    program.batch(examples, num_threads=4, disable_progress_bar=True)     # outside the request: the flag's default
    assert set(_impls(routes)) == {"dspy"}


def test_asyncify_workers_see_the_request(routes: list) -> None:
    program = build("classifier", dspex)
    run = dspy.asyncify(program)

    async def main() -> list[Any]:
        with dspex.request(tenant="acme"):
            return await asyncio.gather(*(run(sentence=f"s{i}") for i in range(5)))

    assert len(asyncio.run(main())) == 5
    assert _impls(routes) == ["native"] * 5


def test_nested_requests_merge_inside_workers(routes: list) -> None:
    program = build("classifier", dspex)
    with dspex.request(targeting_key="k", tenant="other"):
        with dspex.request(tenant="acme"):
            program.batch([dspy.Example(sentence="x").with_inputs("sentence")] * 4, num_threads=2,
                          disable_progress_bar=True)
    assert _impls(routes) == ["native"] * 4
