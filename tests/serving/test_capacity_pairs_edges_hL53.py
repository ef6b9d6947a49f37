"""`serving.capacity_layouts.prefill_layouts` at one GPU a replica (review hL, session 53): a hand mutant dropping
the `g > 1` guard survived hY53's tests; it offered a "wide-EP" prefill worker of EP 1 on one GPU, the decode
worker's own layout (the plain disaggregated pair serve-plan already tries), priced twice."""

from __future__ import annotations

from infraplan.catalog import load_model
from infraplan.serving.capacity_layouts import prefill_layouts
from infraplan.serving.llm_iteration import Deployment


def test_one_gpu_replica_has_no_prefill_layout_of_its_own() -> None:
    shape = load_model("mixtral-8x7b")
    assert prefill_layouts(shape, Deployment(tp=1, max_batch=64)) == []
    # hY54: the TP2 decode pool is also paired with attention DP 2 x MoE TP 2 (EP 1), after wide EP 2
    assert [(p.tp, p.ep, p.attention_dp, p.moe_tp) for p in prefill_layouts(
        shape, Deployment(tp=2, max_batch=64))] == [(1, 2, 2, None), (1, 1, 2, 2)]
