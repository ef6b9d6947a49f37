"""Attention DP with MoE TP (`serving.deployment.Deployment.moe_tp`, `serving.host_overhead.inference_layout`,
`ops.layer`; the sets' reading `validation.campaign_settings.moe_layout`), and one MoE launch count for the body, the
eager host floor and `validation.step_components` (`serving.trtllm_gen_moe.routing_kernels`).

Hand counts on GPT-OSS-120B (HF config.json: hidden 2880, expert width 2880 with gate and up fused, 128 experts,
top-4, 36 layers, every one routed), 8 tokens on each of 4 attention-DP ranks of attention TP 1.
"""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.errors import InputError
from infraplan.ops.layer import layer_ops
from infraplan.serving import routed_experts, trtllm_gen_moe
from infraplan.serving.deployment import check_deployment
from infraplan.serving.host_overhead import forward_kernels, inference_layout
from infraplan.serving.llm_iteration import Deployment, build_iteration_cost
from infraplan.validation import campaign_settings
from infraplan.validation.step_components import body_part_tables

OSS = load_model("gpt-oss-120b")
H, F, E, K = 2880.0, 2880.0, 128.0, 4.0
TOKENS, ADP = 8.0, 4


def _ops(ep: int, moe_tp: int):
    return layer_ops(OSS, inference_layout(1, ep, ADP, np.array([TOKENS]), moe_tp))


def _gemm(ops, role: str):
    return next(g for g in ops.gemms if g.role == role)


def _live(ops, role: str) -> list:
    return [c for c in ops.collectives_fwd if c.role == role and bool(np.all(np.asarray(c.mask)))
            and bool(np.all(np.asarray(c.group) > 1))]


@pytest.mark.parametrize(("ep", "moe_tp"), [(1, 4), (2, 2)])
def test_moe_tp_shards_every_expert_over_the_groups_gathered_tokens(ep: int, moe_tp: int) -> None:
    """The 4 ranks' 32 tokens each pick 4 of 128 experts: 128 (1 - (1 - 4/128)^32) = 81.66 experts hit, 128 x 0.03125
    x 32 / 81.66 = 1.567 rows each; every hit expert local to a rank (EP 1: all of them; EP 2: half) at 1/MoE-TP of its
    width (gate + up 2 x 2880 / MoE TP, down 2880 / MoE TP)."""
    ops = _ops(ep, moe_tp)
    active = E * (1.0 - (1.0 - K / E) ** (TOKENS * ADP))
    assert active == pytest.approx(81.66, abs=0.01)
    up, down = _gemm(ops, "expert_up"), _gemm(ops, "expert_down")
    assert float(up.m[0]) == pytest.approx(TOKENS * ADP * K / active, rel=1e-12)
    assert (up.n, up.k, down.n, down.k) == (2 * F / moe_tp, H, H, F / moe_tp)
    assert float(up.count[0]) == pytest.approx(active / ep, rel=1e-12)


def test_moe_tp_reads_the_same_expert_weights_a_rank_as_wide_ep() -> None:
    """MoE TP 4 / EP 1 and EP 4 hold a quarter of the expert weights each: the hit experts' weight elements read per
    rank (count x n x k) agree, only their split (whole experts or quarter experts) differs."""
    def weights(ops) -> float:
        experts = (g for g in ops.gemms if g.role in routed_experts.EXPERT_GEMMS)
        return sum(float(np.asarray(g.count)[0]) * g.n * g.k for g in experts)

    assert weights(_ops(1, 4)) == pytest.approx(weights(_ops(4, 1)), rel=1e-12)


@pytest.mark.parametrize(("ep", "moe_tp"), [(1, 4), (2, 2)])
def test_moe_tp_gathers_the_groups_tokens_and_reduce_scatters_them_without_all_to_all(ep: int, moe_tp: int) -> None:
    """TensorRT-LLM under attention DP (AIConfigurator 0.8.0 `MoEDispatch`): one all-gather of the 4 ranks' 8 tokens
    (4 x 8 x 2880 x 2 B = 184,320 B gathered) over the 4 GPUs before the MoE, one reduce-scatter of as many after; no
    all-to-all, whatever the EP / MoE TP split. Wide EP (MoE TP 1) keeps its two all-to-alls of the routed copies."""
    live = _live(_ops(ep, moe_tp), "ep")
    assert sorted(c.kind for c in live) == ["all_gather", "reduce_scatter"]
    for c in live:
        assert float(np.asarray(c.bytes).ravel()[0]) == ADP * TOKENS * H * 2.0
        assert float(c.group) == 4.0 and c.count == 1.0
    wide = _live(_ops(4, 1), "ep")
    assert [(c.kind, c.count) for c in wide] == [("all_to_all", 2.0)]
    assert float(np.asarray(wide[0].bytes).ravel()[0]) == TOKENS * K * H * 2.0


