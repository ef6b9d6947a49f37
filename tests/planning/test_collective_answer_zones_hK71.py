"""The Python API's collective answer carries the zones' note, as the CLI's does (hK71; hN70's note).

`infraplan collective` on 8,192 H100 notes that `facility`, `campus` and `plan` build 4 zones joined at 1:7 where it
times one non-blocking Clos (`training_run.network_with_zone_note`); the network layer's `estimate_collective`, the
API function, said nothing, and cannot (the zones are the facility layer's, above it). The API's answer is now
`planning.collective_answer.estimate_collective`: the network layer's, with the note from the same function.
"""

from __future__ import annotations

from dataclasses import replace

from infraplan.cluster import Cluster
from infraplan.network import collective_schedules
from infraplan.network.rail_leaves import with_fabric
from infraplan.planning.collective_answer import estimate_collective
from infraplan.sweep.callables import collective

ZONES = "build as many as 4 non-blocking zones of up to 2,048"


def test_the_api_answer_is_the_clis_with_its_note() -> None:
    cluster = Cluster.resolve("h100-sxm").for_gpus(8192)
    answer = estimate_collective("all-to-all", cluster, 8192, 2**28)
    bare = collective_schedules.estimate_collective("all-to-all", cluster, 8192, 2**28)
    assert answer == collective("all-to-all", "h100-sxm", 8192, "256MiB")  # = `infraplan collective ... --json`
    assert answer.notes[:-1] == bare.notes and ZONES in answer.notes[-1] and not any(ZONES in n for n in bare.notes)
    assert answer.model_copy(update={"notes": bare.notes}) == bare  # the same answer otherwise


def test_no_note_within_one_zone_on_a_catalog_system_or_rail_only() -> None:
    for cluster, gpus in ((Cluster.resolve("h100-sxm").for_gpus(2048), 2048),
                          (Cluster.resolve("dgx-h100-superpod").for_gpus(256), 256)):
        answer = estimate_collective("all-reduce", cluster, gpus, 2**30)
        assert answer == collective_schedules.estimate_collective("all-reduce", cluster, gpus, 2**30)
    sized = Cluster.resolve("h100-sxm").for_gpus(8192)
    rail_only = replace(sized, system=with_fabric(sized.system, "rail-only"))
    answer = estimate_collective("all-to-all", rail_only, 8192, 2**28)
    assert answer == collective("all-to-all", "h100-sxm", 8192, "256MiB", fabric="rail-only")
    assert not any(ZONES in n for n in answer.notes)
