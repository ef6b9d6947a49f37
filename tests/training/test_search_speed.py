"""The search's shortcuts are exact: per-layer terms priced without PP and the rank order, the grid evaluated in
chunks, keys stored per bucket without padding.

`layer_terms.per_layer_terms` prices everything but the EP all-to-all once per distinct row of the layer keys other than
`STRIDE_ONLY_KEYS` (PP, rank order), then the all-to-all (whose rank stride depends on them) and the stage split
on every row; the probe below fails if a term that depends on PP or the order sneaks into the first part.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.stacks import resolve_stack
from infraplan.cluster import Cluster
from infraplan.hardware.kernels import KernelRates
from infraplan.training import layer_terms, search
from infraplan.training.enums import Dtype, RankOrder, Recompute
from infraplan.training.estimate import evaluate_plans
from infraplan.training.plan import PlanArrays
from infraplan.training.plan_rules import valid_mask
from infraplan.training.results import PlanSearchResult
from infraplan.training.search import enumerate_plans, search_plans

CLUSTER = Cluster.resolve("dgx-h100-superpod")
MOE = dict(tp=2, pp=2, dp=8, cp=1, ep=4, vpp=1, micro_batch=1, global_batch=64, seq_len=4096,
           recompute=Recompute.FULL, zero=1, dtype=Dtype.BF16, order=RankOrder.TP_CP_DP_PP)


def _stride_free_terms(shape_name: str, plan: PlanArrays) -> dict[str, np.ndarray]:
    shape, stack = load_model(shape_name), resolve_stack(None, "training")
    rates = KernelRates.for_dtype(CLUSTER.accelerator, "bf16")
    precision = (np.full(len(plan), rates.matmul_flops_per_s), np.full(len(plan), 2.0))
    times, _ = layer_terms.layer_times_but_ep(shape, rates, CLUSTER.fabric, plan, precision, 1e-5, stack)
    times.update(layer_terms.head_times(shape, rates, plan, precision, stack, 1e-5))
    return times


# expert TP = TP (EP peers DP peers apart), and MoE parallel folding (expert TP 1, an 8-rank EP group spanning
# beyond one stage's TP x CP block); each EP group fits one 8-GPU node under one order and not the other
@pytest.mark.parametrize(("etp", "ep", "dp"), [(2, 4, 8), (1, 8, 16)])
def test_only_the_ep_all_to_all_depends_on_pp_and_the_rank_order(etp: int, ep: int, dp: int) -> None:
    columns = {**MOE, "ep": ep, "dp": dp, "global_batch": 8 * dp, "etp": etp}
    base = PlanArrays.build(**columns)
    ref = _stride_free_terms("mixtral-8x7b", base)
    for field, values in (("pp", (1, 4, 8)), ("order", tuple(RankOrder))):
        for value in values:
            other = _stride_free_terms("mixtral-8x7b", dataclasses.replace(base, **{field: np.array([value])}))
            for key, v in ref.items():
                assert np.array_equal(np.asarray(v), np.asarray(other[key])), (field, value, key)
    assert set(layer_terms.STRIDE_ONLY_KEYS) <= set(layer_terms.LAYER_KEYS)
    # ... while the all-to-all itself does move with the stride (so the split is needed)
    strides = PlanArrays.build(**{**columns, "order": [RankOrder.TP_CP_DP_PP, RankOrder.TP_CP_PP_DP]})
    out = evaluate_plans(load_model("mixtral-8x7b"), CLUSTER, strides)
    assert out["ep_comm"][0] != out["ep_comm"][1]


def test_moe_batch_mixing_pp_and_order_equals_one_plan_at_a_time() -> None:
    shape = load_model("mixtral-8x7b")
    plans = enumerate_plans(shape, 64, 4096, 128, ["bf16"], max_tp=4)
    plans = plans.take(valid_mask(shape, plans) & (plans.ep > 1))
    pick = plans.take(np.random.default_rng(1).choice(len(plans), size=40, replace=False))
    assert len(np.unique(pick.pp)) > 1 and len(np.unique(pick.order)) > 1
    batch = evaluate_plans(shape, CLUSTER, pick)
    for i in range(len(pick)):
        alone = evaluate_plans(shape, CLUSTER, pick.take(slice(i, i + 1)))
        for key in ("step_time_s", "ep_comm", "compute", "pp_bubble"):
            assert alone[key][0] == batch[key][i], key


CHUNKED = ("mixtral-8x7b", "dgx-h100-superpod", 16, 4096, 32)  # 80k plans: ~80 blocks of 997, a second of CPU


@pytest.fixture(scope="module")
def chunked_time_search() -> tuple[PlanSearchResult, int]:
    """The time search of `CHUNKED` in blocks of 997 plans (many uneven chunks per bucket, sharing stride-free rows
    across PP), and the rows `layer_times_but_ep` priced in it: both tests below check this one search."""
    priced: list[int] = []
    original = layer_terms.layer_times_but_ep

    def counting(*a: object, **k: object) -> object:
        priced.append(len(a[3]))  # type: ignore[arg-type]
        return original(*a, **k)  # type: ignore[arg-type]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(search, "CHUNK_PLANS", 997)
        patch.setattr(layer_terms, "layer_times_but_ep", counting)
        return search_plans(*CHUNKED, dtype="bf16", top=10), sum(priced)


@pytest.mark.parametrize("objective", ["time", "memory"])
def test_chunked_search_equals_one_block(monkeypatch: pytest.MonkeyPatch, objective: str,
                                         chunked_time_search: tuple[PlanSearchResult, int]) -> None:
    whole = search_plans(*CHUNKED, dtype="bf16", top=10, objective=objective)
    monkeypatch.setattr(search, "CHUNK_PLANS", 997)  # many uneven chunks per bucket
    chunked = (chunked_time_search[0] if objective == "time"
               else search_plans(*CHUNKED, dtype="bf16", top=10, objective=objective))
    assert (chunked.evaluated_count, chunked.feasible_count) == (whole.evaluated_count, whole.feasible_count)
    assert [r.config for r in chunked.top] == [r.config for r in whole.top]
    assert [r.step_time_s for r in chunked.top] == [r.step_time_s for r in whole.top]
    assert [r.memory_per_gpu_bytes for r in chunked.top] == [r.memory_per_gpu_bytes for r in whole.top]


def test_blocks_share_priced_layer_rows_exactly(monkeypatch: pytest.MonkeyPatch,
                                                chunked_time_search: tuple[PlanSearchResult, int]) -> None:
    """`training.row_memo`: rows priced in one block are looked up in the next, with the same bits as a search
    that prices every block's rows afresh, and fewer rows priced in all."""
    shared, shared_rows = chunked_time_search  # blocks of 997 plans, the memo on
    monkeypatch.setattr(search, "CHUNK_PLANS", 997)
    priced: list[int] = []
    original = layer_terms.layer_times_but_ep

    def counting(*a: object, **k: object) -> object:
        priced.append(len(a[3]))  # type: ignore[arg-type]
        return original(*a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(layer_terms, "layer_times_but_ep", counting)
    monkeypatch.setattr(layer_terms.RowMemo, "active", staticmethod(lambda: None))
    fresh = search_plans(*CHUNKED, dtype="bf16", top=10)
    assert shared_rows < sum(priced)
    assert (shared.evaluated_count, shared.feasible_count) == (fresh.evaluated_count, fresh.feasible_count)
    assert [r.config for r in shared.top] == [r.config for r in fresh.top]
    assert [r.step_time_s for r in shared.top] == [r.step_time_s for r in fresh.top]
