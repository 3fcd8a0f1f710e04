"""Targeting as flagd's in-process evaluator sees it: what it refuses on every evaluation.

flagd's loader (:mod:`._flagd`) accepts any JSON as ``targeting``; the evaluator judges it per call. flagd-core's
``targeting()`` raises ``ParseError`` for a targeting that is not a JSON-logic object (``"native"``, a list), and
the json-logic engine raises ``ReferenceError`` (which ``FlagdCore`` turns into ``PARSE_ERROR``) for an operator it
does not know (``"fractionl"``), whenever evaluation reaches it. Either way the call routes by
``implementation_preference``, so the gate refuses both. Nothing is re-implemented here: an operator is known when
the json-logic engine, given flagd's own operator table, does not raise ``ReferenceError`` for it, and the flag is
evaluated once by a real ``FlagdCore`` for a request with a targeting key.
"""

from __future__ import annotations

import logging
from typing import Any, Iterator

from ._problems import Problem

__all__ = ["targeting_problems", "operators"]


def operators(node: Any) -> Iterator[str]:
    """Every operator name in a json-logic rule, branches not taken included (json-logic applies lists item by
    item and treats a one-key object as an operation; any other object is a literal)."""
    if isinstance(node, list):
        for item in node:
            yield from operators(item)
    elif isinstance(node, dict) and len(node) == 1:
        op, args = next(iter(node.items()))
        yield op
        yield from operators(args)


def _known_to_flagd(op: str) -> bool:
    from json_logic import jsonLogic
    from openfeature.contrib.tools.flagd.core.targeting.targeting import OPERATORS

    stubs = {name: (lambda data=None, *args: None) for name in OPERATORS}   # only the names matter here
    try:
        jsonLogic({op: []}, {}, stubs)
    except ReferenceError:
        return False
    except Exception:  # noqa: BLE001 - e.g. a dotted name through a non-table: the evaluator fails on it too
        return False
    return True


def _evaluate(key: str, flag: dict[str, Any]) -> BaseException | None:
    """The ``ParseError`` flagd's core raises evaluating ``flag`` for a request with only a targeting key."""
    from openfeature.contrib.tools.flagd.core import FlagdCore
    from openfeature.evaluation_context import EvaluationContext

    from openfeature.exception import ParseError

    core = FlagdCore()
    log = logging.getLogger("openfeature.contrib")   # flagd's operators log bad arguments; the gate names them
    disabled, log.disabled = log.disabled, True
    try:
        core.set_flags({"flags": {key: flag}})
        core.resolve_string_value(key, "", EvaluationContext(targeting_key="dspex-gate-probe"))
    except ParseError as exc:
        return exc
    except Exception:  # noqa: BLE001 - GeneralError, TypeMismatchError...: dspex's own rules name those
        return None
    finally:
        log.disabled = disabled
    return None


def targeting_problems(file: str, key: str, flag: dict[str, Any]) -> tuple[list[Problem], set[str]]:
    """``(problems, unknown operator names)`` for ``flag``'s targeting; nothing when it has none."""
    targeting = flag.get("targeting")
    if not targeting:     # flagd serves the default for a missing or empty (falsy) targeting
        return [], set()
    if not isinstance(targeting, dict):
        return [Problem(file, key, f"targeting {targeting!r} is not a JSON-logic object: flagd's evaluator refuses it "
                                   "on every call (PARSE_ERROR) and routes by implementation_preference. Give an "
                                   "object such as {\"fractional\": [[\"native\", 10], [\"dspy\", 90]]}, or use "
                                   "defaultVariant for a fixed variant.")], set()
    unknown = {op for op in operators(targeting) if not _known_to_flagd(op)}
    problems = [Problem(file, key, f"targeting uses {op!r}, an operator flagd's evaluator does not know: every "
                                   "evaluation that reaches it fails (PARSE_ERROR) and routes by "
                                   "implementation_preference. Check the spelling (flagd adds fractional, "
                                   "starts_with, ends_with, sem_ver to json-logic's operators).")
                for op in sorted(unknown)]
    failure = None if unknown else _evaluate(key, flag)
    if failure is not None:   # other failures (a variant the flag lacks...) are dspex's own rules' to name
        problems.append(Problem(file, key, f"flagd's evaluator refuses this targeting (PARSE_ERROR: "
                                           f"{getattr(failure, 'error_message', None) or failure}); fix the rule."))
    return problems, unknown
