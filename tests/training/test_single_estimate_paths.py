"""The single-plan fast paths (issue 18 item 2) give bit-identical results to the vectorised code they bypass."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.network.collectives import Fabric, group_link, message_efficiency
from infraplan.training.schedules import heaviest_stage

FABRIC = Fabric(8, 3.6e11, 4.5e10, ("rack", "spine", "core"), (64, 2048, 32768), (1.0, 2.0, 3.0),
                (1e-6, 2e-6, 4e-6))


def test_heaviest_stage_one_plan_matches_the_vectorised_bisection() -> None:
    rng = np.random.default_rng(7)
    pp = rng.choice([1.0, 2.0, 3.0, 8.0, 16.0], 300)
    layer_s = np.exp(rng.uniform(-10.0, -1.0, 300))
    head_s = np.exp(rng.uniform(-10.0, 0.0, 300)) * rng.integers(0, 2, 300)
    # 300 plans take the numpy bisection; each plan alone takes the float path
    batch = heaviest_stage(61, pp, layer_s, 0.0, head_s)
    for i in range(300):
        one = heaviest_stage(61, pp[i:i + 1], layer_s[i:i + 1], 0.0, head_s[i:i + 1])
        for got, want in zip(one, batch, strict=True):
            assert got.shape == (1,) and got.dtype == want.dtype
            assert got[0] == want[i]


def test_heaviest_stage_one_plan_balances_the_head() -> None:
    seconds, layers, is_last, is_first = heaviest_stage(126, np.array([16.0]), np.array([1.0]), 0.0, np.array([3.0]))
    # 126 layers over 16 stages with a 3-layer head on the last: 8 s holds 14 * 8 + 8 + 5 = 125 layers, one short,
    # so a middle stage of 9 layers sets the pace
    assert (seconds[0], layers[0], bool(is_last[0]), bool(is_first[0])) == (9.0, 9.0, False, False)


@pytest.mark.parametrize("all_to_all", [False, True])
def test_message_efficiency_interpolates_only_the_neighbouring_columns_exactly(all_to_all: bool) -> None:
    rng = np.random.default_rng(3)
    size = np.exp(rng.uniform(0.0, 40.0, 400))
    n = rng.choice([1.0, 2.0, 8.0, 24.0, 128.0, 1000.0, 4096.0], 400)
    stride = rng.choice([1.0, 4.0, 8.0, 64.0, 1024.0], 400)
    batch = message_efficiency(FABRIC, size, n, stride, all_to_all)
    alone = np.array([message_efficiency(FABRIC, size[i], n[i], stride[i], all_to_all) for i in range(400)])
    assert np.array_equal(batch, alone)
    assert np.all((batch >= 1e-3) & (batch <= 1.0))


def test_group_link_memo_returns_read_only_copies_of_the_uncached_answer() -> None:
    n, stride = np.full(100, 16.0), np.full(100, 8.0)  # over the memo's size limit: computed every time
    big = group_link(FABRIC, n, stride)
    small = group_link(FABRIC, n[:1], stride[:1])
    assert small is group_link(FABRIC, n[:1].copy(), stride[:1].copy())  # the memoised tuple
    for got, want in zip(small, big, strict=True):
        assert got[0] == want[0]
        assert not got.flags.writeable
