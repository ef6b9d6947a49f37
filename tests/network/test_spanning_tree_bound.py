"""A sized all-reduce spanning scale-up domains bounds its ring and its tree each by its own NVLink legs
(`collective_formulas._all_reduce`, `spanning_bound(..., whole_buffer=True)`), then takes the faster (helper hN3,
session 34). Before, the faster of the two was bounded by the ring's (n - 1) / k rule: an 8 B all-reduce over
24,576 GPUs of meta-genai-roce-24k cost 55.3 ms (the tree alone 0.63 ms), 1,024 GPUs 2.30 ms, 64 H100s 141.8 us."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_accelerator, load_system
from infraplan.network import collective_formulas
from infraplan.network.collectives import (
    Fabric,
    all_reduce_time,
    collective_seconds,
    collective_time,
    forget_float_values,
)
from infraplan.network.fabric import SCALE_UP_LATENCY_S
from infraplan.scalar_path import FLOAT_OPS

US = 1e-6


def _fabric(system: str) -> Fabric:
    spec = load_system(system)
    return Fabric.from_system(spec, load_accelerator(spec.accelerator))


def _in_domain(fabric: Fabric, size: float, k: float) -> float:
    """The in-domain all-reduce of the whole buffer over the k local members: the tree's NVLink leg bound."""
    return float(all_reduce_time(fabric, size, k, 1, sized=True))


# Hand-computed tree latencies of NCCL's pipelined tree (`nccl_trees.tree_latency_one`): 2 x (the leg inside a domain,
# ceil(log2 8) = 3 steps of 3 us, + the longest path up the two binary trees over the m domains), network hops
# floored at NCCL's 4 us step latency; the 8 B message's bandwidth term (2 x 8 B / 376 GB/s) is 4e-11 s.
# - 64 H100s (dgx-h100-superpod): m = 8 domains inside one 256-GPU tier (2 us -> 4 us), depth 3: 2 x (9 + 12) = 42
# - 1,024 GPUs of roce-24k: m = 128 domains of 8, every hop crossing the 16-GPU rack at the 3,072-GPU tier's
#   14 us, depth 7: 2 x (9 + 7 x 14) = 214
# - 24,576 GPUs of roce-24k: m = 3,072 domains, the longest path 6 hops across the 3,072-GPU tier (34 us) and 6
#   inside it (14 us): 2 x (9 + 6 x 34 + 6 x 14) = 594 (634 with the shifted twin tree before hT80: 7 + 5 hops)
@pytest.mark.parametrize(("system", "n", "tree_us", "before_us"), [
    ("meta-genai-roce-24k", 24576, 2 * (3 * 3 + 6 * 34 + 6 * 14), 55293.75),
    ("meta-genai-roce-24k", 1024, 2 * (3 * 3 + 7 * 14), 2301.75),
    ("dgx-h100-superpod", 64, 2 * (3 * 3 + 3 * 4), 141.75),
])
def test_a_small_spanning_all_reduce_costs_the_tree_not_the_rings_bound(system: str, n: int, tree_us: float,
                                                                        before_us: float) -> None:
    fabric = _fabric(system)
    assert SCALE_UP_LATENCY_S == 3 * US
    size = 8.0
    tree = float(all_reduce_time(fabric, size, n, 1, algorithm="tree", sized=True))
    auto = float(all_reduce_time(fabric, size, n, 1, sized=True))
    leg = _in_domain(fabric, size, 8.0)
    expected = tree_us * US + 2.0 * size / 376e9  # latency + the bandwidth term over the 376 GB/s NIC link
    assert tree == pytest.approx(expected, rel=1e-12)
    # the in-domain small-message floor: NCCL's LL ring line, 4.36 us + 14 steps of 0.86 us (`network.nvlink_latency`,
    # hK60; 15.6 us measured at 512 B), 18 us (the tree's 6 alpha-beta steps of 3 us) before
    assert leg == pytest.approx(16.38 * US, rel=1e-3)
    # never above the tree's own time plus its in-domain leg bound; here the tree's own time (its leg is shorter)
    assert auto <= tree + leg
    assert auto == tree
    assert auto < before_us * US / 3.0
    # the float twin (one plan's path) gives the same bits
    forget_float_values()
    assert collective_seconds(fabric, "all_reduce", size, float(n), 1.0) == auto


