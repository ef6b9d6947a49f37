"""`infraplan plan` prints an MTIA pool's `figures_note` (SECONDARY figures), once per pool, as serve / fleet-mix do."""

from __future__ import annotations

import json
from pathlib import Path

from infraplan.catalog.loader import load_accelerator
from infraplan.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_plan_prints_each_mtia_pool_figures_note_once(capsys):
    assert main(["plan", str(EXAMPLES / "mtia-vs-gpu.yaml"), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    used = {r["pool"] for r in data["pools"] if r["devices"] > 0}
    # MTIA v2 served only a top-up of early ranking beside whole H100 servers until hB47's serve-plan probes sized
    # the chat service smaller (84 / 164 -> 78 / 152 H100): its pool may stay unused, and then has no note
    assert {"mtia-400", "h100"} <= used
    note = data["figures_note"]
    for pool in ("mtia-v2", "mtia-400"):
        line = f"pool {pool!r}: {pool}: {load_accelerator(pool).figures_note}"
        assert note.count(line) == (pool in used), (line, note)
    assert "pool 'h100'" not in note  # a GPU with primary figures has no note
    assert main(["plan", str(EXAMPLES / "mtia-vs-gpu.yaml")]) == 0
    text = " ".join(capsys.readouterr().out.split())  # the console wraps long lines
    assert text.count("pool 'mtia-v2': mtia-v2: SECONDARY figures") == ("mtia-v2" in used)
    assert text.count("pool 'mtia-400': mtia-400: SECONDARY figures") == 1


def test_plan_without_such_a_pool_has_no_note(capsys):
    # gigawatt-2027 served this until session 70, when its MTIA 400 pool took chat and code at mxfp8 (hM70) and its
    # GB300 pool's ASSUMED tray host got a line: plan-minimal's one DGX H100 pool (datasheet figures) has none
    assert main(["plan", str(EXAMPLES / "plan-minimal.yaml"), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {r["pool"] for r in data["pools"] if r["devices"] > 0} == {"h100"}
    assert data["figures_note"] is None
