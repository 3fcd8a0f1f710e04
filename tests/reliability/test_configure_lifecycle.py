"""Issue 10 item 9: configuration problems surface once, with the documented fallback; a shadow reset is
followed by the settings given again; calls after ``dspex.shutdown()`` say why they route by preference."""

from __future__ import annotations

import logging
import warnings

import pytest

import dspex
import dspex.shadow
from dspex.errors import FlagFileError
from reliability_support import flag, flag_doc


def test_dspex_flags_naming_a_missing_file_warns_once_and_routes_by_preference(tmp_path, lm, events, monkeypatch,
                                                                                caplog):
    missing = tmp_path / "gone.flagd.json"
    monkeypatch.setenv("DSPEX_FLAGS", str(missing))
    seen = events("dspex.router.route")
    flag_events = events("dspex.router.flags")
    p = dspex.Predict("question -> answer")
    with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.WARNING, logger="dspex.router"):
        warnings.simplefilter("always")
        for i in range(5):
            assert p(question=f"q{i}", lm=lm).answer == f"A:q{i}"    # every call answered, none raises
    assert [md["implementation"] for _, _, md in seen] == ["dspy"] * 5  # implementation_preference='auto'
    ours = [w for w in caught if "dspex flags" in str(w.message)]
    assert len(ours) == 1 and str(missing) in str(ours[0].message) and "DSPEX_FLAGS" in str(ours[0].message)
    assert [md["kind"] for _, _, md in flag_events] == ["flag_file_error"]
    with pytest.raises(FlagFileError, match="gone.flagd.json"):    # given to configure: raised at once, as documented
        dspex.configure(flags=str(missing))


def test_configure_with_the_same_shadow_dict_after_a_shadow_reset_applies_it(tmp_path, lm):
    shadow = {"sample_rate": 0.25, "log_path": str(tmp_path / "logs"), "timeout_s": 7.0}
    dspex.configure(lm=lm, shadow=shadow)
    assert dspex.shadow.get_settings().sample_rate == 0.25
    dspex.shadow.reset()
    assert dspex.shadow.get_settings().sample_rate == 1.0
    dspex.configure(shadow=dict(shadow))
    s = dspex.shadow.get_settings()
    assert (s.sample_rate, s.timeout_s, str(s.log_path)) == (0.25, 7.0, shadow["log_path"])


def test_calls_after_shutdown_say_why_they_route_by_preference(tmp_path, lm, events, caplog):
    path = tmp_path / "f.flagd.json"
    path.write_text(flag_doc(dspex__predict=flag("native")))
    dspex.configure(lm=lm, flags=str(path))
    seen = events("dspex.router.route")
    p = dspex.Predict("question -> answer")
    p(question="before")
    assert seen[-1][2]["implementation"] == "native"
    dspex.shutdown(timeout=2)
    with caplog.at_level(logging.WARNING, logger="dspex.router"):
        for i in range(3):
            assert p(question=f"after{i}").answer == f"A:after{i}"
    assert seen[-1][2]["implementation"] == "dspy"
    assert "dspex.shutdown()" in seen[-1][2]["reason"]
    said = [r.getMessage() for r in caplog.records if "dspex.shutdown()" in r.getMessage()]
    assert len(said) == 1                                       # once, not per call
    dspex.configure(flags=str(path))                            # and configure starts reading flags again
    p(question="again")
    assert seen[-1][2]["implementation"] == "native"
