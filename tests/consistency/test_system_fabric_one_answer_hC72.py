"""hC72: `facility --accelerator SYSTEM --count N` builds the system's own tiers for the N it holds, as `network SYSTEM
--gpus N` does (the base built the part's generic Clos: dgx-a100-superpod at 96 GPUs, 10 switches there, 12 in
`network`); past the system's size its node on the generic Clos, said. `--system PART` sizes one generic server,
said. The NVSwitch tray figure is the catalog's one, per rack begun in `facility`, / 72 a GPU in `serve`."""

from __future__ import annotations

from pathlib import Path

import pytest

from infraplan.catalog import load_accelerator, load_system
from infraplan.cluster import Cluster
from infraplan.cluster.host_share import host_share, nvl72_switch_w, unstated_switch_note
from infraplan.cluster.power import scale_up_switches_w
from infraplan.facility.facility import size_facility
from infraplan.network.costs import describe_fabric


@pytest.mark.parametrize("system, gpus", [
    ("dgx-a100-superpod", 96),  # part of a rail unit: base 10 switches / $263 k, `network` 12 / $387,360
    ("dgx-a100-superpod", 512),  # a partial 160-GPU leaf domain, rounded up to 4 whole ones as `network` builds
    ("dgx-h100-superpod", 1000),
])
def test_facility_count_of_a_system_is_its_network(system: str, gpus: int) -> None:
    fabric = describe_fabric(load_system(system), gpus)
    report = size_facility(accelerator=system, count=gpus)
    assert report.system == system
    assert report.accelerators == gpus
    assert report.network.switches == fabric.switches_total
    assert report.network.fabric_accelerators == fabric.fabric_gpus_count
    assert report.power_breakdown_w["network"] == pytest.approx(fabric.power_w, rel=1e-9)
    assert report.capex_usd is not None
    assert report.capex_usd["network"] == pytest.approx(fabric.capex_usd, rel=1e-9)
    assert report.count_note is not None and f"as `network {system} --gpus {gpus}`" in report.count_note


def test_facility_count_beyond_the_system_says_the_generic_fabric() -> None:
    report = size_facility(accelerator="dgx-a100-superpod", count=5000)
    assert report.system is None  # the part on the system's node and the generic Clos
    assert report.count_note is not None and "more than the 4,480 accelerators of dgx-a100-superpod" in \
        report.count_note


def test_a_part_as_system_sizes_one_server_and_says_so() -> None:
    report = size_facility(system="h100-sxm")
    assert report.accelerators == 8
    assert report.count_note is not None and report.count_note.startswith("h100-sxm is an accelerator, not a system")
    assert size_facility(system="dgx-h100-superpod").count_note is None


def test_nvswitch_trays_one_catalog_figure_two_charges() -> None:
    gb200 = load_system("gb200-nvl72")
    assert nvl72_switch_w() == gb200.node.scale_up_switch_power_w == 3600.0
    lay = Cluster.resolve("gb200-nvl72").layout  # facility: a rack's trays whole however many trays are filled
    assert scale_up_switches_w(lay, 1) == scale_up_switches_w(lay, 18) == nvl72_switch_w()
    # serve's per-GPU share is the same figure pro rata: 72 GPUs' shares are one rack's trays
    assert 72 * host_share(load_accelerator("gb200")).switch_w == pytest.approx(nvl72_switch_w())
    unstated = gb200.model_copy(update={"node": gb200.node.model_construct(**{
        k: getattr(gb200.node, k) for k in gb200.node.model_fields_set if k != "scale_up_switch_power_w"})})
    note = unstated_switch_note(unstated)
    assert note is not None and f"{nvl72_switch_w():,.0f} W a 72-GPU domain" in note


def test_campus_runs_on_the_named_system_that_holds_the_job(tmp_path: Path) -> None:
    """`campus --accelerator zsys.yaml` (a user's 24,576-GPU 1:7 file of a part with no catalog system) ran its
    Llama-3-405B runs on "z1-generic-16384", the part's generic Clos (hN72); they run on the file it names, as `train
    --system zsys.yaml --gpus 16384` does. A named system smaller than the job keeps the part's rule (mtia-400-rack)."""
    from tests.facility.test_product_walk_hN72 import _files

    from infraplan.planning.campus import plan_campus

    system = _files(tmp_path)
    by_file = plan_campus(100e6, system).training_capacity
    by_part = plan_campus(100e6, str(tmp_path / "z1.yaml")).training_capacity
    assert by_part.reference_system == "z1-generic-16384"
    assert by_file.reference_system == Cluster.resolve(system).name != by_part.reference_system
    assert by_file.tokens_per_s_per_gpu != by_part.tokens_per_s_per_gpu  # the file's 1:7 pods, not a 1:1 Clos
    assert any(f"--system {system}" in note for note in by_file.notes)
    rack, part = plan_campus(5e6, "mtia-400-rack"), plan_campus(5e6, "mtia-400")
    runs = rack.training_capacity  # the same runs, with the note that the rack holds 72 of the job (hC73)
    kept = [n for n in runs.notes if not n.startswith("the 16,384-accelerator job is more than the 72 ")]
    assert len(kept) == len(runs.notes) - 1
    # and the facility block's count note, `facility --accelerator mtia-400-rack --count N`'s (hD74)
    assert rack.facility == size_facility(accelerator="mtia-400-rack", count=rack.accelerators)
    assert rack.facility.count_note is not None and part.facility.count_note is None
    plain = rack.facility.model_copy(update={"count_note": None})
    assert rack.model_copy(update={"training_capacity": runs.model_copy(update={"notes": kept}),
                                   "facility": plain}) == part


def test_the_terminal_says_the_fabric_it_built(capsys: pytest.CaptureFixture[str]) -> None:
    """Within the system: its own tiers, no zones line (the base printed "network built as `campus` ... zones" for
    10,000 of dgx-h100-superpod's 16,384); past it: the zones line."""
    from infraplan.cli.main import main

    capsys.readouterr()
    assert main(["facility", "--accelerator", "dgx-h100-superpod", "--count", "10000"]) == 0
    within = capsys.readouterr().out
    assert "on its own fabric's tiers" in within and "network built as `campus`" not in within
    assert main(["facility", "--accelerator", "dgx-h100-superpod", "--count", "20000"]) == 0
    assert "network built as `campus`" in capsys.readouterr().out
