"""LoRA on MLA projections as Megatron-Core builds them and Megatron-Bridge 0.6.0 adapts them (hT, session 56;
`training.adapter_sites`). Megatron-Core 0.16.1 has two down projections (linear_q_down_proj h x q_lora_rank,
linear_kv_down_proj h x (kv_lora_rank + rope), multi_latent_attention.py:419-425, :464-468), both TE `TELinear`
with parallel_mode="duplicated" (replicated over TP, :407-409, :453-454); Bridge adapts such a linear with A split
over R and B over its whole output (peft/utils.py:629-633, :1037-1038). Before: the fused `qkv_down` (2,112 wide on
DeepSeek-V3) was ONE adapter, R (h + 2,112), and its output width was multiplied by TP in the model's count
(R (h + 2,112 TP)), as if column-parallel; a replicated kv_down (q_lora_rank 0) likewise."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from tests.training.conftest import assert_lora_grid_prices_as_one, sampled_valid_plans

from infraplan.catalog import load_model
from infraplan.catalog.model_recipes import recipe_key
from infraplan.catalog.stacks import resolve_stack
from infraplan.ops.layer import layer_ops
from infraplan.training import tp_overlap
from infraplan.training.frozen_base import adapter_collectives, adapter_params, lora_spec, trainable_params
from infraplan.training.layer_time import layer_layout
from infraplan.training.plan import PlanArrays

R = 16
# DeepSeek-V3 (Hugging Face config.json, catalog/models/deepseek-v3.json): h 7,168, q_lora 1,536, kv_lora 512,
# rope 64, nope 128, v 128, 128 heads, 61 layers
H, QL, KVL, ROPE, NOPE, V, HEADS, LAYERS = 7168, 1536, 512, 64, 128, 128, 128, 61
Q_DOWN, KV_DOWN = H + QL, H + KVL + ROPE  # in + out of each adapted linear
Q_UP, KV_UP, OUT = QL + HEADS * (NOPE + ROPE), KVL + HEADS * (NOPE + V), HEADS * V + H


def _row(tp: int, sp: int = 1) -> PlanArrays:
    return PlanArrays.one_plan(tp=tp, pp=1, dp=1, cp=1, ep=1, etp=1, vpp=1, micro_batch=1, global_batch=1,
                               seq_len=4096, recompute=0, zero=0, dtype=0, attention=0, order=0,
                               sequence_parallel=sp).one_row


def _v3():  # type: ignore[no-untyped-def]
    shape = load_model("deepseek-v3")
    assert (shape.hidden_size, shape.q_lora_rank, shape.kv_lora_rank, shape.qk_rope_head_dim) == (H, QL, KVL, ROPE)
    return shape


@pytest.mark.parametrize("tp", [1, 8])
def test_v3_attention_adapters_are_megatrons_five_linears(tp: int) -> None:
    """Two down-projection adapters, not one, and the model's count the same at any TP (the down projections are
    replicated, not column-parallel); each GPU holds 1 / TP of every attention adapter."""
    shape, spec = _v3(), lora_spec(_v3(), R, "attention")
    per_layer = R * (Q_DOWN + KV_DOWN + Q_UP + KV_UP + OUT)
    assert trainable_params(shape, _row(tp), spec) == LAYERS * per_layer
    local, total = adapter_params(shape, _row(tp), spec)
    assert total == pytest.approx(per_layer, rel=1e-12)
    assert local == pytest.approx(per_layer / tp, rel=1e-12)


def test_no_q_lora_adapts_q_proj_and_a_replicated_kv_down() -> None:
    """q_lora_rank 0 (DeepSeek-V2-Lite's layout, Megatron-Core's linear_q_proj): a column-parallel h -> heads x
    (nope + rope) and the replicated kv_down, its count the same at TP 1 and 4."""
    shape = _v3().model_copy(update={"q_lora_rank": 0})
    spec = lora_spec(shape, R, "attention")
    per_layer = R * (KV_DOWN + (H + HEADS * (NOPE + ROPE)) + KV_UP + OUT)
    assert [trainable_params(shape, _row(tp), spec) for tp in (1, 4)] == [LAYERS * per_layer] * 2


def _adapter_gathers(stack: Any) -> dict[float, float]:
    """Width -> forward all-gathers a DeepSeek-V3 layer's `attention` adapters run at TP 8 under SP."""
    shape, row = _v3(), _row(8)
    fwd, _ = adapter_collectives(shape, row, lora_spec(shape, R, "attention"), stack)
    # the layer's T (q_up's m: under SP the frozen down projection, gemms[0], runs on T / TP since hV56)
    tokens = float(next(g.m for g in layer_ops(shape, layer_layout(row, False)).gemms if g.role == "q_up"))
    per_layer: dict[float, float] = {}  # width -> gathers a layer (two layer kinds: each at its share, `count`)
    for c in fwd:
        if c.kind == "all_gather" and bool(c.mask):
            width = float(c.bytes) / (2.0 * tokens)
            per_layer[width] = per_layer.get(width, 0.0) + c.count
    return per_layer


@pytest.mark.parametrize("overlap", [True, False])
def test_down_adapters_gather_their_output_and_sp_input(overlap: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """At TP 8 under SP each down-projection adapter all-gathers forward its T x in input (a `TELinear` has no fused
    layer norm to return it gathered), x A's T x R and B's T x out (gather_output=True). Before: neither the T x h
    input (gathered only with userbuffers, as on a layer-norm-fused column-parallel linear) nor the T x out.
    (hM58) Megatron-Core runs no userbuffers on an MLA model whatever the stack's overlap (`training.tp_overlap`): the
    stack's overlap gathers as no overlap does; the userbuffer case is priced with `MLA_DISABLES_USERBUFFERS` off."""
    stack = resolve_stack(None, "training", recipe_key(_v3()))
    assert stack.tp_comm_overlap_fraction > 0.0
    # h three times: each down projection's input and the output projection's B output (row-parallel); q-down's
    # output and, with userbuffers (the stack's TP overlap), q-up's input, both q_lora wide; kv-down's output once
    # (and kv-up's input with userbuffers); x A's T x R on the four column-parallel or replicated adapters (the
    # output projection's is an all-reduce)
    no_userbuffers = {H: 3.0, QL: 1.0, KVL + ROPE: 1.0, R: 4.0}
    if not overlap:  # (no userbuffers: only the down projections' adapters gather their input)
        stack = stack.model_copy(update={"tp_comm_overlap_fraction": 0.0})
        assert _adapter_gathers(stack) == pytest.approx(no_userbuffers, rel=1e-12)
        return
    assert _adapter_gathers(stack) == pytest.approx(no_userbuffers, rel=1e-12)  # MLA: the stack's overlap not run
    monkeypatch.setattr(tp_overlap, "MLA_DISABLES_USERBUFFERS", False)
    want = {H: 3.0, QL: 2.0, KVL + ROPE: 1.0, KVL: 1.0, R: 4.0}
    assert _adapter_gathers(stack) == pytest.approx(want, rel=1e-12)


def test_mla_lora_grid_is_the_one_plan_path() -> None:
    """A search grid of DeepSeek-V3 plans with `all` adapters equals the one-plan float path, bit for bit."""
    shape = _v3()
    cluster, stack, plans = sampled_valid_plans(shape, 256, 4096, 256, seed=7, count=24)
    assert np.any(plans.tp > 1)
    assert_lora_grid_prices_as_one(shape, cluster, plans, stack, lora_spec(shape, R, "all"))
