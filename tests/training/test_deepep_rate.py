"""DeepEP / HybridEP across nodes at the DeepEP README's RDMA rate, which counts every node a token reaches."""

from __future__ import annotations

import pytest

from infraplan.catalog import load_model
from infraplan.cluster import Cluster, deepep
from infraplan.ops.expert_routing import expected_nodes_per_token
from infraplan.ops.layer import Collective
from infraplan.training.expert_dispatch import deepep_own_node_factor, deepep_rdma_bytes_per_s, flex_dispatch_seconds

# deep-ep 1.0.0 README.md:17-22, internode normal kernels on H800 + CX7 (~50 GB/s): dispatch / combine GB/s
README_RDMA_GB_S = {16: (43.0, 43.0), 32: (44.0, 47.0), 64: (46.0, 45.0)}


@pytest.mark.parametrize("ep", sorted(README_RDMA_GB_S))
def test_readme_setting_reaches_the_readme_rate_as_the_readme_counts_it(ep: int) -> None:
    """The README's setting (4,096 tokens, hidden 7,168, top-8 of 256 experts in 4 node groups), its RDMA
    bandwidth as tests/test_internode.py:39-43 / :159 / :186 define it: every node a token reaches, its own
    included, x hidden x 2 B over the kernel's time."""
    shape = load_model("deepseek-v3")  # 256 experts, top-8, node-limited to 4 groups
    fabric = Cluster.resolve("dgx-h100-superpod").fabric  # 8 GPUs per node, CX7 400 Gb/s per GPU
    token_bytes = 4096 * shape.hidden_size * 2.0
    nodes = ep / 8
    seconds = float(flex_dispatch_seconds(shape, fabric, (Collective("all_to_all", "ep", token_bytes * 8, ep, 1),)))
    reached = float(expected_nodes_per_token(shape, nodes))
    readme_rate = token_bytes * reached / seconds
    dispatch, combine = README_RDMA_GB_S[ep]
    # round 14: at the README's own figure for that EP size (a dispatch and a combine: their harmonic mean), as a
    # share of its 50 GB/s NIC times this fabric's 400 Gb/s line rate
    assert readme_rate == pytest.approx(2.0 / (1.0 / dispatch + 1.0 / combine) * 1e9, rel=1e-9)
    assert readme_rate < fabric.nic_bytes_per_s  # below NCCL's achievable rate on the same NIC (47 GB/s)
    # what the NIC carries: the remote (N - 1) / N share of the node copies
    assert token_bytes * reached * (nodes - 1) / nodes / seconds < fabric.nic_bytes_per_s


def test_published_rate_off_gives_the_fabric_rate(monkeypatch: pytest.MonkeyPatch) -> None:
    fabric = Cluster.resolve("dgx-h100-superpod").fabric
    assert float(deepep_rdma_bytes_per_s(fabric, 2.0)) == pytest.approx(43e9)
    assert float(deepep_rdma_bytes_per_s(fabric, 16.0)) == pytest.approx(2.0 / (1 / 46 + 1 / 45) * 1e9)  # held
    monkeypatch.setattr(deepep, "DEEPEP_PUBLISHED_RDMA_RATE", False)  # moved to cluster.deepep (session 52)
    assert float(deepep_rdma_bytes_per_s(fabric, 2.0)) == fabric.nic_bytes_per_s


def test_own_node_factor_only_across_domains() -> None:
    fabric = Cluster.resolve("dgx-h100-superpod").fabric
    assert float(deepep_own_node_factor(fabric, 8, 1)) == 1.0  # one NVLink domain: no RDMA leg
    assert float(deepep_own_node_factor(fabric, 16, 1)) == pytest.approx(2.0)  # half the node copies are remote
    assert float(deepep_own_node_factor(fabric, 64, 1)) == pytest.approx(8.0 / 7.0)
    assert float(deepep_own_node_factor(fabric, 16, 8)) == pytest.approx(16.0 / 15.0)  # one rank per node
