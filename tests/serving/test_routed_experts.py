"""The routed experts' grouped GEMM with per-expert counts spread by the router (`serving.routed_experts`)."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.serving import deepgemm_moe, routed_experts
from infraplan.serving.llm_iteration import Deployment, build_iteration_cost
from infraplan.serving.stack_placement import where_it_runs


@pytest.mark.parametrize(("lam", "tile"), [(0.3, 16.0), (5.0, 16.0), (30.0, 32.0), (256.0, 128.0), (32.0, 64.0)])
def test_expected_tiles_match_a_seeded_poisson_sample(lam: float, tile: float) -> None:
    """E[ceil(X / t)], X ~ Poisson(lambda), from the incomplete gamma sum vs 400k seeded draws (within 1 %)."""
    draws = np.random.default_rng(0).poisson(lam, 400_000)
    sampled = float(np.mean(np.ceil(draws / tile)))
    assert routed_experts.expected_tiles(np.array([lam]), tile)[0] == pytest.approx(sampled, rel=0.01)


def test_one_token_per_hit_expert_is_one_tile_each() -> None:
    """Decode (lambda << 1): every expert that gets a token runs one tile, P(X > 0) = 1 - exp(-lambda)."""
    lam = np.array([0.0, 0.01, 0.1, 0.5])
    assert np.allclose(routed_experts.expected_tiles(lam, 16.0), 1.0 - np.exp(-lam), rtol=1e-6, atol=0.0)


def _body_s(model: str, dep: Deployment, spread: bool, monkeypatch: pytest.MonkeyPatch) -> np.ndarray:
    monkeypatch.setattr(routed_experts, "ROUTED_TOKEN_SPREAD", spread)
    cluster = Cluster.resolve("hgx-h200")
    return build_iteration_cost(load_model(model), cluster.accelerator, cluster.fabric, dep).body_s


def test_prefill_cost_does_not_jump_when_the_mean_count_crosses_a_tile(monkeypatch: pytest.MonkeyPatch) -> None:
    """GPT-OSS-120B (128 experts, top-4) on one H200: 4096 tokens give a mean of 128 tokens per expert, 4100 give
    128.1. Padding the mean, every expert ran two 128-row tiles at 4100 (+69 % body time for 0.1 % more tokens);
    padding each expert's Poisson count, the tiles grow with the tokens; a batch of exactly 8192 tokens (256 per
    expert: two tiles on the mean) runs ~2.5 tiles per expert."""
    dep = Deployment(dtype="int4")
    mean = _body_s("gpt-oss-120b", dep, False, monkeypatch)
    spread = _body_s("gpt-oss-120b", dep, True, monkeypatch)
    assert mean[4100] / mean[4096] > 1.5
    assert spread[4100] / spread[4096] < 1.02
    assert spread[8192] > 1.1 * mean[8192]
    assert spread[4] == pytest.approx(mean[4], rel=1e-9)  # decode: one tile per hit expert, weight-bound


def test_dense_models_are_untouched(monkeypatch: pytest.MonkeyPatch) -> None:
    dep = Deployment(tp=2)
    assert np.array_equal(_body_s("llama3-8b", dep, False, monkeypatch), _body_s("llama3-8b", dep, True, monkeypatch))



def _vllm_012_stack() -> str:
    from infraplan.validation.serving_hopper import data_stack

    return data_stack("vllm-0.12.yaml")


def test_vllm_012_profile_differs_from_the_shipped_vllm_profile_only_in_the_padded_workspace() -> None:
    from infraplan.catalog.stacks import load_stack

    a, b = load_stack(_vllm_012_stack()), load_stack("vllm-0.x")  # and its release's measured kernels
    assert a.serving is not None and b.serving is not None
    assert a.serving.moe_fp8_padded_workspace and not b.serving.moe_fp8_padded_workspace
    assert a.serving.model_copy(update={"moe_fp8_padded_workspace": False, "decode_attention": {},
                                        "matmul_fraction": {}, "all_reduce_table": {},
                                        **where_it_runs(b.serving)}) == b.serving
    assert a.model_dump(exclude={"name", "display_name", "serving"}) == b.model_dump(
        exclude={"name", "display_name", "serving"})


@pytest.mark.parametrize(("system", "stack", "tp", "ep", "adp", "dtype", "align"), [
    ("hgx-h200", "vllm-0.12", 2, 1, 1, "fp8", 128),  # MoE TP 2: DeepGEMM
    ("hgx-h200", "vllm-0.12", 4, 4, 1, "fp8", 128),  # EP 4 inside TP 4: MoE TP 1
    ("hgx-h200", "vllm-0.12", 8, 1, 1, "fp8", 0),  # MoE TP 8: vLLM turns DeepGEMM MoE off by default
    ("hgx-h200", "vllm-0.12", 8, 8, 1, "fp8", 128),  # EP 8: MoE TP 1
    ("hgx-h200", "vllm-0.12", 1, 8, 8, "fp8", 128),  # wide EP
    ("hgx-h200", "vllm-0.12", 2, 1, 1, "int4", 0),  # weight-only: Marlin / Triton, no DeepGEMM
    ("hgx-h200", "vllm-0.x", 2, 1, 1, "fp8", 0),  # current vLLM skips the padding (-1 expert ids)
    ("hgx-h200", "sglang-0.x", 2, 1, 1, "fp8", 0),  # SGLang's Triton fused MoE
])
def test_padded_workspace_applies_where_vllm_012_runs_deepgemm(system: str, stack: str, tp: int, ep: int, adp: int,
                                                              dtype: str, align: int) -> None:
    ref = _vllm_012_stack() if stack == "vllm-0.12" else stack
    accelerator = Cluster.resolve(system).accelerator
    assert deepgemm_moe.contiguous_alignment(accelerator, ref, tp, ep, adp, dtype) == align


def test_padded_workspace_is_nvidia_only() -> None:
    from infraplan.catalog import load_accelerator

    assert deepgemm_moe.contiguous_alignment(load_accelerator("mi300x"), _vllm_012_stack(), 2, 1, 1, "fp8") == 0


def _qwen3_decode_ms(stack: str, tp: int, batch: int, padded: bool, monkeypatch: pytest.MonkeyPatch) -> float:
    monkeypatch.setattr(deepgemm_moe, "CONTIGUOUS_PADDED_LAYOUT", padded)
    cluster = Cluster.resolve("hgx-h200")
    dep = Deployment(tp=tp, dtype="fp8", kv_dtype="fp8", engine="vllm", stack=stack)
    cost = build_iteration_cost(load_model("qwen3-235b-a22b"), cluster.accelerator, cluster.fabric, dep)
    return 1e3 * float(cost.body_s[batch])


def test_padded_workspace_makes_small_decode_batches_cost_the_whole_workspace(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Qwen3-235B-A22B fp8 (128 experts, top-8) at TP2 on an H200 under vLLM 0.12: M_sum = 8 T + 128 x 127 rows is
    ~16k whatever the decode batch, so the step is nearly flat from 4 to 20 sequences (measured TPOT 52-58 ms at
    TP2 over 4-20 clients) and far above the hit experts' weight read; every 128-row block computed at the fp8 rate:
    ~94 x 2 x 16k x (1536 x 4096 + 4096 x 768) FLOPs / 1.25 PFLOP/s = 23 ms per step at TP2, half at TP4, in place
    of the ~4 experts x 8 tokens' weight reads at 4 sequences (~20 ms more at TP2). At the full rate: DeepGEMM's
    tile depth off (`DEEPGEMM_TILE_DEPTH`, its own test below)."""
    monkeypatch.setattr(deepgemm_moe, "DEEPGEMM_TILE_DEPTH", 0.0)
    stack = _vllm_012_stack()
    padded = [_qwen3_decode_ms(stack, 2, b, True, monkeypatch) for b in (4, 20)]
    plain = [_qwen3_decode_ms(stack, 2, b, False, monkeypatch) for b in (4, 20)]
    assert padded[1] / padded[0] < 1.15 < plain[1] / plain[0]
    assert 18.0 < padded[0] - plain[0] < 28.0
    tp4 = _qwen3_decode_ms(stack, 4, 4, True, monkeypatch) - _qwen3_decode_ms(stack, 4, 4, False, monkeypatch)
    assert tp4 == pytest.approx((padded[0] - plain[0]) / 2, rel=0.2)
    assert _qwen3_decode_ms("vllm-0.x", 2, 4, True, monkeypatch) == pytest.approx(plain[0], rel=1e-12)


