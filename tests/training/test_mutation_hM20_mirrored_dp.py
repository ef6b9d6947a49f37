"""Mutation wave hM20 (session 44) on `training.mirrored_dp`: the mirror pair's span where it crosses a domain, and a
middle rank that outweighs the end rank under ZeRO-0 (hM19's cases kept the pair inside one node and the end rank
heavier)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from tests.training.conftest import TORCHTITAN_EVEN

from infraplan.catalog import load_model
from infraplan.catalog.stacks import load_stack
from infraplan.cluster import Cluster
from infraplan.network.collectives import collective_seconds
from infraplan.ops.params import local_layer_params
from infraplan.scalar_path import FLOAT_OPS
from infraplan.training import step_assembly
from infraplan.training.enums import Schedule
from infraplan.training.estimate import estimate_training
from infraplan.training.memory import WEIGHT_BYTES
from infraplan.training.mirrored_dp import mirror_pair, mirrored_rank_stages
from infraplan.training.optimizer_step import mirrored_rank_params
from infraplan.training.plan import PlanArrays

TITAN = TORCHTITAN_EVEN


pytestmark = pytest.mark.usefixtures("fresh_one_plan_memo")  # the one-plan memo forgotten around each test


def test_a_pp16_mirror_pair_crosses_the_node() -> None:
    """PP16 at stage stride 1 on 8-GPU nodes: the end pair (ranks 0 and 15) spans 16 ranks, so the 2-rank all-reduce
    runs 8 apart, across the NICs, not 1 apart inside NVLink; floats and arrays over plans alike."""
    fabric = Cluster.resolve("dgx-h100-superpod").for_gpus(128).placed(128).fabric
    grad, count = TITAN.grad_reduce_bytes, 3e8
    across = collective_seconds(fabric, "all_reduce", count * grad, 2.0, 8.0)
    inside = collective_seconds(fabric, "all_reduce", count * grad, 2.0, 1.0)
    assert across > 2.0 * inside  # (one NIC against the NVLink pair)
    one: Any = SimpleNamespace(tp=1.0, pp=16.0, pp_stride=1.0)
    assert mirror_pair(fabric, grad, one)(count) == pytest.approx(across, rel=1e-12)
    rows: Any = SimpleNamespace(tp=np.ones(3), pp=np.full(3, 16.0), pp_stride=np.ones(3))
    np.testing.assert_allclose(mirror_pair(fabric, grad, rows)(np.full(3, count)), across, rtol=1e-12, atol=0.0)


def test_a_heavier_middle_rank_sets_the_zero0_exposure(monkeypatch: pytest.MonkeyPatch) -> None:
    """Llama 2 70B (80 layers, vocab 32,000: T = V h < P) on PP8 with the embedding and the loss counted as layers:
    L' = 82, 11 per stage, the first and last 10. DualPipe's end rank holds 2 (10 P + T), a middle rank 2 x 11 P,
    more: with no windows, ZeRO-0's exposure is the middle rank's DP all-reduce and pair sum."""
    monkeypatch.setattr(step_assembly, "dp_windows", lambda *args, **kwargs: (0.0, 0.0))
    shape = load_model("llama2-70b")
    cluster = Cluster.resolve("dgx-h100-superpod").for_gpus(64).placed(64)
    p, t = float(local_layer_params(shape, 1)), shape.vocab_size * shape.hidden_size
    end, middle = 2.0 * (10 * p + t), 22.0 * p
    assert middle > end
    stack = TITAN.model_copy(update={"account_for_embedding_in_pipeline_split": True,
                                     "account_for_loss_in_pipeline_split": True,
                                     "pipeline_schedules": ("1f1b", "interleaved", "dualpipe", "zb-v")})
    r = estimate_training("llama2-70b", cluster, 64, tp=1, pp=8, vpp=1, seq_len=4096, global_batch=128, zero=0,
                          schedule="dualpipe", stack=stack, order="tp-cp-pp-dp")
    grad, fabric = stack.grad_reduce_bytes, cluster.fabric

    def exposed(held: float) -> float:  # DP 8 at stride 8 (tp-cp-pp-dp), the pair 8 x 1 / 2 apart
        return (collective_seconds(fabric, "all_reduce", held * grad, 8.0, 8.0)
                + collective_seconds(fabric, "all_reduce", held / 8.0 * grad, 2.0, 4.0))

    assert r.breakdown_s.dp_comm_exposed == pytest.approx(exposed(middle), rel=1e-12)
    assert exposed(end) < exposed(middle)


def test_a_heavier_middle_rank_gathers_its_own_layers_under_zero3(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same Llama 2 70B split under ZeRO-3: the middle rank's 2 x 11 = 22 local layers, each gathered (twice) and
    reduce-scattered over DP 8 and its shard summed with the mirror's, one layer at a time (hM19's ZeRO-3 form)."""
    monkeypatch.setattr(step_assembly, "dp_windows", lambda *args, **kwargs: (0.0, 0.0))
    shape = load_model("llama2-70b")
    cluster = Cluster.resolve("dgx-h100-superpod").for_gpus(64).placed(64)
    p = float(local_layer_params(shape, 1))
    stack = TITAN.model_copy(update={"account_for_embedding_in_pipeline_split": True,
                                     "account_for_loss_in_pipeline_split": True,
                                     "pipeline_schedules": ("1f1b", "interleaved", "dualpipe", "zb-v")})
    r = estimate_training("llama2-70b", cluster, 64, tp=1, pp=8, vpp=1, seq_len=4096, global_batch=128, zero=3,
                          schedule="dualpipe", stack=stack, order="tp-cp-pp-dp")
    grad, fabric = stack.grad_reduce_bytes, cluster.fabric
    held, layers = 22.0 * p, 22.0
    gather = layers * collective_seconds(fabric, "all_gather", held / layers * WEIGHT_BYTES, 8.0, 8.0)
    scatter = layers * collective_seconds(fabric, "reduce_scatter", held / layers * grad, 8.0, 8.0)
    pair = layers * collective_seconds(fabric, "all_reduce", held / 8.0 / layers * grad, 2.0, 4.0)
    assert r.breakdown_s.dp_comm_exposed == pytest.approx(2.0 * gather + scatter + pair, rel=1e-12)


