"""hQ (session 75): the never-seen estimate's calls cut, every answer the same bits.

Each cut is held here to the form it replaced: one plan's exposed host time spelled out on floats
(`host_time.host_exposed_floats` against `_host_exposed` on FLOAT_OPS and the array path), a GEMM's wave count as an
int floor division (`gemm_seconds._gemm_terms` against the array formula), the GEMM rate terms kept for the rates
asked last (`gemm_fwd_bwd_seconds`), and `IdentityMemo`'s hit on the owner asked last.
"""

from __future__ import annotations

import dataclasses
import math
import random

import numpy as np
import pytest

from infraplan.cluster import Cluster
from infraplan.hardware import gemm_seconds, kernels
from infraplan.hardware.kernels import KernelRates, gemm_time
from infraplan.identity_memo import IdentityMemo
from infraplan.scalar_path import FLOAT_OPS
from infraplan.training import host_time


def _bits(x: float) -> str:
    return float(x).hex()


def _host_cases() -> list[tuple[float, float, float, float, float, float]]:
    rng = random.Random(75)
    specials = [0.0, -0.0, 1e-9, 3.0e-5, 1.0, math.nan]
    cases = []
    for _ in range(400):
        hf, hb, gf, gb = (rng.choice(specials) if rng.random() < 0.15 else rng.uniform(0.0, 2e-3) for _ in range(4))
        cases.append((hf, hb, gf, gb, float(rng.choice((1, 2, 7, 64, 1024))), rng.choice((0.0, 4e-6, 1.3e-5))))
    return cases


@pytest.mark.parametrize("synced", [True, False])
def test_host_exposed_floats_give_the_shared_formulas_bits(synced: bool) -> None:
    """The spelled-out float form = `_host_exposed` on FLOAT_OPS = the array path's element, bit for bit (NaN
    where they give NaN), on 400 seeded cases with zeros, -0.0, NaN and each side of every excess."""
    for hf, hb, gf, gb, m, dispatch in _host_cases():
        fast = host_time.host_exposed_floats(hf, hb, gf, gb, m, synced, dispatch)
        shared = host_time._host_exposed(FLOAT_OPS, hf, hb, gf, gb, m, synced, dispatch)
        array = float(host_time.host_exposed_time(np.array([hf]), np.array([hb]), np.array([gf]), np.array([gb]),
                                                  np.array([m]), np.array([synced]), dispatch)[0])
        assert type(fast) is float
        if math.isnan(shared):
            assert math.isnan(fast) and math.isnan(array)
        else:
            assert _bits(fast) == _bits(shared) == _bits(array), (hf, hb, gf, gb, m, synced, dispatch)


def test_host_exposed_floats_takes_a_truthy_synced_as_the_shared_form_does() -> None:
    for synced in (1, 0, np.bool_(True), np.bool_(False)):
        assert (_bits(host_time.host_exposed_floats(2e-4, 1e-4, 1e-4, 3e-4, 8.0, synced, 5e-6))  # type: ignore[arg-type]
                == _bits(host_time._host_exposed(FLOAT_OPS, 2e-4, 1e-4, 1e-4, 3e-4, 8.0, synced, 5e-6)))


