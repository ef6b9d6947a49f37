"""Coverage wave hM15 (session 42): a cost without a low-load stall, the stall scaled to other ranks, and a
disaggregated split that leaves no decode replica: paths no test took.

`wide_ep_lockstep.with_others` (its docstring): the stall built into a cost is per other rank, so a cost priced with
`full` other ranks, moved to `others`, changes its per-prefill-token and per-pair seconds by (others / full - 1) x
the stall; without a stall there is nothing to scale. A disaggregated deployment needs at least one decode replica
besides its prefill ones (`serving_sim.simulate_deployment`)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.serving.llm_iteration import Deployment, build_iteration_cost
from infraplan.serving.serving_sim import simulate_deployment
from infraplan.serving.wide_ep_lockstep import with_others
from infraplan.serving.workloads import Requests

H200 = Cluster.resolve("hgx-h200")
LLAMA = load_model("llama3-8b")
DEP = Deployment(tp=1, replicas=2, dtype="bf16", kv_dtype="bf16", max_batch=64, token_budget=8192,
                 engine="vllm", stack="vllm-0.x")


def test_a_cost_without_a_stall_is_unchanged() -> None:
    cost = build_iteration_cost(LLAMA, H200.accelerator, H200.fabric, DEP)
    assert "stall" not in cost.extra
    assert with_others(cost, 0.0) is cost and with_others(cost, 5.0) is cost


@pytest.mark.parametrize("others", [0.0, 3.5, 7.0, 14.0])
def test_the_stall_scales_with_the_other_ranks(others: float) -> None:
    """A stall of 2 us per prefill token and 0.3 us per pair priced for 7 other ranks: at `others` ranks the terms
    move by (others / 7 - 1) x the stall (0: the stall removed, 14: doubled)."""
    base = build_iteration_cost(LLAMA, H200.accelerator, H200.fabric, DEP)
    cost = replace(base, per_prefill_token_s=base.per_prefill_token_s + 2e-6, pair_s=base.pair_s + 3e-7,
                   extra={**base.extra, "stall": (2e-6, 3e-7, 7)})
    moved = with_others(cost, others)
    assert moved.per_prefill_token_s == pytest.approx(base.per_prefill_token_s + 2e-6 * others / 7, rel=1e-12,
                                                      abs=1e-18)
    assert moved.pair_s == pytest.approx(base.pair_s + 3e-7 * others / 7, rel=1e-12, abs=1e-18)
    assert moved.extra["others"] == others


def test_a_split_with_no_decode_replica_is_refused() -> None:
    requests = Requests(np.zeros(4), np.full(4, 512), np.full(4, 64))
    out = simulate_deployment(LLAMA, H200, DEP, requests, prefill_replicas=2)
    assert out["fits"] is False
    assert "disaggregation needs decode replicas: 2 prefill of 2 replicas" in out["why"]
    assert out["deployment"]["disaggregated"] is True
