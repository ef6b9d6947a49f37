"""Work a search no longer repeats (hP17, session 41), each with the bits of before.

* `row_memo.priced_rows` (through `distinct_collectives.distinct_collective_time` within a search): a collective's rows
  priced in an earlier call of the search are looked up, only new rows priced; every row the bits of pricing its
  whole columns.
* `plan_grid.Found.best`: each plan checked against the MFU guard once over the doubling rounds, and the rounds'
  order statistics from one partition (`plan_grid._head_of`); the plans picked those of ranking every fitting plan.
"""

from __future__ import annotations

import numpy as np
import pytest

from infraplan import scalar_path
from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.network.collectives import collective_time
from infraplan.network.fabric import Fabric
from infraplan.training import distinct_collectives, plan_grid, row_memo
from infraplan.training.one_plan_memo import clear_one_plan_memo
from infraplan.training.plan_grid import GUARD_TIE_SHARE, Found, _head_of
from infraplan.training.row_memo import RowMemo
from infraplan.training.search import enumerate_plans, search_plans


def _fabric() -> Fabric:
    return Cluster.resolve("dgx-h100-superpod").for_gpus(4096).fabric


def _distinct(columns: tuple[np.ndarray, ...] | list[np.ndarray]) -> set[tuple[object, ...]]:
    return set(zip(*(c.tolist() for c in columns), strict=True))


def _rows() -> object:
    return enumerate_plans(load_model("llama3-8b"), 64, 4096, 128, ["bf16"], 8)


