"""Work the search no longer repeats (hP4, session 36), each with the same bits as before.

* `distinct_collectives.distinct_collective_time` within a search (`row_memo.RowMemo.shared`): a collective's columns
  priced once per content and formula (an all-gather and a reduce-scatter share one), each caller its own copy;
  outside a search nothing is kept.
* `network.nccl_trees.tree_latency`: the distinct group shapes found by one lexsort of their bits, not
  `np.unique(axis=1)`; every element the value of `tree_latency_one` of its own shape.
"""

from __future__ import annotations

import numpy as np
import pytest

from infraplan import scalar_path
from infraplan.cluster import Cluster
from infraplan.network import fabric as fabric_module
from infraplan.network import nccl_trees
from infraplan.network.collectives import all_gather_time, collective_time, reduce_scatter_time
from infraplan.training import distinct_collectives
from infraplan.training.row_memo import RowMemo
from infraplan.training.search import enumerate_plans


def _fabric(system: str = "dgx-h100-superpod", gpus: int = 4096) -> fabric_module.Fabric:
    return Cluster.resolve(system).for_gpus(gpus).fabric


def _columns(n: int = 600, seed: int = 36) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    size = rng.choice([2.0**20, 3.0 * 2**22, 2.0**27, 5e8], n)
    group = rng.choice([2.0, 4.0, 8.0, 64.0, 512.0], n)
    stride = rng.choice([1.0, 8.0, 64.0], n)
    return size, group, stride


def _rows() -> object:
    from infraplan.catalog import load_model
    return enumerate_plans(load_model("llama3-8b"), 64, 4096, 128, ["bf16"], 8)


def test_all_gather_prices_as_reduce_scatter() -> None:  # the rule that lets the two share a kept time
    fabric = _fabric("gb200-nvl72", 1024)
    size, group, stride = _columns()
    ag, rs = all_gather_time(fabric, size, group, stride, sized=True), reduce_scatter_time(fabric, size, group,
                                                                                            stride, sized=True)
    assert ag.tobytes() == rs.tobytes()


def test_search_prices_equal_columns_once_with_the_same_bits(monkeypatch: pytest.MonkeyPatch) -> None:
    fabric = _fabric()
    size, group, stride = _columns()
    want = {kind: collective_time(fabric, kind, size, group, stride) for kind in ("all_gather", "all_reduce")}
    priced: list[str] = []
    real = scalar_path.price_distinct

    def counted(formula, *values, min_elements=scalar_path.RUN_MIN_ELEMENTS):  # type: ignore[no-untyped-def]
        priced.append("x")
        return real(formula, *values, min_elements=min_elements)

    monkeypatch.setattr(scalar_path, "price_distinct", counted)
    with RowMemo.shared(_rows(), ("tp",)):  # type: ignore[arg-type]
        got = [distinct_collectives.distinct_collective_time(fabric, kind, size.copy(), group.copy(), stride)
               for kind in ("all_gather", "reduce_scatter", "all_gather", "all_reduce", "all_reduce")]
        got[0][:] = -1.0  # a caller's copy is its own: the kept time is not changed through it
        again = distinct_collectives.distinct_collective_time(fabric, "reduce_scatter", size, group, stride)
    assert len(priced) == 2  # one reduce-scatter formula, one all-reduce
    assert got[1].tobytes() == got[2].tobytes() == again.tobytes() == want["all_gather"].tobytes()
    assert got[3].tobytes() == got[4].tobytes() == want["all_reduce"].tobytes()
    assert got[3] is not got[4]
    # outside a search nothing is kept
    priced.clear()
    for _ in range(2):
        distinct_collectives.distinct_collective_time(fabric, "all_gather", size, group, stride)
    assert len(priced) == 2


def test_kept_times_tell_columns_apart_by_content_and_formula() -> None:
    fabric = _fabric()
    size, group, stride = _columns()
    other = size.copy()
    other[17] *= 2.0
    with RowMemo.shared(_rows(), ("tp",)):  # type: ignore[arg-type]
        first = distinct_collectives.distinct_collective_time(fabric, "all_gather", size, group, stride)
        changed = distinct_collectives.distinct_collective_time(fabric, "all_gather", other, group, stride)
        as_int = distinct_collectives.distinct_collective_time(fabric, "all_gather", size, group.astype(np.int64),
                                                               stride)
    assert first.tobytes() == collective_time(fabric, "all_gather", size, group, stride).tobytes()
    assert changed.tobytes() == collective_time(fabric, "all_gather", other, group, stride).tobytes()
    assert changed[17] != first[17]
    assert as_int.tobytes() == collective_time(fabric, "all_gather", size, group.astype(np.int64), stride).tobytes()


@pytest.mark.parametrize(("system", "gpus"), [("dgx-h100-superpod", 4096), ("gb200-nvl72", 8192),
                                              ("meta-genai-roce-24k", 16384)])
def test_tree_latency_sorts_its_own_shapes(system: str, gpus: int, monkeypatch: pytest.MonkeyPatch) -> None:
    fabric = _fabric(system, gpus)
    rng = np.random.default_rng(7)
    n = rng.choice([1.0, 2.0, 16.0, 64.0, 256.0, 1024.0], 3000)
    stride = rng.choice([1.0, 8.0, 64.0], 3000)
    want = np.array([nccl_trees.tree_latency_one(fabric, a, b, 1e-5) for a, b in zip(n, stride, strict=True)])

    def unique(*args: object, **kwargs: object) -> None:
        raise AssertionError("np.unique(axis=1) sorts a structured view: ~10x slower")

    monkeypatch.setattr(np, "unique", unique)
    assert nccl_trees.tree_latency(fabric, n, stride, 1e-5).tobytes() == want.tobytes()
    grid = nccl_trees.tree_latency(fabric, n[:40].reshape(-1, 1), np.array([1.0, 8.0]), 1e-5)
    assert grid.shape == (40, 2)
    assert grid[:, 1].tobytes() == np.array([nccl_trees.tree_latency_one(fabric, a, 8.0, 1e-5)
                                             for a in n[:40]]).tobytes()
    assert nccl_trees.tree_latency(fabric, 64.0, 8.0).shape == ()
    assert nccl_trees.tree_latency(fabric, np.zeros(0), 8.0).shape == (0,)


def test_requests_of_one_formula_priced_in_one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    fabric = _fabric("gb200-nvl72", 1024)
    size, group, stride = _columns(300)
    grads = size * 2.0
    requests = [("all_reduce", size, group, stride), ("reduce_scatter", size, group, stride),
                ("all_gather", grads, group, stride), ("reduce_scatter", size / 3.0, group, stride),
                ("all_gather", size, group.astype(np.int64), stride),  # another dtype: priced alone
                ("all_gather", size[:5], group[:5], stride[:5])]  # another length: priced alone
    want = [collective_time(fabric, kind, s, g, d) for kind, s, g, d in requests]
    calls: list[int] = []
    real = distinct_collectives.distinct_collective_time

    def counted(fabric: fabric_module.Fabric, kind: str, s: np.ndarray, g: np.ndarray, d: np.ndarray) -> object:
        calls.append(np.size(s))
        return real(fabric, kind, s, g, d)

    monkeypatch.setattr(distinct_collectives, "distinct_collective_time", counted)
    got = distinct_collectives.distinct_collective_times(fabric, requests)
    assert [g.tobytes() for g in got] == [w.tobytes() for w in want]
    assert sorted(calls) == [5, 300, 300, 900]  # the three reduce-scatter / all-gather columns in one
    got[1][:] = 0.0  # each request its own array
    assert got[3].tobytes() == want[3].tobytes()
