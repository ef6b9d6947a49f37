"""serve-plan searches wide-EP layouts (attention DP + EP) for MoE models and prices them as `serve` does."""

from __future__ import annotations

import json

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.cli.main import main
from infraplan.cluster import Cluster
from infraplan.serving import capacity
from infraplan.serving.capacity import search_capacity
from infraplan.serving.disaggregated import prefill_pool_cost
from infraplan.serving.llm_iteration import Deployment
from infraplan.serving.serving_sim import pool_memory
from infraplan.serving.workloads import Requests

V3 = load_model("deepseek-v3")
# decode-heavy fixed lengths: a wide-EP replica's eight attention-DP engines hold eight batches of long outputs
FLAGS = ["--system", "hgx-h200", "--rate", "8", "--input-len", "1000", "--output-len", "2000", "--ttft-slo", "3",
         "--tpot-slo", "0.1", "--seed", "0"]


def _wide(adp: int) -> Deployment:
    return Deployment(tp=1, ep=adp, attention_dp=adp, dtype="fp8", kv_dtype="fp8", max_batch=256, token_budget=8192)


def _recorded(monkeypatch: pytest.MonkeyPatch) -> list[Deployment]:
    seen: list[Deployment] = []
    build = capacity.candidate_for

    def record(shape, acc, fabric, dep, *rest):  # type: ignore[no-untyped-def]  # (hW52: the sample's shortest)
        seen.append(dep)
        return build(shape, acc, fabric, dep, *rest)

    monkeypatch.setattr(capacity, "candidate_for", record)
    return seen


