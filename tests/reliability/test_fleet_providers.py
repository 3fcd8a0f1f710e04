"""Fleet scale: the flag source is chosen by settings, as a string that env or pyproject can hold.

``flags="flagd+in-process://127.0.0.1:PORT"`` streams the same flag file from a flagd sync service (a loopback
stand-in speaking flagd's protocol) into flagd's in-process evaluator; ``flags="provider:pkg.mod:factory"`` binds
any OpenFeature provider a factory builds. Both from ``DSPEX_FLAGS``, as a fleet's pods would set it.
"""

from __future__ import annotations

import textwrap

import dspex
from flagd_sync_server import FlagSyncServer
from reliability_support import flag, flag_doc, route_of, wait_for


def test_flags_streamed_by_a_flagd_sync_service_route_and_update(lm, events, monkeypatch):
    with FlagSyncServer(flag_doc(dspex__predict=flag("native"))) as server:
        monkeypatch.setenv("DSPEX_FLAGS", f"flagd+in-process://127.0.0.1:{server.port}")
        seen = events("dspex.router.route")
        p = dspex.Predict("question -> answer")
        assert route_of(seen, lambda: p(question="q", lm=lm)) == "native"
        server.publish(flag_doc(dspex__predict=flag("native", state="DISABLED")))   # the kill switch, fleet-wide
        assert wait_for(lambda: route_of(seen, lambda: p(question="q", lm=lm)) == "dspy", timeout=10)
        assert "kill switch" in seen[-1][2]["reason"]
        dspex.shutdown(timeout=2)


def test_any_openfeature_provider_from_a_settings_string(tmp_path, lm, events, monkeypatch):
    (tmp_path / "company_flags.py").write_text(textwrap.dedent("""
        from openfeature.provider.in_memory_provider import InMemoryFlag, InMemoryProvider

        def build():
            return InMemoryProvider({"dspex.predict": InMemoryFlag("n", {"n": "native", "d": "dspy"})})
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("DSPEX_FLAGS", "provider:company_flags:build")
    seen = events("dspex.router.route")
    assert route_of(seen, lambda: dspex.Predict("question -> answer")(question="q", lm=lm)) == "native"
    assert "'n'" in seen[-1][2]["reason"]


def test_a_provider_setting_that_cannot_be_built_is_one_warning_not_a_failing_call(lm, events, monkeypatch):
    monkeypatch.setenv("DSPEX_FLAGS", "provider:no_such_module_here:build")
    seen = events("dspex.router.route")
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert dspex.Predict("question -> answer")(question="q", lm=lm).answer == "A:q"
    assert seen[-1][2]["implementation"] == "dspy"
    assert any("no_such_module_here" in str(w.message) for w in caught)
