"""fp8 dot-product attention as Megatron-Core 0.16.1 and Transformer Engine 2.14 run it (hA, session 57): only under
the per-tensor recipes, its casts by recipe and at each tensor's width, and what the fused attention saves for
backward (`training.fp8_dpa`). Checked failing before the change: MXFP8 plans ran fp8 attention, current scaling
paid the delayed recipe's O dequantize and dQKV dequantize, MLA's Q / K / V / O were cast at their mean width, and
the stored activations counted neither the fused attention's own O beside a narrowed projection input nor fp8
attention's 1-byte Q / K / V (on the base tree every test fails but the selective / bf16 guard; with each toggle of
`training.fp8_dpa` / `attention_core.FP8_DPA_RECIPE_CASTS` False its tests fail)."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_accelerator, load_model
from infraplan.catalog.stacks import load_stack
from infraplan.hardware.kernels import KernelRates, memory_bound_time
from infraplan.ops.params import activation_terms_per_token_layer, quantized_gemm_inputs
from infraplan.ops.precision import RECIPES
from infraplan.training.activation_memory import activation_bytes_per_token_layer
from infraplan.training.attention_core import FP8_DPA_CAST_KERNELS, attention_core_times, fp8_cast_times
from infraplan.training.enums import Attention, Dtype, RankOrder, Recompute
from infraplan.training.plan import PlanArrays
from infraplan.training.recompute_modules import stored_activation_terms

SEQ = 8192


pytestmark = pytest.mark.usefixtures("fresh_one_plan_memo")  # the one-plan memo forgotten around each test


def _stack(name: str, dpa: bool, recipe: str | None = None):  # type: ignore[no-untyped-def]
    base = load_stack(name)
    fp8 = base.fp8.model_copy(update={"dot_product_attention": dpa, **({"recipe": recipe} if recipe else {})})
    return base.model_copy(update={"fp8": fp8})


def _plan(dtype: Dtype, recompute: Recompute = Recompute.NONE) -> PlanArrays:
    return PlanArrays.build(tp=np.full(1, 4.0), pp=1, dp=1, cp=np.full(1, 2.0), ep=1, vpp=1, micro_batch=1,
                            global_batch=8, seq_len=SEQ, recompute=recompute, zero=1, dtype=dtype,
                            attention=Attention.FLASH, order=RankOrder.TP_CP_DP_PP).one_row


def _times(shape, stack, dtype: Dtype) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    rates = KernelRates.for_dtype(load_accelerator("h100-sxm"), "bf16")
    fwd, bwd = attention_core_times(shape, rates, _plan(dtype), SEQ / 2.0, stack)
    return float(np.ravel(fwd)[0]), float(np.ravel(bwd)[0])


def test_only_per_tensor_recipes_run_fp8_attention() -> None:
    """Megatron-Core 0.16.1 passes fp8_dpa to TE in its delayed and current recipes only (fp8_utils.py:555-571)."""
    shape = load_model("llama2-70b")
    for dtype in (Dtype.MXFP8, Dtype.NVFP4):
        assert _times(shape, _stack("nemo-26.04", True), dtype) == _times(shape, _stack("nemo-26.04", False), dtype)
    blockwise_on, blockwise_off = _stack("nemo-26.04", True, "blockwise"), _stack("nemo-26.04", False, "blockwise")
    assert _times(shape, blockwise_on, Dtype.FP8) == _times(shape, blockwise_off, Dtype.FP8)
    for recipe in ("delayed", "current"):
        on, off = _stack("nemo-26.04", True, recipe), _stack("nemo-26.04", False, recipe)
        assert sum(_times(shape, on, Dtype.FP8)) < 0.95 * sum(_times(shape, off, Dtype.FP8)), recipe


def _casts(shape, recipe: str) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    rates = KernelRates.for_dtype(load_accelerator("h100-sxm"), "bf16")
    fwd, bwd = fp8_cast_times(shape, rates, _plan(Dtype.FP8), SEQ / 2.0, recipe)
    return float(np.ravel(fwd)[0]), float(np.ravel(bwd)[0])


def _expected(qkv: float, o: float, bytes_: tuple[tuple[float, float], tuple[float, float]]) -> tuple[float, ...]:
    rates = KernelRates.for_dtype(load_accelerator("h100-sxm"), "bf16")
    return tuple(float(np.ravel(memory_bound_time(rates, b_qkv * qkv + b_o * o, kernels=FP8_DPA_CAST_KERNELS))[0])
                 for b_qkv, b_o in bytes_)


def test_current_scaling_casts_q_k_v_and_do_only() -> None:
    """Current scaling (TE 2.14 backends.py, NVTE_DPA_FP8CS_O_in_F16 default 1): O leaves cuDNN in bf16 and dQ dK dV
    too; Q K V pay cat 4 + amax 2 + quantize 3 B forward, dO amax 2 + quantize 3 B backward."""
    shape = load_model("llama2-70b")
    tokens = SEQ / 2.0
    o = tokens * 64 / 4 * 128.0
    qkv = o + 2.0 * tokens * 2 * 128.0  # 8 KV heads over TP4
    assert _casts(shape, "current") == pytest.approx(_expected(qkv, o, ((9.0, 0.0), (0.0, 5.0))), rel=1e-12)
    assert _casts(shape, "delayed") == pytest.approx(_expected(qkv, o, ((7.0, 3.0), (5.0, 3.0))), rel=1e-12)


def test_mla_casts_each_tensor_at_its_width() -> None:
    """DeepSeek-V3: Q and K 192 wide (nope 128 + rope 64), V and O 128 (before: all at the mean 160)."""
    shape = load_model("deepseek-v3")
    tokens, heads = SEQ / 2.0, 128 / 4
    qkv, o = tokens * heads * (192 + 192 + 128.0), tokens * heads * 128.0
    assert _casts(shape, "delayed") == pytest.approx(_expected(qkv, o, ((7.0, 3.0), (5.0, 3.0))), rel=1e-12)


def _stored(shape, plan: PlanArrays, stack) -> tuple[dict[str, float], dict[str, float]]:  # type: ignore[no-untyped-def]
    terms = activation_terms_per_token_layer(shape, plan.tp, plan.sequence_parallel, plan.seq_len, False)
    operand = RECIPES[Dtype(plan.dtype).label].operand_bytes
    stored = stored_activation_terms(terms, plan.recompute == int(Recompute.SELECTIVE), plan.dtype != int(Dtype.BF16),
                                     stack, quantized_gemm_inputs(shape), operand)
    return terms, stored


@pytest.mark.parametrize(("recipe", "dpa", "qkv_bytes", "extra_o_bytes"), [
    ("current", False, 2.0, 2.0),  # bf16 attention: its bf16 O beside the projection's fp8 copy
    ("current", True, 1.0, 2.0),  # fp8 attention, current scaling: q/k/v_fp8 and the bf16 O
    ("delayed", True, 1.0, 1.0),  # delayed scaling: q/k/v_fp8 and out_fp8
])
def test_the_fused_attention_saves_its_own_o_and_fp8_q_k_v(recipe: str, dpa: bool, qkv_bytes: float,
                                                         extra_o_bytes: float) -> None:
    """nemo-26.04 narrows the projection input (TE saved_inputmat); TE 2.14 FusedAttnFunc saves q, k, v and O
    (backends.py:1316-1335): the O it keeps is a tensor apart, and under fp8 attention Q K V are 1 B."""
    shape = load_model("llama2-70b")
    stack = _stack("nemo-26.04", dpa, recipe)
    plan = _plan(Dtype.FP8)
    terms, stored = _stored(shape, plan, stack)
    expected = (sum(stored.values()) - stored["qkv"] + terms["qkv"] * qkv_bytes / 2.0
                + terms["attn_out"] * extra_o_bytes / 2.0)
    assert float(activation_bytes_per_token_layer(shape, plan, stack)) == pytest.approx(expected, rel=1e-12)


def test_selective_core_attention_and_bf16_plans_keep_the_old_count() -> None:
    """The checkpointed core attention keeps only its bf16 inputs; a bf16 plan narrows nothing (its O is shared)."""
    shape = load_model("llama2-70b")
    stack = _stack("nemo-26.04", True, "delayed")
    assert "core_attn" in stack.recompute_modules
    for plan in (_plan(Dtype.FP8, Recompute.SELECTIVE), _plan(Dtype.BF16)):
        _, stored = _stored(shape, plan, stack)
        assert float(activation_bytes_per_token_layer(shape, plan, stack)) == pytest.approx(sum(stored.values()),
                                                                                            rel=1e-12)


def test_the_casts_launch_from_the_host(monkeypatch: pytest.MonkeyPatch) -> None:
    """An eager stack issues fp8 attention's 3 cast kernels each way (`FP8_DPA_HOST_LAUNCHES`), and again in
    backward under full recompute."""
    from infraplan.cluster import Cluster
    from infraplan.ops.precision import recipe
    from infraplan.training import fp8_dpa
    from infraplan.training.step_time import layer_times

    cluster = Cluster.resolve("dgx-h100-superpod").for_gpus(8)
    rates = KernelRates.for_dtype(cluster.accelerator, "fp8")
    fp8 = recipe("fp8")
    precision = (fp8.gemm_flops_per_s(cluster.accelerator), fp8.operand_bytes)
    shape, stack, dispatch = load_model("llama2-70b"), _stack("nemo-24.12", True), 1e-5
    assert not stack.cuda_graphs
    for recompute, rerun in ((Recompute.NONE, 0.0), (Recompute.FULL, 1.0)):
        plan = _plan(Dtype.FP8, recompute)
        on = layer_times(shape, rates, cluster.fabric, plan, precision, dispatch, stack)  # type: ignore[arg-type]
        monkeypatch.setattr(fp8_dpa, "FP8_DPA_HOST_LAUNCHES", False)
        off = layer_times(shape, rates, cluster.fabric, plan, precision, dispatch, stack)  # type: ignore[arg-type]
        monkeypatch.setattr(fp8_dpa, "FP8_DPA_HOST_LAUNCHES", True)
        assert float(on["host_fwd"]) - float(off["host_fwd"]) == pytest.approx(FP8_DPA_CAST_KERNELS * dispatch)
        assert float(on["host_bwd"]) - float(off["host_bwd"]) == pytest.approx((1.0 + rerun) * FP8_DPA_CAST_KERNELS
                                                                              * dispatch)
