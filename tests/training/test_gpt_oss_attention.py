"""GPT-OSS in training: which attention kernel the sinks run on, and the experts' eager passes (issue 12/13).

`sink_attention` (`catalog.stacks`): fused (cuDNN on every layer, what Transformer Engine 2.8-2.14 selects with
cuDNN >= 9.13.1), te_unfused (TE's UnfusedDotProductAttention: the sink column and an eager fp32 softmax, 33 B per
score forward and 40 B backward in 5 kernels each way) or unfused (a 4 / 6 B stand-in). The experts' clamp and
fc2 bias run as Megatron-Core 0.16 runs them (`ops.gpt_oss_experts`).
"""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.stacks import load_stack
from infraplan.cluster import Cluster
from infraplan.hardware.kernels import KernelRates, exp_seconds, memory_bound_time
from infraplan.ops.gpt_oss_experts import STRIDED_PASS_SHARE, gpt_oss_expert_passes
from infraplan.ops.layer import Layout, attention_keys, layer_ops
from infraplan.training import attention_core
from infraplan.training.attention_core import (
    TE_SINK_SOFTMAX_BYTES,
    TE_SINK_SOFTMAX_KERNELS,
    attention_core_times,
    flash_keys,
)
from infraplan.training.enums import Attention, Dtype, RankOrder, Recompute
from infraplan.training.estimate import estimate_training
from infraplan.training.one_plan_memo import clear_one_plan_memo
from infraplan.training.plan import PlanArrays

SEQ, BATCH = 4096, 2


def _plan(n: int = 2) -> PlanArrays:
    return PlanArrays.build(tp=np.ones(n), pp=1, dp=8, cp=1, ep=8, vpp=1, micro_batch=BATCH, global_batch=16 * BATCH,
                            seq_len=SEQ, recompute=Recompute.NONE, zero=0, dtype=Dtype.BF16,
                            attention=Attention.FLASH, order=RankOrder.TP_CP_DP_PP)


def _core(mode: str, plan: PlanArrays | None = None) -> tuple[np.ndarray, np.ndarray]:
    stack = load_stack("nemo-26.04").model_copy(update={"sink_attention": mode})
    rates = KernelRates.for_dtype(Cluster.resolve("dgx-h100-superpod").accelerator, "bf16")
    plan = plan if plan is not None else _plan()
    return attention_core_times(load_model("gpt-oss-120b"), rates, plan, plan.micro_batch * SEQ / 1.0, stack)


def test_te_unfused_sink_softmax_moves_its_eager_fp32_bytes_over_the_full_scores() -> None:
    rates = KernelRates.for_dtype(Cluster.resolve("dgx-h100-superpod").accelerator, "bf16")
    scores = BATCH * 64 * SEQ * float(SEQ)  # every local head's full s x s scores (TP 1), windows masked not skipped
    te_fwd, te_bwd = _core("te_unfused")
    stand_fwd, stand_bwd = _core("unfused")  # the same batched GEMMs, 4 / 6 B per score in 2 kernels each way
    for te, stand, te_bytes, stand_bytes in ((te_fwd, stand_fwd, TE_SINK_SOFTMAX_BYTES[0], 4.0),
                                             (te_bwd, stand_bwd, TE_SINK_SOFTMAX_BYTES[1], 6.0)):
        extra = (memory_bound_time(rates, te_bytes * scores, kernels=TE_SINK_SOFTMAX_KERNELS)
                 - memory_bound_time(rates, stand_bytes * scores, kernels=2.0))
        np.testing.assert_allclose(te - stand, extra, rtol=1e-9)
    assert TE_SINK_SOFTMAX_BYTES == (33.0, 40.0)
    # 33 B per score over 4096^2 x 64 heads x 2 is ~70 GB a layer forward: ~24 ms on an H100, far above the kernel
    assert np.all(te_fwd > 0.02)


def test_fused_sink_attention_skips_the_sliding_windows_and_the_causal_half() -> None:
    fused_fwd, fused_bwd = _core("fused")
    stand_fwd, _ = _core("unfused")
    # half the layers attend 128 keys: the fused core is a few per cent of the stand-in's full-score core
    assert np.all(fused_fwd < 0.2 * stand_fwd)
    # scores recomputed in backward: 2.5x the matmul FLOPs; one exponential's time per score forward, three backward
    # (P recomputed, dS and the casts: FLASH_BACKWARD_EXPONENTIALS, measured on a lent H200) at d = 64
    rates = KernelRates.for_dtype(Cluster.resolve("dgx-h100-superpod").accelerator, "bf16")
    matmul_s, exp_s = 4.0 * 64.0 / rates.attention_flops_per_s, exp_seconds(rates, 1.0, 64.0)  # per score
    np.testing.assert_allclose(fused_bwd / fused_fwd, (2.5 * matmul_s + 3.0 * exp_s) / (matmul_s + exp_s), rtol=0.05)


