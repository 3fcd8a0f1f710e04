"""Flags on the real flagd FILE provider: static variants, fractional rollouts, kill switch, hot reload, bad files."""

from __future__ import annotations

import logging

import pytest

import dspex
from dspex.errors import FlagFileError
from routing_helpers import flag, wait_for

ALL = ("predict", "chain_of_thought")


def _routes(events):
    seen = events("dspex.router.route")
    return seen


def test_static_variants_pick_the_implementation(flagfile, lm, events):
    flagfile.write({"dspex.predict": flag("native"), "dspex.chain_of_thought": flag("dspy")})
    dspex.configure(lm=lm, flags=str(flagfile))
    seen = events("dspex.router.route")
    assert dspex.Predict("question -> answer")(question="q1").answer == "A:q1"
    assert dspex.ChainOfThought("question -> answer")(question="q2").answer == "A:q2"
    assert [md["implementation"] for _, _, md in seen] == ["native", "dspy"]
    assert seen[0][2]["reason"] == "flag dspex.predict variant 'native' (STATIC)"
    assert seen[0][2]["variant"] == "native" and seen[0][2]["flag_key"] == "dspex.predict"
    assert seen[1][2]["reason"] == "flag dspex.chain_of_thought variant 'dspy' (STATIC)"
    assert seen[0][1]["duration"] > 0


def test_static_flag_is_resolved_once_per_file_version(flagfile, lm):
    flagfile.write({"dspex.predict": flag("native")})
    dspex.configure(lm=lm, flags=str(flagfile))
    source = dspex.router._runtime.STATE.flags
    calls = []
    original = source.client.get_string_details
    source.client.get_string_details = lambda *a, **k: calls.append(a) or original(*a, **k)
    try:
        p = dspex.Predict("question -> answer")
        for i in range(20):
            assert p(question=str(i)).answer == f"A:{i}"
    finally:
        source.client.get_string_details = original
    assert len(calls) == 1


def test_fractional_30_70_is_within_a_few_points_and_sticky(flagfile, lm, events):
    flagfile.write({"dspex.predict": flag("dspy", targeting={"fractional": [["native", 30], ["dspy", 70]]})})
    dspex.configure(lm=lm, flags=str(flagfile))
    p = dspex.Predict("question -> answer")
    seen = events("dspex.router.route")
    first: dict[str, str] = {}
    for i in range(1000):
        with dspex.request(targeting_key=f"user-{i}"):
            assert p(question=f"q{i}").answer == f"A:q{i}"
        first[f"user-{i}"] = seen[-1][2]["implementation"]
    share = sum(v == "native" for v in first.values()) / 1000
    assert 0.26 <= share <= 0.34, share
    assert "TARGETING_MATCH" in seen[0][2]["reason"]
    for i in range(0, 1000, 37):  # sticky: the same key gets the same implementation again
        with dspex.request(targeting_key=f"user-{i}"):
            p(question="again")
        assert seen[-1][2]["implementation"] == first[f"user-{i}"]


def test_fractional_without_request_gets_a_fresh_key_per_call(flagfile, lm, events):
    flagfile.write({"dspex.predict": flag("dspy", targeting={"fractional": [["native", 50], ["dspy", 50]]})})
    dspex.configure(lm=lm, flags=str(flagfile))
    p = dspex.Predict("question -> answer")
    seen = events("dspex.router.route")
    for i in range(200):
        p(question="q")
    impls = {md["implementation"] for _, _, md in seen}
    assert impls == {"native", "dspy"}


def test_targeting_on_request_attributes(flagfile, lm, events):
    rule = {"if": [{"==": [{"var": "tenant"}, "acme"]}, "native", "dspy"]}
    flagfile.write({"dspex.predict": flag("dspy", targeting=rule)})
    dspex.configure(lm=lm, flags=str(flagfile))
    p = dspex.Predict("question -> answer", name="support_bot")
    seen = events("dspex.router.route")
    with dspex.request(targeting_key="u1", tenant="acme"):
        p(question="a")
    with dspex.request(targeting_key="u1", tenant="other"):
        p(question="b")
    assert [md["implementation"] for _, _, md in seen] == ["native", "dspy"]