def test_zb_v_end_bin_leaves_room_for_its_tables_as_the_optimizer_counts() -> None:
    """Llama 3 8B, ZB-V PP8 on deepspeed's balanced split with a middle bin pacing at X = 5 layers (7 x 5 = 35 > 32)
    and the end bin's tables worth e = 1.5 layers: the end rank holds floor(X - e) = 3 layers and both tables,
    3 P + 2 T (`stage_params.mirrored_rank_layers`' ASSUMPTION), not 5 P + 2 T; the most any rank holds is what
    `optimizer_step.mirrored_rank_params` steps (the module docstring: the traffic moves what the optimizer steps)."""
    shape = load_model("llama3-8b")
    stack = load_stack("deepspeed")
    assert stack.pipeline_split == "balanced"
    plan = PlanArrays.one_plan(tp=1, pp=8, dp=8, cp=1, ep=1, etp=None, vpp=2, micro_batch=1, global_batch=128,
                               seq_len=4096, recompute=0, zero=0, dtype=0, attention=0, order=0, sequence_parallel=1,
                               schedule=int(Schedule.ZB_V)).one_row
    p, t = float(local_layer_params(shape, 1)), float(shape.vocab_size * shape.hidden_size)
    heaviest = (5.0, 0.0, 0.0, 1.5)  # (layers per copy, MTP modules, end rank paces, end bin's tables in layers)
    stages = mirrored_rank_stages(shape, plan, stack, heaviest, FLOAT_OPS)
    (end_params, _, end_layers, _), (middle_params, _, middle_layers, _) = stages
    assert (end_layers, middle_layers) == (3.0, 5.0)
    assert end_params == pytest.approx(3 * p + 2 * t, rel=1e-12)
    assert middle_params == pytest.approx(5 * p, rel=1e-12)
    ends: Any = SimpleNamespace(shape=shape)
    assert max(end_params, middle_params) == mirrored_rank_params(ends, plan, stack, FLOAT_OPS, heaviest)
