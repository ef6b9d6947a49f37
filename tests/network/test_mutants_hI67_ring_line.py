"""hI67 mutation wave on hF66's all-to-all latency line held at the tables' 8 GPUs (`nvlink_latency.A2A_LINE_HELD`):
the hold is the all-to-all's alone. A ring collective's latency grows with its steps: NCCL's ring runs n - 1
(all-gather, reduce-scatter) or 2 (n - 1) (all-reduce) dependent steps, each a hop's latency (NCCL src/graph/
tuning.cc, the ring's latency nsteps x the per-step latency; recalled), so on one NVL72 domain a tiny ring collective
of 72 ranks takes several times its 8-rank time, where the all-to-all (every pair at once) does not grow.
"""

from __future__ import annotations

import pytest

from infraplan.cluster import Cluster
from infraplan.network.collectives import collective_seconds


@pytest.mark.parametrize("kind", ["all_reduce", "all_gather", "reduce_scatter"])
def test_a_tiny_ring_collective_grows_with_its_steps_on_one_nvl72(kind: str) -> None:
    fabric = Cluster.resolve("gb200-nvl72").for_gpus(72).fabric
    t8, t72 = (collective_seconds(fabric, kind, 1024.0, n, 1.0) for n in (8.0, 72.0))  # type: ignore[arg-type]
    assert t72 > 3.0 * t8  # 71 / 7 ~ 10x the steps: more than 3x the time whatever the fixed part
