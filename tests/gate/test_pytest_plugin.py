"""The pytest plugin, used the way a user would: their own module pair, their own strategies, in their own suite."""

from __future__ import annotations

import json
import sys

import pytest

from dspex.gate import ParityReport, dspy_version, proof_status

USER_MODULE = '''
import dspy
import dspex.native


class Shout(dspy.Module):
    """The team's DSPy module: answer, then shout it."""

    def __init__(self):
        super().__init__()
        self.predict = dspy.Predict("text -> loud")

    def forward(self, text, lm=None):
        return dspy.Prediction(loud=self.predict(text=text, lm=lm).loud.upper())


class ShoutNative:
    """The native rewrite under test; BROKEN forgets to shout non-ascii answers."""

    BROKEN = False

    def __init__(self):
        self.predict = dspex.native.Predict("text -> loud")

    def __call__(self, text, lm=None):
        loud = self.predict(text=text, lm=lm).loud
        if not (self.BROKEN and not loud.isascii()):
            loud = loud.upper()
        return dspex.native.Prediction(loud=loud)
'''

USER_TESTS = '''
import pytest
from hypothesis import given, settings, strategies as st

from dspex.parity.pytest_plugin import ParityModule, strategies as dspex_strategies
from shout import Shout, ShoutNative

answers = st.text(alphabet="abcxyzäöü 12", min_size=1, max_size=12).filter(str.strip)


@pytest.mark.dspex_parity("shout")
@settings(max_examples=15, deadline=None)
@given(text=dspex_strategies.texts, answer=answers)
def test_shout_is_at_parity(dspex_parity, text, answer):
    dspex_parity.assert_parity(Shout, ShoutNative, {"text": text}, ([dspex_parity.chat_answer(loud=answer)],))


@pytest.mark.dspex_parity("shout")
def test_shout_property_with_shrinking(dspex_parity):
    module = ParityModule("shout", Shout, ShoutNative, st.fixed_dictionaries({"text": st.text(max_size=5)}),
                          answers.map(lambda a: ([dspex_parity.chat_answer(loud=a)],)))
    result = dspex_parity.prove(module, examples=20, seed=1)
    assert result.examples_run == 20
'''


@pytest.fixture
def user_suite(pytester):
    pytester.makepyfile(shout=USER_MODULE, test_shout=USER_TESTS)
    pytester.syspathinsert()
    yield pytester
    sys.modules.pop("shout", None)


def test_plugin_proves_a_user_module_and_writes_a_report(user_suite):
    result = user_suite.runpytest("-p", "no:cacheprovider", "--dspex-parity-report", "parity.json")
    result.assert_outcomes(passed=2)
    report = ParityReport.read(user_suite.path / "parity.json")
    assert report.dspy_version == dspy_version()
    shout = report.modules["shout"]
    assert shout.status == "proven" and shout.source == "pytest" and shout.examples_run == 2
    assert proof_status("shout", [report]).proven


def test_plugin_reports_a_broken_native_module(user_suite):
    user_suite.makeconftest("import shout\nshout.ShoutNative.BROKEN = True\n")
    result = user_suite.runpytest("-p", "no:cacheprovider", "--dspex-parity-report", "parity.json")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["*difference(s) between DSPy and native*"])
    shout = json.loads((user_suite.path / "parity.json").read_text())["modules"]["shout"]
    assert shout["proven"] is False and "test_shout" in shout["failure"]["case"]


def test_plugin_import_is_light():
    import subprocess

    code = ("import sys, dspex.parity.pytest_plugin as p; "
            "assert not {'dspy', 'hypothesis', 'pydantic', 'dspex.parity.harness'} & set(sys.modules); "
            "assert p.strategies.texts is not None")
    subprocess.run([sys.executable, "-c", code], check=True)
