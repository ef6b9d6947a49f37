"""hT76: a shrunk restart is priced on a layout that fits the scale-up domains in service (`ShrunkSpeed._fitting`).
`train llama3-8b --system gb200-nvl72-superpod --gpus 512 --tp 2 --pp 16 --tokens 1T --no-spare-policy shrink`: with
one of the job's 8 racks out, 504 GPUs are in service and the shrink unit (32) keeps 480, which NeMo's launcher lays
out afresh as --segment 15 (60 GPUs a rack), 8 racks; base: priced running there at 0.935 of full speed (the 448 of
the full job's placement: 0.870), goodput with repairs 0.9427 (after: 0.9132)."""

from __future__ import annotations

from typing import Any

import pytest
from tests.cli.conftest import cli_json

from infraplan.cluster import Cluster
from infraplan.network.placement import domains_needed
from infraplan.planning.shrunk_plan import shrunk_speed
from infraplan.training.estimate import estimate_training

SYSTEM = "gb200-nvl72-superpod"
TRAIN = ["train", "llama3-8b", "--system", SYSTEM, "--gpus", "512", "--tp", "2", "--pp", "16", "--seq-len", "4096",
         "--global-batch", "1024", "--micro-batch", "1", "--tokens", "1T", "--no-spare-policy", "shrink"]


def _plan(gpus: int = 512) -> Any:
    return estimate_training("llama3-8b", SYSTEM, gpus, tp=2, pp=16, dp=gpus // 32, seq_len=4096, global_batch=1024,
                             micro_batch=1, dtype="bf16")


def test_domains_a_layout_afresh_holds() -> None:
    node = Cluster.resolve(SYSTEM).system.node  # 72 GPUs a rack, 4 a tray, NeMo's --segment placement
    assert domains_needed(node, 480) == 8  # --segment 15: 8 segments, one a rack of 18 trays
    assert domains_needed(node, 448) == 7  # --segment 16
    assert domains_needed(node, 504) == 7  # --segment 18, the whole rack
    assert domains_needed(node, 496) == 8  # --segment 4 (124 trays = 4 x 31): 31 segments, 4 a rack
    assert domains_needed(node, 64) == 1  # within one rack
    assert domains_needed(node, 576) == 8


def test_a_shrunk_plan_runs_on_the_racks_in_service() -> None:
    speed = shrunk_speed(_plan(), SYSTEM)
    afresh = speed._share(15)  # 480 GPUs at 60 a rack: what the base priced
    assert speed(480) == speed(448) == pytest.approx(speed._share(14), rel=1e-12)
    assert afresh > 1.05 * speed(480)  # (0.935 against 0.870: the unfit layout was the faster one)
    assert speed.unfit == {480: 448} and speed.fewer == {}
    assert speed(416) == speed(384)  # 6 racks: 416 afresh at --segment 13 (52 a rack) holds 8
    note = speed.fewer_note() or ""
    assert note.startswith("all the GPUs a shrunk job keeps, placed afresh") and "448 of 480, 384 of 416" in note


def test_train_tokens_prices_the_fitting_layout(capsys: pytest.CaptureFixture[str]) -> None:
    out = cli_json(capsys, [*TRAIN, "--json"])
    assert out["goodput_with_repairs"] == pytest.approx(0.99168, abs=5e-4)  # base: 0.9427; 0.9132 until hZ2 77
    # counted the 2 trays of each rack --segment 16 leaves free as spares (facility.outage.layout_free_trays)
    said = [n for n in out["notes"] if n.startswith("all the GPUs a shrunk job keeps")]
    assert len(said) == 1 and "448 of 480" in said[0]
