"""Mutation wave 5 (hM5): `network.sharp`'s edges, by hand from its module docstring.

t_sharp = max(S / (k B_nic), t_domain) + L_tree + 2 L_scale-up, t_domain = 2 (k - 1)/k S / B_scale-up, or by NVLS
(1 + 1/k) S / B_nvls where it is faster; k = floor(D / stride) members of a scale-up domain D; one rank, or a group
inside one domain, runs no SHARP (infinite)."""

from __future__ import annotations

import math

import pytest

from infraplan.network.fabric import Fabric
from infraplan.network.sharp import sharp_bottleneck, sharp_parts, sharp_time

GIB = 2.0**30


def _fabric(scale_up: float, nvls: float = 0.0) -> Fabric:
    return Fabric(scale_up_domain=8, scale_up_bytes_per_s=scale_up, nic_bytes_per_s=50e9, tier_names=("leaf",),
                  tier_sizes=(4096,), tier_oversubscription=(1.0,), tier_round_trip_latency_s=(2e-6,),
                  nvls_bytes_per_s=nvls)


def test_members_per_domain_are_the_whole_strides_that_fit() -> None:
    # stride 3 in a domain of 8: ranks 0, 3, 6 -> floor(8 / 3) = 2 members share a domain, not 3
    network, domain, _ = sharp_parts(_fabric(10e12), GIB, 16, 3)
    assert network == pytest.approx(GIB / (2 * 50e9))
    assert domain == pytest.approx(2 * (2 - 1) / 2 * GIB / 10e12)


def test_nvls_prices_the_domain_at_one_and_a_kth_buffers_where_faster() -> None:
    # k = 8: the ring's 2 x 7/8 S at 100 GB/s (17.5 ms a GiB) against NVLS's (1 + 1/8) S at 200 GB/s
    _, domain, _ = sharp_parts(_fabric(100e9, nvls=200e9), GIB, 64, 1)
    assert domain == pytest.approx((1 + 1 / 8) * GIB / 200e9)
    _, slow_nvls, _ = sharp_parts(_fabric(100e9, nvls=50e9), GIB, 64, 1)  # NVLS slower than the ring: the ring's
    assert slow_nvls == pytest.approx(2 * 7 / 8 * GIB / 100e9)


def test_one_rank_reduces_nothing_even_with_a_stride_past_the_domain() -> None:
    assert sharp_time(_fabric(10e12), GIB, 1, 16) == math.inf
    assert math.isfinite(sharp_time(_fabric(10e12), GIB, 2, 16))  # two ranks in two domains: one member each


def test_the_bottleneck_is_scale_up_only_where_the_domain_is_slower() -> None:
    # k = 2 (stride 4 in 8): network S / (2 x 50 GB/s), domain 2 x 1/2 S / 100 GB/s: equal, so the NICs are named
    network, domain, _ = sharp_parts(_fabric(100e9), GIB, 16, 4)
    assert network == domain == GIB / 100e9
    assert sharp_bottleneck(_fabric(100e9), GIB, 16, 4) == "nic"
    assert sharp_bottleneck(_fabric(99e9), GIB, 16, 4) == "scale-up"
