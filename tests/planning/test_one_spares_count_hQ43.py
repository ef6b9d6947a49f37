"""One spares count (hQ43, session 42): planning/spares.py `spare_nodes` (one pool, with its basis line) and
`spare_servers` (every count of servers, for the plan's options and the optimality bound, planning/scenario_bound.py)
take the same private count, so they agree on every grid point and both refuse a quantile scipy cannot give.

scipy's Poisson ppf is NaN for means from ~1e11 at probability 0.5 (checked below as the test's premise); before
hQ43 only the scalar refused it, while the array cast the NaN to int64 and handed the bound a garbage count.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.stats import poisson

from infraplan.errors import InputError
from infraplan.planning.spares import (
    DEFAULT_REPAIR_S,
    Instance,
    poisson_quantile,
    poisson_quantiles,
    spare_nodes,
    spare_servers,
)

COUNTS = np.arange(0, 2000, 37)  # servers used, 0 included (no spares)
GRID = list(itertools.product(
    [("gb200", 4, 72), ("gb200", 4, 4), ("h100-sxm", 8, 8)],  # accelerator, server devices, scale-up domain devices
    [0, 1, 2],  # policy spare_trays_per_domain
    [None, 1, 8, 20, 144],  # the pool's widest instance, devices (None: not known)
    [0.9, 0.999],  # spare probability
))


@pytest.mark.parametrize("device,kept,instance,probability", GRID)
def test_the_array_and_the_scalar_count_agree(device: tuple[str, int, int], kept: int, instance: int | None,
                                               probability: float) -> None:
    accelerator, node, domain = device
    what = Instance(instance, "x")
    one = spare_nodes(node, node, accelerator, probability, DEFAULT_REPAIR_S, domain_devices=domain,
                      spare_trays=kept, instance=what)
    array = spare_servers(COUNTS, one, probability)
    assert array.dtype == np.int64
    scalar = [spare_nodes(int(n) * node, node, accelerator, probability, DEFAULT_REPAIR_S, domain_devices=domain,
                          spare_trays=kept, instance=what).spare_nodes for n in COUNTS]
    assert array.tolist() == scalar
    assert array[0] == 0 and array[-1] > 0  # no servers used: no spares; 1,961 used: some


def test_the_quantile_of_one_mean_is_the_arrays() -> None:
    means = np.array([0.0, 0.5, 2.0, 10.0, 17.8, 1e6])
    assert poisson_quantiles(means, 0.99).tolist() == [poisson_quantile(float(m), 0.99) for m in means]
    assert poisson_quantiles(means, 0.99).tolist()[:4] == [0, 3, 6, 18]  # by hand from the Poisson CDF
    for bad in (float("nan"), float("inf")):  # a NaN repair time's mean: refused, not read as zero
        with pytest.raises(InputError, match="beyond the spare-node quantile"):
            poisson_quantile(bad, 0.99)


def test_a_nan_quantile_is_refused_on_both_paths() -> None:
    repair_s = 1e16  # ~3e14 nodes in repair at 8e6 servers: beyond scipy's ppf at probability 0.5
    one = spare_nodes(0, 8, "h100-sxm", 0.5, repair_s)  # nothing used: nothing in repair, no quantile asked
    assert one.spare_nodes == 0
    mean = one.node_failures_per_hour * repair_s / 3600.0 * 8_000_000
    assert np.isnan(poisson.ppf(0.5, mean))  # the premise: scipy gives NaN there
    with pytest.raises(InputError, match="beyond the spare-node quantile"):
        spare_nodes(64_000_000, 8, "h100-sxm", 0.5, repair_s)
    with pytest.raises(InputError, match="beyond the spare-node quantile"):
        spare_servers(np.array([0, 10, 8_000_000]), one, 0.5)
    assert spare_servers(np.array([0, 10]), one, 0.5).tolist() == [0, spare_nodes(80, 8, "h100-sxm", 0.5,
                                                                                    repair_s).spare_nodes]


def test_a_quantile_beyond_exact_float_integers_is_refused_on_both_paths() -> None:
    repair_s = 1e17  # ~3e16 nodes in repair: a finite ppf, but past 2**53 where the count is no longer exact
    one = spare_nodes(0, 8, "h100-sxm", 0.99, repair_s)
    assert np.isfinite(poisson.ppf(0.99, one.node_failures_per_hour * repair_s / 3600.0 * 8_000_000))
    with pytest.raises(InputError, match="beyond the spare-node quantile"):
        spare_nodes(64_000_000, 8, "h100-sxm", 0.99, repair_s)
    with pytest.raises(InputError, match="beyond the spare-node quantile"):
        spare_servers(np.array([8_000_000]), one, 0.99)