def test_fused_sliding_layers_cost_the_key_tiles_the_kernel_visits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(attention_core, "PROGRAM_TILES", False)  # the tiles alone (their fixed work: its own test)
    oss, llama = load_model("gpt-oss-120b"), load_model("llama3-8b")
    # s = 4096 in 128 x 128 tiles: a 128-token window visits 2 key tiles per query tile (the first 1), 63 tiles
    # against the causal triangle's 528; half the layers slide
    assert flash_keys(oss, SEQ) == pytest.approx(0.5 * SEQ + 0.5 * SEQ * 63.0 / 528.0)
    assert attention_keys(oss, SEQ) < flash_keys(oss, SEQ) < 0.6 * SEQ
    assert flash_keys(oss, 128) == attention_keys(oss, 128) == 128.0  # the window covers the sequence
    np.testing.assert_allclose(flash_keys(oss, np.array([SEQ, 128.0])), np.array([flash_keys(oss, SEQ), 128.0]))
    assert flash_keys(llama, SEQ) == attention_keys(llama, SEQ) == SEQ  # no sliding layers: the exact triangle
    tiled_fwd, tiled_bwd = _core("fused")
    ratio = flash_keys(oss, SEQ) / attention_keys(oss, SEQ)
    monkeypatch.setattr(attention_core, "TILED_WINDOW", False)
    assert flash_keys(oss, SEQ) == attention_keys(oss, SEQ)
    exact_fwd, exact_bwd = _core("fused")
    assert np.all(tiled_fwd > exact_fwd) and np.all(tiled_bwd > exact_bwd)
    # the FLOPs (and exponentials) scale with the keys; the launch overhead does not
    assert np.all(tiled_fwd < exact_fwd * ratio)


@pytest.mark.parametrize("mode", ["fused", "te_unfused", "unfused"])
def test_one_plans_float_path_prices_the_sink_modes_as_the_arrays(mode: str) -> None:
    grid = _core(mode, _plan(1))
    one = _core(mode, _plan(1).one_row)
    np.testing.assert_allclose(np.ravel(grid[0])[0], float(one[0]), rtol=1e-12)
    np.testing.assert_allclose(np.ravel(grid[1])[0], float(one[1]), rtol=1e-12)


def _tokens_per_s(model: str, mode: str) -> float:
    clear_one_plan_memo()
    stack = load_stack("nemo-26.04").model_copy(update={"sink_attention": mode})
    return estimate_training(model, "dgx-h100-superpod", 64, tp=1, pp=4, ep=8 if "oss" in model else 1,
                             seq_len=4096, global_batch=1280, micro_batch=1, recompute="none", dtype="bf16",
                             stack=stack, order="tp-cp-dp-pp").tokens_per_s_per_gpu


def test_sink_modes_order_gpt_oss_and_leave_models_without_sinks_alone() -> None:
    fused, stand_in, te = (_tokens_per_s("gpt-oss-120b", m) for m in ("fused", "unfused", "te_unfused"))
    assert te < 0.6 * stand_in < 0.6 * fused
    assert _tokens_per_s("llama3-8b", "te_unfused") == pytest.approx(_tokens_per_s("llama3-8b", "fused"))


def _layout(ep: int) -> Layout:
    tokens = 4096.0
    return Layout(tokens=tokens, tp=1, ep=ep, cp=1, sequence_parallel=False, seq_len=4096, batch=1, ep_stride=1,
                  fp8_casts=False, etp=1, folded=False, cast_bytes=0.0, expert_load_factor=1.0)


def test_gpt_oss_expert_passes_are_the_clamp_and_the_per_expert_fc2_bias_loop() -> None:
    shape = load_model("gpt-oss-120b")
    rows = 4096.0 * 4  # top-4 routed copies
    up, down = rows * 2 * 2880, rows * 2880
    (fwd_bytes, fwd_kernels), (bwd_bytes, bwd_kernels) = gpt_oss_expert_passes(shape, rows, 2.0 * 2880, 8)
    # the clamp's passes on strided views at the measured share of the streaming rate (hO55): streaming-equivalent bytes
    up = up / STRIDED_PASS_SHARE
    # the loop's outer products (b x p forward; grad x p, grad x b backward) run the legacy loop too (hG, session 51:
    # `BROADCAST_PASSES`), 2 of its 12 B forward and 8 of its 16 B backward at the same share
    surplus = 1.0 / STRIDED_PASS_SHARE - 1.0
    assert float(fwd_bytes) == pytest.approx(8.0 * up + (12.0 + 2.0 * surplus) * down)  # clamp + cat; t + b p and cat
    # backward: the clamp's and the loop's gradients, and the DDP hook's fp32 main-grad add of each local expert's
    # fc1 (2 f wide) and fc2 (h wide) bias: 10 B per bias element, one kernel per bias
    # (the clamp's backward: autograd rebuilds each half's mask from the input, 15 B in 9 kernels)
    assert float(bwd_bytes) == pytest.approx(15.0 * up + (16.0 + 8.0 * surplus) * down + 10.0 * 16 * (2 * 2880 + 2880))
    assert float(fwd_kernels) == 3.0 + 2.0 * 16 + 1.0  # 128 experts / EP 8 = 16 local experts in the loop
    assert float(bwd_kernels) == 9.0 + 4.0 * 16 + 2.0 + 2.0 * 16
    assert float(gpt_oss_expert_passes(shape, rows, 2.0 * 2880, 64)[1][1]) == 9.0 + 4.0 * 2 + 2.0 + 2.0 * 2
    assert float(gpt_oss_expert_passes(shape, rows, 2.0 * 2880, 64)[0][1]) == 3.0 + 2.0 * 2 + 1.0
    for name in ("llama3-8b", "mixtral-8x7b"):  # no clamp, no expert biases: nothing moves, nothing launches
        assert gpt_oss_expert_passes(load_model(name), rows, 2.0 * 4096, 8) == ((0.0, 0.0), (0.0, 0.0))


def test_only_gpt_oss_layers_list_the_expert_passes() -> None:
    roles = {name: [e.role for e in layer_ops(load_model(name), _layout(8)).elementwise_fwd]
             for name in ("gpt-oss-120b", "llama3-8b")}
    assert "gpt_oss_experts" in roles["gpt-oss-120b"] and "gpt_oss_experts" not in roles["llama3-8b"]
    ops = layer_ops(load_model("gpt-oss-120b"), _layout(8))
    passes = [e for e in ops.elementwise_bwd if e.role == "gpt_oss_experts"]
    assert len(passes) == 1 and float(passes[0].bytes) > 0.0
