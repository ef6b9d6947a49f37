"""`capacity_horizon`'s KV-held batch where session 48's tests left it free (hM70 mutation wave): the disaggregated
decode pool's law without the KV cap, the floor of one sequence, and an outright miss at exactly the SLO survived.

- A colocated replica's mean service is its prompt's prefill seconds plus its decode seconds (`pool_law`), and a
  disaggregated option splits the same two onto a prefill pool and a decode pool of the same candidate: so the
  colocated law's mean service equals the prefill pool's plus the decode pool's, one relation between two runs
  that holds only if both decode terms read the same KV-held batch (`kv_batch`: README chat's layout holds 122 of
  its 256-sequence cap, hF56).
- A cache that holds less than one sequence's blocks still prices one sequence a step (`kv_batch`'s floor): the
  law's service stays finite and equals the one-sequence law's.
- `outright_misses` names a percentile above its SLO ("above": at the SLO it is met, as `serve` counts it).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.serving_loader import load_workload
from infraplan.cluster import Cluster
from infraplan.serving.capacity_candidate import candidate_for
from infraplan.serving.capacity_decode import kv_batch
from infraplan.serving.capacity_horizon import option_laws, outright_misses, pool_law
from infraplan.serving.engines import load_engine
from infraplan.serving.llm_iteration import Deployment
from infraplan.serving.serve_inputs import build_requests
from infraplan.serving.workloads import Requests, clip_to_context


def _dep(pp: int = 1, cap: int = 256) -> Deployment:
    engine = load_engine("trtllm-0.x")
    return Deployment(tp=1, pp=pp, dtype="fp8", kv_dtype="fp8", max_batch=cap, token_budget=max(engine.token_budget,
                      cap), engine=engine.engine, stack=engine.ref)


def test_colocated_service_is_the_disaggregated_pools_summed():
    shape, cluster = load_model("llama3-70b"), Cluster.resolve("dgx-h100-superpod", purpose="LLM serving")
    dep = _dep(pp=2)
    cand = candidate_for(shape, cluster.accelerator, cluster.fabric, dep)
    lengths = clip_to_context(build_requests(load_workload("chat"), None, None, None, 4000, None, 0),
                              shape.max_seq_len)[0]
    assert kv_batch(cand.cost, dep, lengths, cand.blocks) < dep.max_batch  # the cache binds (hF56: 122)
    sample = clip_to_context(build_requests(load_workload("chat"), None, None, None, 1500, None, 0),
                             shape.max_seq_len)[0]

    def laws(disaggregated: bool) -> list:
        option = {"replicas": 2, "prefill_replicas": 1 if disaggregated else 0, "disaggregated": disaggregated}
        return option_laws(shape, cluster.accelerator, cluster.fabric, dep, option, sample.arrival_s,
                           (sample, "hM70 chat"), lengths)

    (_, colocated), = laws(False)
    (_, prefill), (_, decode) = laws(True)
    assert colocated[1] == pytest.approx(prefill[1] + decode[1], rel=1e-9)


def test_a_cache_under_one_sequence_prices_one_sequence():
    """A 1,000-token prompt and 101 output tokens reserve ceil(1,101 / 16) = 69 blocks (reserve_full): 50 blocks hold
    none whole, priced as one sequence a step (as 69 blocks are), never a zero batch."""
    cluster = Cluster.resolve("dgx-h100-superpod", purpose="LLM serving")
    cost = candidate_for(load_model("llama3-8b"), cluster.accelerator, cluster.fabric, _dep()).cost
    one = Requests(np.zeros(1), np.array([1000]), np.array([101]))
    assert kv_batch(cost, _dep(), one, 50) == kv_batch(cost, _dep(), one, 69) == 1
    short = pool_law(np.arange(2.0), one, None, (cost, _dep()), 50)
    assert math.isfinite(short[1]) and short[1] == pool_law(np.arange(2.0), one, None, (cost, _dep()), 69)[1]


def test_a_percentile_at_its_slo_is_not_an_outright_miss():
    at = {"ttft_s": {"p99": 0.25}, "tpot_s": {"p99": 0.2}}
    assert outright_misses(at, (0.25, 0.2), "p99") == []
    above = {"ttft_s": {"p99": 0.25}, "tpot_s": {"p99": 0.22}}
    assert outright_misses(above, (0.25, 0.2), "p99") == ["its TPOT p99 0.22 s is above the SLO (0.2 s)"]