def _columns(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return (rng.choice([2.0**20, 3.0 * 2**22, 2.0**27, 5e8, 7.5e9], n), rng.choice([2.0, 4.0, 8.0, 64.0, 512.0], n),
            rng.choice([1, 8, 64], n).astype(np.int64))


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The rows each formula pass prices (`scalar_path.price_distinct`'s columns)."""
    priced: list[int] = []
    real = scalar_path.price_distinct

    def counted(formula, *values, min_elements=scalar_path.RUN_MIN_ELEMENTS):  # type: ignore[no-untyped-def]
        priced.append(int(np.size(values[0])))
        return real(formula, *values, min_elements=min_elements)

    monkeypatch.setattr(scalar_path, "price_distinct", counted)
    return priced


def test_a_search_prices_each_collective_row_once(monkeypatch: pytest.MonkeyPatch) -> None:
    fabric = _fabric()
    size, group, stride = _columns(300, 41)
    more = _columns(200, 42)
    more[0][::2] *= 1.5  # (half of them sizes the first call has not)
    # a later call: the first's rows reordered, repeated, and new ones (another length: not a content hit)
    order = np.random.default_rng(3).permutation(300)
    later = [np.concatenate([c[order], c[:50], m]) for c, m in zip((size, group, stride), more, strict=True)]
    want = [collective_time(fabric, "all_reduce", *c) for c in ((size, group, stride), later)]
    new_rows = len(_distinct(later) - _distinct((size, group, stride)))
    priced = _counting(monkeypatch)
    with RowMemo.shared(_rows(), ("tp",)):  # type: ignore[arg-type]
        first = distinct_collectives.distinct_collective_time(fabric, "all_reduce", size, group, stride)
        again = distinct_collectives.distinct_collective_time(fabric, "all_reduce", *later)
        # an int64 group is the same rows (every formula takes it as float64 first): nothing new
        as_int = distinct_collectives.distinct_collective_time(fabric, "all_reduce", later[0],
                                                               later[1].astype(np.int64), later[2])
        other = distinct_collectives.distinct_collective_time(fabric, "all_gather", *later)  # another formula: priced
    assert first.tobytes() == want[0].tobytes()
    assert again.tobytes() == as_int.tobytes() == want[1].tobytes()
    assert other.tobytes() == collective_time(fabric, "all_gather", *later).tobytes()
    assert 0 < new_rows < 200 and priced == [len(_distinct((size, group, stride))), new_rows, len(_distinct(later))]


def test_one_new_row_is_priced_on_the_array_path(monkeypatch: pytest.MonkeyPatch) -> None:
    fabric = _fabric()
    size, group, stride = _columns(40, 5)
    extra = [np.append(c, v) for c, v in zip((size, group, stride), (123456789.0, 16.0, 8), strict=True)]
    priced = _counting(monkeypatch)
    with RowMemo.shared(_rows(), ("tp",)):  # type: ignore[arg-type]
        distinct_collectives.distinct_collective_time(fabric, "reduce_scatter", size, group, stride)
        got = distinct_collectives.distinct_collective_time(fabric, "reduce_scatter", *extra)
    assert priced[1] == 2  # (the one new row twice: a column, as in the whole columns)
    assert got.tobytes() == collective_time(fabric, "reduce_scatter", *extra).tobytes()


def test_a_shared_hash_prices_the_call_as_before(monkeypatch: pytest.MonkeyPatch) -> None:
    fabric = _fabric()
    size, group, stride = _columns(100, 9)
    monkeypatch.setattr(row_memo, "_HASH", tuple(np.int64(0) for _ in range(3)))  # every row one hash
    with RowMemo.shared(_rows(), ("tp",)):  # type: ignore[arg-type]
        assert row_memo.priced_rows(fabric, "all_reduce", (size, group, stride), lambda *v: v[0]) is None
        got = distinct_collectives.distinct_collective_time(fabric, "all_reduce", size, group, stride)
    assert got.tobytes() == collective_time(fabric, "all_reduce", size, group, stride).tobytes()


def test_outside_a_search_and_one_row_nothing_is_kept() -> None:
    size, group, stride = _columns(10, 1)
    assert row_memo.priced_rows(_fabric(), "all_reduce", (size, group, stride), lambda *v: v[0]) is None
    with RowMemo.shared(_rows(), ("tp",)):  # type: ignore[arg-type]
        one = (size[:1], group[:1], stride[:1])
        assert row_memo.priced_rows(_fabric(), "all_reduce", one, lambda *v: v[0]) is None


def test_best_checks_each_plan_once_and_ranks_every_fitting_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    """Llama 3 405B on 8,192 H100 (meta-llama3): the best plans pass the MFU guard only far down the keys (8 rounds)."""
    seen: list[tuple[Found, object]] = []
    asked: list[np.ndarray] = []  # the positions of each `plans` call
    checked: list[np.ndarray] = []  # those of each MFU check
    best, plans = Found.best, Found.plans

    def recorded(self: Found, top: int, beyond, pinned=None):  # type: ignore[no-untyped-def]
        def counted(picked, step_s):  # type: ignore[no-untyped-def]
            checked.append(asked[-1])
            return beyond(picked, step_s)

        seen.append((self, beyond))
        return best(self, top, counted, pinned)

    def positions(self: Found, flat: np.ndarray) -> object:
        asked.append(np.array(flat))
        return plans(self, flat)

    monkeypatch.setattr(Found, "best", recorded)
    monkeypatch.setattr(Found, "plans", positions)
    clear_one_plan_memo()
    result = search_plans("llama3-405b", "meta-genai-roce-24k", 8192, 8192, 2048, stack="meta-llama3")
    found, guard = seen[0]
    every = np.concatenate(checked)
    assert found.resume is None and len(checked) > 3  # every row priced; several rounds
    assert np.unique(every).size == every.size  # each plan checked once
    pool = np.flatnonzero(found.keys < np.inf)
    over = guard(plans(found, pool), found.step_s[pool])  # type: ignore[operator]
    ranked = found._ranked(pool[~over])  # every fitting plan within the guard, ranked
    # the ceiling binds: those within 1 % of the first come first, no recompute, then less CP, fewer of TP and PP above
    # 1, then less PP (hG85), each key's order kept
    tied = ranked[found.keys[ranked] <= found.keys[ranked[0]] * (1 + GUARD_TIE_SHARE)]
    band = plans(found, tied)
    dims = (np.asarray(band.tp) > 1).astype(int) + (np.asarray(band.pp) > 1)
    simplest = tied[np.lexsort((band.pp, dims, band.cp, band.recompute))]
    ranked = np.concatenate([simplest, ranked[tied.size:]])[:5]
    want = plans(found, ranked)
    got = [(r.config.tp, r.config.pp, r.config.vpp, r.config.dp, r.config.micro_batch, r.config.zero, r.step_time_s)
           for r in result.top]
    assert got == [(int(want.tp[i]), int(want.pp[i]), int(want.vpp[i]), int(want.dp[i]), int(want.micro_batch[i]),
                    int(want.zero[i]), float(found.keys[ranked[i]])) for i in range(5)]


def test_head_of_gives_partitions_order_statistics() -> None:
    rng = np.random.default_rng(0)
    keys = np.where(rng.random(50_000) < 0.3, np.inf, rng.choice(rng.random(9_000), 50_000))  # ties, infs
    finite = keys[keys < np.inf]
    head = _head_of(keys, 40, None)
    assert head[1].size == plan_grid.HEAD_FACTOR * 40
    for take in (40, 80, 160, 1280, 2560):
        assert _head_of(keys, take, head) is head  # within the head: no partition
        assert head[1][take - 1] == np.partition(finite, take - 1)[take - 1]
    wider = _head_of(keys, 5000, head)
    assert wider is not head and wider[1][4999] == np.partition(finite, 4999)[4999]
    assert _head_of(keys[:100], 90, None)[1].tolist() == np.sort(keys[:100][keys[:100] < np.inf]).tolist()
