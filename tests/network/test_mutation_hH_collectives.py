"""Latency terms of the alpha-beta collectives (hH mutation spot-checks, session 33).

- All-to-all: NCCL groups the n - 1 sends/receives of an all-to-all and runs them over its p2p channels, at most
  NCCL_MAX_P2P_NCHANNELS = 32 peers at once (NCCL environment-variable docs), so the alpha term is paid
  ceil((n - 1) / 32) times: 1 round at 8 ranks, 2 at 64, 8 at 256. A floor in place of the ceiling (0, 1 and 7
  rounds) survived every test under tests/network.
- Tree all-reduce inside one scale-up domain: NCCL's double binary tree reduces up and broadcasts down a tree of
  depth ceil(log2 n), so 2 ceil(log2 n) latency steps (across domains NCCL's pipelined tree, hN2, session 34;
  module docstring of `network.collective_formulas`; Sanders, Speck and Traeff 2009,
  "Two-tree algorithms for full bandwidth broadcast, reduction and scan"). Half of them (ceil(log2 n)) was caught
  only by the float / array twin check, which would pass had the bug sat in a formula both paths share.
"""

from __future__ import annotations

import math

import pytest

from infraplan.catalog import load_accelerator, load_system
from infraplan.network import Fabric, all_reduce_time, all_to_all_time, group_link
from infraplan.network.collective_formulas import all_to_all_rounds


@pytest.fixture(scope="module")
def h100() -> Fabric:
    spec = load_system("dgx-h100-superpod")
    return Fabric.from_system(spec, load_accelerator(spec.accelerator))


@pytest.mark.parametrize(("ranks", "rounds"), [(8, 1), (64, 2), (256, 8)])
def test_a_tiny_all_to_all_pays_one_latency_per_round_of_32_peers(h100: Fabric, ranks: int, rounds: int) -> None:
    assert rounds == math.ceil((ranks - 1) / 32)  # the hand count
    assert float(all_to_all_rounds(ranks)) == rounds
    size_bytes = 8.0  # 8 B per rank: the bandwidth term is ~1e-10 s, the latency ~1e-6 s
    bw_bytes_per_s, latency_s, _ = group_link(h100, float(ranks), 1.0, True)
    expected_s = (ranks - 1) / ranks * size_bytes / float(bw_bytes_per_s) + rounds * float(latency_s)
    assert float(all_to_all_time(h100, size_bytes, ranks, 1)) == pytest.approx(expected_s, rel=1e-9)


@pytest.mark.parametrize(("ranks", "depth"), [(8, 3), (4, 2)])
def test_a_tiny_tree_all_reduce_pays_twice_the_tree_depth_in_latency(h100: Fabric, ranks: int, depth: int) -> None:
    # inside one 8-GPU NVLink domain; across domains NCCL's pipelined tree (tests/network/test_tree_latency.py)
    assert depth == math.ceil(math.log2(ranks))
    size_bytes = 8.0
    bw_bytes_per_s, latency_s, _ = group_link(h100, float(ranks), 1.0)
    expected_s = 2.0 * size_bytes / float(bw_bytes_per_s) + 2.0 * depth * float(latency_s)
    tree_s = float(all_reduce_time(h100, size_bytes, ranks, 1, algorithm="tree"))
    assert tree_s == pytest.approx(expected_s, rel=1e-9)
