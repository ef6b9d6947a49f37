"""hI65 on hI64's survivors M5-M7 (`ops.mla_gemms.mla_sp_collectives`), from megatron-core 0.16.1
transformer/multi_latent_attention.py and TE 2.14, hand-counted:
* q_lora_rank None (DeepSeek-V2-Lite's published config.json: "q_lora_rank": null): `linear_q_proj` is a
  column-parallel linear on the hidden states (:391-404), so under SP its input gather is T x h, beside kv_lora's and
  the rope key's (:604-622): the latent record gathers T x (h + kv_lora + rope) bf16 bytes.
* under `moe_shared_expert_overlap` the shared expert's T x h gather is Megatron's own, not a TE linear's
  (`ops.layer.SHARED_OVERLAP_MEGATRON_GATHERS`): the FFN is the same module after an MLA attention as after a GQA
  one, so DeepSeek-V3 (MLA) keeps a forward T x h gather not marked `te_gather`, as Llama 4 Scout (GQA) does.
* with `MLA_LATENT_TE_GATHERS` the q and kv up projections each gather their own input inside TE (layernorm_linear
  .py:241-275): two latent gathers marked `te_gather`, the rope key's (Megatron's
  `gather_from_sequence_parallel_region`, :620-622) not."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.stacks import load_stack
from infraplan.cluster import Cluster
from infraplan.hardware import KernelRates
from infraplan.ops import layer as layer_module
from infraplan.ops.layer import layer_ops
from infraplan.training.enums import Dtype, RankOrder, Recompute
from infraplan.training.layer_layout import layer_layout
from infraplan.training.plan import PlanArrays

SEQ = 4096


def _f(x: object) -> float:
    return float(np.ravel(np.asarray(x))[0])


def _ops(shape, shared_overlap: bool = False):  # type: ignore[no-untyped-def]
    nemo = load_stack("nemo-26.04")
    stack = nemo.model_copy(update={"moe": nemo.moe.model_copy(update={"shared_expert_overlap": shared_overlap})})
    plan = PlanArrays.one_plan(tp=2, pp=1, dp=8, cp=1, ep=8, etp=1, vpp=1, micro_batch=1, global_batch=64,
                               seq_len=SEQ, recompute=int(Recompute.NONE), zero=1, dtype=int(Dtype.BF16),
                               attention=0, order=int(RankOrder.TP_CP_DP_PP), sequence_parallel=1).one_row
    rates = KernelRates.for_dtype(Cluster.resolve("dgx-h100-superpod").accelerator, "bf16")
    return layer_ops(shape, layer_layout(plan, False, stack, rates.fp8_gemm_layouts))


def _gathers(records, nbytes: float, te: bool | None = None) -> float:  # type: ignore[no-untyped-def]
    """Gathers of `nbytes` a layer (records of several layer kinds carry their share of the layers in `count`)."""
    return sum(_f(c.count) for c in records if c.role == "tp" and c.kind == "all_gather" and _f(c.bytes) == nbytes
               and bool(np.all(c.mask)) and (te is None or c.te_gather == te))


def test_without_q_lora_the_sp_gather_carries_the_hidden_states() -> None:
    v3 = load_model("deepseek-v3")
    shape = v3.model_copy(update={"q_lora_rank": 0})  # (the reader stores a null as 0)
    latent = SEQ * (shape.hidden_size + shape.kv_lora_rank + shape.qk_rope_head_dim) * 2.0  # 7168 + 512 + 64
    assert _gathers(_ops(shape).collectives_fwd, latent) == pytest.approx(1.0)
    with_q = SEQ * (v3.q_lora_rank + v3.kv_lora_rank + v3.qk_rope_head_dim) * 2.0  # 1536 + 512 + 64
    assert _gathers(_ops(v3).collectives_fwd, with_q) == pytest.approx(1.0)


def test_the_shared_experts_megatron_gather_is_not_te_after_an_mla_attention() -> None:
    def ffn_not_te(model: str) -> float:  # per routed layer
        shape = load_model(model)
        routed = sum(n for kind, n in shape.layer_kinds() if kind.is_moe) / shape.num_layers
        t_h = SEQ * shape.hidden_size * 2.0
        return _gathers(_ops(shape, shared_overlap=True).collectives_fwd, t_h, te=False) / routed

    gqa = ffn_not_te("llama4-scout")
    assert gqa == pytest.approx(1.0)  # the shared expert's own bf16 gather
    assert ffn_not_te("deepseek-v3") == pytest.approx(gqa)


def test_latent_te_gathers_mark_both_up_projections(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(layer_module, "MLA_LATENT_TE_GATHERS", True)
    v3 = load_model("deepseek-v3")
    fwd = _ops(v3).collectives_fwd
    marked = [_gathers(fwd, SEQ * width * 2.0, te=True) for width in (v3.q_lora_rank, v3.kv_lora_rank,
                                                                      v3.qk_rope_head_dim)]
    assert marked == pytest.approx([1.0, 1.0, 0.0])


def test_an_mla_layer_without_shared_experts_gathers_its_input_gradient_in_te_as_gqa() -> None:
    """M8: a routed layer without shared experts whose experts fold the TP group (`ops.layer`'s attention-only
    case) keeps the attention's own T x h backward gather, a TE linear's (`TE_GATHERS_EVERY_KIND`) after an MLA
    attention as after Mixtral's GQA one (no shared experts either)."""
    def te_backward(model) -> float:  # type: ignore[no-untyped-def]  # a routed layer's (its kind alone)
        (routed,) = [kind for kind, _ in model.layer_kinds() if kind.is_moe]
        return _gathers(_ops(routed).collectives_bwd, SEQ * routed.hidden_size * 2.0, te=True)

    gqa = te_backward(load_model("mixtral-8x7b"))
    assert gqa == pytest.approx(1.0)
    v3 = load_model("deepseek-v3").model_copy(update={"num_shared_experts": 0, "shared_ffn_hidden_size": 0})
    assert te_backward(v3) == pytest.approx(gqa)
