"""Speed without new answers (hP24, session 45): the search's best plans and memory guard built as one-plan plans
(`plan_grid.one_plans`), each plan's guard flag computed once (`Found.flags`), the searched virtual stages kept
per PP (`pipeline_split_rule._searched_vpps`), the pipeline hops' placed fabric copies kept
(`pipeline_hops._placed`) and the rows' other-side prices taken on the rows that read them."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.network.collective_formulas import send_recv_time
from infraplan.network.fabric import group_domain
from infraplan.training import pipeline_hops, pipeline_split_rule, row_bound, search, search_rows
from infraplan.training.estimate import estimate_training
from infraplan.training.one_plan_memo import clear_one_plan_memo
from infraplan.training.pipeline_split_rule import DefaultRule, searched_vpps, split_refuses
from infraplan.training.plan import PLAN_FIELDS, PlanArrays
from infraplan.training.plan_grid import one_plans
from infraplan.training.plan_outputs import one_plan_memory

GPT3 = ("gpt3-175b", "dgx-h100-superpod", 4096, 2048, 2048)


@pytest.mark.parametrize("model, gpus, seq, batch", [("gpt3-175b", 4096, 2048, 2048),
                                                     ("mixtral-8x7b", 128, 4096, 1024)])
def test_one_plans_are_each_plan_taken(model: str, gpus: int, seq: int, batch: int) -> None:
    """Each of `one_plans(plans)` is `plans.take([i])`: one plan (`is_one`), the same `row_key`, the same `one_row`
    (fields and derived columns) and the same one-element int64 arrays, in order."""
    shape = load_model(model)
    plans = search.enumerate_plans(shape, gpus, seq, batch, ["bf16"], 8)
    picked = plans.take(np.random.default_rng(24).choice(len(plans), 40, replace=False))
    built = one_plans(picked)
    assert len(built) == len(picked)
    for i, plan in enumerate(built):
        taken = picked.take([i])
        assert plan.is_one and taken.is_one and plan.row_key == taken.row_key
        assert plan.one_row.__dict__ == taken.one_row.__dict__
        for name in PLAN_FIELDS:
            a, b = getattr(plan, name), getattr(taken, name)
            assert a.dtype == b.dtype and a.shape == b.shape == (1,) and np.array_equal(a, b)
    assert one_plans(picked.take(np.zeros(0, dtype=np.int64))) == []


def _dump(**kw: Any) -> dict[str, Any]:
    clear_one_plan_memo(pricings=False)
    out = search.search_plans(*GPT3, **kw).model_dump(mode="json")
    return {k: v for k, v in out.items() if k not in ("wall_time_s", "configs_per_s")}


@pytest.mark.parametrize("kw", [{}, {"top": 40}])
def test_guard_flags_each_plan_once(monkeypatch: pytest.MonkeyPatch, kw: dict[str, Any]) -> None:
    """GPT-3 175B on 4,096 H100: the memory guard prices each plan it flags once (the bar's pool in `_guardbar_s`,
    then `Found.best` reads those flags), and the answer is the one `best` gives checking every plan itself."""
    seen: list[tuple[int, ...]] = []

    def counted(shape: Any, cluster: Any, plan: PlanArrays, profile: Any) -> float:
        seen.append(plan.row_key)
        return one_plan_memory(shape, cluster, plan, profile)

    monkeypatch.setattr(search_rows, "one_plan_memory", counted)  # (the guard's, by full training's kind: hE63)
    once = _dump(**kw)
    assert seen and len(seen) == len(set(seen))  # (the two passes asked for the same plans before)
    guard_bar = row_bound._guardbar_s

    def forgetting(found: Any, used: int) -> float:
        bar = guard_bar(found, used)
        found.flags = None  # `best` checks every plan itself
        return bar

    monkeypatch.setattr(row_bound, "_guardbar_s", forgetting)
    seen.clear()
    assert _dump(**kw) == once and len(seen) > len(set(seen))


def test_searched_vpps_kept() -> None:
    """`searched_vpps` gives the virtual stages the rule keeps (every VPP up to the cap and the slots per stage, those
    `split_refuses` passes where a rule is set), the same for a tuple and its `DefaultRule`; an enumeration lists each
    PP's once, and a second enumeration of the space lists none."""
    class Space:
        def __init__(self, layers: int, extra: int, cap: int, rule: Any) -> None:
            self.shape = type("S", (), {"num_layers": layers})()
            self.extra_layers, self.max_vpp, self.divisible = extra, cap, rule

    for layers, extra, cap in ((96, 0, 16), (126, 2, 8), (61, 0, 4), (32, 1, 16)):
        for rule in (None, (), ((4, 4),), DefaultRule(((2, 3),))):
            for pp in range(1, 40):
                slots = layers + extra
                vpps = range(1, min(slots // pp, cap) + 1) if pp > 1 else [1]
                want = list(vpps) if rule is None else [v for v in vpps if not split_refuses(slots, pp, v, rule)]
                assert list(searched_vpps(Space(layers, extra, cap, rule), {"pp": pp})) == want
    kept = pipeline_split_rule._searched_vpps
    kept.cache_clear()
    first = search.enumerate_plans(load_model("gpt3-175b"), 4096, 2048, 2048, ["bf16"], 8)
    listed = kept.cache_info()
    again = search.enumerate_plans(load_model("gpt3-175b"), 4096, 2048, 2048, ["bf16"], 8)
    # (the PPs' lists once: 15 distinct PPs of ~145 asks; none listed again the second time)
    assert 0 < listed.misses < listed.hits and kept.cache_info().misses == listed.misses
    assert all(np.array_equal(getattr(first, f), getattr(again, f)) for f in PLAN_FIELDS)


def test_placed_fabric_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    """`_placed` is `replace(fabric, placement_unit=unit)`, the same copy each time; estimates of new plans on one
    cluster make no fabric copy after the first."""
    fabric = Cluster.resolve("gb200-nvl72").for_gpus(1024).placed(1024).fabric
    for unit in (8, 32, 64):
        kept = pipeline_hops._placed(fabric, unit)
        assert kept == dataclasses.replace(fabric, placement_unit=unit) and pipeline_hops._placed(fabric, unit) is kept
    def estimate(seq: int) -> None:
        estimate_training("llama3-405b", "meta-genai-roce-24k", 16384, tp=8, pp=16, vpp=8, seq_len=seq,
                          global_batch=2048, zero=3)

    estimate(8192)
    copies: list[Any] = []

    def copied(*args: Any, **kw: Any) -> Any:
        copies.append(args)
        return dataclasses.replace(*args, **kw)

    monkeypatch.setattr(pipeline_hops, "replace", copied)
    for seq in (8000, 7936, 4096):
        clear_one_plan_memo(pricings=False)
        estimate(seq)
    assert copies == []


def _row_terms_before(fabric: Any, boundary: Any, p: PlanArrays) -> tuple[np.ndarray, np.ndarray]:
    """(t_in, t_out) of `pipeline_hops._row_terms` as session 44 priced them: each stride's other side on the whole
    columns, then masked."""
    stride = np.asarray(p.pp_stride, dtype=np.int64)
    size = np.broadcast_to(np.asarray(boundary, dtype=np.float64), stride.shape)
    old = send_recv_time(fabric, size, stride)
    old_across = stride * 2 > group_domain(fabric, 2.0, stride)
    t_in, t_out = old.copy(), old.copy()
    for s in np.unique(stride):
        at = stride == s
        t_in[at & old_across] = send_recv_time(dataclasses.replace(fabric, placement_unit=2 * int(s)), size,
                                               stride)[at & old_across]
        t_out[at & ~old_across] = send_recv_time(dataclasses.replace(fabric, placement_unit=int(s)), size,
                                                 stride)[at & ~old_across]
    return t_in, t_out


@pytest.mark.parametrize("system, gpus", [("gb200-nvl72", 1024), ("dgx-h100-superpod", 4096), ("gb200-nvl72", 576)])
def test_row_terms_price_each_row_once(system: str, gpus: int) -> None:
    """`_row_terms`' inside / across transfers, priced only on the rows that take each side, are bit for bit the
    whole columns' (random rows of a search space, both rank orders, random boundary sizes)."""
    fabric = Cluster.resolve(system).for_gpus(gpus).placed(gpus).fabric
    plans = search.enumerate_plans(load_model("llama3-70b"), gpus, 8192, 2 * gpus, ["bf16"], 8)
    rng = np.random.default_rng(gpus)
    p = plans.take(rng.choice(len(plans), min(600, len(plans)), replace=False))
    boundary = rng.uniform(1e5, 5e8, len(p))
    got = pipeline_hops.pipeline_hop_terms(fabric, boundary, p, False)
    t_in, t_out = _row_terms_before(fabric, boundary, p)
    assert len(set(np.asarray(p.order).tolist())) == 2 and len(np.unique(p.pp_stride)) > 3
    for new, old in ((got["p2p_inside"], t_in), (got["p2p_across"], t_out)):
        assert new.dtype == old.dtype and np.array_equal(new.view(np.int64), old.view(np.int64))
