"""Wide-EP serving priced as DeepEP runs it (`serving.ep_all_to_all`, `serving.expert_slots`, `cluster.deepep`): a
prefill server's normal kernels send one RDMA copy of a token per destination node (the training model's pricing,
moved to cluster/ and shared), the SMs they hold slow the compute that hides them, and EPLB's redundant experts even
the ranks' routed tokens. No shipped profile sets any of the three, so every shipped stack prices as before.

Failed before the change: `infraplan.cluster.deepep` did not exist, the serving profile refused the
`deepep_normal_kernels`, `ep_overlap_sms` and `ep_redundant_experts` keys, and `expert_slots.busiest_rank_gemm` /
`spare_per_rank` took no redundant experts (checked: against the base snapshot the file fails at its import of
`infraplan.cluster.deepep`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from infraplan.catalog.loader import load_model
from infraplan.cluster import Cluster, deepep
from infraplan.ops.expert_routing import expected_nodes_per_token
from infraplan.ops.layer import Gemm, layer_ops
from infraplan.serving import ep_all_to_all as a2a
from infraplan.serving import expert_slots
from infraplan.serving import llm_iteration as li
from infraplan.serving.deployment import Deployment
from infraplan.serving.engine_facts import serving_stacks
from infraplan.serving.engines import serving_profile
from infraplan.serving.host_overhead import inference_layout  # (was read through llm_iteration: split hI58)
from infraplan.training import expert_dispatch

PREFILL = "examples/stacks/sglang-deepep-prefill.yaml"
DECODE = "examples/stacks/sglang-deepep-tbo.yaml"
TBO_FP8 = ("extends: sglang-0.x\ndisplay_name: t\nserving:\n  two_batch_overlap: true\n  ep_fp8_dispatch: true\n"
           "  moe_fp8_block_rate_fraction: 1.0\n")  # examples/stacks/sglang-deepep-tbo.yaml without EPLB


def _dep(stack: str, ep: int = 32) -> Deployment:
    return Deployment(tp=1, ep=ep, attention_dp=ep, dtype="fp8", kv_dtype="bf16", max_batch=4096, token_budget=8192,
                      engine="sglang", stack=stack)


def _yaml(tmp_path: Path, name: str, extra: str = "") -> str:
    path = tmp_path / f"{name}.yaml"
    path.write_text(TBO_FP8 + extra)
    return str(path)


def test_one_implementation_and_no_shipped_profile_sets_the_flags() -> None:
    for name in ("ep_domains", "deepep_node_dedup", "deepep_own_node_factor", "deepep_rdma_bytes_per_s",
                 "flex_dispatch_seconds"):
        assert getattr(expert_dispatch, name) is getattr(deepep, name)  # training imports the ops/ functions
    shape, fabric = load_model("deepseek-v3"), Cluster.resolve("dgx-h100-superpod").fabric
    ops = layer_ops(shape, inference_layout(1, 32, 32, np.arange(3.0), 1))
    for name in serving_stacks():
        profile = serving_profile(name)
        assert not profile.deepep_normal_kernels and profile.ep_overlap_sms == 0 and profile.ep_redundant_experts == 0
        assert a2a.deepep_all_to_alls(shape, fabric, _dep(name), ops.collectives_fwd) == ()
        assert expert_slots.spare_per_rank(name, 72) == 0.0
    assert serving_profile(PREFILL).deepep_normal_kernels and serving_profile(PREFILL).ep_overlap_sms == 20
    assert serving_profile(DECODE).ep_redundant_experts == 32 and not serving_profile(DECODE).deepep_normal_kernels


def test_normal_kernels_send_one_copy_per_node_across_nodes_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """DeepSeek-V3 at EP32 over 4 H100 nodes, 8,192 tokens a GPU: NCCL's per-expert all-to-all 28.8 ms a layer;
    DeepEP's normal kernels 3.14 node copies a token (group-limited routing) at the README's EP32 rate, 15.4 ms
    (measured on this tree). Inside one node (EP8) the stack's all-to-all stays as priced."""
    shape, fabric = load_model("deepseek-v3"), Cluster.resolve("dgx-h100-superpod").fabric
    m = np.array([0.0, 256.0, 8192.0])
    ops = layer_ops(shape, inference_layout(1, 32, 32, m, 1))
    (a2a_op,) = (c for c in ops.collectives_fwd if c.role == "ep")
    nccl = li.serving_collective_time(fabric, a2a_op)
    normal = a2a.deepep_all_to_alls(shape, fabric, _dep(PREFILL), ops.collectives_fwd)
    assert len(normal) == 1 and normal[0] is a2a_op
    got = a2a.ep_seconds(shape, fabric, _dep(PREFILL), ops.collectives_fwd, li.serving_collective_time, m)
    flex = deepep.flex_dispatch_seconds(shape, fabric, normal)  # priced for bf16; the stack dispatches fp8
    assert np.allclose(got, flex * a2a.dispatch_share(_dep(PREFILL))) and a2a.dispatch_share(_dep(PREFILL)) < 1.0
    assert float(nccl[-1]) == pytest.approx(28.8e-3, rel=0.01) and float(flex[-1]) == pytest.approx(15.4e-3, rel=0.01)
    assert float(expected_nodes_per_token(shape, 4.0)) == pytest.approx(3.1428571, rel=1e-6)
    one_node = layer_ops(shape, inference_layout(1, 8, 8, m, 1))
    assert a2a.deepep_all_to_alls(shape, fabric, _dep(PREFILL, 8), one_node.collectives_fwd) == ()
    monkeypatch.setattr(a2a, "DEEPEP_NODE_COPIES", False)
    assert np.array_equal(a2a.ep_seconds(shape, fabric, _dep(PREFILL), ops.collectives_fwd,
                                         li.serving_collective_time, m), nccl * a2a.dispatch_share(_dep(PREFILL)))


