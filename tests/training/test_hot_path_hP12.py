"""Work a single estimate no longer does (hP12, session 37), each with the bits it had.

* `host_time._host_exposed` of one plan's plain bool `synced`: only the term FLOAT_OPS' `where` picks is priced,
  the forward's excess once; the value the array path gives the same plan.
* `rank_kind_bubbles.three_rank_kinds_s` of one plan's floats: no `is_plain` call per value.
* `schedule_models._f` is `to_float` itself (no wrapper call).
* `gemm_seconds._gemm_terms` (in `hardware.kernels` before session 58's split): the tile and wave counts as exact
  ints, the array path's bits (a guard: it passes before too).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from infraplan.hardware import gemm_seconds, kernels
from infraplan.scalar_path import FLOAT_OPS, NUMPY_OPS, to_float
from infraplan.training import rank_kind_bubbles, schedule_models
from infraplan.training.enums import Schedule
from infraplan.training.host_time import _host_exposed, host_exposed_time


def _counting_ops() -> tuple[object, list[int]]:
    calls = [0]

    def maximum(a: float, b: float) -> float:
        calls[0] += 1
        return FLOAT_OPS.maximum(a, b)  # type: ignore[no-any-return]

    return dataclasses.replace(FLOAT_OPS, maximum=maximum), calls


@pytest.mark.parametrize("synced, most", [(True, 2), (False, 4)])
def test_host_exposed_prices_only_the_picked_term(synced: bool, most: int) -> None:
    rng = np.random.default_rng(12)
    for _ in range(200):
        hf, hb, gf, gb = (float(x) for x in rng.uniform(0.0, 2e-3, 4))
        m = float(rng.integers(1, 64))
        ops, calls = _counting_ops()
        value = _host_exposed(ops, hf, hb, gf, gb, m, synced, 4e-6)  # type: ignore[arg-type]
        assert calls[0] <= most  # all seven maxima before (both terms, the forward's excess twice)
        a = [np.array([x]) for x in (hf, hb, gf, gb, m)]
        array = _host_exposed(NUMPY_OPS, a[0], a[1], a[2], a[3], a[4], np.array([synced]), 4e-6)
        assert type(value) is float and value == float(array[0])
        assert value == host_exposed_time(hf, hb, gf, gb, m, synced, 4e-6)


def test_three_rank_kinds_one_plan_asks_no_is_plain(monkeypatch: pytest.MonkeyPatch) -> None:
    args = (8.0, 24.0, 1.0, 7.0, 0.9, 0.3, 0.8, 0.25, 1.0)
    expected = rank_kind_bubbles.three_rank_kinds_s(int(Schedule.ONE_F_ONE_B), *args)
    asked: list[object] = []
    real = rank_kind_bubbles.is_plain  # type: ignore[attr-defined]

    def counted(x: object) -> bool:
        asked.append(x)
        return real(x)

    monkeypatch.setattr(rank_kind_bubbles, "is_plain", counted)
    assert rank_kind_bubbles.three_rank_kinds_s(int(Schedule.ONE_F_ONE_B), *args) == expected
    assert len(asked) <= 2  # the schedule's and one in the formula only (twelve before: one per value)
    arrays = rank_kind_bubbles.three_rank_kinds_s(np.array([int(Schedule.ONE_F_ONE_B)]),
                                                  *(np.array([x]) for x in args))
    assert float(np.ravel(arrays)[0]) == expected


def test_schedule_models_f_is_to_float() -> None:
    assert schedule_models._f is to_float


def test_gemm_terms_bits_of_the_array_path() -> None:
    rates = kernels.KernelRates(matmul_flops_per_s=9.9e14, attention_flops_per_s=6e14, memory_bytes_per_s=3.35e12,
                                compute_units=132, tile_m=128, tile_n=256, kernel_overhead_s=4e-6)
    rng = np.random.default_rng(7)
    terms = gemm_seconds._rate_terms(rates)
    for _ in range(500):
        m, n, k = (float(x) for x in rng.integers(1, 200_000, 3))
        groups = float(rng.integers(1, 257)) if rng.random() < 0.5 else None
        one = gemm_seconds._gemm_terms(terms, m, n, k, groups, 2.0, 9.9e14)
        array = kernels._gemm(NUMPY_OPS, rates, np.array([m]), np.array([n]), np.array([k]),
                              None if groups is None else np.array([groups]), 2.0, 9.9e14)
        assert one == float(array[0])
