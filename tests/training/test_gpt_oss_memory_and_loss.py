"""GPT-OSS in training: what its clamp stores for backward and what its recipe's loss moves (issue 13).

The clamp keeps the fc1 output (its `clamp_backward` input) beside the clamped copy the activation saves
(`ops.gpt_oss_experts.clamp_saved_elements`); Megatron-Core's native fused loss, which the GPT-OSS and Qwen3 MoE
recipes run, materialises the fp32 logits in four compiled pieces (`training.layer_time.NATIVE_CROSS_ENTROPY_PASSES`).
"""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.stacks import load_stack
from infraplan.cluster import Cluster
from infraplan.hardware.kernels import KernelRates
from infraplan.ops.gpt_oss_experts import clamp_saved_elements
from infraplan.ops.params import activation_terms_per_token_layer
from infraplan.training.enums import Attention, Dtype, RankOrder, Recompute
from infraplan.training.layer_time import CROSS_ENTROPY_PASSES, NATIVE_CROSS_ENTROPY_PASSES, head_times
from infraplan.training.plan import PlanArrays
from infraplan.training.recompute_modules import stored_activation_terms
from infraplan.validation.sets import frontier_row_stack, load_frontier_rows


def test_the_clamp_stores_a_second_copy_of_the_fc1_output() -> None:
    shape = load_model("gpt-oss-120b")  # top-4 of 128 experts, f = h = 2880, gated
    assert clamp_saved_elements(shape) == 2.0 * 2880
    terms = activation_terms_per_token_layer(shape, 1, 0, 4096, False)
    assert terms["expert_clamped_fc1_out"] == pytest.approx(4 * 2 * 2880 * 2.0)  # k x 2f bf16 per token
    assert terms["expert_clamped_fc1_out"] == terms["expert_fc1_out"]
    assert activation_terms_per_token_layer(shape, 2, 1, 4096, False)["expert_clamped_fc1_out"] == pytest.approx(
        terms["expert_clamped_fc1_out"] / 2)  # split over TP like the fc1 output
    for name in ("mixtral-8x7b", "qwen3-30b-a3b", "llama3-8b"):  # no clamp: nothing more is stored
        assert clamp_saved_elements(load_model(name)) == 0.0
        assert "expert_clamped_fc1_out" not in activation_terms_per_token_layer(load_model(name), 1, 0, 4096, False)


@pytest.mark.parametrize("module", ["moe_act", "moe"])
def test_recomputing_the_activation_drops_the_clamped_copy(module: str) -> None:
    terms = activation_terms_per_token_layer(load_model("gpt-oss-120b"), 1, 0, 4096, False)
    stack = load_stack("nemo-26.04").model_copy(update={"recompute_modules": (module,)})
    kept = stored_activation_terms(terms, np.array(True), np.array(False), stack)
    assert kept["expert_clamped_fc1_out"] == 0.0 and kept["expert_act_out"] == 0.0
    assert stored_activation_terms(terms, np.array(False), np.array(False), stack)["expert_clamped_fc1_out"] > 0.0


def _head(impl: str) -> dict[str, float]:
    plan = PlanArrays.build(tp=1, pp=1, dp=8, cp=1, ep=8, vpp=1, micro_batch=1, global_batch=8, seq_len=4096,
                            recompute=Recompute.NONE, zero=0, dtype=Dtype.BF16, attention=Attention.FLASH,
                            order=RankOrder.TP_CP_DP_PP)
    rates = KernelRates.for_dtype(Cluster.resolve("dgx-h100-superpod").accelerator, "bf16")
    stack = load_stack("nemo-26.04").model_copy(update={"cross_entropy_impl": impl})
    out = head_times(load_model("gpt-oss-120b"), rates, plan.one_row, (rates.matmul_flops_per_s, 2.0), stack,
                     26e-6)
    return {k: float(v) for k, v in out.items()}


def test_the_native_loss_moves_twice_the_fused_kernels_bytes_in_more_launches() -> None:
    te, native = _head("te"), _head("native")
    logits = 4096 * 201088  # tokens x local vocabulary (TP 1)
    assert NATIVE_CROSS_ENTROPY_PASSES[0] == 2.0 * CROSS_ENTROPY_PASSES[True][0]
    rates = KernelRates.for_dtype(Cluster.resolve("dgx-h100-superpod").accelerator, "bf16")
    extra_bytes = (NATIVE_CROSS_ENTROPY_PASSES[0] - CROSS_ENTROPY_PASSES[True][0]) * logits
    extra_launches = NATIVE_CROSS_ENTROPY_PASSES[1] - CROSS_ENTROPY_PASSES[True][1]
    assert native["head_other"] - te["head_other"] == pytest.approx(
        extra_bytes / rates.memory_bytes_per_s + extra_launches * rates.kernel_overhead_s)
    assert native["head_compute"] == te["head_compute"]  # the LM head GEMMs are the same
    assert native["head_host_fwd"] + native["head_host_bwd"] > te["head_host_fwd"] + te["head_host_bwd"]
    # unfused (no `fused_cross_entropy`) keeps its own passes whatever the impl says
    assert load_stack("nemo-26.04").cross_entropy_impl == "te"


def test_the_frontier_rows_run_the_loss_their_recipe_sets() -> None:
    impl = {r["id"]: frontier_row_stack(r, perf_config=False).cross_entropy_impl for r in load_frontier_rows()}
    assert {impl[i] for i in ("H021", "H022", "H023")} == {"native"}  # GPT-OSS
    # H022 / H023 run their performance configuration's te loss (_benchmark_common, perf_recipes/_common.py:68)
    assert {frontier_row_stack(r).cross_entropy_impl for r in load_frontier_rows() if r["id"] in ("H022", "H023")} \
        == {"te"}
    # Llama 3 / 3.1, DeepSeek-V3, Qwen3 MoE (recipes/qwen/qwen3_moe.py:80/:194 set "te")
    assert {impl[i] for i in ("H004", "H012", "H015", "H017", "H025", "H026", "H029")} == {"te"}