def test_the_ring_keeps_its_n_minus_1_over_k_bound() -> None:
    """The ring asked for by name is bounded as before: (n - 1) / k x the in-domain all-reduce of its chunk."""
    fabric = _fabric("meta-genai-roce-24k")
    n, size = 1024.0, 64 * 2.0**20
    ring = float(all_reduce_time(fabric, size, n, 1, algorithm="ring", sized=True))
    unbounded = float(collective_formulas._one_all_reduce(FLOAT_OPS, fabric, size, n, 1.0, "ring", True))
    chunk = _in_domain(fabric, size * 8.0 / n, 8.0)
    assert ring == max(unbounded, (n - 1.0) / 8.0 * chunk)


def test_the_tree_is_bounded_by_the_in_domain_all_reduce_of_the_whole_buffer() -> None:
    """A tree whose cross-domain tables price it below its NVLink leg takes the leg: two GB200 NVL72 racks at
    1 GiB, where the NIC tables reach efficiency 1 and the in-domain measured curve does not."""
    fabric = _fabric("gb200-nvl72-superpod")
    n, size = 144.0, 2.0**30
    unbounded = float(collective_formulas._one_all_reduce(FLOAT_OPS, fabric, size, n, 1.0, "tree", True))
    leg = _in_domain(fabric, size, 72.0)
    tree = float(all_reduce_time(fabric, size, n, 1, algorithm="tree", sized=True))
    assert tree == max(unbounded, leg)
    ring = float(all_reduce_time(fabric, size, n, 1, algorithm="ring", sized=True))
    assert float(all_reduce_time(fabric, size, n, 1, sized=True)) == min(ring, tree)


@pytest.mark.parametrize("system", ["meta-genai-roce-24k", "dgx-h100-superpod", "gb200-nvl72-superpod"])
def test_float_twin_matches_the_array_path_across_domains(system: str) -> None:
    """`collective_seconds` (the one-plan float path) equals the array path bit for bit on groups that span
    domains, small to large messages, and auto is at most the faster of the bounded ring and tree there (equal but
    where the tree's whole-buffer leg in the domain binds: auto's leg is the in-domain auto, NVLS where it runs,
    the named tree's the in-domain tree; hT80 made that leg bind by leaving the tree off the ring's NIC table)."""
    fabric = _fabric(system)
    rng = np.random.default_rng(34)
    count = 160
    sizes = np.exp(rng.uniform(np.log(4.0), np.log(4e9), count))
    n = rng.choice([2.0, 9.0, 16.0, 64.0, 144.0, 1024.0, 4096.0, 24576.0], count)
    stride = rng.choice([1.0, 2.0, 4.0, 8.0], count)
    n = np.minimum(n, np.floor(24576.0 / stride))
    forget_float_values()
    array = collective_time(fabric, "all_reduce", sizes, n, stride)
    ring = all_reduce_time(fabric, sizes, n, stride, algorithm="ring", sized=True)
    tree = all_reduce_time(fabric, sizes, n, stride, algorithm="tree", sized=True)
    spans = n * stride > 72.0 if system.startswith("gb200") else n * stride > 8.0
    assert np.count_nonzero(spans) > count // 2
    assert np.all(array[spans] <= np.minimum(ring, tree)[spans])
    assert np.count_nonzero(array[spans] == np.minimum(ring, tree)[spans]) > np.count_nonzero(spans) // 2
    for i in range(count):
        one = collective_seconds(fabric, "all_reduce", float(sizes[i]), float(n[i]), float(stride[i]))
        assert one == float(array[i]), i
