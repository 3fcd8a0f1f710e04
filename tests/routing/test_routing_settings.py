"""Settings: configure > DSPEX_* env > [tool.dspex] > defaults; errors name the key and the source."""

from __future__ import annotations

import pytest

import dspex
from dspex.errors import ConfigError
from routing_helpers import flag


def _pyproject(tmp_path, body: str) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n\n[tool.dspex]\n" + body)


def test_defaults():
    s = dspex.router.settings()
    assert (s.lm, s.flags, s.implementation_preference, s.allow_fallback, dict(s.module_overrides)) == (
        None, None, "auto", True, {})
    assert s.adaptive.enabled is False


def test_precedence_configure_over_env_over_pyproject(tmp_path, monkeypatch):
    _pyproject(tmp_path, 'implementation_preference = "native_first"\nallow_fallback = false\n'
                         'module_overrides = { predict = "dspy" }\n')
    s = dspex.router.settings()
    assert s.implementation_preference == "native_first" and s.allow_fallback is False
    assert "pyproject.toml" in s.sources["implementation_preference"]
    dspex.router.reset()
    monkeypatch.setenv("DSPEX_IMPLEMENTATION_PREFERENCE", "dspy_first")
    monkeypatch.setenv("DSPEX_MODULE_OVERRIDES", "predict=native,react=dspy")
    s = dspex.router.settings()
    assert s.implementation_preference == "dspy_first" and s.allow_fallback is False
    assert dict(s.module_overrides) == {"predict": "native", "react": "dspy"}
    s = dspex.configure(implementation_preference="auto")
    assert s.implementation_preference == "auto" and s.sources["implementation_preference"] == "dspex.configure()"
    assert s.module_overrides["predict"] == "native"


def test_pyproject_found_upwards_and_flags_relative_to_it(tmp_path, monkeypatch, flagfile, lm):
    flagfile.write({"dspex.predict": flag("native")})
    _pyproject(tmp_path, f'flags = "{flagfile.path.name}"\n')
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    monkeypatch.chdir(sub)
    s = dspex.router.settings()
    assert s.flags == str(flagfile.path)
    assert dspex.Predict("question -> answer")(question="x", lm=lm).answer == "A:x"


def test_env_booleans_numbers_and_sections(monkeypatch):
    monkeypatch.setenv("DSPEX_ALLOW_FALLBACK", "false")
    monkeypatch.setenv("DSPEX_ADAPTIVE_ENABLED", "true")
    monkeypatch.setenv("DSPEX_ADAPTIVE_FAILURE_THRESHOLD", "7")
    monkeypatch.setenv("DSPEX_SHADOW_SAMPLE_RATE", "0.25")
    monkeypatch.setenv("DSPEX_SHADOW_REDACT", "ssn, email")
    s = dspex.router.settings()
    assert s.allow_fallback is False and s.adaptive.enabled and s.adaptive.failure_threshold == 7
    assert s.shadow == {"sample_rate": 0.25, "redact": ("ssn", "email")}
    from dspex import shadow

    assert shadow.get_settings().sample_rate == 0.25
    shadow.reset()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"flagz": "x"}, r"Unknown setting 'flagz' \(dspex.configure\(\)\)"),
        ({"implementation_preference": "fastest"}, r"'implementation_preference' \(dspex.configure\(\)\)"),
        ({"module_overrides": {"predict": "quick"}}, r"'module_overrides.predict' \(dspex.configure\(\)\)"),
        ({"allow_fallback": "maybe"}, r"'allow_fallback'"),
        ({"shadow": {"mode": "sometimes"}}, r"shadow.mode .*dspex.configure\(\)"),
        ({"shadow": {"nope": 1}}, r"Unknown setting shadow.nope"),
        ({"adaptive": {"failure_threshold": 0}}, r"'adaptive.failure_threshold'"),
    ],
)
def test_bad_configure_values_name_the_key_and_source(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        dspex.configure(**kwargs)


def test_bad_env_and_pyproject_name_their_source(tmp_path, monkeypatch):
    monkeypatch.setenv("DSPEX_FLAGSS", "x")
    with pytest.raises(ConfigError, match=r"DSPEX_FLAGSS \(environment\)"):
        dspex.router.settings()
    monkeypatch.delenv("DSPEX_FLAGSS")
    _pyproject(tmp_path, 'implementation_preference = "sometimes"\n')
    with pytest.raises(ConfigError, match=r"'implementation_preference' \(\[tool.dspex\] in .*pyproject.toml\)"):
        dspex.router.settings()
    _pyproject(tmp_path, 'colour = "blue"\n')
    with pytest.raises(ConfigError, match=r"Unknown setting 'colour' \(\[tool.dspex\]"):
        dspex.router.settings()


def test_configure_lm_sets_the_native_default_lm(lm):
    from dspex import native

    before = native.settings.lm
    try:
        dspex.configure(lm=lm)
        assert native.settings.lm is lm
        assert native.Predict("question -> answer")(question="n").answer == "A:n"
    finally:
        native.settings.configure(lm=before)


def test_per_call_lm_beats_configured_lm(lm, events):
    from routing_helpers import EchoLM

    dspex.configure(lm=lm, module_overrides={"predict": "native", "chain_of_thought": "dspy"})
    other = EchoLM(tag="other-")
    assert dspex.Predict("question -> answer")(question="x", lm=other).answer == "other-A:x"
    assert dspex.ChainOfThought("question -> answer")(question="y", lm=other).answer == "other-A:y"
    assert lm.calls == 0 and other.calls == 2


def test_pyproject_parity_modules_is_left_to_the_gate(tmp_path):
    """``parity_modules`` in [tool.dspex] is the gate's key: configure must not reject it as unknown."""
    (tmp_path / "pyproject.toml").write_text(
        "[project]\nname = 'scratch'\n\n[tool.dspex]\nparity_modules = ['pkg.mod:factory']\nallow_fallback = false\n"
    )
    settings = dspex.configure()
    assert settings.allow_fallback is False


def test_parity_suite_variables_are_not_router_settings(monkeypatch):
    """DSPEX_PARITY_EXAMPLES / DSPEX_PARITY_PROFILE tune the parity suite; configure must not call them unknown."""
    monkeypatch.setenv("DSPEX_PARITY_EXAMPLES", "50")
    monkeypatch.setenv("DSPEX_PARITY_PROFILE", "ci")
    assert dspex.configure(allow_fallback=False).allow_fallback is False
