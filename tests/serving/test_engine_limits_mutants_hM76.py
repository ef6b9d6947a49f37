"""hM76 mutation wave on hS76's serving limits: `raised_budget.iteration_batch` below the budget and
`kv_handoff.inside_share` / `stage_domains` on placements the hS76 tests left open (a decode worker whose stages
straddle a domain edge, pools of two group sizes with a PP > 1 worker)."""

from __future__ import annotations

import pytest

from infraplan.serving.disaggregated import DisaggregatedDeployment
from infraplan.serving.kv_handoff import inside_share, stage_domains
from infraplan.serving.llm_iteration import Deployment
from infraplan.serving.raised_budget import iteration_batch, raised_budget_note
from infraplan.serving.serving_api import estimate_serving


def _pair(pre: tuple[int, int, int], dec: tuple[int, int, int]) -> DisaggregatedDeployment:
    (pt, pp, pn), (dt, dp, dn) = pre, dec
    return DisaggregatedDeployment(Deployment(tp=pt, pp=pp, replicas=pn, engine="vllm", stack="vllm-0.x"),
                                   Deployment(tp=dt, pp=dp, replicas=dn, engine="vllm", stack="vllm-0.x"))


@pytest.mark.parametrize(("cap", "drafts", "runs"), [(256, 0, 256), (1024, 3, 1024), (8191, 0, 8191)])
def test_a_batch_cap_within_max_num_tokens_runs_whole(cap: int, drafts: int, runs: int) -> None:
    """TensorRT-LLM at max_num_tokens 8,192: a cap of 256 (or 1,024 at 3 drafts: 4,096 tokens) fits an iteration,
    so all of it runs, never more sequences than the cap admits."""
    assert iteration_batch("trtllm", cap, 8192, None, drafts) == runs
    assert raised_budget_note("trtllm", "trtllm-0.x", 8192, cap, None, drafts=drafts) is None


def test_a_decode_worker_straddling_a_domain_edge_hands_off_across_it() -> None:
    """8-GPU nodes, groups of TP4 (2 a node): the prefill TP4 worker at slot 0 (node 0), the decode TP4 PP3 worker
    at slots 1-3 (one edge crossed, as few as 3 stages on 2-slot nodes need): its stages on nodes 0, 1, 1. A PP 1
    prefill worker sends every decode stage its layers (`stage_pairs(1, 3)`), two of the three over the NICs, so the
    hand-off leaves the domain: share 0 (a stage-blind count would take all three on node 0, 1)."""
    pair = _pair((4, 1, 1), (4, 3, 1))
    assert stage_domains((pair.prefill, pair.decode), 8) == [[(0,)], [(0, 1, 1)]]
    assert inside_share(pair, 8) == 0.0


def test_two_group_sizes_with_a_pipelined_worker_share_no_domain() -> None:
    """Prefill TP2 PP2 (4 GPUs) beside 2 decode TP4 workers (8), 12 GPUs on 8-GPU nodes: two units, one of PP > 1,
    so the pools are held apart (`replica_packing.held_gpus`) and no hand-off stays inside a node (module docstring,
    "Pipelined workers"); slots of 2 for both would put the decode workers beside the prefill stages (share 1)."""
    pair = _pair((2, 2, 1), (4, 1, 2))
    assert pair.gpus == 12
    assert stage_domains((pair.prefill, pair.decode), 8) is None
    assert inside_share(pair, 8) == 0.0


def test_auto_tp_says_each_pools_gpus_a_pipeline_stage() -> None:
    """llama3-70b bf16 on 16 H100 at PP 2 with 4 prefill GPUs in the decode pool's layout: the pools hold 4 and 12
    GPUs, 2 and 6 a pipeline stage; TP 2 divides both (TP 4 would not divide 2 or 6)."""
    res = estimate_serving("llama3-70b", "dgx-h100-superpod", 16, tp="auto", pp=2, dtype="bf16", prefill_gpus=4,
                           rate=2.0, workload="chat", requests=200, seed=0)
    dep = res.deployment
    assert (dep.tp, dep.prefill.gpus, dep.prefill.pp) == (2, 4, 2)
    assert "(dividing the prefill and decode pools' 2 and 6 GPUs per pipeline stage and the 64 heads" in dep.tp_source