def test_prefill_server_layer_is_no_longer_all_to_all_bound(tmp_path: Path) -> None:
    """The same EP32 prefill engine, 8,192 tokens an iteration: two-batch overlap + fp8 dispatch 1,337 ms; with the
    normal kernels' node copies 714 ms, the layer then bound by its compute (measured on this tree)."""
    cluster = Cluster.resolve("dgx-h100-superpod")
    shape = load_model("deepseek-v3")
    body = {s: li.build_iteration_cost(shape, cluster.accelerator, cluster.fabric, _dep(s)).body_s[8192]
            for s in (_yaml(tmp_path, "tbo"), _yaml(tmp_path, "normal", "  deepep_normal_kernels: true\n"))}
    tbo, normal = body.values()
    assert tbo == pytest.approx(1.337, rel=0.01) and normal == pytest.approx(0.714, rel=0.01)


def test_overlap_sms_slow_the_hidden_compute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """33 of 132 SMs held (f = 1 / 4): the compute under a hidden all-to-all takes min(c, e) x f / (1 - f) more,
    as the training model charges its overlapped dispatch."""
    stack = _yaml(tmp_path, "sms", "  ep_overlap_sms: 33\n")
    monkeypatch.setattr(a2a, "EP_FP8_DISPATCH", False)
    compute, ep, tp = np.array([0.0, 1.0, 2.0, 3.0, 4.0]), np.array([0.0, 3.0, 3.0, 5.0, 6.0]), np.full(5, 0.5)
    assert a2a.overlap_sm_share(_dep(stack), 132) == pytest.approx(0.25)
    got = a2a.layer_seconds(compute, tp, ep, _dep(stack), 132)
    # M = 2: c 2, e 6 -> max(2 + 2 / 3, 6); M = 4: c 4, e 6 -> max(4 + 4 / 3, 6); M = 3: c 3, e 6 -> max(4, 6)
    assert np.allclose(got, [0.5, 4.5, 6.5, 6.5, 6.5])
    compute = np.array([0.0, 1.0, 5.0, 6.0, 7.0])  # M = 4: c 5 + 5 > e 3 + 3 -> 10 + 6 / 3
    assert np.allclose(a2a.layer_seconds(compute, tp, ep, _dep(stack), 132)[4], 10.0 + 2.0 + 0.5)
    assert np.allclose(a2a.layer_seconds(compute, tp, ep, _dep(stack), 0)[4], 10.0 + 0.5)  # SMs unknown: none
    monkeypatch.setattr(a2a, "EP_OVERLAP_SMS", False)
    assert np.allclose(a2a.layer_seconds(compute, tp, ep, _dep(stack), 132)[4], 10.0 + 0.5)


def test_eplb_evens_the_busiest_rank(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """256 experts at EP72 with R = 32 (LMSYS's decode, 288 slots): the busiest GPU reads 4 experts' weights as
    before but computes the mean rank's tokens, and its all-to-all is the mean rank's; the 256-row decode step at
    2,100 cached tokens 100.5 -> 91.6 ms (measured on this tree). EP32 with R = 32: 9 slots of 8 experts' tokens."""
    g = Gemm("expert_up", np.array([8.0]), 4096.0, 7168.0, 256.0 / 72.0, grouped=True)
    busiest, held = expert_slots.busiest_rank_gemm(g, 256.0 / 72.0)
    assert held == 4.0 and np.allclose(busiest.m * busiest.count, 8.0 * 4.0)  # 4 experts' tokens
    balanced, held = expert_slots.busiest_rank_gemm(g, 256.0 / 72.0, 32.0 / 72.0)
    assert held == 4.0 and balanced.count == pytest.approx(4.0) and np.allclose(balanced.m * balanced.count,
                                                                                8.0 * 256.0 / 72.0)
    assert expert_slots.busiest_rank_gemm(g, 8.0, 1.0)[1] == 9.0
    shape, cluster = load_model("deepseek-v3"), Cluster.resolve("dgx-h100-superpod")
    (c,) = (c for c in layer_ops(shape, inference_layout(1, 72, 72, np.arange(3.0), 1)).collectives_fwd
            if c.role == "ep")
    assert expert_slots.busiest_rank_collective(c, 256.0 / 72.0, 32.0 / 72.0) is c
    assert expert_slots.busiest_rank_collective(c, 256.0 / 72.0) is not c
    stacks = _yaml(tmp_path, "plain"), _yaml(tmp_path, "eplb", "  ep_redundant_experts: 32\n")
    assert expert_slots.spare_per_rank(stacks[1], 72) == pytest.approx(32 / 72)

    def step(stack: str) -> float:
        cost = li.build_iteration_cost(shape, cluster.accelerator, cluster.fabric, _dep(stack, 72))
        return float(li.decode_time(cost, 256, 2100))

    plain, eplb = step(stacks[0]), step(stacks[1])
    assert plain == pytest.approx(0.1005, rel=0.01) and eplb == pytest.approx(0.0916, rel=0.01)
    monkeypatch.setattr(expert_slots, "EPLB_REDUNDANT_EXPERTS", False)
    assert step(stacks[1]) == pytest.approx(plain, rel=1e-12)
