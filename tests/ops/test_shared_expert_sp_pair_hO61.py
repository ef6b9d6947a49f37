"""A shared-expert MoE layer under sequence parallelism at TP > 1 on Megatron-Core's all-to-all dispatcher, per layer
and direction (hO, session 61; the brief's question from hK61's surviving mutant G4, `attention_only` without `(not
shared)`): megatron-core 0.16.1 (0.10.0 alike)
* the shared expert is an `MLP` on the attention's TP group (transformer/moe/shared_experts.py:52, mlp.py:91): its FC1
  (TEColumnParallelLinear) all-gathers the T x h SP input, its FC2 (TERowParallelLinear) reduce-scatters T x h;
* the routed copies: the EP all-to-all of the shard's k copies, then over expert TP (`tp_group` = expt_tp,
  token_dispatcher.py:71-76) the all-gather of the received copies (:691-701) and their reduce-scatter (:774-783):
  k T / TP x ETP tokens of h, only where ETP > 1;
* with `moe_shared_expert_overlap` the shared linears lose their SP mode (shared_experts.py:92-104) and the pair is
  Megatron's own bf16 gather / reduce-scatter (:167-170, :250-253): same bytes, not TE's quantised gather
  (`ops.layer.SHARED_OVERLAP_MEGATRON_GATHERS`), and no wgrad input re-gather (`training.sp_regather`:
  tests/training/test_shared_overlap_regather_hO61.py).
Checked failing before: G4's mutant drops the shared pair (test 1); on the base tree `Layout` has no
`shared_expert_overlap` (tests 2, 3)."""

from __future__ import annotations

import numpy as np
import pytest

import infraplan.ops.layer as layer
from infraplan.catalog import load_model
from infraplan.catalog.model_config import TransformerShape
from infraplan.ops.layer import Collective, Layout, layer_ops

T, TP, H, K = 4096.0, 4, 1024, 2


def _shape() -> TransformerShape:
    """A small shared-expert MoE (8 experts, top 2, one shared expert of width 1,024, GQA): Mixtral's fields resized."""
    base = load_model("mixtral-8x7b").model_dump()
    return TransformerShape.model_validate({**base, "name": "small-shared-moe", "hidden_size": H, "num_heads": 8,
                                            "num_kv_heads": 8, "head_dim": 128, "ffn_hidden_size": 512,
                                            "num_layers": 2, "num_shared_experts": 1, "shared_ffn_hidden_size": 1024})


def _lay(etp: int, overlap: bool = False) -> Layout:
    return Layout(tokens=T, seq_len=T, tp=TP, ep=4, etp=etp, sequence_parallel=True,  # type: ignore[arg-type]
                  routed_gather_at_expert_tp=True, shared_expert_overlap=overlap)


def _bytes(records: tuple[Collective, ...]) -> dict[tuple[str, float], float]:
    """TP-role bytes by (kind, group) over the records whose mask holds."""
    out: dict[tuple[str, float], float] = {}
    for c in records:
        group = float(np.asarray(c.group))
        if c.role == "tp" and bool(np.all(c.mask)) and group > 1:
            out[(c.kind, group)] = out.get((c.kind, group), 0.0) + c.count * float(np.asarray(c.bytes))
    return out


@pytest.mark.parametrize("etp", [4, 2, 1])
def test_shared_pair_beside_the_routed_copies_gather(etp: int) -> None:
    """Bytes per layer each way: over TP the attention's and the shared expert's T x h pair (2 T h x 2 B per kind);
    over ETP (ETP = TP, ETP != TP) the k routed copies gathered and scattered (k T / TP x ETP x h x 2 B); none at ETP
    1. The T x h gathers are TE's (quantised under an fp8 recipe)."""
    ops, act = layer_ops(_shape(), _lay(etp)), T * H * 2.0
    routed = K * T / TP * etp * H * 2.0
    for records in (ops.collectives_fwd, ops.collectives_bwd):
        expected = {("all_gather", float(TP)): 2.0 * act, ("reduce_scatter", float(TP)): 2.0 * act}
        if etp > 1:
            for kind in ("all_gather", "reduce_scatter"):
                expected[(kind, float(etp))] = expected.get((kind, float(etp)), 0.0) + routed
        assert _bytes(records) == pytest.approx(expected)
        te = sum(c.count * float(np.asarray(c.bytes)) for c in records if c.te_gather and bool(np.all(c.mask)))
        assert te == pytest.approx(2.0 * act)


def test_shared_expert_overlap_gathers_in_bf16_not_te() -> None:
    """Under `moe_shared_expert_overlap` the bytes stay and the shared gather leaves TE's records (forward FC1's input,
    backward FC2's output gradient); the toggle off keeps it TE's; a dense model, or a MoE without shared expert,
    does not move."""
    shape, act = _shape(), T * H * 2.0
    plain, overlap = layer_ops(shape, _lay(1)), layer_ops(shape, _lay(1, True))
    for a, b in ((plain.collectives_fwd, overlap.collectives_fwd), (plain.collectives_bwd, overlap.collectives_bwd)):
        assert _bytes(a) == pytest.approx(_bytes(b))
        te = sum(c.count * float(np.asarray(c.bytes)) for c in b if c.te_gather)
        assert te == pytest.approx(act)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(layer, "SHARED_OVERLAP_MEGATRON_GATHERS", False)
        assert layer_ops(shape, _lay(1, True)).collectives_fwd == plain.collectives_fwd
    for other in (load_model("mixtral-8x7b"), load_model("llama3-8b")):
        assert layer_ops(other, _lay(1, True)).collectives_bwd == layer_ops(other, _lay(1)).collectives_bwd


def test_mla_shared_expert_overlap_marks_the_ffn_gathers_only() -> None:
    """DeepSeek-V3's routed layer (MLA under SP): forward the FFN's T x h gather is the shared expert's (bf16 under
    the overlap), the latents' gather stays; backward one of the two T x h gathers (FC2's output gradient) leaves
    TE's records."""
    shape = load_model("deepseek-v3")
    lay = dict(tokens=T, seq_len=T, tp=TP, ep=8, etp=1, sequence_parallel=True, routed_gather_at_expert_tp=True)
    kinds = dict(shape.layer_kinds())
    routed = next(k for k in kinds if k.is_moe)
    plain = layer._kind_ops(routed, Layout(**lay), shape)  # type: ignore[arg-type]
    over = layer._kind_ops(routed, Layout(**lay, shared_expert_overlap=True), shape)  # type: ignore[arg-type]

    def te(records: tuple[Collective, ...]) -> float:
        return sum(c.count * float(np.asarray(c.bytes)) for c in records if c.te_gather)

    act = T * shape.hidden_size * 2.0
    assert te(plain.collectives_fwd) - te(over.collectives_fwd) == pytest.approx(act)
    assert te(plain.collectives_bwd) - te(over.collectives_bwd) == pytest.approx(act)
    assert _bytes(plain.collectives_fwd) == pytest.approx(_bytes(over.collectives_fwd))

