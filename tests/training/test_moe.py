"""MoE physics in training: expert sharding, EP all-to-all placement, routing imbalance, capacity, overlap."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.stacks import MoeRouting, load_stack
from infraplan.ops.params import activation_terms_per_token_layer, local_expert_params
from infraplan.training.estimate import estimate_training

STACK = load_stack("nemo-26.04").model_copy(update={"pipeline_split_divisible": False})  # 61 layers on PP4 (hR44)
# EP inside DP (megatron-core <= 0.9): tp-cp-pp-dp at PP > 1 with EP over DP runs there, not under 0.16 (hE3)
INSIDE_DP = STACK.model_copy(update={"expert_parallel_layout": "ep-inside-dp"})
DSV3 = dict(tp=1, pp=4, ep=64, vpp=1, seq_len=4096, global_batch=1024, micro_batch=1, dtype="mxfp8", zero=1)


def _run(order: str = "tp-cp-dp-pp", stack=STACK, **kw):
    return estimate_training("deepseek-v3", "gb200-nvl72-superpod", 256, order=order, stack=stack, **{**DSV3, **kw})


def test_expert_memory_is_sharded_over_ep() -> None:
    shape = load_model("deepseek-v3")
    one, sixty_four = (float(local_expert_params(shape, 1, 4, ep)) for ep in (1, 64))
    assert sixty_four == pytest.approx(one / 64, rel=1e-12)
    small, large = _run(ep=8), _run(ep=64)
    assert large.memory_breakdown_bytes.weights < small.memory_breakdown_bytes.weights / 3  # dense part replicated


def test_ep_all_to_all_is_priced_by_where_the_group_runs() -> None:
    """EP64 inside one NVL72 domain (Megatron order, stride 1) beats EP64 strided over PP across racks."""
    inside = _run(order="tp-cp-dp-pp", stack=INSIDE_DP)  # EP peers adjacent: 64 GPUs of one 72-GPU NVLink domain
    across = _run(order="tp-cp-pp-dp", stack=INSIDE_DP)  # EP peers 4 ranks apart: 256 GPUs, four racks, over the NICs
    assert inside.breakdown_s.ep_comm * 3 < across.breakdown_s.ep_comm


def test_routing_imbalance_and_capacity_slow_the_step() -> None:
    balanced = _run()
    skewed = _run(stack=STACK.model_copy(update={"moe": MoeRouting(load_imbalance=1.25)}))
    capped = _run(stack=STACK.model_copy(update={"moe": MoeRouting(load_imbalance=2.0, capacity_factor=1.25)}))
    assert skewed.breakdown_s.ep_comm == pytest.approx(1.25 * balanced.breakdown_s.ep_comm, rel=0.05)
    assert skewed.breakdown_s.compute > balanced.breakdown_s.compute * 1.05
    assert capped.step_time_s == pytest.approx(skewed.step_time_s, rel=1e-12)  # dropping pads to c x the mean


def test_deepep_overlap_hides_dispatch_behind_compute_at_an_sm_cost() -> None:
    plain = _run()
    overlap = _run(stack=STACK.model_copy(update={"moe": STACK.moe.model_copy(update={
        "dispatch_overlap_fraction": 1.0, "overlap_sm_fraction": 20 / 132})}))  # (the stack's expert GEMMs kept)
    hidden = plain.breakdown_s.ep_comm - overlap.breakdown_s.ep_comm
    assert hidden > 0.5 * plain.breakdown_s.ep_comm
    extra = overlap.breakdown_s.compute - plain.breakdown_s.compute
    assert extra == pytest.approx(hidden * (20 / 132) / (1 - 20 / 132), rel=1e-6)
    assert overlap.step_time_s < plain.step_time_s


def test_moe_step_is_finite_for_every_frontier_moe_model() -> None:
    for model, ep in (("qwen3-30b-a3b", 16), ("gpt-oss-120b", 8), ("qwen3-235b-a22b", 32)):
        r = estimate_training(model, "dgx-h100-superpod", 64, tp=1, pp=1, ep=ep, seq_len=4096, global_batch=256,
                              dtype="fp8", order="tp-cp-dp-pp", stack=STACK)
        assert np.isfinite(r.step_time_s) and r.breakdown_s.ep_comm > 0


def test_lm_head_runs_in_bf16_under_every_low_precision_recipe() -> None:
    """Megatron-Core's output layer sits outside the fp8 / fp4 autocast: its GEMM time does not change."""
    from infraplan.cluster import Cluster
    from infraplan.hardware.kernels import KernelRates
    from infraplan.training.enums import Attention, Dtype, RankOrder, Recompute
    from infraplan.training.plan import PlanArrays
    from infraplan.training.step_time import head_times

    shape = load_model("deepseek-v3")
    rates = KernelRates.for_dtype(Cluster.resolve("gb200-nvl72").accelerator, "bf16")
    plan = PlanArrays.build(tp=1, pp=4, dp=64, cp=1, ep=64, vpp=1, micro_batch=1, global_batch=4096, seq_len=4096,
                            recompute=Recompute.NONE, zero=1, dtype=Dtype.MXFP8, attention=Attention.FLASH,
                            order=RankOrder.TP_CP_DP_PP)
    fast = (np.array([10.0 * rates.matmul_flops_per_s]), np.array([1.03]))
    bf16 = (np.array([rates.matmul_flops_per_s]), np.array([2.0]))
    assert head_times(shape, rates, plan, fast)["head_compute"] == pytest.approx(
        head_times(shape, rates, plan, bf16)["head_compute"])
    # the routing passes are priced: a mxfp8 DeepSeek-V3 step has them in its memory-bound time
    assert _run().breakdown_s.other > 0.0


