"""`dspex flags check` refuses the targeting flagd's in-process evaluator refuses, and only that: each rule below is
checked by the gate (real CLI) and then evaluated by the real flagd provider for a routed call. A rule the gate
passes must not fail with PARSE_ERROR at run time; a rule it refuses does (for the request that reaches the bad
part), and would have routed every such call by implementation_preference."""

from __future__ import annotations

from typing import Any

import pytest

import dspex
from dspex.cli import main
from reliability_support import flag, flag_doc

MISSPELT = {"fractionl": [["native", 10], ["dspy", 90]]}
RULES: dict[str, tuple[Any, bool]] = {   # name: (targeting, refused by the gate)
    "a string": ("native", True),
    "a list": (["native"], True),
    "a number": (7, True),
    "a misspelt operator": (MISSPELT, True),
    "a misspelt operator in a branch": ({"if": [{"==": [{"var": "tenant"}, "acme"]}, MISSPELT, "dspy"]}, True),
    "an unknown comparison": ({"if": [{"=~": [{"var": "tenant"}, "acme"]}, "native", "dspy"]}, True),
    "fractional": ({"fractional": [["native", 10], ["dspy", 90]]}, False),
    "flagd's string operators": ({"if": [{"starts_with": [{"var": "tenant"}, "ac"]}, "native", "dspy"]}, False),
    "sem_ver": ({"if": [{"sem_ver": [{"var": "dspex_version"}, ">=", "0.0.1"]}, "shadow", "dspy"]}, False),
    "json-logic's in and and": ({"if": [{"and": [{"in": [{"var": "tenant"}, ["acme", "x"]]}, True]},
                                        "native", "dspy"]}, False),
    "empty object (default)": ({}, False),
}


def _route_reason(path: str, lm: Any, events: Any) -> str:
    seen = events("dspex.router.route")
    dspex.configure(lm=lm, flags=path)
    with dspex.request(targeting_key="user-1", tenant="acme"):
        dspex.Predict("question -> answer")(question="q")
    return seen[-1][2]["reason"]


@pytest.mark.parametrize("name", sorted(RULES))
def test_the_gate_refuses_exactly_the_targeting_flagd_cannot_evaluate(name, tmp_path, capsys, lm, events):
    targeting, refused = RULES[name]
    path = tmp_path / "f.flagd.json"
    path.write_text(flag_doc(dspex__predict=flag("dspy", targeting=targeting)))
    code = main(["flags", "check", str(path)])
    out, err = capsys.readouterr()
    assert code == (1 if refused else 0), (out, err)
    if refused:
        assert "flag 'dspex.predict'" in err and "PARSE_ERROR" in err
    assert "computed at run time" not in err + out or not refused
    reason = _route_reason(str(path), lm, events)
    assert ("PARSE_ERROR" in reason) == refused, reason


def test_a_misspelt_operator_is_named_not_only_warned(tmp_path, capsys):
    path = tmp_path / "f.flagd.json"
    path.write_text(flag_doc(dspex__predict=flag("dspy", targeting=MISSPELT)))
    assert main(["flags", "check", str(path)]) == 1
    err = capsys.readouterr().err
    assert "'fractionl'" in err and "does not know" in err and "at run time ('fractionl')" not in err
