"""Megatron-Bridge's flex dispatcher rule per GPU and the DeepEP / HybridEP kernels priced as they send."""

from __future__ import annotations

import pytest

from infraplan.catalog import load_model
from infraplan.catalog.stacks import load_stack
from infraplan.cluster import Cluster
from infraplan.ops.expert_routing import expected_nodes_per_token
from infraplan.ops.layer import Collective
from infraplan.training.estimate import estimate_training
from infraplan.training.expert_dispatch import flex_dispatch_seconds, with_flex_dispatcher
from infraplan.validation.sets import MODEL_RECIPE_FLEX_BACKEND, frontier_row_stack, load_frontier_rows

STACK = load_stack("nemo-26.04")


def _flex(backend: str):
    return STACK.model_copy(update={"moe": STACK.moe.model_copy(update={"flex_backend": backend})})


DEEPEP, HYBRIDEP = _flex("deepep"), _flex("hybridep")


def test_deepep_runs_on_hopper_and_b200_not_on_gb200_hybridep_everywhere() -> None:
    # megatron-bridge 0.3.1 flex_dispatcher_backend.py:47-61: DeepEP on cc 8/9 and "NVIDIA B200"/"B300" only
    for gpu in ("h100-sxm", "h800", "b200", "b300"):
        assert with_flex_dispatcher(DEEPEP, gpu) is DEEPEP
    for gpu in ("gb200", "gb300", "mi355x"):
        kept = with_flex_dispatcher(DEEPEP, gpu)
        assert kept.moe.flex_backend is None
        assert with_flex_dispatcher(DEEPEP, gpu) is kept  # one copy per stack and GPU (the memo's identity)
    for gpu in ("h100-sxm", "b200", "gb200", "gb300"):
        assert with_flex_dispatcher(HYBRIDEP, gpu) is HYBRIDEP
    assert with_flex_dispatcher(STACK, "h100-sxm") is STACK  # no flex backend: untouched


def test_two_node_deepep_sends_each_token_once_to_the_other_node() -> None:
    shape = load_model("qwen3-30b-a3b")  # 128 experts, top-8
    fabric = Cluster.resolve("dgx-h100-superpod").fabric
    token_bytes = 4096 * shape.hidden_size * 2.0
    record = Collective("all_to_all", "ep", token_bytes * 8, 16, 1, count=2.0)  # EP16 over two DGX
    seconds = float(flex_dispatch_seconds(shape, fabric, (record,)))
    reached = float(expected_nodes_per_token(shape, 2.0))
    assert reached > 1.99  # the other node is practically always hit
    # one copy per node reached, the own node's included, at the NIC's rate (DeepEP README's RDMA figure
    # counts every node a token reaches: deep-ep 1.0.0 tests/test_internode.py:39-43, :159, :174-186)
    # at the README's EP16 rate, 43 GB/s dispatch and combine (round 14)
    assert seconds == pytest.approx(2.0 * token_bytes * reached / 43e9, rel=1e-12)
    # the NIC itself carries the one remote copy per token: half the README rate over two nodes
    nic_rate = 2.0 * token_bytes * (reached - 1.0) / seconds
    assert nic_rate == pytest.approx(43e9 / 2.0, rel=0.01)
    # NCCL's per-expert all-to-all would send ~4 copies (k (N - 1) / N) over the NICs: ~2x the time
    assert seconds < 0.6 * 2.0 * token_bytes * 8 * 0.5 / fabric.nic_bytes_per_s


def test_inside_one_dgx_hybridep_sends_once_per_rank_reached() -> None:
    shape = load_model("deepseek-v3")  # node-limited routing: a token reaches at most 4 of 8 groups
    fabric = Cluster.resolve("dgx-b200").fabric
    token_bytes = 4096 * shape.hidden_size * 2.0
    record = Collective("all_to_all", "ep", token_bytes * 8, 8, 1)
    seconds = float(flex_dispatch_seconds(shape, fabric, (record,)))
    ranks = float(expected_nodes_per_token(shape, 8.0))
    assert ranks <= 4.0 + 1e-9
    assert seconds == pytest.approx(token_bytes * ranks * 7 / 8 / fabric.scale_up_bytes_per_s, rel=1e-12)
    assert float(flex_dispatch_seconds(shape, fabric, (Collective("all_to_all", "ep", 1e9, 1, 1),))) == 0.0


def _h029(stack):
    return estimate_training("qwen3-30b-a3b", "dgx-h100-superpod", 16, tp=1, pp=1, ep=16, seq_len=4096,
                             global_batch=1024, micro_batch=1, dtype="fp8", stack=stack)


def test_flex_changes_only_the_all_to_all_and_only_where_it_runs() -> None:
    plain, flex = _h029(STACK), _h029(DEEPEP)
    # ~2 node copies per token (the own node's at the README's rate) against NCCL's ~4 remote expert copies
    assert 0.4 * plain.breakdown_s.ep_comm < flex.breakdown_s.ep_comm < 0.55 * plain.breakdown_s.ep_comm
    assert flex.breakdown_s.compute == pytest.approx(plain.breakdown_s.compute, rel=1e-12)
    on_gb200 = dict(tp=1, pp=1, ep=16, seq_len=4096, global_batch=256, micro_batch=1, dtype="mxfp8")
    a = estimate_training("qwen3-30b-a3b", "gb200-nvl72", 16, stack=STACK, **on_gb200)
    b = estimate_training("qwen3-30b-a3b", "gb200-nvl72", 16, stack=DEEPEP, **on_gb200)
    assert b.step_time_s == a.step_time_s  # DeepEP is skipped on GB200: the recipe's alltoall runs


def test_rows_keep_alltoall_unless_asked() -> None:
    rows = [r for r in load_frontier_rows() if not r["awaiting_issue_13"]]
    assert all(frontier_row_stack(r, perf_config=False).moe.flex_backend is None for r in rows)
    # a row's own performance configuration may set one (H029: qwen/h100/qwen3_moe.py:89-90, round 10; the GB200
    # MXFP8 26.06 configurations of H015 / H021 / H025, rounds 13c / 13h: validation.perf_config_moe)
    flex_rows = {r["id"] for r in rows if frontier_row_stack(r).moe.flex_backend is not None}
    assert flex_rows == {"H015", "H021", "H025", "H029"}
    flexed = {r["id"]: frontier_row_stack(r, flex=True, perf_config=False).moe.flex_backend for r in rows}
    assert flexed["H029"] == "deepep" and flexed["H017"] == "hybridep" and flexed["H022"] is None
    assert set(MODEL_RECIPE_FLEX_BACKEND) == {"deepseek-v3", "qwen3-30b-a3b", "qwen3-235b-a22b"}


def test_a_flex_backend_that_runs_on_no_accelerator_is_refused() -> None:
    """`flex_backend` without its accelerator list would price plain all-to-all without a word: refused."""
    from pydantic import ValidationError

    from infraplan.catalog.stacks import MoeRouting

    with pytest.raises(ValidationError, match="runs on no accelerator"):
        MoeRouting.model_validate({"flex_backend": "deepep"})
    assert MoeRouting.model_validate({"flex_backend": "deepep", "deepep_accelerators": ["h100-sxm"]}).flex_backend
