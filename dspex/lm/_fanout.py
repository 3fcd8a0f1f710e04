"""A call's requests: one, or, for ``n`` completions on dspy.LM 3.4.1's lm15 side, ``n`` one after the other.

Why one after the other: DSPy's ``execute`` / ``aexecute`` (dspy/clients/execution.py) loop over the candidates,
each with its own retries, and only then combine them (``combine`` in dspy/clients/call_result.py): outputs in
order, usage summed (``UsageTracker._merge_usage_entries``), cost summed when every candidate has one. A failed
candidate fails the call: no history entry and nothing cached, but the usage of the candidates already answered is
still counted in DSPy's usage tracker (``_account_failed_call``). Servers that ignore ``n`` (many
OpenAI-compatible ones do) give the same number of completions this way as they give DSPy.

Here the answers are merged into one ``chat.completion`` body (the first answer's id and model, every answer's
choices renumbered in order, the usage summed), the body a server honouring ``n`` would have sent: it is what the
call's history entry, cache and observers see.
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable

from .. import hooks
from ._complete import Prepared, cost_of, finish, outputs_of, warn_truncated
from ._retry import apost_json, post_json
from ._stream import Assembler, achunks, chunks
from ._usage import usage_of

Combined = tuple[dict[str, Any], list[Any], Any, dict[str, Any]]   # (merged body, outputs, cost, recorded usage)

__all__ = ["send", "asend", "gather", "agather", "finish_streamed", "merge_usage", "combine", "count_answered"]


def send(prep: Prepared, streaming: bool, on_chunk: Callable[[dict[str, Any]], None] | None) -> dict[str, Any]:
    """One request of a call: its answer, streamed (each chunk also to ``on_chunk``) or not."""
    if streaming:
        return Assembler().feed(chunks(prep, on_chunk)).completion()
    return post_json(prep.wire, prep.payload, prep.api_key, prep.timeout, prep.num_retries, prep.headers)


async def asend(prep: Prepared, streaming: bool, on_chunk: Callable[[dict[str, Any]], Any] | None) -> dict[str, Any]:
    """The async twin of :func:`send` (``on_chunk`` is awaited)."""
    if not streaming:
        return await apost_json(prep.wire, prep.payload, prep.api_key, prep.timeout, prep.num_retries, prep.headers)
    assembler = Assembler()
    async for chunk in achunks(prep):
        assembler.push(chunk)
        if on_chunk is not None:
            await on_chunk(chunk)
    return assembler.completion()


def finish_streamed(lm: Any, prep: Prepared, answers: list[dict[str, Any]]) -> None:
    """Record a streamed call from the completions its requests added up to."""
    if prep.count == 1:
        finish(lm, prep, answers[0])
    else:
        response, outputs, cost, usage = gather(lm, prep, iter(answers).__next__)
        finish(lm, prep, response, outputs, cost=cost, usage=usage)


def gather(lm: Any, prep: Prepared, request: Callable[[], dict[str, Any]]) -> Combined:
    """``prep.count`` answers of ``request()``, asked in order: (merged body, outputs, cost, usage)."""
    answers: list[tuple[dict[str, Any], list[Any]]] = []
    try:
        for _ in range(prep.count):
            answers.append(_read(prep, request()))
    except BaseException:
        count_answered(lm, prep, [response for response, _ in answers])
        raise
    return combine(lm, prep, answers)


async def agather(lm: Any, prep: Prepared,
                  request: Callable[[], Awaitable[dict[str, Any]]]) -> Combined:
    """The async twin of :func:`gather`: still one request at a time, as DSPy's ``aexecute`` sends them."""
    answers: list[tuple[dict[str, Any], list[Any]]] = []
    try:
        for _ in range(prep.count):
            answers.append(_read(prep, await request()))
    except BaseException:
        count_answered(lm, prep, [response for response, _ in answers])
        raise
    return combine(lm, prep, answers)


def _read(prep: Prepared, response: dict[str, Any]) -> tuple[dict[str, Any], list[Any]]:
    outputs = outputs_of(response, prep.wire.url, prep.logprobs)
    warn_truncated(response)   # per answer, as DSPy warns per candidate
    return response, outputs


def combine(lm: Any, prep: Prepared, answers: list[tuple[dict[str, Any], list[Any]]]) -> Combined:
    """DSPy's ``combine``: outputs concatenated (all dicts as soon as one is), usage merged, cost summed or None.

    Two usages: the body's is the servers' usages merged (the body a server honouring ``n`` would have sent); the
    recorded one merges each answer's usage as dspy.LM records it (``_usage``), as DSPy merges its candidates'."""
    outputs = [out for _, outs in answers for out in outs]
    if any(type(out) is dict for out in outputs):
        outputs = [out if type(out) is dict else {"text": out} for out in outputs]
    usage: dict[str, Any] = {}
    recorded: dict[str, Any] = {}
    costs = []
    choices = []
    for response, outs in answers:
        one = response.get("usage") or {}
        usage = merge_usage(usage, one)
        recorded = merge_usage(recorded, usage_of(one, prep.lm15))
        costs.append(cost_of(lm, dict(one)))
        for choice in response["choices"] or [{}]:   # an answer without choices still counts as one, as it reads
            choices.append({**choice, "index": len(choices)})
    body = {**answers[0][0], "choices": choices}
    if usage:
        body["usage"] = usage
    else:
        body.pop("usage", None)
    cost = sum(costs) if costs and all(c is not None for c in costs) else None
    return body, outputs, cost, recorded


def merge_usage(first: dict[str, Any] | None, second: dict[str, Any] | None) -> dict[str, Any]:
    """DSPy's ``UsageTracker._merge_usage_entries``: counts add up (booleans are flags, not counts), nested
    dicts merge, a missing value is taken from the other side, anything else keeps the first value."""
    if not first:
        return dict(second or {})
    if not second:
        return dict(first)
    result = dict(first)
    for key, value in second.items():
        current = result.get(key)
        if isinstance(value, dict) or isinstance(current, dict):
            result[key] = merge_usage(current, value)
        elif current is None:
            if value is not None:
                result[key] = value
        elif _count(current) and _count(value):
            result[key] = current + value
    return result


def _count(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def count_answered(lm: Any, prep: Prepared, responses: list[dict[str, Any]]) -> None:
    """A candidate failed: DSPy still counts the usage of those already answered in its usage tracker."""
    bridge = hooks.bridge
    if bridge is None or not responses:
        return
    try:
        tracker = bridge.setting("usage_tracker")
    except Exception:   # a bridge without DSPy's settings: nothing to count into
        return
    if tracker is None:
        return
    for response in responses:
        usage = usage_of(response.get("usage"), prep.lm15) if isinstance(response, dict) else None
        if usage:
            try:
                tracker.add_usage(lm.model, usage)
            except Exception:   # as DSPy: a custom tracker's failure never replaces the call's own error
                pass
