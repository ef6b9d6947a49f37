"""hI66 mutation wave on the NVL72 fabrics (hN65): mutant N21.

The 9,216-GPU GB200 NVL72 file is 16 of the DGX SuperPOD RA's scalable units (its description): an SU is 8 NVL72
racks = 576 GPUs (144 trays of 4 GPUs and 4 NICs) on "8 leaf" switches (the DGX B300 RA's count, as the superpod
file's), 2 per rail: NIC r of the trays of racks 0-3 on leaf 2r, of racks 4-7 on leaf 2r + 1. A leaf domain of
1,152 GPUs built the same 128 leaves and 72 spines (hN65's count test passed it) but 4 leaves a rail across 16 racks,
no SU of the RA.
"""

from __future__ import annotations

import numpy as np

from infraplan.catalog.loader import load_system
from infraplan.network.clos_topology import leaf_index
from infraplan.network.topology import build_topology


def test_the_9216_gpu_file_is_built_of_the_ras_scalable_units() -> None:
    topo = build_topology(load_system("gb200-nvl72"))
    leaf = topo.tiers[0]
    assert (leaf.domain_gpus, leaf.domains, leaf.switches_per_domain) == (576, 16, 8)
    assert (topo.leaves_per_rail, topo.nodes_per_leaf_domain) == (2, 144)
    trays, nics = np.meshgrid(np.arange(144), np.arange(4), indexing="ij")  # one SU's trays
    assert np.array_equal(leaf_index(topo, trays, nics), 2 * nics + trays // 72)