@pytest.mark.parametrize("system", ["dgx-h100-superpod", "gb200-nvl72", "mi300x-cluster"])
def test_gemm_waves_as_int_division_give_the_array_bits(system: str) -> None:
    """GEMMs across tile and wave edges (m, n, k near multiples of the tiles and of a wave) on floats = the array
    path's `gemm_time`, bit for bit, with and without the per-wave fixed time."""
    accelerator = Cluster.resolve(system).accelerator
    rates = KernelRates.for_dtype(accelerator, "bf16")
    rate = rates.matmul_flops_per_s
    rng = random.Random(7)
    dims = [1.0, 15.0, 16.0, 17.0, 127.0, 128.0, 129.0, 255.0, 256.0, 257.0, 4096.0, 8191.0, 8192.0, 53248.0]
    waves_edge = [float(rates.tile_n * rates.compute_units * j) for j in (1, 2)]
    for fixed in (True, False):
        kernels.WAVE_FIXED = fixed
        try:
            for _ in range(300):
                m, n, k = rng.choice(dims), rng.choice(dims + waves_edge), rng.choice(dims)
                fast = gemm_seconds.gemm_seconds(rates, m, n, k, 2.0, rate)
                array = float(np.ravel(gemm_time(rates, np.array([m]), np.array([n]), np.array([k]), 2.0, rate))[0])
                assert _bits(fast) == _bits(array), (system, fixed, m, n, k)
                fwd, bwd = gemm_seconds.gemm_fwd_bwd_seconds(rates, m, n, k, 2.0, rate)
                assert _bits(fwd) == _bits(fast)
                assert _bits(bwd) == _bits(gemm_seconds.gemm_seconds(rates, m, k, n, 2.0, rate)
                                           + gemm_seconds.gemm_seconds(rates, k, n, m, 2.0, rate))
        finally:
            kernels.WAVE_FIXED = True


def test_kept_rate_terms_follow_the_rates_and_the_wave_switch() -> None:
    """The rate terms kept for the rates asked last are not served to other rates, nor across `WAVE_FIXED`."""
    accelerator = Cluster.resolve("dgx-h100-superpod").accelerator
    bf16, fp8 = KernelRates.for_dtype(accelerator, "bf16"), KernelRates.for_dtype(accelerator, "fp8")
    slow = KernelRates.for_dtype(accelerator, "bf16", matmul_multiplier=0.5)
    shape = (4096.0, 8192.0, 8192.0, 2.0)
    for rates in (bf16, fp8, slow, bf16):
        assert gemm_seconds.gemm_fwd_bwd_seconds(rates, *shape, rates.matmul_flops_per_s)[0] == \
            gemm_seconds.gemm_seconds(rates, *shape, rates.matmul_flops_per_s)
    # hM75: H100's rates carry no per-wave fixed time (wave_fixed_s 0), so the switch moved nothing and a kept value
    # across it could not show; rates that carry one (b200.yaml's nvfp4 fit: 0.905 us a wave, K loop at 0.525 peak)
    fixed = dataclasses.replace(bf16, wave_fixed_s=0.905e-6, wave_flops_per_s=0.525 * bf16.matmul_flops_per_s)
    with_fixed = gemm_seconds.gemm_fwd_bwd_seconds(fixed, *shape, fixed.matmul_flops_per_s)
    kernels.WAVE_FIXED = False
    try:
        without = gemm_seconds.gemm_fwd_bwd_seconds(fixed, *shape, fixed.matmul_flops_per_s)
        assert without[0] == gemm_seconds.gemm_seconds(fixed, *shape, fixed.matmul_flops_per_s)
    finally:
        kernels.WAVE_FIXED = True
    assert gemm_seconds.gemm_fwd_bwd_seconds(fixed, *shape, fixed.matmul_flops_per_s) == with_fixed
    assert without != with_fixed  # the switch moves the answer: a kept value across it would show


class _Owner:
    """A plain object: equal only to itself."""


def test_identity_memo_hits_on_the_owner_asked_last_and_on_the_others() -> None:
    memo: IdentityMemo[int] = IdentityMemo(16)
    owners = [_Owner() for _ in range(3)]
    for i, owner in enumerate(owners):
        memo.put(owner, ("a", i), i)
        memo.put(owner, None, 10 + i)
    assert len(memo) == 6
    for _ in range(2):  # the last owner's values, then each other's, in turn and again
        for i, owner in enumerate(owners):
            assert memo.get(owner, ("a", i)) == i and memo.get(owner) == 10 + i
            assert memo.get(owner, ("a", i + 1)) is None
    assert memo.get(_Owner()) is None and memo.get(None) is None
    memo.put(owners[0], None, 99)  # a key kept again: replaced, not counted twice
    assert len(memo) == 6 and memo.get(owners[0]) == 99
    memo.clear()
    assert len(memo) == 0 and all(memo.get(o) is None for o in owners)
