"""hP63 mutation wave on hN63's `frozen_base.adapter_dgrad_hidden`: the hidden seconds are per mean layer, each
adapted projection weighted by its share of the layers. DeepSeek-V3's 61 layers run the same MLA attention (the first
3 differ in their FFN only: config.json first_k_dense_replace 3), so splitting the attention's GEMMs over two layer
kinds (58 / 61 and 3 / 61) must give the same hidden time as one kind over all 61 (the same model read with
first_k_dense_replace 0: every layer routed). Without the share weighting the split model counted its attention
twice."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infraplan.catalog.loader import read_entry
from infraplan.training.estimate import resolve_training
from infraplan.training.frozen_base import adapter_dgrad_hidden, lora_spec
from infraplan.training.one_plan_memo import cluster_pricing

pytestmark = pytest.mark.usefixtures("fresh_one_plan_memo")

PLAN = dict(system="dgx-h100-superpod", gpus=64, tp=2, pp=1, ep=32, seq_len=4096, global_batch=1024, dtype="bf16",
            sequence_parallel=False, lora_rank=16)


def _hidden(model: str) -> float:
    point = resolve_training(model, **PLAN)  # type: ignore[arg-type]
    rates = cluster_pricing(point.cluster, point.profile).rates
    return float(adapter_dgrad_hidden(point.shape, rates, point.plan.one_row, lora_spec(point.shape, 16),
                                      point.cluster.fabric))


def test_the_attention_split_over_layer_kinds_is_counted_once(tmp_path: Path) -> None:
    data, _ = read_entry("models", "deepseek-v3")
    assert data["first_k_dense_replace"] == 3
    path = tmp_path / "deepseek-v3-all-routed.json"
    path.write_text(json.dumps({**data, "first_k_dense_replace": 0}))
    split, whole = _hidden("deepseek-v3"), _hidden(str(path))
    assert whole > 0.0
    assert split == pytest.approx(whole, rel=1e-9)


def test_the_routed_experts_adapters_reduce_nothing_backward() -> None:
    """Mixtral 8x7B (every FFN routed, no shared expert) under `--lora-targets all`: the experts' adapters sit on
    grouped linears with `explicit_expert_comm` (Megatron-Bridge 0.6.0 peft/utils.py:557-564), so no input-gradient
    all-reduce of theirs is issued or hidden: the hidden time is the attention adapters' alone."""
    point = resolve_training("mixtral-8x7b", "dgx-h100-superpod", 64, tp=2, pp=1, ep=8, seq_len=4096,
                             global_batch=256, dtype="bf16", sequence_parallel=False, lora_rank=16)
    rates = cluster_pricing(point.cluster, point.profile).rates

    def hidden(targets: str) -> float:
        return float(adapter_dgrad_hidden(point.shape, rates, point.plan.one_row, lora_spec(point.shape, 16, targets),
                                          point.cluster.fabric))

    assert hidden("attention") > 0.0
    assert hidden("all") == pytest.approx(hidden("attention"), rel=1e-12)


def test_no_async_path_no_regather_to_take_out() -> None:
    """A stack without TE's async backward path (`tp_async_backward` off) prices no wgrad input re-gather for the
    trained layer (`layer_time` adds it only on that path, sp_regather's docstring), so LoRA has none to take out:
    its TP time is the same with `FROZEN_SKIPS_REGATHER` on or off (SP on, where the re-gather would apply)."""
    from infraplan.training import frozen_base
    from infraplan.training.estimate import estimate_training
    from infraplan.training.one_plan_memo import clear_one_plan_memo

    plan = dict(model="llama3-70b", system="dgx-h100-superpod", gpus=64, tp=8, pp=1, seq_len=4096, global_batch=64,
                dtype="bf16", sequence_parallel=True, lora_rank=16)
    base = resolve_training(plan["model"], plan["system"], 64, tp=8, pp=1, seq_len=4096,  # type: ignore[arg-type]
                            global_batch=64, dtype="bf16", sequence_parallel=True, stack="nemo-24.12").profile
    bare = base.model_copy(update={"tp_async_backward": False})

    def tp() -> float:
        clear_one_plan_memo()
        return estimate_training(**plan, stack=bare).breakdown_s.tp_comm  # type: ignore[arg-type]

    on = tp()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(frozen_base, "FROZEN_SKIPS_REGATHER", False)
        off = tp()
    assert on > 0.0 and on == pytest.approx(off, rel=1e-12)


def test_only_the_column_parallel_adapters_a_is_all_reduced() -> None:
    """Llama 3 70B TP8, LoRA rank 8,192 on Q K V O: without SP the A of the column-parallel QKV takes the whole T x h
    input, so its input gradient is all-reduced (T x h bf16) and hides up to its wgrad (h x R / TP over T tokens);
    the row-parallel output projection's A takes its input's shard and reduces nothing. Under SP neither A reduces
    (`disable_grad_reduce`): the difference is QKV's A term alone. At this rank the wgrad (~69 GFLOP) outlasts the
    row-parallel A's T x h / TP all-reduce but not QKV's T x h one, so the two candidates differ."""
    from infraplan.hardware.gemm_seconds import gemm_seconds
    from infraplan.network.collectives import collective_seconds

    rank, t, h = 8192, 4096.0, 8192.0
    dense = dict(system="dgx-h100-superpod", gpus=64, tp=8, pp=1, seq_len=4096, global_batch=64, dtype="bf16",
                 lora_rank=rank)

    def hidden(sp: bool) -> float:
        point = resolve_training("llama3-70b", **dense, sequence_parallel=sp)  # type: ignore[arg-type]
        rates = cluster_pricing(point.cluster, point.profile).rates
        return float(adapter_dgrad_hidden(point.shape, rates, point.plan.one_row, lora_spec(point.shape, rank),
                                          point.cluster.fabric))

    point = resolve_training("llama3-70b", **dense, sequence_parallel=False)  # type: ignore[arg-type]
    rates, fabric = cluster_pricing(point.cluster, point.profile).rates, point.cluster.fabric
    wgrad = gemm_seconds(rates, h, rank / 8, t, 2.0, rates.matmul_flops_per_s)
    column = min(collective_seconds(fabric, "all_reduce", t * h * 2.0, 8, 1), wgrad)
    row = min(collective_seconds(fabric, "all_reduce", t * h / 8 * 2.0, 8, 1), wgrad)
    assert row < column  # (the case separates the two)
    assert hidden(False) - hidden(True) == pytest.approx(column, rel=1e-9)
