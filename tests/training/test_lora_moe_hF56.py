"""LoRA on MoE models (hF, session 56) as Megatron-Bridge 0.6.0's default `LoRA` builds it (`frozen_base` module
docstring; peft/lora.py:114, :163-182, peft/utils.py:655-673, :1069-1071): `--lora-targets all` puts a dense adapter
on each shared expert and ONE adapter per layer on the routed experts' grouped linears, shared by the rank's local
experts (over all the tokens they serve), split over expert TP, whose only collectives are its `gather_output`
all-gathers forward (Megatron-Core `explicit_expert_comm`). Before: every MoE model refused (exit 2)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from tests.training.conftest import assert_lora_grid_prices_as_one, sampled_valid_plans

from infraplan.catalog import load_model
from infraplan.cli import main
from infraplan.ops.layer import layer_ops
from infraplan.training.estimate import TrainingPoint, estimate_training, resolve_training
from infraplan.training.frozen_base import adapter_collectives, lora_spec, trainable_params
from infraplan.training.layer_time import layer_layout

R = 16
MIXTRAL = dict(seq_len=4096, global_batch=64, micro_batch=1, dtype="bf16", recompute="none", zero=1)
# Mixtral 8x7B (config.json): h 4096, 32 query heads and 8 KV heads of 128, FFN 14336 (SwiGLU), 32 layers
QKV, OUT, FC1, FC2 = 4096 + 6144, 4096 + 4096, 4096 + 2 * 14336, 14336 + 4096  # in + out of each adapted linear


def _point(model: str = "mixtral-8x7b", gpus: int = 16, **changes: object) -> TrainingPoint:
    return resolve_training(model, "dgx-h100-superpod", gpus, **{**MIXTRAL, **changes})  # type: ignore[arg-type]


def test_mixtral_trains_one_shared_adapter_per_expert_linear() -> None:
    """R (in + out) per adapted linear and layer: the 8 experts' fc1 / fc2 take one adapter each, not 8."""
    point = _point(tp=2, ep=8)
    row = point.plan.one_row
    assert trainable_params(point.shape, row, lora_spec(point.shape, R, "all")) == 32 * R * (QKV + OUT + FC1 + FC2)
    assert trainable_params(point.shape, row, lora_spec(point.shape, R)) == 32 * R * (QKV + OUT)


def test_deepseek_v3_attention_adapters_count_every_layer_once() -> None:
    """Two layer kinds (3 dense, 58 MoE): each kind's attention GEMMs carry its share of the layers in `count`
    (`ops.layer._mean_ops`), so MLA's projections are counted once a layer: 61 x R x 99,392 (q_down 7168 + 1536,
    kv_down 7168 + 576, q_up 1536 + 24576, kv_up 512 + 32768, out 16384 + 7168), an integer (int() read 90,010,623).
    hT56: was 92,224 with one fused down adapter (7168 + 2112); Megatron-Core has two down linears, so two adapters
    (`adapter_sites`, tests/training/test_lora_mla_sites_hT56.py)."""
    shape = load_model("deepseek-v3")
    point = _point("deepseek-v3", 64, tp=1, ep=64)
    assert trainable_params(shape, point.plan.one_row, lora_spec(shape, R)) == 61 * R * 99_392


def test_expert_adapter_collectives_are_forward_gathers_over_expert_tp() -> None:
    """At expert TP 2, EP 4: the adapter runs over every token the rank's 2 local experts serve (T k EP / E each:
    4096 x 2 x 4 / 8, twice); fc1's all-gathers that many x R (A split over R), fc2's that many x h (B over h);
    nothing backward (no SP gather, no dgrad all-reduce: `explicit_expert_comm`)."""
    point = _point(tp=2, ep=4)
    row = point.plan.one_row
    assert (row.expert_tp, row.ep) == (2, 4)
    gemms = layer_ops(point.shape, layer_layout(row, False)).gemms
    up = next(g for g in gemms if g.role == "expert_up")
    assert (float(up.m), float(up.count)) == (4096.0, 2.0)
    tokens = 8192.0
    attention = adapter_collectives(point.shape, row, lora_spec(point.shape, R), point.profile)
    fwd, bwd = adapter_collectives(point.shape, row, lora_spec(point.shape, R, "all"), point.profile)
    assert fwd[:len(attention[0])] == attention[0] and bwd == attention[1]
    assert [(c.kind, c.bytes, c.group, c.mask) for c in fwd[len(attention[0]):]] == [
        ("all_gather", tokens * R * 2.0, 2, True), ("all_gather", tokens * 4096 * 2.0, 2, True)]
    one = _point(tp=2, ep=4, etp=1).plan.one_row  # expert TP 1: the expert adapters move nothing
    fwd, _ = adapter_collectives(point.shape, one, lora_spec(point.shape, R, "all"), point.profile)
    assert [(c.kind, c.group) for c in fwd[-2:]] == [("all_gather", 1), ("all_gather", 1)]


def test_moe_lora_step_sits_between_attention_and_full_training(capsys: pytest.CaptureFixture[str]) -> None:
    """`train mixtral-8x7b --lora-rank 16` (exit 2 before): attention-only faster than `all`, both faster than
    training every weight (the experts' weight-gradient GEMMs skipped); gradients are the adapters' own, 4 B each
    on this GPU (TP 2, PP 2: a quarter of the model's adapters; the model-wide share read them 7x low at EP 8)."""
    base = ["train", "mixtral-8x7b", "--system", "dgx-h100-superpod", "--gpus", "32", "--tp", "2", "--pp", "2",
            "--ep", "8", "--seq-len", "4096", "--global-batch", "64", "--json"]
    out = {}
    for name, extra in (("full", []), ("attention", ["--lora-rank", "16"]),
                        ("all", ["--lora-rank", "16", "--lora-targets", "all"])):
        assert main([*base, *extra]) == 0
        out[name] = json.loads(capsys.readouterr().out)
    assert out["attention"]["step_time_s"] < out["all"]["step_time_s"] < out["full"]["step_time_s"]
    assert out["all"]["trainable_params_count"] == 32 * R * (QKV + OUT + FC1 + FC2)
    assert out["all"]["memory_breakdown_bytes"]["gradients"] == pytest.approx(
        4.0 * out["all"]["trainable_params_count"] / 4, rel=1e-9)


def test_moe_grid_is_the_one_plan_path() -> None:
    """A search grid of Mixtral plans (EP, expert TP, ZeRO, PP) priced with `all` adapters equals the one-plan float
    path, step time and memory, bit for bit (`frozen_base._grid_layer_terms` on the experts' adapters too)."""
    shape = load_model("mixtral-8x7b")
    cluster, stack, plans = sampled_valid_plans(shape, 32, 4096, 64, seed=5, count=120)
    assert np.unique(plans.ep).size > 1 and np.any(plans.expert_tp > 1)
    assert_lora_grid_prices_as_one(shape, cluster, plans, stack, lora_spec(shape, R, "all"))


def test_estimate_api_takes_moe_lora() -> None:
    """The Python API answers as the CLI: DeepSeek-V3 with `all` adapters on 64 GPUs."""
    est = estimate_training("deepseek-v3", "dgx-h100-superpod", 64, ep=64, seq_len=4096, global_batch=64,
                            recompute="full", lora_rank=16, lora_targets="all")
    assert est.lora_targets == "all" and est.trainable_params_count is not None
    assert est.trainable_params_count > 61 * R * 92_224  # the shared and routed experts' adapters on top
