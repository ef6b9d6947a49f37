"""MoE router and token-permutation passes of the training layer table (Megatron-Core all-to-all dispatcher)."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.ops.layer import Layout, layer_ops
from infraplan.ops.moe_routing import moe_routing_passes


def test_permutation_bytes_follow_top_k_hidden_and_local_experts() -> None:
    shape = load_model("gpt-oss-120b")  # h 2880, top-4, 128 experts
    one = moe_routing_passes(shape, 4096.0, 8)
    h, k = 2880.0, 4.0
    permute = 2.0 * 4096 * h * (2.0 + 2.0 * k + 4.0 * k)  # permute, sort, unsort, unpermute (bf16)
    assert float(one[0]) == pytest.approx(permute + 16.0 * 4096 * 128)
    # one local expert per rank (EP = E): no chunk sort / unsort after the all-to-all
    alone = moe_routing_passes(shape, 4096.0, 128)
    assert float(alone[0]) == pytest.approx(2.0 * 4096 * h * (2.0 + 2.0 * k) + 16.0 * 4096 * 128)
    # the busiest rank sorts its larger share under imbalanced routing
    assert float(moe_routing_passes(shape, 4096.0, 8, 1.25)[0]) > float(one[0])


def test_dense_models_have_no_routing_pass_and_dense_kinds_weigh_zero() -> None:
    dense = layer_ops(load_model("llama3-8b"), Layout(tokens=4096.0, seq_len=4096))
    assert all(e.role != "moe_routing" for e in dense.elementwise_fwd)
    dsv3 = load_model("deepseek-v3")  # 3 of 61 layers dense: the mean table carries 58/61 of the routed pass
    (mean,) = [e for e in layer_ops(dsv3, Layout(tokens=4096.0, seq_len=4096)).elementwise_fwd
               if e.role == "moe_routing"]
    routed = moe_routing_passes(dsv3, 4096.0, 1)
    assert float(mean.bytes) == pytest.approx(float(routed[0]) * 58 / 61)
    assert np.isclose(mean.kernels, 9.0 * 58 / 61)


def test_backward_moves_the_same_routing_bytes() -> None:
    ops = layer_ops(load_model("qwen3-30b-a3b"), Layout(tokens=np.array([2048.0, 4096.0]), ep=8, seq_len=4096))
    (fwd,) = [e for e in ops.elementwise_fwd if e.role == "moe_routing"]
    (bwd,) = [e for e in ops.elementwise_bwd if e.role == "moe_routing"]
    assert np.allclose(fwd.bytes, bwd.bytes) and fwd.bytes[1] == pytest.approx(2.0 * fwd.bytes[0])


def test_hybridep_permutes_inside_its_kernels_only_under_the_toggle(monkeypatch: pytest.MonkeyPatch) -> None:
    import infraplan.ops.moe_routing as moe_routing

    shape = load_model("qwen3-30b-a3b")  # h 2048, top-8, 128 experts
    plain = moe_routing_passes(shape, 4096.0, 16)
    assert moe_routing_passes(shape, 4096.0, 16, 1.0, "hybridep") == plain  # measured, not applied (off)
    monkeypatch.setattr(moe_routing, "HYBRIDEP_FUSED_PERMUTE", True)
    fused = moe_routing_passes(shape, 4096.0, 16, 1.0, "hybridep")
    assert fused == (16.0 * 4096 * 128, 4.0)  # the router's passes alone
    assert moe_routing_passes(shape, 4096.0, 16) == plain  # other dispatchers keep every pass
    lay = Layout(tokens=4096.0, ep=16, seq_len=4096, moe_dispatcher="hybridep")
    (routing,) = [e for e in layer_ops(shape, lay).elementwise_fwd if e.role == "moe_routing"]
    assert float(routing.bytes) == fused[0] and routing.kernels == 4.0


def _qwen3_30b_other_s(monkeypatch: pytest.MonkeyPatch, toggle: str, on: bool, flex: str | None) -> float:
    """`other` seconds of Qwen3-30B-A3B's step on 16 H100 (EP16, fp8) under nemo-26.04 with the flex backend given
    and the `ops.moe_routing` toggle set."""
    import infraplan.ops.moe_routing as moe_routing
    from infraplan.catalog.stacks import load_stack
    from infraplan.training.estimate import estimate_training
    from infraplan.training.one_plan_memo import clear_one_plan_memo

    nemo = load_stack("nemo-26.04")
    stack = nemo.model_copy(update={"moe": nemo.moe.model_copy(update={"flex_backend": flex})})
    monkeypatch.setattr(moe_routing, toggle, on)
    clear_one_plan_memo()
    return float(estimate_training("qwen3-30b-a3b", "dgx-h100-superpod", 16, tp=1, pp=1, ep=16, seq_len=4096,
                                   global_batch=1024, micro_batch=1, recompute="none", dtype="fp8",
                                   stack=stack).breakdown_s.other)


def test_a_hybridep_stack_drops_the_permute_passes_of_its_training_step(monkeypatch: pytest.MonkeyPatch) -> None:
    def other(on: bool, flex: str | None) -> float:
        return _qwen3_30b_other_s(monkeypatch, "HYBRIDEP_FUSED_PERMUTE", on, flex)

    hybridep, nemo = "hybridep", None
    assert other(True, hybridep) < other(False, hybridep)
    assert other(True, nemo) == other(False, nemo)  # the alltoall dispatcher permutes on its own


def _casts(model: str, **kw: object) -> dict[str, float]:
    lay = Layout(**({"tokens": 4096.0, "seq_len": 4096, "ep": 16, "fp8_casts": True, "cast_bytes": 4.0,
                     "amax_bytes": 2.0} | kw))  # type: ignore[arg-type]
    ops = layer_ops(load_model(model), lay)
    return {("bwd:" if i else "") + e.role: float(np.asarray(e.bytes))
            for i, passes in enumerate((ops.elementwise_fwd, ops.elementwise_bwd)) for e in passes}


def test_routed_experts_cast_the_k_routed_copies_not_a_norm_shard(monkeypatch: pytest.MonkeyPatch) -> None:
    import infraplan.ops.moe_routing as moe_routing

    on = _casts("qwen3-30b-a3b")  # h 2048, top-8, no shared expert; TP1: the shard is every token
    monkeypatch.setattr(moe_routing, "ROUTED_COPY_CASTS", False)
    off = _casts("qwen3-30b-a3b")
    t, h, k = 4096.0, 2048.0, 8.0
    # fc1's input forward and fc2's output gradient backward: k T h elements at cast + amax bytes (4 + 2), in place
    # of the one h-wide shard operand (forward: a norm-made input, its amax in the norm, 4 B; backward 4 + 2 B), all
    # in the shard pass, which carries its own amax bytes (the "fp8_cast" pass's bytes are scaled by the recipe's
    # amax reads in `training.layer_kernels.elementwise_time`: the routed copies' amax would count twice there)
    assert on["fp8_cast"] == off["fp8_cast"] and on["bwd:fp8_cast"] == off["bwd:fp8_cast"]
    assert on["fp8_cast_shard"] - off["fp8_cast_shard"] == pytest.approx(6.0 * k * t * h - 4.0 * t * h)
    assert on["bwd:fp8_cast_shard"] - off["bwd:fp8_cast_shard"] == pytest.approx(6.0 * k * t * h - 6.0 * t * h)
    # dense models are untouched
    monkeypatch.setattr(moe_routing, "ROUTED_COPY_CASTS", True)
    dense_on = _casts("llama3-8b")
    monkeypatch.setattr(moe_routing, "ROUTED_COPY_CASTS", False)
    assert _casts("llama3-8b") == dense_on


def test_routed_copies_follow_the_experts_rows_and_a_shared_expert_keeps_its_operand() -> None:
    from infraplan.ops.moe_routing import routed_copy_casts

    shape = load_model("qwen3-235b-a22b")
    # folded TP2 + SP, ETP1: each rank's experts compute k x its 2,048-token shard, not k x 4,096
    ops = layer_ops(shape, Layout(tokens=4096.0, seq_len=4096, tp=2, ep=32, etp=1, folded=True,
                                  sequence_parallel=True, fp8_casts=True, cast_bytes=4.0, amax_bytes=2.0))
    (up,) = [g for g in ops.gemms if g.role == "expert_up"]
    assert float(up.m * up.count) == pytest.approx(8.0 * 2048)
    assert routed_copy_casts(shape, 16384.0, 4.0, 2.0) == (6.0 * 16384 * 4096, 1.0)
    dsv3 = load_model("deepseek-v3")  # one shared expert: its fc1 input stays a shard operand
    assert routed_copy_casts(dsv3, 8.0, 4.0, 0.0)[1] == 0.0
    assert routed_copy_casts(load_model("llama3-8b"), 8.0, 4.0, 2.0) == (0.0, 0.0)


def test_quantisation_padding_copies_the_expert_rows_twice_each_way(monkeypatch: pytest.MonkeyPatch) -> None:
    import infraplan.ops.moe_routing as moe_routing
    from infraplan.ops.moe_routing import routed_copy_casts

    shape = load_model("qwen3-235b-a22b")
    rows, h = 16384.0, 4096.0
    plain, _ = routed_copy_casts(shape, rows, 4.0, 2.0)
    padded, _ = routed_copy_casts(shape, rows, 4.0, 2.0, True)
    assert padded - plain == pytest.approx(8.0 * rows * h)  # Fp8Padding + Fp8Unpadding: two bf16 row copies
    monkeypatch.setattr(moe_routing, "ROUTED_COPY_CASTS", False)
    assert routed_copy_casts(shape, rows, 4.0, 2.0, True) == (pytest.approx(8.0 * rows * h), 0.0)
    monkeypatch.setattr(moe_routing, "EXPERT_QUANTIZATION_PADDING", False)
    assert float(routed_copy_casts(shape, rows, 4.0, 2.0, True)[0]) == 0.0
    # in the table the copies ride on the masked shard-cast pass: bf16 plans (no casts) pay none
    monkeypatch.setattr(moe_routing, "EXPERT_QUANTIZATION_PADDING", True)
    lay = Layout(tokens=4096.0, seq_len=4096, ep=16, quantization_padding=True, fp8_casts=False)
    (cast,) = [e for e in layer_ops(load_model("qwen3-30b-a3b"), lay).elementwise_fwd if e.role == "fp8_cast_shard"]
    assert not cast.mask


def test_megatron_per_expert_stacks_pad_unless_hybridep_does(monkeypatch: pytest.MonkeyPatch) -> None:
    def other(on: bool, flex: str | None) -> float:
        return _qwen3_30b_other_s(monkeypatch, "EXPERT_QUANTIZATION_PADDING", on, flex)

    hybridep, nemo = "hybridep", None
    assert other(True, nemo) > other(False, nemo)  # alltoall: counts not aligned, TE copies the rows
    assert other(True, hybridep) == other(False, hybridep)  # HybridEP pads the counts itself


def test_deepep_permutes_its_received_rows_without_the_chunk_sort(monkeypatch: pytest.MonkeyPatch) -> None:
    import infraplan.ops.moe_routing as moe_routing
    from infraplan.ops.expert_routing import expected_nodes_per_token

    shape = load_model("deepseek-v3")  # h 7168, top-8 of 256 (group-limited), EP64: 4 local experts per rank
    t, h, k = 2048.0, 7168.0, 8.0
    ranks = float(expected_nodes_per_token(shape, 64))
    assert 7.0 < ranks < 8.0  # nearly every routed copy on its own rank
    deepep = moe_routing_passes(shape, t, 64, 1.0, "deepep")
    assert float(deepep[0]) == pytest.approx(2.0 * t * h * 2.0 * (ranks + k) + 16.0 * t * 256)
    alltoall = moe_routing_passes(shape, t, 64)
    assert float(deepep[0]) < float(alltoall[0])  # no pre-dispatch permute and no sort / unsort of k T h
    monkeypatch.setattr(moe_routing, "DEEPEP_PERMUTE", False)
    assert moe_routing_passes(shape, t, 64, 1.0, "deepep") == alltoall
