"""Under Megatron-Core's `moe_shared_expert_overlap` the shared expert's FC1 is a TE linear without SP mode fed the
input Megatron gathered (megatron-core 0.16.1 transformer/moe/shared_experts.py:92-104, :167-170): TE keeps that
input for wgrad, so no wgrad input re-gather runs (`training.sp_regather`, `ops.layer.SHARED_OVERLAP_MEGATRON_GATHERS`;
hO, session 61). Checked failing before: on the base tree `Layout` has no `shared_expert_overlap`."""

from __future__ import annotations

import pytest

import infraplan.ops.layer as layer
from infraplan.catalog import load_model
from infraplan.catalog.model_config import TransformerShape
from infraplan.network.collectives import Fabric, collective_seconds
from infraplan.ops.layer import Layout, layer_ops
from infraplan.training.sp_regather import regather_exposed_s

FABRIC = Fabric(8, 3.6e11, 4.5e10, ("rack", "spine", "core"), (64, 2048, 32768), (1.0, 2.0, 3.0), (1e-6, 2e-6, 4e-6))
T, TP, H = 4096.0, 4, 1024


def _shape() -> TransformerShape:
    base = load_model("mixtral-8x7b").model_dump()
    return TransformerShape.model_validate({**base, "name": "small-shared-moe", "hidden_size": H, "num_heads": 8,
                                            "num_kv_heads": 8, "head_dim": 128, "ffn_hidden_size": 512,
                                            "num_layers": 2, "num_shared_experts": 1, "shared_ffn_hidden_size": 1024})


def _lay(overlap: bool) -> Layout:
    return Layout(tokens=T, seq_len=T, tp=TP, ep=4, etp=1, sequence_parallel=True,  # type: ignore[arg-type]
                  routed_gather_at_expert_tp=True, shared_expert_overlap=overlap)


@pytest.mark.parametrize("one", [True, False])
def test_the_shared_fc1_regather_goes_under_the_overlap(one: bool) -> None:
    """No dgrad GEMM time to hide under: the exposed re-gathers drop by one T x h gather over TP (the shared FC1's);
    the toggle off keeps it."""
    ops = layer_ops(_shape(), _lay(False))
    zero = [(0.0, 0.0)] * len(ops.gemms)
    plain = float(regather_exposed_s(FABRIC, ops, zero, _lay(False), 1.0, one))
    over = float(regather_exposed_s(FABRIC, ops, zero, _lay(True), 1.0, one))
    gather = collective_seconds(FABRIC, "all_gather", T * H * 2.0, TP, 1)
    assert plain - over == pytest.approx(gather)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(layer, "SHARED_OVERLAP_MEGATRON_GATHERS", False)
        assert float(regather_exposed_s(FABRIC, ops, zero, _lay(True), 1.0, one)) == plain