def test_the_host_launches_the_same_kernels_for_either_split() -> None:
    """Two collectives a layer either way (all-gather + reduce-scatter, or two all-to-alls): one eager forward
    launches as many kernels under MoE TP 4 as under EP 4."""
    assert forward_kernels(OSS, _ops(1, 4), 36, 6) == forward_kernels(OSS, _ops(4, 1), 36, 6)


def test_deployment_checks_the_moe_group_against_the_attention_ranks() -> None:
    """EP x MoE TP must cover attention DP x TP, MoE TP divide the expert width, and MoE TP needs attention DP."""
    acc = Cluster.resolve("dgx-b200").accelerator
    ok = Deployment(tp=1, ep=1, attention_dp=4, moe_tp=4, dtype="mxfp4", engine="trtllm")
    check_deployment(OSS, acc, ok)
    for bad in (Deployment(tp=1, ep=2, attention_dp=4, moe_tp=4, dtype="mxfp4"),  # 8 MoE GPUs over 4
                Deployment(tp=1, ep=1, attention_dp=7, moe_tp=7, dtype="mxfp4"),  # 2880 % 7
                Deployment(tp=4, ep=1, moe_tp=4, dtype="mxfp4")):  # no attention DP
        with pytest.raises(InputError):
            check_deployment(OSS, acc, bad)


@pytest.mark.parametrize(("columns", "layout"), [
    (("1", "4", "4", "1"), (1, 4)),  # attention DP 4, MoE TP 4: every expert split four ways
    (("1", "4", "2", "2"), (2, 2)),
    (("1", "8", "1", "8"), (8, 1)),  # wide EP
    (("8", "1", "1", "8"), (8, 1)),  # EP inside TP 8
    (("8", "0", "8", "1"), (1, 1)),  # no attention DP ("0" is one): the TP group splits the experts
])
def test_the_sets_read_ep_and_moe_tp_from_the_rows_columns(columns: tuple[str, ...], layout: tuple[int, int],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    row = dict(zip(("tp_size", "attention_dp_size", "moe_tp_size", "moe_ep_size"), columns, strict=True))
    assert campaign_settings.moe_layout(row) == layout
    monkeypatch.setattr(campaign_settings, "MOE_TP_ROWS", False)  # before: EP over every attention-DP GPU
    tp, adp = int(columns[0]), campaign_settings.layout_count(columns[1])
    assert campaign_settings.moe_layout(row) == ((adp * tp, 1) if adp > 1 else (int(columns[3]), 1))


B200_OSS_CASE = {"model": "gpt-oss-120b", "system": "dgx-b200", "gpus": 8, "stack": "trtllm-0.x",
                 "deployment": {"tp": 8, "pp": 1, "dtype": "mxfp4", "kv_dtype": "bf16"}}


def _three_counts(on: bool, monkeypatch: pytest.MonkeyPatch) -> tuple[float, float, float]:
    """(eager host issue s, body s at one token, step_components' MoE-routing part at one token) of GPT-OSS-120B TP8
    native MXFP4 on a DGX B200, with the fused MXFP4 MoE's launch count on or off."""
    monkeypatch.setattr(trtllm_gen_moe, "TRTLLM_GEN_MXFP4_MOE", on)
    cluster = Cluster.resolve("dgx-b200")
    dep = Deployment(tp=8, dtype="mxfp4", kv_dtype="bf16", engine="trtllm", stack="trtllm-0.x", max_batch=64)
    cost = build_iteration_cost(OSS, cluster.accelerator, cluster.fabric, dep)
    tokens = np.array([1.0])
    parts = body_part_tables(B200_OSS_CASE, {"max_batch": 64}, tokens, cost.body_s[[1]])
    return cost.host_issue_s, float(cost.body_s[1]), float(parts["moe_routing_kernels"][0])


def test_the_body_the_eager_floor_and_step_components_count_the_same_moe_launches(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """One launch count (`routing_kernels`): the fused MXFP4 MoE's 6 - 2 = 4 fewer launches a layer x 36 layers leave
    the eager host floor 144 x the node's dispatch time lower, and the body and step_components' routing part 144 x
    the kernel overhead (4 us) lower, all three together."""
    on, off = _three_counts(True, monkeypatch), _three_counts(False, monkeypatch)
    fused = trtllm_gen_moe.TRTLLM_GEN_MOE_KERNELS - trtllm_gen_moe.TRTLLM_GEN_FUSED_ACTIVATION
    launches = (routed_experts.MOE_ROUTING_KERNELS - fused) * 36
    assert launches == 144
    fabric = Cluster.resolve("dgx-b200").fabric
    assert off[0] - on[0] == pytest.approx(launches * fabric.host_kernel_dispatch_s, rel=1e-9)
    assert off[1] - on[1] == pytest.approx(launches * 4.0e-6, rel=1e-6)
    assert off[2] - on[2] == pytest.approx(off[1] - on[1], rel=1e-9)
