"""The EP all-to-all hidden behind the shared experts' GEMMs (`MoeRouting.shared_expert_overlap`: Megatron-Core
`moe_shared_expert_overlap`, 0.16.1 moe/moe_layer.py:238-292; HAI-LLM's DeepSeek-V2 run, arXiv:2405.04434 Sec. 3.1.3):
per phase min(all-to-all, shared GEMMs) is hidden, not the layer's compute; off by default in every shipped stack."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.stacks import load_stack
from infraplan.cluster import Cluster
from infraplan.hardware import KernelRates
from infraplan.ops.precision import recipe
from infraplan.training.enums import Dtype, RankOrder, Recompute
from infraplan.training.estimate import estimate_training
from infraplan.training.layer_time import layer_times_but_ep
from infraplan.training.plan import PlanArrays
from infraplan.training.step_time import layer_times, step_time

BASE = load_stack("megatron-core-0.8").model_copy(update={"pipeline_split_divisible": False})  # 61 layers, PP8
SHARED = BASE.model_copy(update={"moe": BASE.moe.model_copy(update={"shared_expert_overlap": True})})


def _plan(**over: int) -> PlanArrays:
    fields = dict(tp=1, pp=1, dp=16, cp=1, ep=16, etp=None, vpp=1, micro_batch=1, global_batch=64, seq_len=4096,
                  recompute=int(Recompute.NONE), zero=1, dtype=int(Dtype.BF16), attention=0,
                  order=int(RankOrder.TP_CP_DP_PP), sequence_parallel=1)
    fields.update(over)
    return PlanArrays.one_plan(**fields)  # type: ignore[arg-type]


def _terms(model: str, stack: object) -> tuple[dict, dict]:
    shape = load_model(model)
    cluster = Cluster.resolve("dgx-h100-superpod").for_gpus(16)  # EP16 over two nodes: the all-to-all is long
    rates = KernelRates.for_dtype(cluster.accelerator, "bf16")
    bf16 = recipe("bf16")
    precision = (bf16.gemm_flops_per_s(cluster.accelerator), bf16.operand_bytes)
    plan = _plan().one_row
    raw, _ = layer_times_but_ep(shape, rates, cluster.fabric, plan, precision, 0.0, stack)  # type: ignore[arg-type]
    return raw, layer_times(shape, rates, cluster.fabric, plan, precision, 0.0, stack)  # type: ignore[arg-type]


def test_no_shipped_stack_overlaps_the_shared_experts() -> None:
    for name in ("nemo-26.04", "nemo-24.12", "megatron-core-0.8", "deepseek-v3", "torchtitan"):
        assert load_stack(name).moe.shared_expert_overlap is False


def test_hidden_all_to_all_is_the_shared_experts_gemm_time_per_phase() -> None:
    # DeepSeek-V3 (one shared expert of 2,048) at EP16 on two DGX H100: the all-to-all outlasts the shared GEMMs
    raw_off, off = _terms("deepseek-v3", BASE)
    raw_on, on = _terms("deepseek-v3", SHARED)
    assert "shared_fwd" not in raw_off and "shared_fwd" not in off  # off: no new key anywhere
    assert "shared_fwd" not in on  # consumed by the all-to-all's pricing, never a step term
    for phase in ("fwd", "bwd"):
        shared = float(raw_on[f"shared_{phase}"])
        assert 0.0 < shared < float(off[f"ep_{phase}"])
        assert float(on[f"ep_{phase}"]) == pytest.approx(float(off[f"ep_{phase}"]) - shared, rel=1e-12)
        assert float(on[f"compute_{phase}"]) == float(off[f"compute_{phase}"])  # a side stream: no SMs taken


def test_full_recompute_hides_the_rerun_dispatch_beside_the_rerun_shared_forward() -> None:
    """Under full recompute the backward re-runs the forward's block (its dispatch beside the shared experts'
    forward) before its own: the backward hides the forward's saving again (hD62: the phases' GEMM terms are the
    phase's own, `training.shared_expert_side` composes them; was the re-run forward added to `shared_bwd`)."""
    shape = load_model("deepseek-v3")
    cluster = Cluster.resolve("dgx-h100-superpod").for_gpus(16)
    rates = KernelRates.for_dtype(cluster.accelerator, "bf16")
    bf16 = recipe("bf16")
    precision = (bf16.gemm_flops_per_s(cluster.accelerator), bf16.operand_bytes)
    none, full = _plan().one_row, _plan(recompute=int(Recompute.FULL)).one_row
    raw_none, _ = layer_times_but_ep(shape, rates, cluster.fabric, none, precision, 0.0, SHARED)
    raw_full, _ = layer_times_but_ep(shape, rates, cluster.fabric, full, precision, 0.0, SHARED)
    assert float(raw_full["shared_bwd"]) == pytest.approx(float(raw_none["shared_bwd"]))
    on = layer_times(shape, rates, cluster.fabric, full, precision, 0.0, SHARED)  # type: ignore[arg-type]
    off = layer_times(shape, rates, cluster.fabric, full, precision, 0.0, BASE)  # type: ignore[arg-type]
    hidden_fwd = float(off["ep_fwd"]) - float(on["ep_fwd"])
    assert hidden_fwd == pytest.approx(float(raw_none["shared_fwd"]), rel=1e-12)  # (shorter than the dispatch)
    assert float(off["ep_bwd"]) - float(on["ep_bwd"]) == pytest.approx(
        hidden_fwd + float(raw_none["shared_bwd"]), rel=1e-12)


def test_no_shared_expert_hides_nothing() -> None:
    _, off = _terms("mixtral-8x7b", BASE)
    raw_on, on = _terms("mixtral-8x7b", SHARED)
    assert float(raw_on["shared_fwd"]) == 0.0 and float(raw_on["shared_bwd"]) == 0.0
    for key in ("ep_fwd", "ep_bwd", "compute_fwd", "compute_bwd"):
        assert float(on[key]) == float(off[key])


def test_search_and_single_estimate_agree_and_the_step_shortens() -> None:
    shape = load_model("deepseek-v3")
    cluster = Cluster.resolve("dgx-h100-superpod").for_gpus(256)
    plans = PlanArrays.build(tp=np.array([1, 2]), pp=8, dp=np.array([32, 16]), cp=1, ep=np.array([32, 16]), vpp=1,
                             micro_batch=1, global_batch=1024, seq_len=4096, recompute=Recompute.SELECTIVE, zero=1,
                             dtype=Dtype.BF16, attention=0, order=RankOrder.TP_CP_DP_PP)
    off = step_time(shape, cluster, plans, BASE)["step_time_s"]
    on = step_time(shape, cluster, plans, SHARED)["step_time_s"]
    assert np.all(on < off)
    one = estimate_training("deepseek-v3", "dgx-h100-superpod", 256, tp=1, pp=8, ep=32, seq_len=4096,
                            global_batch=1024, micro_batch=1, zero=1, recompute="selective", dtype="bf16",
                            stack=SHARED, vpp=1, order="tp-cp-dp-pp")
    assert one.step_time_s == pytest.approx(float(on[0]), rel=1e-9)
