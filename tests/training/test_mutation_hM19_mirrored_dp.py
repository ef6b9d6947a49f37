"""Mutation wave 3 (hM19, session 43) on `training.mirrored_dp` (hO45): the parts its own tests leave open.

Hand cases as `test_mirrored_dp_traffic_hO45.py`'s: Llama 3 8B (32 layers, untied) on TP1 PP8 DP8 of a DGX H100
SuperPOD, torchtitan's even split, the DP windows set to zero so the exposed DP time is the collectives' own seconds.
A layer's parameters on one GPU P, a table T = V h. A DualPipe rank holds two stages of 4 layers and a table each:
2 (4 P + T) parameters in 8 local layers.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import numpy as np
import pytest
from tests.training.conftest import TORCHTITAN_EVEN

from infraplan.catalog import load_model
from infraplan.catalog.stacks import load_stack
from infraplan.cluster import Cluster
from infraplan.network.collectives import collective_seconds
from infraplan.ops.params import local_layer_params
from infraplan.training import search, step_assembly
from infraplan.training.estimate import estimate_training
from infraplan.training.memory import WEIGHT_BYTES
from infraplan.training.mirrored_dp import mirror_pair, rank_copies
from infraplan.training.one_plan_memo import clear_one_plan_memo
from infraplan.training.plan import PlanArrays
from infraplan.training.plan_resolution import resolve_plan
from infraplan.training.stage_params import dp_groups
from infraplan.training.step_time import balanced_split

TITAN = TORCHTITAN_EVEN


pytestmark = pytest.mark.usefixtures("fresh_one_plan_memo")  # the one-plan memo forgotten around each test


def _8b(cluster: Cluster, schedule: str, zero: int, vpp: int = 1) -> tuple[Any, PlanArrays]:
    result = estimate_training("llama3-8b", cluster, 64, tp=1, pp=8, vpp=vpp, seq_len=4096, global_batch=128,
                               zero=zero, schedule=schedule, stack=TITAN, order="tp-cp-pp-dp")
    plan = resolve_plan(load_model("llama3-8b"), cluster, 64, 1, 8, None, 1, 1, vpp, 4096, 128, 1, "none", zero,
                        "bf16", schedule=schedule)
    return result, plan.one_row


def test_zero3_dualpipe_sums_each_layers_shard_with_its_mirror(monkeypatch: pytest.MonkeyPatch) -> None:
    """ZeRO-3 gathers and reduce-scatters one layer at a time (8 local layers, each 1 / 8 of 2 (4 P + T)); DualPipe
    then sums each layer's 1 / 8 DP shard with its mirror rank's: 8 all-reduces of 2 (4 P + T) / 64 over 2 ranks,
    PP x stage stride / 2 apart. Exposed with no windows: the gathers twice (forward, and again for the backward),
    the reduce-scatters and the pair sums (`dp_exposure.dp_forms`' ZeRO-3 form)."""
    monkeypatch.setattr(step_assembly, "dp_windows", lambda *args, **kwargs: (0.0, 0.0))
    shape = load_model("llama3-8b")
    cluster = Cluster.resolve("dgx-h100-superpod").for_gpus(64).placed(64)
    p, t = float(local_layer_params(shape, 1)), shape.vocab_size * shape.hidden_size
    grad, fabric = TITAN.grad_reduce_bytes, cluster.fabric
    dualpipe, row = _8b(cluster, "dualpipe", zero=3)
    dp, stride = (float(v) for v in dp_groups(row)[:2])
    assert dp == 8.0
    held, layers = 2.0 * (4 * p + t), 8.0
    gather = layers * collective_seconds(fabric, "all_gather", held / layers * WEIGHT_BYTES, dp, stride)
    scatter = layers * collective_seconds(fabric, "reduce_scatter", held / layers * grad, dp, stride)
    pair = layers * collective_seconds(fabric, "all_reduce", held / dp / layers * grad, 2.0,
                                       8.0 * float(row.pp_stride) / 2.0)
    assert pair > 0.0
    assert dualpipe.breakdown_s.dp_comm_exposed == pytest.approx(2.0 * gather + scatter + pair, rel=1e-12)


def test_the_heavier_of_the_end_and_middle_rank_sets_the_exposure(monkeypatch: pytest.MonkeyPatch) -> None:
    """An even split that counts the embedding and the loss as layers (Megatron's account_for_*_in_pipeline_split):
    L' = 34 on PP8, 5 per stage, the first and last 4 (megatron-core transformer_block.py's
    `get_num_layers_to_build`). DualPipe's end rank then holds 2 (4 P + T), its middle ranks 2 x 5 P = 10 P, less
    (T > P on Llama 3 8B): the step waits for the end rank, whose exposure is the hO45 hand value of the split
    without the flags (the end rank holds the same), not the middle rank's."""
    monkeypatch.setattr(step_assembly, "dp_windows", lambda *args, **kwargs: (0.0, 0.0))
    shape = load_model("llama3-8b")
    cluster = Cluster.resolve("dgx-h100-superpod").for_gpus(64).placed(64)
    p, t = float(local_layer_params(shape, 1)), shape.vocab_size * shape.hidden_size
    end, middle = 2.0 * (4 * p + t), 10.0 * p
    assert end > middle
    stack = TITAN.model_copy(update={"account_for_embedding_in_pipeline_split": True,
                                     "account_for_loss_in_pipeline_split": True,
                                     "pipeline_schedules": ("1f1b", "interleaved", "dualpipe", "zb-v")})
    r = estimate_training("llama3-8b", cluster, 64, tp=1, pp=8, vpp=1, seq_len=4096, global_batch=128, zero=0,
                          schedule="dualpipe", stack=stack, order="tp-cp-pp-dp")
    _, row = _8b(cluster, "dualpipe", zero=0)
    dp, stride = (float(v) for v in dp_groups(row)[:2])
    grad, fabric = stack.grad_reduce_bytes, cluster.fabric

    def exposed(held: float) -> float:
        return (collective_seconds(fabric, "all_reduce", held * grad, dp, stride)
                + collective_seconds(fabric, "all_reduce", held / dp * grad, 2.0, 8.0 * float(row.pp_stride) / 2.0))

    assert r.breakdown_s.dp_comm_exposed == pytest.approx(exposed(end), rel=1e-12)
    assert exposed(middle) < exposed(end)


def test_zb_v_holds_one_copy_so_sums_nothing() -> None:
    """ZB-V's rank holds chunks i and 2p - 1 - i of ONE model copy: no mirror rank holds the same chunk, so its
    forms get no pair sum; DualPipe's two copies do (`schedules.parameter_copies`)."""
    cluster = Cluster.resolve("dgx-h100-superpod").for_gpus(64).placed(64)
    for zero in (0, 1, 3):
        zb_v, row = _8b(cluster, "zb-v", zero=zero, vpp=2)
        assert rank_copies(row) == 1.0
        _, dual_row = _8b(cluster, "dualpipe", zero=zero)
        assert rank_copies(dual_row) == 2.0


def test_mirror_pair_spans_half_the_pipeline_on_floats_and_arrays() -> None:
    """The pair's all-reduce runs over 2 ranks PP x stage stride / 2 apart (the end pair's span), on one plan's
    floats and on arrays over plans alike."""
    cluster = Cluster.resolve("dgx-h100-superpod").for_gpus(64).placed(64)
    _, row = _8b(cluster, "dualpipe", zero=1)
    grad, fabric = TITAN.grad_reduce_bytes, cluster.fabric
    count = 3e8
    span = 8.0 * float(row.pp_stride) / 2.0
    expected = collective_seconds(fabric, "all_reduce", count * grad, 2.0, span)
    assert collective_seconds(fabric, "all_reduce", count * grad, 2.0, 2.0 * span) != expected  # (span matters)
    assert mirror_pair(fabric, grad, row)(count) == expected
    rows = PlanArrays(**{f.name: np.repeat(np.asarray(getattr(row, f.name)), 3) for f in fields(row)})
    assert np.allclose(mirror_pair(fabric, grad, rows)(np.full(3, count)), expected, rtol=1e-12, atol=0.0)


def test_a_grid_of_both_mirrored_schedules_sums_only_dualpipe_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    """A search grid holding DualPipe and ZB-V rows prices the pair sum (`mirror_pair`) for the grid, but a ZB-V row
    (one copy) must not take it: each row's exposed DP time, with no windows to hide behind, is its single
    estimate's, where a ZB-V plan alone never prices a pair."""
    monkeypatch.setattr(step_assembly, "dp_windows", lambda *args, **kwargs: (0.0, 0.0))
    stack = TITAN.model_copy(update={"pipeline_schedules": ("1f1b", "interleaved", "dualpipe", "zb-v")})
    found = search.search_plans("llama3-8b", "dgx-h100-superpod", 64, 4096, 128, top=200, stack=stack,
                                schedules=["dualpipe", "zb-v"])
    rows = {"dualpipe": 0, "zb-v": 0}
    for r in found.top:
        c = r.config
        if c.pp < 2:
            continue
        clear_one_plan_memo()
        e = estimate_training("llama3-8b", "dgx-h100-superpod", 64, tp=c.tp, pp=c.pp, vpp=c.vpp, cp=c.cp,
                              seq_len=4096, global_batch=128, micro_batch=c.micro_batch, recompute=c.recompute,
                              zero=c.zero, dtype=c.dtype, order=c.order, schedule=c.schedule, stack=stack)
        assert e.breakdown_s.dp_comm_exposed == pytest.approx(r.breakdown_s.dp_comm_exposed, rel=1e-12)
        rows[c.schedule] += r.breakdown_s.dp_comm_exposed > 0.0
    assert rows["dualpipe"] and rows["zb-v"]  # (both kinds in the grid, each exposing DP time)


def test_a_balanced_split_whose_end_rank_paces_prices_that_rank(monkeypatch: pytest.MonkeyPatch) -> None:
    """Llama 3 8B on TP2 PP4 DP8 under DualPipe on meta-llama3's balanced split (DualPipe given it): the step time's
    pace-setting rank is the end rank (7.5 layers per copy and the tables: `balanced_split`'s DualPipe terms), so
    the end rank holds 2 x 7.5 = 15 layers and both tables, the middle rank the 32 - 15 = 17 left (hO44's split,
    `stage_params.mirrored_rank_layers`). With no windows the exposure is the heavier one's all-reduce and pair sum:
    the end rank's 15 P + 2 T (T = V h / 2 > P: more than the middle rank's 17 P); read as a middle rank's pace, the
    end rank would hold the 17 (17 P + 2 T)."""
    monkeypatch.setattr(step_assembly, "dp_windows", lambda *args, **kwargs: (0.0, 0.0))
    stack = load_stack("meta-llama3").model_copy(
        update={"pipeline_schedules": ("1f1b", "interleaved", "dualpipe", "zb-v")})
    shape = load_model("llama3-8b")
    cluster = Cluster.resolve("dgx-h100-superpod").for_gpus(64).placed(64)
    plans = resolve_plan(shape, cluster, 64, 2, 4, None, 1, 1, 1, 2048, 256, 1, "none", 0, "bf16",
                         schedule="dualpipe")
    split = balanced_split(shape, cluster, plans, stack)
    plan = plans.one_row
    assert split is not None and tuple(map(float, split[3:5])) == (7.5, 0.5)  # (the end rank paces)
    p, t = float(local_layer_params(shape, 2)), shape.vocab_size * shape.hidden_size / 2
    end, middle = 15 * p + 2 * t, 17 * p
    assert end > middle
    r = estimate_training("llama3-8b", cluster, 64, tp=2, pp=4, vpp=1, seq_len=2048, global_batch=256, zero=0,
                          schedule="dualpipe", stack=stack)
    dp, stride = (float(v) for v in dp_groups(plan)[:2])
    grad, fabric = stack.grad_reduce_bytes, cluster.fabric
    expected = (collective_seconds(fabric, "all_reduce", end * grad, dp, stride)
                + collective_seconds(fabric, "all_reduce", end / dp * grad, 2.0, 4.0 * float(plan.pp_stride) / 2.0))
    assert r.breakdown_s.dp_comm_exposed == pytest.approx(expected, rel=1e-12)
