"""hM8 (mutation wave 8): NVLS's alpha-beta time and the measured in-domain bound's one-rank case, by hand
(network/nvlink_all_reduce.py).

NVLS all-reduce inside one NVSwitch domain: t = L_nvls + (1 + 1/n) S / B_nvls, L_nvls NCCL's tuner's 25 us
(nvlink_all_reduce.py).
The measured bound is 0 for one rank (nvlink_all_reduce.py `in_domain_bound_xp`: "0 outside one scale-up domain,
for one rank or with the bound off"), whatever large-message time it is handed.
"""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_accelerator, load_system
from infraplan.network.fabric import Fabric
from infraplan.network.nvlink_all_reduce import NVLS_LATENCY_S, in_domain_bound_xp, nvls_time_xp
from infraplan.scalar_path import FLOAT_OPS, NUMPY_OPS

GIB = 2.0**30


@pytest.fixture(scope="module")
def h100() -> Fabric:
    spec = load_system("dgx-h100-superpod")
    return Fabric.from_system(spec, load_accelerator(spec.accelerator))


def test_nvls_pays_its_tuner_latency_and_one_and_an_eighth_of_the_message(h100: Fabric) -> None:
    assert h100.nvls_bytes_per_s > 0.0 and NVLS_LATENCY_S == 25e-6
    by_hand = 25e-6 + (1.0 + 1.0 / 8.0) * GIB / h100.nvls_bytes_per_s
    assert nvls_time_xp(FLOAT_OPS, h100, GIB, 8.0, 1.0, False) == pytest.approx(by_hand, rel=1e-12)
    arr = nvls_time_xp(NUMPY_OPS, h100, np.array([GIB]), np.array([8.0]), np.array([1.0]), False)
    assert float(np.asarray(arr)[0]) == pytest.approx(by_hand, rel=1e-12)


def test_the_measured_bound_of_one_rank_is_zero_on_both_paths(h100: Fabric) -> None:
    one = in_domain_bound_xp(NUMPY_OPS, h100, np.array([2.0**20, GIB]), np.array([1.0, 1.0]), np.array([1.0, 1.0]),
                             np.array([1e-3, 1e-3]))
    assert np.asarray(one).tolist() == [0.0, 0.0]
    assert in_domain_bound_xp(FLOAT_OPS, h100, 2.0**20, 1.0, 1.0, 1e-3) == 0.0
    two = in_domain_bound_xp(NUMPY_OPS, h100, np.array([2.0**20]), np.array([2.0]), np.array([1.0]),
                             np.array([1e-3]))
    # two ranks: the faster of the ring's 1 ms and NVLS's (1 + 1/2) S / B_nvls, over an efficiency <= 1
    assert float(np.asarray(two)[0]) >= min(1e-3, 1.5 * 2.0**20 / h100.nvls_bytes_per_s) > 0.0
