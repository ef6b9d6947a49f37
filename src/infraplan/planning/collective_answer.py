"""`collective`'s answer as a Python function: the network layer's `estimate_collective` with the note of the zones
`facility`, `campus` and `plan` build beyond one non-blocking Clos (`training_run.network_with_zone_note`, hN70: 4
zones of 2,048 joined at 1:7 for 8,192 H100), the one function that builds that note for the CLI, the web and a
sweep. The network layer sits below the facility layer (import-linter's layers), so its own function cannot say it;
this one, above both, is what `infraplan collective --json` answers (hK71: the Python API's answer said nothing).
"""

from __future__ import annotations

from collections.abc import Callable

from infraplan.cluster import Cluster
from infraplan.network import collective_schedules
from infraplan.network.flow_sim import Progress
from infraplan.network.results import CollectiveResult
from infraplan.planning.training_run import network_with_zone_note


def estimate_collective(op: str, cluster: Cluster, gpus: int, size_bytes: float, placement: str = "packed",
                        algorithm: str = "auto", sim: str = "analytical", flows_per_pair: int | None = None,
                        seed: int | None = None, progress: Progress | None = None,
                        notice: Callable[[str], None] | None = None,
                        failed_links: str | None = None, sharp: bool = False) -> CollectiveResult:
    """`network.collective_schedules.estimate_collective` (its arguments, the same answer) with the zones' note
    where `cluster` is an accelerator preset's generic cluster beyond one zone on its own fabric (a cluster given
    rail-only, `network.rail_leaves.with_fabric`, is not the Clos the note speaks of)."""
    answer = collective_schedules.estimate_collective(
        op, cluster, gpus, size_bytes, placement=placement, algorithm=algorithm, sim=sim,
        flows_per_pair=flows_per_pair, seed=seed, progress=progress, notice=notice, failed_links=failed_links,
        sharp=sharp)
    return network_with_zone_note(answer, cluster, "rail-only" if cluster.system.network.rail_only else None)
