"""Megatron-Core's all-to-all token dispatcher gathers the routed copies it received over the expert-TP group (and
reduce-scatters them back) whenever expert TP > 1, whether ETP equals TP or not (megatron-core 0.10.0 transformer/
moe/token_dispatcher.py:51, :508-516, :560-567; 0.16.1 :71-76, :691-701, :774-783): an unfolded routed layer has no
T x h FFN pair but that k x gather (`ops.layer.ROUTED_GATHER_AT_EXPERT_TP`, set for Megatron stacks on the alltoall
dispatcher by `training.layer_time`; hH, session 60). Before, the unfolded layer was priced as a dense FFN's pair.
Checked failing before the change: on the base tree `Layout` has no `routed_gather_at_expert_tp` and the toggle does
not exist."""

from __future__ import annotations

import numpy as np
import pytest

import infraplan.ops.layer as layer
from infraplan.catalog import load_model
from infraplan.ops.layer import Layout, layer_ops
from infraplan.ops.params import ACT_BYTES
from infraplan.training import one_plan_memo
from infraplan.training.estimate import estimate_training

T, TP = 8192.0, 4


def _tp_bytes(ops: layer.LayerOps) -> dict[str, float]:
    """Forward TP bytes by kind: sum of count x bytes over the records whose mask holds."""
    out: dict[str, float] = {}
    for c in ops.collectives_fwd:
        if c.role == "tp" and bool(np.all(c.mask)) and float(np.asarray(c.group)) > 1:
            out[c.kind] = out.get(c.kind, 0.0) + c.count * float(np.asarray(c.bytes))
    return out


def _lay(gather: bool) -> Layout:
    return Layout(tokens=T, seq_len=T, tp=TP, ep=1, sequence_parallel=True,  # type: ignore[arg-type]
                  routed_gather_at_expert_tp=gather)


def test_unfolded_routed_layer_gathers_k_copies_over_expert_tp() -> None:
    """Mixtral 8x7B (top 2, no shared expert), TP 4 = ETP 4, EP 1: the FFN side's T x h all-gather becomes the
    gather of the 2 routed copies of every token of the TP group (2 T h); the attention's pair stays."""
    mixtral = load_model("mixtral-8x7b")
    h, k = float(mixtral.hidden_size), float(mixtral.experts_per_token)
    act = T * h * ACT_BYTES
    off, on = _tp_bytes(layer_ops(mixtral, _lay(False))), _tp_bytes(layer_ops(mixtral, _lay(True)))
    assert off["all_gather"] == pytest.approx(2.0 * act)  # attention + FFN: T x h each
    assert on["all_gather"] == pytest.approx(act + k * act)  # attention + the routed copies
    assert on["reduce_scatter"] - off["reduce_scatter"] == pytest.approx((k - 1.0) * act)


def test_the_toggle_and_what_it_leaves() -> None:
    """Off, the unfolded layer is priced as before; a dense model and a folded layer (ETP 1) do not move."""
    mixtral, dense = load_model("mixtral-8x7b"), load_model("llama3-8b")
    before = _tp_bytes(layer_ops(mixtral, _lay(False)))
    assert _tp_bytes(layer_ops(mixtral, _lay(True))) != before
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(layer, "ROUTED_GATHER_AT_EXPERT_TP", False)
        assert _tp_bytes(layer_ops(mixtral, _lay(True))) == before
    assert _tp_bytes(layer_ops(dense, _lay(True))) == _tp_bytes(layer_ops(dense, _lay(False)))
    folded = dict(tokens=T, seq_len=T, tp=TP, ep=4, etp=1, folded=True, sequence_parallel=True)
    assert _tp_bytes(layer_ops(mixtral, Layout(**folded, routed_gather_at_expert_tp=True))) == _tp_bytes(  # type: ignore[arg-type]
        layer_ops(mixtral, Layout(**folded)))  # type: ignore[arg-type]


def test_megatron_alltoall_stacks_price_it_torchtitan_does_not(monkeypatch: pytest.MonkeyPatch) -> None:
    """A train answer: Mixtral 8x7B TP 4 EP 1 on 8 H100 under nemo-24.12 (alltoall) pays more TP time than with the
    toggle off; torchtitan (its own MoE: the experts split over TP on replicated tokens) is unchanged."""
    plan = dict(model="mixtral-8x7b", system="dgx-h100-superpod", gpus=8, tp=4, ep=1, seq_len=4096,
                global_batch=16, micro_batch=1, dtype="bf16", recompute="full")
    one_plan_memo.clear_one_plan_memo()  # (the one-plan memo keeps a plan's layer terms: priced afresh each way)
    on = {s: estimate_training(**plan, stack=s) for s in ("nemo-24.12", "torchtitan")}  # type: ignore[arg-type]
    monkeypatch.setattr(layer, "ROUTED_GATHER_AT_EXPERT_TP", False)
    one_plan_memo.clear_one_plan_memo()
    off = {s: estimate_training(**plan, stack=s) for s in ("nemo-24.12", "torchtitan")}  # type: ignore[arg-type]
    one_plan_memo.clear_one_plan_memo()
    assert on["nemo-24.12"].breakdown_s.tp_comm > off["nemo-24.12"].breakdown_s.tp_comm
    assert on["nemo-24.12"].step_time_s > off["nemo-24.12"].step_time_s
    assert on["torchtitan"].step_time_s == off["torchtitan"].step_time_s