def test_deepgemm_tile_depth_prices_short_k_from_its_published_table(monkeypatch: pytest.MonkeyPatch) -> None:
    """DeepGEMM's contiguous grouped GEMM at R K / (K + 556) (deep-gemm 1.0.0 README: 1,297 TF/s at K 7168, 1,099
    at K 2048): the padded workspace of Qwen3-235B at TP2 (up 4096 deep, down 768) costs ~1.3x the full-rate
    workspace, at TP4 (down 384 deep) more; the published ratio of the two table points is reproduced."""
    depth = deepgemm_moe.DEEPGEMM_TILE_DEPTH
    assert (7168 / (7168 + depth)) / (2048 / (2048 + depth)) == pytest.approx(1297 / 1099, rel=0.01)
    stack = _vllm_012_stack()
    extra = {}
    for tp in (2, 4):
        monkeypatch.setattr(deepgemm_moe, "DEEPGEMM_TILE_DEPTH", 0.0)
        full = _qwen3_decode_ms(stack, tp, 4, True, monkeypatch) - _qwen3_decode_ms(stack, tp, 4, False, monkeypatch)
        monkeypatch.setattr(deepgemm_moe, "DEEPGEMM_TILE_DEPTH", depth)
        deep = _qwen3_decode_ms(stack, tp, 4, True, monkeypatch) - _qwen3_decode_ms(stack, tp, 4, False, monkeypatch)
        extra[tp] = deep / full
    assert 1.15 < extra[2] < extra[4] < 1.8, extra
    assert _qwen3_decode_ms("vllm-0.x", 2, 4, True, monkeypatch) == _qwen3_decode_ms("vllm-0.x", 2, 4, False,
                                                                                    monkeypatch)