def test_context_carries_module_attributes(flagfile, lm, events):
    rule = {"if": [{"and": [{"==": [{"var": "module_name"}, "bot"]}, {"==": [{"var": "native_available"}, True]},
                            {"==": [{"var": "module_type"}, "predict"]}, {"==": [{"var": "signature"}, "question -> answer"]},
                            {"!=": [{"var": "dspy_version"}, ""]}, {"!=": [{"var": "dspex_version"}, ""]}]},
                   "native", "dspy"]}
    flagfile.write({"dspex.predict": flag("dspy", targeting=rule)})
    dspex.configure(lm=lm, flags=str(flagfile))
    seen = events("dspex.router.route")
    dspex.Predict("question -> answer", name="bot")(question="x")
    dspex.Predict("question -> answer", name="other")(question="x")
    assert [md["implementation"] for _, _, md in seen] == ["native", "dspy"]


def test_disabled_flag_is_a_kill_switch(flagfile, lm, events):
    flagfile.write({"dspex.predict": flag("native", state="DISABLED")})
    dspex.configure(lm=lm, flags=str(flagfile), implementation_preference="dspy_first")
    seen = events("dspex.router.route")
    assert dspex.Predict("question -> answer")(question="k").answer == "A:k"
    md = seen[-1][2]
    assert md["implementation"] == "dspy"
    assert md["reason"] == "implementation_preference='dspy_first' (flag dspex.predict is DISABLED (kill switch))"


def test_missing_flag_falls_to_preference_and_is_reported_once(flagfile, lm, events, caplog):
    flagfile.write({"dspex.chain_of_thought": flag("dspy")})
    dspex.configure(lm=lm, flags=str(flagfile), implementation_preference="native_first")
    flag_events = events("dspex.router.flags")
    seen = events("dspex.router.route")
    p = dspex.Predict("question -> answer")
    with caplog.at_level(logging.WARNING, logger="dspex.router"):
        for _ in range(5):
            assert p(question="m").answer == "A:m"
    assert all(md["implementation"] == "native" for _, _, md in seen)
    assert "native_first" in seen[0][2]["reason"] and "not found" in seen[0][2]["reason"]
    assert len([r for r in caplog.records if "dspex.predict" in r.getMessage()]) == 1
    assert len(flag_events) == 1 and flag_events[0][2]["flag_key"] == "dspex.predict"


def test_a_variant_value_that_is_not_an_implementation_is_an_error_reported_once(flagfile, lm, events):
    flagfile.write({"dspex.predict": {"state": "ENABLED", "variants": {"on": "fast"}, "defaultVariant": "on"}})
    dspex.configure(lm=lm, flags=str(flagfile))
    flag_events = events("dspex.router.flags")
    seen = events("dspex.router.route")
    p = dspex.Predict("question -> answer")
    p(question="x"), p(question="y")
    assert seen[-1][2]["implementation"] == "dspy"      # auto preference with dspy installed
    assert "'fast'" in seen[-1][2]["reason"]
    assert len(flag_events) == 1


def test_hot_reload_takes_effect_within_about_a_second(flagfile, lm, events):
    flagfile.write({"dspex.predict": flag("native")})
    dspex.configure(lm=lm, flags=str(flagfile))
    p = dspex.Predict("question -> answer")
    seen = events("dspex.router.route")
    p(question="before")
    assert seen[-1][2]["implementation"] == "native"
    flagfile.write({"dspex.predict": flag("dspy")})

    def switched() -> bool:
        p(question="poll")
        return seen[-1][2]["implementation"] == "dspy"

    assert wait_for(switched, timeout=2.0)


def test_malformed_file_keeps_last_good_flags_reports_once_and_recovers(flagfile, lm, events, caplog):
    flagfile.write({"dspex.predict": flag("native")})
    dspex.configure(lm=lm, flags=str(flagfile))
    p = dspex.Predict("question -> answer")
    seen = events("dspex.router.route")
    flag_events = events("dspex.router.flags")
    with caplog.at_level(logging.WARNING):
        flagfile.write(raw='{"flags": {"dspex.predict": ')       # truncated JSON
        assert wait_for(lambda: any(md["kind"] == "provider_error" for _, _, md in flag_events))
        import time

        time.sleep(1.2)   # two more polls of the broken file
        assert p(question="still").answer == "A:still"
        assert seen[-1][2]["implementation"] == "native"    # the last good flags
        provider_logs = [r for r in caplog.records if r.name == "openfeature.contrib"]
        assert len(provider_logs) == 1                       # flagd's per-poll traceback, let through once,
        assert provider_logs[0].exc_info is None             # as one line naming the error, not a traceback
        assert "JSONDecodeError" in provider_logs[0].getMessage()
        assert [md["kind"] for _, _, md in flag_events] == ["provider_error"]
        flagfile.write({"dspex.predict": flag("dspy")})
        assert wait_for(lambda: p(question="fixed") is not None and seen[-1][2]["implementation"] == "dspy")
        assert wait_for(lambda: [md["kind"] for _, _, md in flag_events] == ["provider_error", "recovered"])


