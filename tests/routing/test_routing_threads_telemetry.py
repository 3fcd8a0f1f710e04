"""16 threads of mixed routes never cross answers; telemetry subscribe/detach and handler isolation."""

from __future__ import annotations

import contextvars
import threading
from concurrent.futures import ThreadPoolExecutor

import dspex
from dspex import telemetry
from routing_helpers import flag


def test_sixteen_threads_of_mixed_routes_never_cross_answers(flagfile, lm, events):
    flagfile.write({
        "dspex.predict": flag("native"),
        "dspex.chain_of_thought": flag("dspy"),
        "dspex.my_thread_mod": flag("dspy", targeting={"fractional": [["native", 50], ["dspy", 50]]}),
    })
    dspex.configure(lm=lm, flags=str(flagfile))
    frac = dspex.register("my_thread_mod", native=lambda: dspex.native.Predict("question -> answer"),
                          dspy=lambda: __import__("dspy").Predict("question -> answer"))
    modules = [dspex.Predict("question -> answer"), dspex.ChainOfThought("question -> answer"), frac()]
    seen = events("dspex.router.route")
    lock = threading.Lock()
    errors: list[str] = []

    def worker(t: int) -> None:
        for i in range(40):
            q = f"t{t}-i{i}"
            mod = modules[(t + i) % 3]
            with dspex.request(targeting_key=f"user-{t}-{i}"):
                answer = mod(question=q).answer
            if answer != f"A:{q}":
                with lock:
                    errors.append(f"{q} got {answer}")

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(16)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert not errors, errors[:5]
    impls = {md["implementation"] for _, _, md in seen}
    assert impls == {"native", "dspy"} and len(seen) == 16 * 40
    frac_impls = {md["implementation"] for _, _, md in seen if md["module_type"] == "my_thread_mod"}
    assert frac_impls == {"native", "dspy"}


def test_request_reaches_threads_started_with_a_copied_context(flagfile, lm, events):
    rule = {"if": [{"==": [{"var": "tenant"}, "acme"]}, "native", "dspy"]}
    flagfile.write({"dspex.predict": flag("dspy", targeting=rule)})
    dspex.configure(lm=lm, flags=str(flagfile))
    p = dspex.Predict("question -> answer")
    seen = events("dspex.router.route")
    with dspex.request(targeting_key="u", tenant="acme"):
        ctx = contextvars.copy_context()
        with ThreadPoolExecutor(2) as pool:
            pool.submit(ctx.run, p, question="copied").result()
            pool.submit(p, question="plain").result()
    assert [md["implementation"] for _, _, md in seen] == ["native", "dspy"]


def test_attach_detach_and_raising_handlers(lm, caplog):
    dspex.configure(lm=lm, module_overrides={"predict": "native"})
    got = []
    detach = telemetry.attach("dspex.router.route", lambda e, m, md: got.append(md["implementation"]))

    def bad(e, m, md):
        raise RuntimeError("handler bug")

    detach_bad = telemetry.attach("dspex.router.route", bad)
    everything = []
    detach_all = telemetry.attach("*", lambda e, m, md: everything.append(e))
    p = dspex.Predict("question -> answer")
    assert p(question="1").answer == "A:1" and p(question="2").answer == "A:2"
    assert got == ["native", "native"] and everything == ["dspex.router.route"] * 2
    assert len([r for r in caplog.records if "handler bug" in (r.exc_text or "") or "raised" in r.getMessage()]) == 1
    detach(), detach_bad(), detach_all()
    detach()  # idempotent
    p(question="3")
    assert got == ["native", "native"]
    assert not telemetry.has_listeners("dspex.router.route")


def test_emit_is_a_no_op_without_listeners():
    assert not telemetry.has_listeners("dspex.shadow.divergence")
    telemetry.emit("dspex.shadow.divergence", {}, {})   # nothing to call, nothing raised
