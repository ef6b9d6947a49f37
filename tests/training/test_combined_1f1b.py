"""Megatron-Core's combined 1F1B beside its paired all-to-all (`training.combined_1f1b`, round 12a).

(c) the warm-up forwards and cool-down backwards run alone (megatron-core 0.16.1 schedules.py:765-787,
combined_1f1b.py:51-107): their all-to-all is exposed; (b) the pipeline transfers of each paired step run on the
pipeline group's NCCL streams beside the all-to-all and share its NIC where both cross nodes. Neither applies to
stacks without the overlap, nor to DualPipe.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.stacks import Stack, load_stack
from infraplan.cluster.cluster import Cluster
from infraplan.network.collectives import send_recv_seconds
from infraplan.ops.layer import Collective
from infraplan.scalar_path import FLOAT_OPS
from infraplan.training import combined_1f1b
from infraplan.training.estimate import estimate_training, evaluate_plans
from infraplan.training.expert_dispatch import ep_scale_out
from infraplan.training.one_plan_memo import clear_one_plan_memo
from infraplan.training.plan_rules import valid_mask
from infraplan.training.search import enumerate_plans

SMALL = dict(seq_len=4096, global_batch=512, micro_batch=1, dtype="bf16")


def _stack(on: bool) -> Stack:
    base = load_stack("nemo-26.04")  # EP inside DP (megatron-core <= 0.9): tp-cp-pp-dp runs any EP at PP > 1 (hE3)
    return base.model_copy(update={"moe": base.moe.model_copy(update={"overlap_ep_comm": on}),
                                   "expert_parallel_layout": "ep-inside-dp",
                                   "pipeline_split_divisible": False})  # (plans of any layer count, hR44)


def _step(monkeypatch: pytest.MonkeyPatch, unpaired: bool, nic: bool, on: bool = True, model: str = "qwen3-30b-a3b",
          gpus: int = 64, **plan: object) -> float:
    monkeypatch.setattr(combined_1f1b, "UNPAIRED_PASSES", unpaired)
    monkeypatch.setattr(combined_1f1b, "P2P_ON_EP_NIC", nic)
    return estimate_training(model, "dgx-h100-superpod", gpus, stack=_stack(on), **{**SMALL, **plan}).step_time_s


def test_warm_up_count_is_megatron_cores_first_rank() -> None:
    # 2 (p - 1) + (v - 1) p + 1, at most m v chunk passes (schedules.py:765-787, group size p)
    assert combined_1f1b.unpaired_passes(8.0, 4.0, 512.0, FLOAT_OPS) == 39.0  # H026: PP8 VP4, 512 micro-batches
    assert combined_1f1b.unpaired_passes(1.0, 1.0, 64.0, FLOAT_OPS) == 1.0  # no pipelining: one forward alone
    assert combined_1f1b.unpaired_passes(4.0, 2.0, 4.0, FLOAT_OPS) == 8.0  # every pass in the warm-up


def test_unpaired_passes_expose_the_whole_model_once_without_pipelining(monkeypatch: pytest.MonkeyPatch) -> None:
    # PP 1: the first micro-batch's forward and the last one's backward run alone, i.e. one micro-batch of the
    # step priced as without the overlap: 1 / m of the overlap's saving comes back
    plan = dict(pp=1, ep=16, recompute="selective")
    m = 512 / 64
    off = _step(monkeypatch, True, True, on=False, **plan)
    paired = _step(monkeypatch, False, True, **plan)
    with_rule = _step(monkeypatch, True, True, **plan)
    assert off > paired
    assert with_rule - paired == pytest.approx((off - paired) / m, rel=1e-9)


def test_pipeline_transfers_share_the_all_to_alls_nic_on_h026(monkeypatch: pytest.MonkeyPatch) -> None:
    # H026's plan: EP32 over four DGX H100 nodes (the all-to-all on the NICs, comm-bound pair) and pipeline
    # neighbours 32 ranks = four nodes apart: two transfers each way per paired step, 512 x 4 - 39 steps
    plan = dict(model="qwen3-235b-a22b", gpus=256, tp=2, pp=8, vpp=4, ep=32, etp=1, order="tp-cp-dp-pp",
                global_batch=8192, dtype="fp8")
    hidden = _step(monkeypatch, True, False, **plan)
    shared = _step(monkeypatch, True, True, **plan)
    fabric = Cluster.resolve("dgx-h100-superpod").for_gpus(256).fabric
    transfer = send_recv_seconds(fabric, 4096 * 4096 * 2 / 2, 2 * 16)  # one TP rank's activation, PP stride 32
    assert shared - hidden == pytest.approx((512 * 4 - 39) * 2 * transfer, rel=1e-9)


def test_no_nic_cost_where_pipeline_neighbours_share_a_node(monkeypatch: pytest.MonkeyPatch) -> None:
    # PP stride 2 (order tp-cp-pp-dp): the transfers stay on NVLink beside a comm-bound EP32 all-to-all on the NICs
    plan = dict(model="qwen3-235b-a22b", gpus=256, tp=2, pp=4, vpp=2, ep=32, etp=1, order="tp-cp-pp-dp",
                global_batch=8192, dtype="fp8")
    assert _step(monkeypatch, True, True, **plan) == _step(monkeypatch, True, False, **plan)


def test_the_all_to_all_is_on_the_nics_only_across_nodes() -> None:
    fabric = Cluster.resolve("dgx-h100-superpod").for_gpus(256).fabric

    def records(group: float, stride: float) -> tuple[Collective, ...]:
        return (Collective("all_to_all", "ep", 1e8, group, stride, 2.0, True),)

    assert ep_scale_out(fabric, records(8, 1), one=True) == 0.0  # one DGX H100: NVLink
    assert ep_scale_out(fabric, records(32, 1), one=True) == 1.0  # four nodes
    assert ep_scale_out(fabric, records(8, 2), one=True) == 1.0  # stride 2: two nodes


def test_neither_rule_touches_other_stacks_or_dualpipe(monkeypatch: pytest.MonkeyPatch) -> None:
    interleaved = dict(pp=4, vpp=2, ep=16)
    assert (_step(monkeypatch, True, True, on=False, **interleaved)
            == _step(monkeypatch, False, False, on=False, **interleaved))
    dualpipe = dict(pp=4, ep=16, schedule="dualpipe")
    assert _step(monkeypatch, True, True, **dualpipe) == _step(monkeypatch, False, False, **dualpipe)


def test_one_plan_equals_its_grid_row_bit_for_bit() -> None:
    # Qwen3-235B on 256 H100: comm-bound pairs whose transfers share the NIC, and compute-bound ones
    shape, cluster = load_model("qwen3-235b-a22b"), Cluster.resolve("dgx-h100-superpod").for_gpus(256)
    profile = _stack(True)
    plans = enumerate_plans(shape, 256, 4096, 8192, ["fp8"], 8)
    plans = plans.take(valid_mask(shape, plans).nonzero()[0])
    combined = (plans.ep > 1) & (plans.pp > 1) & (plans.vpp > 1)
    picked = plans.take(np.nonzero(combined)[0][::max(1, int(combined.sum()) // 12)][:12])
    picked = dataclasses.replace(picked, recompute=np.zeros(len(picked), dtype=np.int64))
    assert len(picked) >= 4
    grid = evaluate_plans(shape, cluster, picked, profile)
    for i in range(len(picked)):
        clear_one_plan_memo()
        alone = evaluate_plans(shape, cluster, picked.take([i]), profile)
        for key in ("step_time_s", "ep_comm"):
            assert np.asarray(alone[key]).item() == np.asarray(grid[key])[i], key
