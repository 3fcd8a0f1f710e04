"""Issue 10 item 1: flag files replaced the way fleets replace them are reloaded by a running process.

Real flagd provider, real files: a Kubernetes ConfigMap mount (``f.flagd.json -> ..data/f.flagd.json``, ``..data``
swapped to a new generation and the old one deleted), a file replaced by rename with an *older* mtime, an
in-place rewrite given back its old mtime (``cp -p``), and a large malformed file that must not be re-parsed on
every poll.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import dspex
from dspex.router._runtime import STATE
from reliability_support import flag, flag_doc, route_of, wait_for, write_with_mtime

OLD = time.time() - 10 * 86400   # ten days ago: every replacement below goes *back* in time


def _configmap(root: Path, generation: str, text: str, mtime: float) -> None:
    """What the kubelet does: write a new timestamped folder, swap ``..data`` to it atomically, delete the old."""
    gen = root / generation
    gen.mkdir()
    write_with_mtime(gen / "f.flagd.json", text, mtime)
    old = os.readlink(root / "..data") if (root / "..data").is_symlink() else None
    tmp = root / "..data_tmp"
    os.symlink(generation, tmp)
    os.replace(tmp, root / "..data")
    if not (root / "f.flagd.json").is_symlink():
        os.symlink("..data/f.flagd.json", root / "f.flagd.json")
    if old is not None:
        shutil.rmtree(root / old)


def test_configmap_generation_swap_is_reloaded_including_the_kill_switch(tmp_path, lm, events):
    mount = tmp_path / "config"
    mount.mkdir()
    _configmap(mount, "..2026_01_01_a", flag_doc(dspex__predict=flag("native")), OLD + 100)
    dspex.configure(lm=lm, flags=str(mount / "f.flagd.json"))
    seen = events("dspex.router.route")
    p = dspex.Predict("question -> answer")
    assert route_of(seen, lambda: p(question="q")) == "native"

    # a new generation, with an *older* mtime, and the old generation deleted
    _configmap(mount, "..2026_01_02_b", flag_doc(dspex__predict=flag("dspy")), OLD)
    assert wait_for(lambda: route_of(seen, lambda: p(question="q")) == "dspy")

    # the kill switch, shipped the same way, also takes effect
    _configmap(mount, "..2026_01_03_c", flag_doc(dspex__predict=flag("native", state="DISABLED")), OLD - 100)
    _configmap(mount, "..2026_01_04_d", flag_doc(dspex__predict=flag("native", state="DISABLED")), OLD - 200)
    assert wait_for(lambda: "kill switch" in (p(question="k") and seen[-1][2]["reason"]))
    assert seen[-1][2]["implementation"] == "dspy"
    assert p(question="k2").answer == "A:k2"


def _native_from(path, lm, events):
    """Configure on ``path`` (native for Predict, an mtime 1000 s after OLD); the route recorder and a module."""
    write_with_mtime(path, flag_doc(dspex__predict=flag("native")), OLD + 1000)
    dspex.configure(lm=lm, flags=str(path))
    seen = events("dspex.router.route")
    p = dspex.Predict("question -> answer")
    assert route_of(seen, lambda: p(question="q")) == "native"
    return seen, p


def test_a_file_replaced_by_rename_with_an_older_mtime_is_reloaded(tmp_path, lm, events):
    path = tmp_path / "prod.flagd.json"
    seen, p = _native_from(path, lm, events)
    staged = tmp_path / "restore.tmp"
    write_with_mtime(staged, flag_doc(dspex__predict=flag("dspy")), OLD)   # rsync -t / a restored backup
    os.replace(staged, path)
    assert wait_for(lambda: route_of(seen, lambda: p(question="q")) == "dspy")


def test_an_in_place_rewrite_given_back_an_older_mtime_is_reloaded(tmp_path, lm, events):
    path = tmp_path / "prod.flagd.json"
    seen, p = _native_from(path, lm, events)
    inode = path.stat().st_ino
    write_with_mtime(path, flag_doc(dspex__predict=flag("dspy")), OLD)   # cp -p over the same inode
    assert path.stat().st_ino == inode
    assert wait_for(lambda: route_of(seen, lambda: p(question="q")) == "dspy")


def test_the_path_is_watched_as_given_not_resolved(tmp_path, lm):
    real = tmp_path / "real.flagd.json"
    real.write_text(flag_doc(dspex__predict=flag("native")))
    link = tmp_path / "link.flagd.json"
    link.symlink_to(real)
    dspex.configure(lm=lm, flags=str(link))
    assert STATE.flags.provider.config.offline_flag_source_path == str(link)


def test_a_large_malformed_file_is_parsed_once_not_on_every_poll(tmp_path, lm, events):
    from openfeature import api
    from openfeature.event import ProviderEvent

    path = tmp_path / "prod.flagd.json"
    write_with_mtime(path, flag_doc(dspex__predict=flag("native")), OLD)
    dspex.configure(lm=lm, flags=str(path))
    seen = events("dspex.router.route")
    errors: list[object] = []
    client = api.get_client("dspex")
    handler = errors.append
    client.add_handler(ProviderEvent.PROVIDER_ERROR, handler)
    try:
        # ~50 MB of valid JSON that flagd rejects as a whole (an unknown key inside a flag)
        pad = "x" * (50 * 1024 * 1024)
        # Written beside and renamed in, as deployments replace files: a 50 MB in-place write can be polled
        # half-written on a busy machine, which is a different (truncated) content and rightly parsed again.
        staged = tmp_path / "staged.json"
        staged.write_text('{"flags": {"dspex.predict": {"state": "ENABLED", "variants": {"native": "native"}, '
                          f'"defaultVariant": "native", "note": "{pad}"}}}}}}')
        del pad
        os.replace(staged, path)
        assert wait_for(lambda: len(errors) >= 1, timeout=15)
        time.sleep(3.5)   # seven more polls of the same broken file, past the racy window
        assert len(errors) == 1, f"the broken file was reported (parsed) {len(errors)} times"
        assert route_of(seen, lambda: dspex.Predict("question -> answer")(question="q")) == "native"
    finally:
        client.remove_handler(ProviderEvent.PROVIDER_ERROR, handler)
