"""Issue 10 item 1: `dspex flags stage --file <symlink>` edits the link's target, never replaces the link."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from dspex.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_stage_through_a_symlink_edits_the_target_and_keeps_the_link(tmp_path, capsys):
    shared = tmp_path / "shared"
    shared.mkdir()
    real = shared / "production.flagd.json"
    shutil.copyfile(ROOT / "flags" / "production.flagd.json", real)
    link = tmp_path / "production.flagd.json"
    link.symlink_to(real)
    assert main(["flags", "stage", "chain_of_thought", "shadow", "--file", str(link)]) == 0, capsys.readouterr()
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert json.loads(real.read_text())["flags"]["dspex.chain_of_thought"]["defaultVariant"] == "shadow"
    assert sorted(p.name for p in shared.iterdir()) == ["production.flagd.json"]   # no temporary left behind


def test_stage_refuses_a_configmap_projection_with_a_reason(tmp_path, capsys):
    mount = tmp_path / "config"
    gen = mount / "..2026_01_01_a"
    gen.mkdir(parents=True)
    shutil.copyfile(ROOT / "flags" / "production.flagd.json", gen / "production.flagd.json")
    os.symlink("..2026_01_01_a", mount / "..data")
    os.symlink("..data/production.flagd.json", mount / "production.flagd.json")
    before = (gen / "production.flagd.json").read_text()
    code = main(["flags", "stage", "chain_of_thought", "shadow", "--file", str(mount / "production.flagd.json")])
    err = capsys.readouterr().err
    assert code == 1
    assert "ConfigMap" in err and "edit the ConfigMap's source" in err and "Traceback" not in err
    assert (mount / "production.flagd.json").is_symlink()
    assert (gen / "production.flagd.json").read_text() == before