def test_a_deleted_flag_file_is_one_line_and_a_closed_providers_last_poll_is_silent(flagfile, lm, events, caplog):
    import time

    flagfile.write({"dspex.predict": flag("native")})
    dspex.configure(lm=lm, flags=str(flagfile))
    flag_events = events("dspex.router.flags")
    with caplog.at_level(logging.WARNING):
        flagfile.path.unlink()                               # deleted while in use: keep the last good flags
        assert wait_for(lambda: any(md["kind"] == "provider_error" for _, _, md in flag_events))
        time.sleep(1.2)
        assert dspex.Predict("question -> answer")(question="q").answer == "A:q"
        provider_logs = [r for r in caplog.records if r.name == "openfeature.contrib"]
        assert len(provider_logs) == 1 and provider_logs[0].exc_info is None
        assert "FileNotFoundError" in provider_logs[0].getMessage()

        caplog.clear()
        flagfile.write({"dspex.predict": flag("native")})
        assert wait_for(lambda: [md["kind"] for _, _, md in flag_events][-1:] == ["recovered"])
        dspex.shutdown(timeout=2)                            # the watcher polls once more after shutdown...
        flagfile.path.unlink()                               # ...and finds its (temporary) file gone
        time.sleep(1.2)
        assert [r for r in caplog.records if r.name == "openfeature.contrib"] == []


def test_missing_or_unreadable_flag_file_at_configure_names_the_path(tmp_path, lm):
    missing = tmp_path / "nope.flagd.json"
    with pytest.raises(FlagFileError, match=str(missing)):
        dspex.configure(lm=lm, flags=str(missing))
    bad = tmp_path / "bad.flagd.json"
    bad.write_text("{not json")
    with pytest.raises(FlagFileError, match="bad.flagd.json"):
        dspex.configure(flags=str(bad))
    unknown_key = tmp_path / "unknown.flagd.json"
    unknown_key.write_text('{"flags": {"dspex.predict": {"state": "ENABLED", "variants": {"a": "dspy"}, '
                           '"defaultVariant": "a", "note": "notes go in metadata"}}}')
    with pytest.raises(FlagFileError, match="unknown.flagd.json"):
        dspex.configure(flags=str(unknown_key))


@pytest.mark.parametrize("env", ["dev", "staging", "production"])
def test_repository_flag_files_are_valid_and_pin_dspy_only_modules(env):
    import json
    from pathlib import Path

    from dspex.router._flags import validate_flag_file

    path = Path(__file__).resolve().parents[2] / "flags" / f"{env}.flagd.json"
    validate_flag_file(str(path))
    data = json.loads(path.read_text())
    assert "$schema" in data
    flags = data["flags"]
    assert {"dspex.predict", "dspex.chain_of_thought"} <= set(flags)
    assert flags["dspex.program_of_thought"]["defaultVariant"] == "dspy"
    assert "targeting" not in flags["dspex.program_of_thought"]


def test_any_openfeature_provider_can_be_bound(lm, events):
    from openfeature.provider.in_memory_provider import InMemoryFlag, InMemoryProvider

    provider = InMemoryProvider({"dspex.predict": InMemoryFlag("n", {"n": "native", "d": "dspy"})})
    dspex.configure(lm=lm, provider=provider)
    seen = events("dspex.router.route")
    assert dspex.Predict("question -> answer")(question="p").answer == "A:p"
    assert seen[-1][2]["implementation"] == "native" and "'n'" in seen[-1][2]["reason"]
    dspex.set_provider(InMemoryProvider({"dspex.predict": InMemoryFlag("d", {"n": "native", "d": "dspy"})}))
    dspex.Predict("question -> answer")(question="p")
    assert seen[-1][2]["implementation"] == "dspy"


def test_configure_with_the_same_path_rereads_the_file_at_once(flagfile, lm, events):
    """A rollout step in a script (rewrite the file, configure again) must not wait for the 500 ms poll."""
    flagfile.write({"dspex.predict": flag("dspy")})
    dspex.configure(lm=lm, flags=str(flagfile))
    seen = events("dspex.router.route")
    dspex.Predict("question -> answer")(question="q1")
    flagfile.write({"dspex.predict": flag("native")})
    dspex.configure(flags=str(flagfile))
    dspex.Predict("question -> answer")(question="q2")
    assert [md["implementation"] for _, _, md in seen] == ["dspy", "native"]
