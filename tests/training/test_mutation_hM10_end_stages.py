"""Mutation wave 10 (hM10, session 39): the end stages that are not the heaviest, by hand.

`step_assembly.assemble_step` on one plan's floats (`FLOAT_OPS`) with per-layer terms written out (every term not
named is 0 s), the stage split from `stage_split.with_stage_split` itself, so each figure below is arithmetic:
* the even split with the embedding and the loss counted as a layer (Megatron-Core `get_num_layers_to_build`,
  `account_for_embedding_in_pipeline_split` / `account_for_loss_in_pipeline_split`): rank 0 builds a middle
  stage's layers less the embedding's one, the last rank those less the loss's, and the ranks add up to the
  model's layers (hM9's survivors D03 / D04);
* the DP exposure of an end stage on its own windows (`dp_exposure.end_stage_dp_forms`): the MoE layers' host
  block after the forward sync widens its forward window as it does the heaviest stage's, and ZeRO-1/2's exposure
  is the most over the stages (hM9's survivors C04 / C05).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from tests.training.conftest import ZeroTerms, counted_split_stack

from infraplan.catalog.stacks import Stack, load_stack
from infraplan.cluster import Cluster
from infraplan.scalar_path import FLOAT_OPS
from infraplan.training.one_plan_memo import cluster_pricing
from infraplan.training.plan import PlanArrays
from infraplan.training.stage_split import with_stage_split
from infraplan.training.step_assembly import assemble_step


def _step(layers: int, pp: int, micro_batches: int, stack: Stack, terms: dict[str, float], dispatch_s: float = 0.0,
          dp: int = 1, zero: int = 0) -> tuple[dict[str, Any], dict[str, Any]]:
    """The step of a 1F1B plan of `layers` layers on `pp` stages (its split from the stack) and the split."""
    shape: Any = SimpleNamespace(num_layers=layers)  # (the split reads the layer count alone without MTP)
    lt = ZeroTerms(with_stage_split(shape, stack, ZeroTerms(terms), float(pp)))
    plan = PlanArrays.one_plan(tp=1, pp=pp, dp=dp, cp=1, ep=1, etp=None, vpp=1, micro_batch=1,
                               global_batch=micro_batches * dp, seq_len=4096, recompute=0, zero=zero, dtype=0,
                               attention=0, order=0, sequence_parallel=0).one_row
    assert plan.micro_batches == micro_batches
    rates = cluster_pricing(Cluster.resolve("dgx-h100-superpod").for_gpus(pp * dp), stack).rates
    return assemble_step(plan, lt, lt, stack, dispatch_s, rates, FLOAT_OPS, False), lt


def _counted(**more: Any) -> Stack:
    """Megatron-Core's even split with the embedding and the loss each counted as a layer."""
    return load_stack("megatron-core-0.8").model_copy(update={"account_for_embedding_in_pipeline_split": True,
                                                              "account_for_loss_in_pipeline_split": True, **more})


def test_rank_zero_holds_a_layer_fewer_where_the_embedding_counts() -> None:
    """4 layers on PP 3 with both counted: L' = 6, 2 a rank: rank 0 holds 1 layer (+ the embedding), rank 1 2 (the
    heaviest), rank 2 1 (+ LM head and loss; embedding and head free here). A layer's forward 1 s, backward 2 s,
    3 micro-batches. Megatron's 1F1B order (warm-up p - 1 - r forwards, then one forward one backward, then the
    backwards), played by hand:
    rank 0 F1 [0,1] F2 [1,2] F3 [2,3], rank 1 F1 [1,3] F2 [3,5], rank 2 F1 [3,4] B1 [4,6] F2 [6,7] B2 [7,9],
    rank 1 B1 [6,10] F3 [10,12] B2 [12,16], rank 2 F3 [12,13] B3 [13,15], rank 1 B3 [16,20], rank 0 B1 [10,12]
    B2 [16,18] B3 [20,22]: the step is 22 s, 3 x 6 s of it the heaviest rank's work, the bubble 4 s
    (`three_rank_kinds_s`' hull: max(18, 22, 22, 16, 15, 9)). With rank 0 given the middle rank's 2 layers (and the
    last none) the same play ends at 24 s."""
    out, lt = _step(4, 3, 3, counted_split_stack(), {"compute_fwd": 1.0, "compute_bwd": 2.0})
    assert (lt["stage_layers"], lt["other_layers"], lt["first_is_heaviest"], lt["last_is_heaviest"]) == (2, 2, 0, 0)
    assert out["compute"] == 3 * 6.0
    assert out["pp_bubble"] == pytest.approx(4.0, rel=1e-12)
    assert out["step_time_s"] - out["optimizer"] == pytest.approx(22.0, rel=1e-12)


