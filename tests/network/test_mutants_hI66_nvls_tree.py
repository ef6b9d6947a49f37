"""hI66 mutation wave on NCCL's NVLSTree all-reduce (`--algorithm nvls_tree`, hO65): mutants N1, N9.

* The whole-buffer bound (`collective_formulas._nvls_tree`, `spanning_bound`'s rule with NVLS inside): every
  domain's members reduce and broadcast the whole buffer through the NVSwitch, so the NVLS tree never beats the NVLS
  all-reduce of that buffer over one domain's members. On DGX H100 (8 GPUs a domain) at 16 MiB over 16 GPUs the
  tree across the two domains is the faster leg (115.2 us) and the bound decides (120.8 us, NVLS over 8 GPUs).
* Its tier: it is a tree across the domains, so it crosses an oversubscribed tier as NCCL's tree does (hN70's hand
  count on the o4 fabric: the 1:4 leaf binds the tree, the NICs bind the ring), not as the ring does.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from flow_toy_fabric import O4

from infraplan.cluster import Cluster
from infraplan.network.collective_schedules import estimate_collective
from infraplan.network.collectives import all_reduce_time

MIB = 2.0**20


@pytest.mark.parametrize(("gpus", "size"), [(16, 16 * MIB), (16, 64 * 1024.0), (64, MIB), (1024, 2.0**30)])
def test_never_faster_than_nvls_over_one_domains_members(gpus: int, size: float) -> None:
    fabric = Cluster.resolve("dgx-h100-superpod").fabric
    nvls_tree = float(all_reduce_time(fabric, size, gpus, 1, algorithm="nvls_tree", sized=True))
    one_domain = float(all_reduce_time(fabric, size, 8, 1, algorithm="nvls", sized=True))
    assert nvls_tree >= one_domain


def test_the_bound_decides_at_16_mib_over_two_domains() -> None:
    fabric = Cluster.resolve("dgx-h100-superpod").fabric
    nvls_tree = float(all_reduce_time(fabric, 16 * MIB, 16, 1, algorithm="nvls_tree", sized=True))
    assert nvls_tree == float(all_reduce_time(fabric, 16 * MIB, 8, 1, algorithm="nvls", sized=True))


def test_its_bottleneck_tier_is_the_trees(tmp_path: Path) -> None:
    path = tmp_path / "o4-h100.yaml"
    path.write_text(O4.replace("accelerator: b200", "accelerator: h100-sxm"))  # an accelerator with NVLS
    cluster = Cluster.resolve(str(path))
    runs = {a: estimate_collective("all-reduce", cluster, 512, 64 * MIB, algorithm=a) for a in ("ring", "nvls_tree")}
    assert runs["ring"].bottleneck_tier == "nic"
    assert runs["nvls_tree"].algorithm == "nvls_tree" and runs["nvls_tree"].bottleneck_tier == "leaf"
