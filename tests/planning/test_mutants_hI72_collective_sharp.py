"""hI72 mutation wave on hK71's `planning.collective_answer.estimate_collective`: every argument reaches the network
layer's function, `sharp` included. A DGX H100 SuperPOD's Quantum-2 InfiniBand switches reduce in the network
(SHARP): its 256-GPU all-reduce of 1 GB takes the `sharp` algorithm only when asked, and the answer is the network
layer's own (the zones' note aside: none within one SuperPOD)."""

from __future__ import annotations

from infraplan.cluster import Cluster
from infraplan.network import collective_schedules
from infraplan.planning.collective_answer import estimate_collective


def test_sharp_reaches_the_network_layer() -> None:
    cluster = Cluster.resolve("dgx-h100-superpod")
    plain = estimate_collective("all-reduce", cluster, 256, 1e9)
    sharp = estimate_collective("all-reduce", cluster, 256, 1e9, sharp=True)
    assert sharp.algorithm == "sharp" and plain.algorithm != "sharp"
    assert sharp == collective_schedules.estimate_collective("all-reduce", cluster, 256, 1e9, sharp=True)
    assert sharp.time_s < plain.time_s