def test_the_last_rank_holds_what_the_others_leave_on_an_uneven_split() -> None:
    """6 layers on PP 3 with both counted: L' = 8 is not a multiple of 3, the split's ceil gives 3 a rank: rank 0
    holds 2 layers (+ embedding), rank 1 3 (the heaviest), rank 2 the 1 left (+ LM head and loss), not 3 - 1.
    A layer 1 + 2 s of GPU work, 0.75 s a dispatch: with PP every forward and backward of a micro-batch is its own
    sync interval, each stage's first kernel waiting one dispatch, 2 x 0.75 = 1.5 s a stage and micro-batch
    (`host_time.host_exposed_time`). The middle rank the heaviest on an uneven split: 1F1B's bubble is o, the other
    stages' time a micro-batch (`schedule_models`: sum_i t_i + (m - 1) max t_i): (2 x 3 + 1.5) + (1 x 3 + 1.5) =
    12 s. (The last rank priced on 2 layers and the middle stages on -1 layer at the heaviest's pace per layer,
    3 + 1.5 / 3, gave 11.5 s.)"""
    stack = _counted(batch_host_ops=0.0, loss_host_ops=0.0)
    out, lt = _step(6, 3, 3, stack, {"compute_fwd": 1.0, "compute_bwd": 2.0}, dispatch_s=0.75)
    assert (lt["stage_layers"], lt["other_layers"], lt["first_is_heaviest"], lt["last_is_heaviest"]) == (3, 3, 0, 0)
    # the heaviest stage's own dispatch waits (the optimizer's exposed launches join the host row since hK59)
    assert out["host_exposed"] - out["host_exposed_optimizer"] == pytest.approx(3 * 1.5, rel=1e-12)
    assert out["other"] == pytest.approx(0.0, abs=1e-12)  # (its own component since hK58: in `other` before)
    assert out["pp_bubble"] == pytest.approx(12.0, rel=1e-12)


def test_the_first_stage_with_the_shorter_forward_window_sets_zero_one_exposure() -> None:
    """4 layers on PP 2, DP 2, ZeRO-1, 3 micro-batches: each stage 2 layers; the last (LM head 1 s) the heaviest.
    A layer: forward 1 s of GPU work issued in 1.5 s of host time, backward 2 s, and a dropless MoE block of 0.2 s
    after its forward sync. The embedding: 0.5 s, 0.25 s each way, no host time. The parameter all-gather 5 s,
    no reduce-scatter; overlap 1.
    Forward windows (`dp_windows`: the layers' forward, the host time past the stage's GPU forward, the MoE
    blocks): the last stage 2 + (3 - 2) + 2 x 0.2 = 3.4 s (its LM head runs after the host: not in the run), the
    first 2 + (3 - 2.25) + 0.4 = 3.15 s (the embedding's GPU forward covers host time). ZeRO-1 exposes the
    gather past the forward window: 1.6 s on the last, 1.85 s on the first: the step's is the most, 1.85 s
    (without the first's MoE blocks 2.25 s; the least of the two 1.6 s). ZeRO-3 gathers again before the
    backward: 5 s past the 4 s backward window of either stage adds 1 s, 2.85 s."""
    terms = {"compute_fwd": 1.0, "compute_bwd": 2.0, "host_fwd": 1.5, "head_compute": 1.0, "head_gpu_fwd": 0.5,
             "head_gpu_bwd": 0.5, "embed_other": 0.5, "embed_gpu_fwd": 0.25, "embed_gpu_bwd": 0.25,
             "moe_host_sync": 1.0, "moe_host_fwd": 0.2, "gather": 5.0}
    out, lt = _step(4, 2, 3, load_stack("megatron-core-0.8"), terms, dp=2, zero=1)
    assert (lt["stage_layers"], lt["other_layers"], lt["first_is_heaviest"], lt["last_is_heaviest"]) == (2, 2, 0, 1)
    assert out["dp_comm_exposed"] == pytest.approx(5.0 - 3.15, rel=1e-12)
    zero3, _ = _step(4, 2, 3, load_stack("megatron-core-0.8"), terms | {"gather_layers": 5.0}, dp=2, zero=3)
    assert zero3["dp_comm_exposed"] == pytest.approx(5.0 - 3.15 + 1.0, rel=1e-12)