def test_deepseek_v3_plan_picks_wide_ep_and_serve_gives_the_same_latencies(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    capacity.clear_caches()
    seen = _recorded(monkeypatch)
    assert main(["serve-plan", "deepseek-v3", *FLAGS, "--dtypes", "fp8", "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    d = plan["deployment"]
    # the TP-sharded layout was searched too, and needs more accelerators: since hY51 the MoE-TP layouts (attention
    # DP 8, MoE TP 2 / 4) fill the next-best list ahead of it, and TP layouts win ties (`option_rank`), so it ranks
    # behind every listed option (before, it was listed: {(8, 1), (1, 8)})
    assert (8, 1) in {(dep.tp, dep.attention_dp) for dep in seen}
    assert (8, 1) not in {(o["tp"], o["attention_dp"]) for o in plan["alternatives"]}
    assert d["attention_dp"] == 8 and d["ep"] == 8 and d["tp"] == 1 and not d["disaggregated"]
    assert plan["gpus"] < max(o["gpus"] for o in plan["alternatives"])
    assert plan["meets_slo_full_run"]
    # one answer two ways: the reported winner through `serve`, flag for flag
    assert main(["serve", "deepseek-v3", *FLAGS, "--gpus", str(d["gpus"]), "--tp", "1", "--ep", str(d["ep"]),
                 "--attention-dp", str(d["attention_dp"]), "--dtype", d["dtype"], "--kv-dtype", d["kv_dtype"],
                 "--max-batch", str(d["max_batch"]), "--token-budget", str(d["token_budget"]),
                 "--requests", str(plan["full_run_requests"]), "--json"]) == 0
    served = json.loads(capsys.readouterr().out)
    assert served["deployment"]["kv_cache_tokens_per_replica"] == d["kv_cache_tokens_per_replica"]
    for metric in ("ttft_s", "tpot_s"):
        for p in ("p50", "p90", "p99"):
            assert served[metric][p] == pytest.approx(plan["serve"][metric][p], rel=1e-9)


def test_a_dense_models_candidates_are_the_tp_layouts_only(monkeypatch: pytest.MonkeyPatch) -> None:
    capacity.clear_caches()
    seen = _recorded(monkeypatch)
    r = search_capacity("llama3-8b", "dgx-h100-superpod", 20.0, workload="chat", dtypes=("fp8",), requests=400)
    assert r.feasible and seen
    assert {dep.attention_dp for dep in seen} == {1} and {dep.ep for dep in seen} == {1}
    tps = [t for t in (1, 2, 4, 8) if load_model("llama3-8b").num_heads % t == 0]
    assert [(dep.tp, dep.max_batch) for dep in seen] == [(t, c) for t in tps for c in capacity.BATCH_CAPS]
    assert all(o.attention_dp == 1 and o.ep == 1 for o in r.alternatives or [])


def test_moe_candidates_add_wide_ep_layouts_that_hold_the_weights(monkeypatch: pytest.MonkeyPatch) -> None:
    capacity.clear_caches()
    seen = _recorded(monkeypatch)
    search_capacity("deepseek-v3", "hgx-h200", 2.0, input_len=1000, output_len=200, ttft_slo=3.0, tpot_slo=0.1,
                    dtypes=("fp8",), requests=300, disaggregation=False)
    wide = sorted({dep.attention_dp for dep in seen if dep.attention_dp > 1})
    # fp8 DeepSeek-V3 (~627 GiB of weights) leaves room for a KV cache on 141 GB H200s only spread over 8
    assert wide == [8]
    # wide EP (EP = attention DP) and, since hY51, attention DP with MoE TP (EP x MoE TP = attention DP)
    assert all(dep.tp == 1 and dep.ep * dep.moe_tp == dep.attention_dp for dep in seen if dep.attention_dp > 1)
    assert {dep.moe_tp for dep in seen if dep.attention_dp > 1} == {1, 2, 4, 8}


@pytest.mark.parametrize("adp", [8])
def test_an_ep_candidates_kv_capacity_and_prefill_cost_are_serves(adp: int) -> None:
    capacity.clear_caches()
    c = Cluster.resolve("hgx-h200")
    dep = Deployment(tp=1, ep=adp, attention_dp=adp, dtype="fp8", kv_dtype="fp8", max_batch=256, token_budget=8192,
                     stack="sglang-0.x")  # a stack whose ranks stall for each other's prefills
    cand = capacity.candidate_for(V3, c.accelerator, c.fabric, dep)
    cap, memory = pool_memory(V3, c.accelerator, dep)  # what simulate_deployment sizes the cache with
    assert cand.cap == cap and cand.blocks == cap.blocks
    assert memory["kv_cache_tokens_per_replica"] == cand.blocks * cap.block_tokens * dep.engines_per_replica
    # the whole-TP capacity (ep=1) would not even hold the expert shard: the EP degree matters
    assert cand.cap.weights_bytes < pool_memory(V3, c.accelerator, Deployment(
        tp=1, dtype="fp8", kv_dtype="fp8", max_batch=256, token_budget=8192))[0].weights_bytes / 4
    # the prefill pool runs without the colocated lock-step stall, under its own memo key
    alone = prefill_pool_cost(cand.cost, dep)
    assert alone is not cand.cost and cand.prefill_cost.per_prefill_token_s == alone.per_prefill_token_s
    assert cand.prefill_cost.per_prefill_token_s < cand.cost.per_prefill_token_s
    assert cand.prefill_key != cand.key
    req = Requests(np.zeros(16), np.full(16, 4000), np.ones(16, dtype=np.int64))
    # a burst of equal prompts keeps the colocated ranks in phase: they wait for nobody (`serving.wide_ep_lockstep`)
    assert cand.offline_s(req, "r", "prefill") == pytest.approx(cand.offline_s(req, "r", "mixed"), rel=1e-9)


def test_a_tp_candidate_prices_its_prefill_pool_with_the_colocated_cost() -> None:
    c = Cluster.resolve("hgx-h200")
    cand = capacity.candidate_for(V3, c.accelerator, c.fabric, Deployment(tp=8, dtype="fp8", kv_dtype="fp8"))
    assert cand.prefill_cost is cand.cost and cand.prefill_key == cand.key
