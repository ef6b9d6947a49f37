"""A plan built without a rank order (`PlanArrays.build`'s default) is priced in the order of the stack that prices
it (`Stack.rank_order`: tp-cp-dp-pp on the default nemo-26.04, tp-cp-pp-dp on meta-llama3 or a stack naming none),
as `train` without `--order` is (hS, session 52: a script's arrays got tp-cp-pp-dp whatever the stack, so
`evaluate_plans` and `train` differed on a PP > 1 plan)."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.training.enums import Dtype, RankOrder, Recompute
from infraplan.training.estimate import estimate_training
from infraplan.training.plan import PlanArrays
from infraplan.training.plan_outputs import evaluate_plans

PLAN = dict(tp=2, pp=4, dp=8, cp=1, ep=1, vpp=1, micro_batch=1, global_batch=256, seq_len=4096,
            recompute=Recompute.NONE, zero=1, dtype=Dtype.BF16)


@pytest.mark.parametrize("stack", [None, "nemo-26.04", "meta-llama3"])
def test_arrays_without_an_order_agree_with_train(stack: str | None) -> None:
    """Llama 3 8B on 64 H100, TP2 PP4 DP8: `evaluate_plans` of a plan built with no order gives `train`'s step time
    (no `--order`) under the same stack, one plan or a grid of two."""
    shape, cluster = load_model("llama3-8b"), Cluster.resolve("dgx-h100-superpod").for_gpus(64)
    r = estimate_training("llama3-8b", "dgx-h100-superpod", 64, tp=2, pp=4, vpp=1, global_batch=256, seq_len=4096,
                          micro_batch=1, recompute="none", zero=1, stack=stack)
    assert r.config.order == ("tp-cp-pp-dp" if stack == "meta-llama3" else "tp-cp-dp-pp")
    one = evaluate_plans(shape, cluster, PlanArrays.build(**PLAN), stack)["step_time_s"][0]
    grid = evaluate_plans(shape, cluster, PlanArrays.build(**{**PLAN, "tp": [2, 2]}), stack)["step_time_s"]
    assert one == pytest.approx(r.step_time_s, rel=1e-9)
    assert np.allclose(grid, r.step_time_s, rtol=1e-9)


def test_an_explicit_order_still_wins_and_the_orders_differ() -> None:
    """The order given is priced as given; on nemo-26.04 the two orders price this plan differently (so the test
    above tells them apart)."""
    shape, cluster = load_model("llama3-8b"), Cluster.resolve("dgx-h100-superpod").for_gpus(64)
    times = {o: evaluate_plans(shape, cluster, PlanArrays.build(**PLAN, order=o), "nemo-26.04")["step_time_s"][0]
             for o in (RankOrder.TP_CP_PP_DP, RankOrder.TP_CP_DP_PP)}
    assert times[RankOrder.TP_CP_PP_DP] != times[RankOrder.TP_CP_DP_PP]
    unset = evaluate_plans(shape, cluster, PlanArrays.build(**PLAN), "nemo-26.04")["step_time_s"][0]
    assert unset == times[RankOrder.TP_CP_DP_PP]