def test_routing_imbalance_and_capacity_grow_the_busiest_ranks_expert_activations() -> None:
    """The busiest EP rank saves its routed experts' tensors for the tokens it receives (load_imbalance x the mean)
    or for its padded buffers (capacity_factor x the mean): the same factor as its expert GEMMs' time."""
    shape = load_model("qwen3-30b-a3b")
    terms = activation_terms_per_token_layer(shape, 1, True, 4096, False)
    routed = 4096 * shape.num_layers * (terms["expert_fc1_out"] + terms["expert_act_out"])  # bf16, PP1, mb1
    kw = dict(tp=1, pp=1, ep=8, seq_len=4096, global_batch=64, dtype="bf16", order="tp-cp-dp-pp")

    def acts(moe: MoeRouting) -> float:
        stack = STACK.model_copy(update={"moe": STACK.moe.model_copy(update=moe.model_dump(exclude_unset=True))})
        return estimate_training("qwen3-30b-a3b", "dgx-b200", 8, stack=stack, **kw).memory_breakdown_bytes.activations

    balanced = acts(MoeRouting())
    assert acts(MoeRouting(load_imbalance=1.25)) - balanced == pytest.approx(0.25 * routed, rel=1e-9)
    assert acts(MoeRouting(load_imbalance=2.0, capacity_factor=2.0)) - balanced == pytest.approx(routed, rel=1e-9)


def test_moe_answers_say_the_routing_they_assume_and_no_longer_leave_mtp_out_of_memory() -> None:
    kw = dict(tp=1, pp=2, ep=8, seq_len=4096, global_batch=64, dtype="bf16", order="tp-cp-dp-pp")

    def notes(**moe: float) -> list[str]:
        stack = STACK.model_copy(update={"moe": STACK.moe.model_copy(update=moe), "mtp_num_layers": 1})
        return estimate_training("qwen3-30b-a3b", "dgx-b200", 16, stack=stack, **kw).notes

    assert any(n.startswith("MoE routing priced force-balanced") for n in notes())
    assert any("receives 1.25x the mean tokens" in n for n in notes(load_imbalance=1.25))
    assert any(n.startswith("MoE token dropping") and "1.5x the mean" in n for n in notes(capacity_factor=1.5))
    assert not any("MTP" in n for n in notes())  # held in the memory per GPU (tests/training/test_mtp_memory.py)
    dense = estimate_training("llama3-8b", "dgx-b200", 8, tp=1, pp=1, seq_len=4096, global_batch=64)
    assert not any("MoE" in n or "MTP" in n for n in dense.notes)


def test_an_ep_group_over_the_scale_out_network_is_said() -> None:
    """EP64 of 64 neighbouring GPUs stays in its NVL72 rack (said so, as search says it of its best plan, hV41); EP64
    4 ranks apart spans 4 racks: 48 of each rank's 64 peers (75 %) are behind the NICs."""
    inside = [n for n in _run(order="tp-cp-dp-pp").notes if n.startswith("EP ")]
    assert len(inside) == 1 and inside[0].startswith("EP 64 (peers 1 rank apart) lies inside one 72-GPU"), inside
    across = [n for n in _run(order="tp-cp-pp-dp", stack=INSIDE_DP).notes if n.startswith("EP ")]
    assert across == ["EP 64 (peers 4 ranks apart) is priced over 4 scale-up domains of 72 GPUs, 16 of its ranks in "
                      "each: 75% of each rank's all-to-all crosses the scale-out network"]
