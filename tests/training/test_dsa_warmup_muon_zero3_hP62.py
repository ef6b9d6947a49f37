"""DSA's dense warm-up with --optimizer muon and at ZeRO 3 (hP62; hI62 found both half-priced).

* Muon: megatron-core 0.16.1's Muon builder skips the frozen parameters and steps the indexer's 2-D projections
  (optimizer/muon.py:240-258), so the warm-up's step is Muon's on the indexer alone (its unfused pass and Newton-
  Schulz, and at ZeRO 1 the layer-wise all-gather of the updated indexer, exposed), as its memory and checkpoint
  already were; the notes say Muon, not "stepped by AdamW"; search's rows are `train` of their command.
* ZeRO 3: the frozen weights stay sharded and are all-gathered every forward (Megatron-FSDP shards every parameter):
  their exposed gather (here the first unit's, the rest behind the forward) on every micro-batch, where it priced as
  ZeRO 1 before.
* --recompute does nothing in the forward-only stage: said in a note."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog.loader import load_model
from infraplan.cluster import Cluster
from infraplan.network.collectives import collective_seconds
from infraplan.training import dsa_warmup, dsa_warmup_grid
from infraplan.training.dsa_warmup import shape_indexer_params
from infraplan.training.estimate import estimate_training, resolve_training
from infraplan.training.one_plan_memo import PLAN_FIELDS
from infraplan.training.plan import PlanArrays
from infraplan.training.search import search_plans

PLAN = {"model": "deepseek-v3.2", "system": "h800", "gpus": 128, "tp": 8, "ep": 16, "seq_len": 131072,
        "global_batch": 16, "dtype": "fp8", "stack": "nemo-26.04", "dsa_stage": "warmup"}


def _warmup(**extra: object) -> object:
    return estimate_training(**{**PLAN, **extra})  # type: ignore[arg-type]


def test_muon_steps_the_indexer_in_the_warmup_step() -> None:
    adam, muon = _warmup(zero=1, optimizer="adam"), _warmup(zero=1, optimizer="muon")
    a, m = adam.breakdown_s, muon.breakdown_s  # type: ignore[attr-defined]
    assert m.compute == a.compute and m.tp_comm == a.tp_comm  # (the frozen forward and the indexer's work: one)
    # Newton-Schulz of the indexer's q projection alone (64 x 128 by 1,536, 5 iterations, 61 layers) over the 16 DP
    # ranks, at most the GPU's dense bf16 rate: a floor the step must clear
    m_, n_ = 1536.0, 8192.0
    floor = 61 * 5 * (4 * m_ * m_ * n_ + 2 * m_ ** 3) / 16 / 989e12
    assert m.optimizer > a.optimizer + floor
    # the layer-wise optimizer's all-gather of the updated indexer (bf16) over the 16 DP ranks, exposed
    cluster = Cluster.resolve("h800").for_gpus(128).placed(128)
    held = muon.trainable_params_count  # type: ignore[attr-defined]  # (PP 1: every layer's indexer on each GPU)
    assert held == shape_indexer_params(load_model("deepseek-v3.2"), 0) == 851_509_248  # (61 x 13,959,168)
    gather = collective_seconds(cluster.fabric, "all_gather", held * 2.0, 16.0, 8.0)
    assert m.dp_comm_exposed - a.dp_comm_exposed == pytest.approx(gather, rel=1e-9)
    assert muon.step_time_s > adam.step_time_s  # type: ignore[attr-defined]


def test_muon_at_zero_0_gathers_nothing() -> None:
    adam, muon = _warmup(zero=0, optimizer="adam"), _warmup(zero=0, optimizer="muon")
    assert muon.breakdown_s.dp_comm_exposed == adam.breakdown_s.dp_comm_exposed  # type: ignore[attr-defined]
    assert muon.breakdown_s.optimizer > adam.breakdown_s.optimizer  # type: ignore[attr-defined]


def test_the_notes_say_muon_on_the_indexer() -> None:
    notes = " ".join(_warmup(zero=1, optimizer="muon").notes)  # type: ignore[attr-defined]
    assert "stepped by Muon on its three projection matrices" in notes and "stepped by AdamW" not in notes
    assert "decoder's 2-D weights" not in notes  # (the whole model's Muon line: not the warm-up's)
    assert "stepped by AdamW" in " ".join(_warmup(zero=1).notes)  # type: ignore[attr-defined]


def test_a_muon_warmup_search_row_is_train_of_its_command() -> None:
    result = search_plans("deepseek-v3.2", "h800", 128, 4096, 16, dtype="fp8", stack="nemo-26.04", top=3,
                          optimizer="muon", dsa_stage="warmup")
    assert result.best is not None and "--optimizer muon" in (result.best.train_command or "")
    c = result.best.config
    again = estimate_training("deepseek-v3.2", "h800", c.gpus, tp=c.tp, pp=c.pp, dp=c.dp, cp=c.cp, ep=c.ep,
                              vpp=c.vpp, seq_len=c.seq_len, global_batch=c.global_batch, micro_batch=c.micro_batch,
                              recompute=c.recompute, zero=c.zero, dtype=c.dtype, schedule=c.schedule,
                              stack="nemo-26.04", etp=c.etp, optimizer="muon", dsa_stage="warmup")
    assert again.step_time_s == result.best.step_time_s


def test_zero3_gathers_the_frozen_weights_every_micro_batch() -> None:
    one = {gb: (_warmup(zero=1, global_batch=gb), _warmup(zero=3, global_batch=gb)) for gb in (16, 64)}
    extra = {gb: z3.breakdown_s.dp_comm_exposed - z1.breakdown_s.dp_comm_exposed  # type: ignore[attr-defined]
             for gb, (z1, z3) in one.items()}
    assert extra[16] > 1e-3  # (was 0: ZeRO 3 priced as ZeRO 1)
    assert extra[64] == pytest.approx(4.0 * extra[16], rel=1e-9)  # 4 micro-batches, each its gathers
    z1, z3 = one[16]
    assert z3.breakdown_s.compute == z1.breakdown_s.compute  # type: ignore[attr-defined]
    assert z3.memory_breakdown_bytes.weights < z1.memory_breakdown_bytes.weights  # type: ignore[attr-defined]


@pytest.mark.parametrize("recompute", ["selective", "full"])
def test_recompute_is_said_to_do_nothing(recompute: str) -> None:
    said = _warmup(zero=1, recompute=recompute)
    none = _warmup(zero=1, recompute="none")
    assert said.step_time_s == none.step_time_s  # type: ignore[attr-defined]
    assert any(n.startswith(f"--recompute {recompute} does nothing in the DSA warm-up") for n in said.notes)  # type: ignore[attr-defined]
    assert not any("does nothing in the DSA warm-up" in n for n in none.notes)  # type: ignore[attr-defined]


@pytest.mark.parametrize("optimizer", ["adam", "muon"])
def test_grid_step_is_the_one_plan_float_path(optimizer: str) -> None:
    """`dsa_warmup_grid` (search's ranking) on plans at ZeRO 0 / 1 / 3 (Muon: 0 / 1; PP 1: nemo-26.04 splits 61
    layers evenly), one and four micro-batches, equals each plan's `train --dsa-stage warmup` step to the bit."""
    plans = [dict(tp=8, ep=16, global_batch=16, zero=1), dict(tp=8, ep=8, global_batch=64, zero=0),
             dict(tp=4, ep=32, global_batch=64, zero=1 if optimizer == "muon" else 3),
             dict(tp=8, ep=16, global_batch=64, zero=1 if optimizer == "muon" else 3)]
    points = [resolve_training("deepseek-v3.2", "h800", 128, seq_len=4096, dtype="fp8", stack="nemo-26.04",
                               optimizer=optimizer, **p) for p in plans]  # type: ignore[arg-type]
    shape, cluster, profile = points[0].shape, points[0].cluster, points[0].profile
    columns = np.array([p.plan.row_key for p in points], dtype=np.int64).T
    grid = PlanArrays(**{f: columns[j].copy() for j, f in enumerate(PLAN_FIELDS)})
    step = dsa_warmup_grid.warmup_step_time(shape, cluster, grid, profile)
    for i, point in enumerate(points):
        assert step[i] == dsa_warmup.warmup_outputs(point)["step_time_s"]


def test_a_muon_warmup_checkpoint_note_names_no_embedding() -> None:
    from infraplan.planning.training_run import optimizer_checkpoint_bytes, optimizer_checkpoint_note

    muon = _warmup(zero=1, optimizer="muon")
    note = optimizer_checkpoint_note(muon)  # type: ignore[arg-type]
    assert note is not None and "10 B a parameter" in note and "embedding" not in note
    assert optimizer_checkpoint_bytes(muon) == 10.0 * 851_509_248  # type: ignore[arg-type]  # (Muon's matrices' 10 B)
