"""The attention-DP low-load prefill stall (`prefill_stall.wide_ep_prefill_stall`) charges the other ranks' prefill
tokens at what a prefill token costs this rank: the body's marginal token, its pairs and its own per-prompt-token
attention, the same terms the iteration charges (`IterationCost.per_prefill_token_s`): DeepSeek-V3.2's MLA core over
the top-k keys (~70 us a token at TP1, hN62), a sliding-window model's W keys a token, the draft layer over the
prompt (hQ, session 62). Before, the stall priced the body and the pairs only."""

from __future__ import annotations

import dataclasses

import pytest

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.serving.deployment import Deployment
from infraplan.serving.disaggregated import prefill_pool_cost
from infraplan.serving.llm_iteration import build_iteration_cost, prefill_time
from infraplan.serving.prefill_stall import wide_ep_prefill_stall

CLUSTER = Cluster.resolve("hgx-h200")
DP = 8


def _cost(model: str, k: int = 0):
    dep = Deployment(tp=1, attention_dp=DP, ep=DP, dtype="fp8" if model.startswith("deepseek") else "mxfp4",
                     kv_dtype="fp8" if model.startswith("deepseek") else "bf16", engine="vllm", stack="vllm-0.x",
                     max_batch=64, token_budget=8192, speculative_tokens=k, acceptance=0.85 if k else 0.0)
    return build_iteration_cost(load_model(model), CLUSTER.accelerator, CLUSTER.fabric, dep), dep


@pytest.mark.parametrize(("model", "k"), [("deepseek-v3.2", 0), ("deepseek-v3.2", 1), ("gpt-oss-120b", 0)])
def test_the_stall_carries_the_other_ranks_per_token_attention(model: str, k: int) -> None:
    cost, dep = _cost(model, k)
    stall_token_s, stall_pair_s, others = cost.extra["stall"]
    assert others == DP - 1
    own_token_s = cost.per_prefill_token_s - stall_token_s  # the iteration's own per-prompt-token terms
    assert own_token_s > 0.0
    body_only, _ = wide_ep_prefill_stall(cost.body_s, cost.pair_flop_s, 0.0, dep)
    assert stall_token_s == pytest.approx(body_only + others * own_token_s, rel=1e-12)
    assert stall_pair_s == pytest.approx(others * cost.pair_flop_s, rel=1e-12)


def test_a_dsa_prefill_at_dp8_stalls_for_seven_ranks_core_attention() -> None:
    """One 4,096-token DeepSeek-V3.2 prompt at DP8: the stall adds 7 x (the body's marginal token + the core's top-k
    attention a token) x 4,096 + 7 x the pairs' indexer time to the stall-free prefill; the core is > 5 % of it."""
    cost, dep = _cost("deepseek-v3.2")
    free = dataclasses.replace(cost, per_prefill_token_s=cost.per_prefill_token_s - cost.extra["stall"][0],
                               pair_s=cost.pair_flop_s)
    prompt = 4096
    stalled, alone = float(prefill_time(cost, 1, prompt)), float(prefill_time(free, 1, prompt))
    body_only, pair_stall = wide_ep_prefill_stall(cost.body_s, cost.pair_flop_s, 0.0, dep)
    core_s = free.per_prefill_token_s  # the MLA core over top-k keys a prompt token (`sparse_decode`)
    pairs = prompt * (prompt + 1) / 2
    assert stalled - alone == pytest.approx((body_only + (DP - 1) * core_s) * prompt + pair_stall * pairs, rel=1e-9)
    assert (DP - 1) * core_s * prompt > 0.05 * (stalled - alone)


def test_a_prefill_pool_takes_the_whole_stall_back_out() -> None:
    """`disaggregated.prefill_pool_cost` removes the stall the cost was built with, its attention share included,
    and keeps the pool's own per-prompt-token attention."""
    cost, dep = _cost("deepseek-v3.2")
    pool = prefill_pool_cost(cost, dep)
    assert pool.per_prefill_token_s == pytest.approx(cost.per_prefill_token_s - cost.extra["stall"][0], rel=1e-12)
    assert pool.pair_s == cost.pair_flop_s
