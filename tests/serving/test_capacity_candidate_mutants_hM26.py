"""Mutation wave hM26 on `serving.capacity_candidate.mixed_step_s` (session 47, hQ51): hQ51's test checks the bound
from below only (every iteration lasts at least it), which every mutant that lowers it passes (8 of 11 survived:
dropped terms, a prefix minimum, a shifted index). Two rules pin it:

* By hand on made-up tables that are not monotone: the bound at k is the least body_s at k or more tokens plus the
  least head_s at k or more rows (suffix minima, indices clamped to the tables' ends) plus the decode step's fixed
  and overhead seconds.
* It is the least: where the tables grow with k and no host floor binds (the shipped stacks, host defaults), the
  pure decode iteration of k sequences with nothing cached lasts exactly it (`IterationCost.time`).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.serving.capacity_candidate import Candidate
from infraplan.serving.capacity_decode import mixed_step_s
from infraplan.serving.engines import load_engine
from infraplan.serving.llm_iteration import Deployment


def test_suffix_minima_by_hand() -> None:
    cost = SimpleNamespace(body_s=np.array([0.0, 5.0, 3.0, 4.0, 2.0, 6.0]),
                           head_s=np.array([0.0, 3.0, 1.0, 2.0, 0.5, 4.0]), decode_fixed_s=0.5, overhead_s=0.25,
                           decode_row_s=None,  # (no decode-row attention part, hC65)
                           prefill_fixed_s=0.5, shared_fixed_s=0.0)  # (a mixed iteration's fixed: more, hC67)
    # k = 1..4: body min(5, 3, 4, 2, 6) = 2 .. min(2, 6) = 2; head 0.5; k = 5, 6, 7 (clamped to index 5): 6 and 4
    want = [2 + 0.5 + 0.75] * 4 + [6 + 4 + 0.75] * 3
    assert mixed_step_s(cost, 7).tolist() == pytest.approx(want, rel=1e-15)  # type: ignore[arg-type]


@pytest.mark.parametrize("stack", [None, "vllm-0.x", "sglang-0.x"])
def test_the_pure_decode_step_attains_it(stack: str | None) -> None:
    engine = load_engine(stack)
    cl = Cluster.resolve("h100-sxm", purpose="LLM serving")
    dep = Deployment(tp=1, dtype="fp8", kv_dtype="fp8", max_batch=64, token_budget=engine.token_budget,
                     engine=engine.engine, stack=engine.ref)
    cost = Candidate(load_model("llama3-8b"), cl.accelerator, cl.fabric, dep).cost
    assert np.all(np.diff(cost.body_s) >= 0) and np.all(np.diff(cost.head_s) >= 0)
    k = np.arange(1, 65)
    pure = cost.time(np.zeros(64), k, np.zeros(64), np.zeros(64))
    assert mixed_step_s(cost, 64) == pytest.approx(pure, rel=1e-12)


def test_a_colocated_replicas_decode_price_escapes_the_pure_decode_host_floor(monkeypatch: pytest.MonkeyPatch
                                                                               ) -> None:
    """`decode_request_s(mixed=True)` prices decode steps at `mixed_step_s`: below the pure decode price where a host
    floor binds pure decode steps only (the Dynamo stack's 108 us a sequence, hQ51's case), equal where none binds
    (the shipped TensorRT-LLM stack)."""
    from infraplan.catalog.serving_loader import load_workload
    from infraplan.serving import host_overhead
    from infraplan.serving.capacity_decode import decode_request_s
    from infraplan.serving.workloads import workload_requests

    monkeypatch.setattr(host_overhead, "HOST_PER_SEQUENCE", True)
    lengths = workload_requests(load_workload("chat"), 2000, None, 0)
    cl = Cluster.resolve("h100-sxm", purpose="LLM serving")
    prices = {}
    for stack in (None, "src/infraplan/validation/data/stacks/trtllm-0.x-dynamo-agg.yaml"):
        engine = load_engine(stack)
        dep = Deployment(tp=1, dtype="fp8", kv_dtype="fp8", max_batch=64, token_budget=engine.token_budget,
                         engine=engine.engine, stack=engine.ref)
        cand = Candidate(load_model("llama3-8b"), cl.accelerator, cl.fabric, dep)
        prices[stack] = [decode_request_s(cand.cost, cand.dep, lengths, mixed) for mixed in (True, False)]
    plain, dynamo = prices.values()
    assert plain[0] == pytest.approx(plain[1], rel=1e-12)
    assert dynamo[0] < 0.9 * dynamo[1]
