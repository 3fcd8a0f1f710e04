"""Settings from every source are refused or warned about at configure time, never on every call: a call_timeout_s
no thread wait can take (inf, 1e10: every routed call raised OverflowError), malformed JSON in
DSPEX_MODULE_OVERRIDES (a raw JSONDecodeError), an empty DSPEX_FLAGS (read as the path ""), and a module_overrides
key that names no module type (a typo in an emergency rollback did nothing, silently)."""

from __future__ import annotations

import logging
import warnings

import pytest

import dspex
from dspex.errors import ConfigError

TOO_LONG = [float("inf"), 1e10, 86_401]


@pytest.mark.parametrize("value", TOO_LONG, ids=str)
def test_a_call_timeout_beyond_a_day_is_refused_by_configure(value, lm):
    with pytest.raises(ConfigError, match=r"'call_timeout_s' \(dspex.configure\(\)\).*unset for no dspex deadline"):
        dspex.configure(lm=lm, call_timeout_s=value)


@pytest.mark.parametrize("text", ["inf", "1e10", "nan"])
def test_a_call_timeout_beyond_a_day_is_refused_from_the_environment(text, lm, monkeypatch):
    monkeypatch.setenv("DSPEX_CALL_TIMEOUT_S", text)
    with pytest.raises(ConfigError, match=r"'call_timeout_s' \(environment"):
        dspex.configure(lm=lm)


def test_a_call_timeout_beyond_a_day_is_refused_from_pyproject(tmp_path, lm):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n[tool.dspex]\ncall_timeout_s = inf\n")
    with pytest.raises(ConfigError, match=r"'call_timeout_s' \(\[tool.dspex\] in .*pyproject.toml\)"):
        dspex.configure(lm=lm)


@pytest.mark.parametrize("route", ["native", "dspy"])
def test_the_longest_call_timeout_works_on_every_route(route, lm):
    dspex.configure(lm=lm, call_timeout_s=86_400)
    assert dspex.Predict("question -> answer", implementation=route)(question="q").answer == "A:q"


@pytest.mark.parametrize("text", ['{"predict": "native"', '{"predict": native}', "{" * 100_000])
def test_malformed_json_in_module_overrides_is_a_config_error_naming_the_variable(text, lm, monkeypatch):
    monkeypatch.setenv("DSPEX_MODULE_OVERRIDES", text)
    with pytest.raises(ConfigError, match="DSPEX_MODULE_OVERRIDES .*not valid JSON"):
        dspex.configure(lm=lm)


@pytest.mark.parametrize("name", ["DSPEX_FLAGS", "DSPEX_IMPLEMENTATION_PREFERENCE", "DSPEX_CALL_TIMEOUT_S",
                                  "DSPEX_LM", "DSPEX_ALLOW_FALLBACK"])
def test_an_empty_variable_is_unset(name, lm, monkeypatch, events):
    monkeypatch.setenv(name, " " if name == "DSPEX_LM" else "")
    flag_events = events("dspex.router.flags")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        settings = dspex.configure(lm=lm)
        assert dspex.Predict("question -> answer")(question="q").answer == "A:q"
    key = name[len("DSPEX_"):].lower()
    assert not settings.sources.get(key, "").startswith("environment") and flag_events == []


def test_an_override_naming_no_module_type_is_warned_once_with_the_known_types(lm, monkeypatch, caplog):
    monkeypatch.setenv("DSPEX_MODULE_OVERRIDES", "chain_of_thougth=dspy,predict=dspy")
    with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.WARNING, logger="dspex.router"):
        warnings.simplefilter("always")
        dspex.configure(lm=lm)
        dspex.configure(lm=lm)
        dspex.Predict("question -> answer")(question="q")
    ours = [str(w.message) for w in caught if "module_overrides" in str(w.message)]
    assert len(ours) == 1, ours
    assert "'chain_of_thougth'" in ours[0] and "Did you mean 'chain_of_thought'?" in ours[0]
    assert "environment" in ours[0] and "'predict'" in ours[0] and "'react'" in ours[0]   # the known types
    assert "'predict'" not in ours[0].split("Module types")[0]                             # a known key is fine
    assert any("chain_of_thougth" in r.getMessage() for r in caplog.records)


def test_an_instance_name_override_still_routes_that_instance_without_a_warning(lm, events):
    seen = events("dspex.router.route")
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # a name near no module type is an instance name: nothing to warn about
        dspex.configure(lm=lm, module_overrides={"hot_path": "native"})
    dspex.Predict("question -> answer", name="hot_path")(question="q")
    assert seen[-1][2]["implementation"] == "native"
