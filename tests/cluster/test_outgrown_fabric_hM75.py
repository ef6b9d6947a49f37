"""hM75 mutant of `cluster.generic.generic_system(outgrown=True)` (hP75): past its size a user's system is built on
a Clos of its own fabric's kind AND collective efficiency, not its part's reference system's."""

from __future__ import annotations

from pathlib import Path

from infraplan.cluster import Cluster


def test_past_its_size_a_system_keeps_its_own_collective_efficiency(tmp_path: Path) -> None:
    """dgx-b200 states 0.94; a file restating it at 0.5 keeps 0.5 at 264 GPUs (past its 256), as within it."""
    path = tmp_path / "slow-collectives.yaml"
    path.write_text("extends: dgx-b200\ndisplay_name: DGX B200, slower collectives\nnetwork:\n"
                    "  collective_efficiency: 0.5\n")
    assert Cluster.resolve(str(path)).total_accelerators == 256
    assert Cluster.resolve(str(path)).system.network.collective_efficiency == 0.5
    past = Cluster.for_count(str(path), 264)
    assert past.outgrown is not None and past.system.network.collective_efficiency == 0.5
    assert Cluster.for_count("dgx-b200", 264).system.network.collective_efficiency == 0.94
