"""A system's name where a part is asked for reads as its accelerator, in every command that takes one (hU67).

`recsys --accelerator mtia-400-rack` and a fleet-mix or `plan` pool's `device: mtia-400-rack` ran on mtia-400
(hF64), while `facility --accelerator mtia-400-rack --count N` and `campus --accelerator mtia-400-rack` said
"unknown accelerator 'mtia-400-rack'". One resolver now (`cluster.cluster.part_ref` / `part_of`), which
`Cluster.for_accelerator` (facility, campus) and recsys read.
"""

from __future__ import annotations

import json

import pytest

from infraplan.cli.main import main
from infraplan.cluster import Cluster
from infraplan.cluster.cluster import part_of, part_ref
from infraplan.errors import InputError
from infraplan.facility.facility import size_facility
from infraplan.planning.campus import plan_campus
from infraplan.recsys.estimate import estimate_recsys


def test_one_resolver_reads_a_system_as_its_part() -> None:
    assert part_ref("mtia-400-rack") == "mtia-400" and part_ref("mtia-400") == "mtia-400"
    assert part_of("mtia-400-rack") is part_of("mtia-400")
    assert Cluster.for_accelerator("mtia-400-rack", 72).accelerator.name == "mtia-400"
    assert estimate_recsys("dlrm-low", "mtia-400-rack") == estimate_recsys("dlrm-low", "mtia-400")
    with pytest.raises(InputError, match="unknown accelerator 'nope'"):
        part_of("nope")
    with pytest.raises(InputError, match="msvp is a video transcoder"):  # a video device's own line, as before
        Cluster.for_accelerator("msvp", 8, purpose="facility sizing")


def test_facility_and_campus_take_a_system_as_recsys_does(capsys: pytest.CaptureFixture[str]) -> None:
    # past the rack's 72: its part on the generic Clos, said (hC72); within it: the rack's own fabric, the same figures
    assert size_facility(accelerator="mtia-400-rack", count=100).model_copy(update={"count_note": None}) == \
        size_facility(accelerator="mtia-400", count=100)
    rack = size_facility(accelerator="mtia-400-rack", count=72)
    part = size_facility(accelerator="mtia-400", count=72)
    assert rack.model_copy(update={"count_note": None, "system": None}) == part
    by_rack, by_part = plan_campus(5e6, "mtia-400-rack"), plan_campus(5e6, "mtia-400")
    runs = by_rack.training_capacity  # the rack holds 72 of the 16,384-accelerator job: said (hC73)
    past = [n for n in runs.notes if n.startswith("the 16,384-accelerator job is more than the 72 accelerators")]
    assert len(past) == 1
    kept = runs.model_copy(update={"notes": [n for n in runs.notes if n not in past]})
    count = by_rack.accelerators  # the facility block is `facility --accelerator mtia-400-rack --count N`'s (hD74)
    assert by_rack.facility == size_facility(accelerator="mtia-400-rack", count=count)
    plain = by_rack.facility.model_copy(update={"count_note": None})
    assert by_rack.model_copy(update={"training_capacity": kept, "facility": plain}) == by_part
    assert main(["facility", "--accelerator", "mtia-400-rack", "--count", "72", "--json"]) == 0
    by_system = json.loads(capsys.readouterr().out)
    assert main(["facility", "--accelerator", "mtia-400", "--count", "72", "--json"]) == 0
    assert {**by_system, "system": None, "count_note": None} == json.loads(capsys.readouterr().out)
    assert main(["campus", "--accelerator", "mtia-400-rack", "--power", "5MW", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["accelerators"] > 0


def test_an_unknown_name_is_still_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["facility", "--accelerator", "mtia-400-rak", "--count", "72"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("infraplan: error: unknown accelerator 'mtia-400-rak'") and len(err.splitlines()) == 1
