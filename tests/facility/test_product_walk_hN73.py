"""hN (session 73): a planner's walk of network / facility / reliability on a user's rack-scale system; what it fixed.

1. `reliability --system FILE --gpus N --spare-trays-per-domain K` on a fixed-size system answered a job that holds
   more scale-up domains than the system has: a user's 9,216-GPU file of 128 NVL72-style domains (18 trays of 4),
   `--gpus 9216 --spare-trays-per-domain 1`, answered "9,792 in 136 domains of 72", and the catalog's 576-GPU GB200
   SuperPOD a 576-GPU job holding 10,368 GPUs at 17 spares. The count alone was checked (`Cluster.check_gpus`); the
   domains its spares add were not. Now one line, exit 2, naming the most the system holds at those spares
   (`facility.reliability.check_held_fits`); the accelerator preset (the generic cluster) takes any count, as before.
2. `recsys --accelerator SYSTEM-FILE` took the scale-up switch share of the part's reference system, not the file's
   (`cluster.part_of` now carries the node's host and switches together).
3. `campus --fleet` banded a system site on a user's part file by the part's name, no preset (`plan_fleet`).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from infraplan.cli.main import main as cli_main
from infraplan.errors import InputError
from infraplan.facility.reliability import reliability_report

SYSTEM = """display_name: a user's rack-scale fleet, 72-GPU domains of 18 trays
source: a user's design
accelerator: gb200
total_accelerators: 9216
node:
  accelerators_per_node: 4
  scale_up_domain: 72
  nics_per_node: 4
  nic_bandwidth_bytes_per_s: 800Gbps
  host_power_w: 1800W
  host_power_source: a user's figure
network:
  kind: infiniband
  rail_optimized: true
  collective_efficiency: 0.94
  tiers:
    - {name: leaf, group_size: 576, oversubscription: 1, hop_latency_s: 1.0e-6, switch_radix: 144,
       port_bandwidth_bytes_per_s: 800Gbps}
    - {name: spine, group_size: 9216, oversubscription: 1, hop_latency_s: 1.0e-6, switch_radix: 144,
       port_bandwidth_bytes_per_s: 800Gbps}
"""


@pytest.fixture()
def racks(tmp_path: Path) -> str:
    path = tmp_path / "racks.yaml"
    path.write_text(SYSTEM)
    return str(path)


def test_spares_beyond_the_systems_domains_are_refused(racks: str) -> None:
    # 128 domains of 17 working trays of 4: 8,704 GPUs fit with one spare tray a domain, 8,705 take a 129th domain
    fits = reliability_report(racks, 8704, 30, spare_trays_per_domain=1)
    assert (fits.domains, fits.gpus_held) == (128, 9216)
    for gpus, spares, domains in ((8705, 1, 129), (9216, 1, 136), (9216, 2, 144)):
        with pytest.raises(InputError) as caught:
            reliability_report(racks, gpus, 30, spare_trays_per_domain=spares)
        line = str(caught.value)
        assert f"holds {domains} domains of 72" in line and "has 128 (9,216 GPUs)" in line
        assert f"at most {128 * (72 - 4 * spares):,} GPUs" in line and "\n" not in line
    # the catalog's one scalable unit: 8 racks, 544 GPUs at one spare tray each
    assert reliability_report("gb200-nvl72-superpod", 544, 30, spare_trays_per_domain=1).domains == 8
    most = r"at most 32 GPUs a job with 17 spare trays each, .*\(the accelerator preset gb200 takes any count\)"
    with pytest.raises(InputError, match=most):
        reliability_report("gb200-nvl72-superpod", 576, 30, spare_trays_per_domain=17)


def test_no_spares_and_the_accelerator_preset_still_answer(racks: str) -> None:
    assert reliability_report(racks, 9216, 30).gpus_held == 9216  # without spares the whole system, as before
    generic = reliability_report("gb200", 9216, 30, spare_trays_per_domain=1)
    assert (generic.domains, generic.gpus_held) == (136, 9792)  # any count: the generic cluster is the job's


def test_cli_and_web_refuse_in_one_line(racks: str, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["reliability", "--system", racks, "--gpus", "9216", "--spare-trays-per-domain", "1", "--json"]
    assert cli_main(args) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "holds 136 domains of 72 (9,792 GPUs)" in err and "at most 8,704 GPUs" in err
    from fastapi.testclient import TestClient

    from infraplan.web.app import create_app

    body = {"system": {"text": SYSTEM, "filename": "racks.yaml"}, "gpus": 9216, "spare_trays_per_domain": 1}
    reply = TestClient(create_app()).post("/api/reliability", json=body)
    assert reply.status_code in (400, 422) and "at most 8,704 GPUs" in reply.text


def _system_with(tmp_path: Path, name: str, host: str, switches: str) -> str:
    path = tmp_path / f"{name}.yaml"
    text = SYSTEM.replace("  host_power_w: 1800W\n", f"  host_power_w: {host}\n")
    path.write_text(text.replace("  host_power_source: a user's figure\n", "  host_power_source: a user's figure\n"
                                 f"  scale_up_switch_power_w: {switches}\n  scale_up_switch_source: a user's figure\n"))
    return str(path)


@pytest.mark.parametrize(("host", "switches", "share_w"), [
    ("1500W", "3000W", 375.0 + 3000.0 / 72),  # was 375 + gb200-nvl72's 50: the file's own switch trays dropped
    ("2000W", "0W", 500.0),                   # was 550: the part's reference system's 50 W added to a file of none
])
def test_recsys_on_a_system_file_prices_its_own_switch_trays(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                             host: str, switches: str, share_w: float) -> None:
    """2. `recsys --accelerator FILE` (a system file read as its part, `cluster.part_of`) carried the file's host share
    but took the scale-up switch share of the part's reference system (gb200-nvl72's 3,600 W / 72), where `serve`
    and `facility --system` price the file's own node: now the node's host and switches, as they do."""
    import json

    from infraplan.recsys.estimate import estimate_recsys

    path = _system_with(tmp_path, "own", host, switches)
    answer = estimate_recsys("dlrm-high", path, latency_slo_s=0.02)
    assert answer.platform_power_w - answer.power_w == pytest.approx(share_w, rel=1e-12)
    assert cli_main(["facility", "--system", path, "--json"]) == 0
    facility = json.loads(capsys.readouterr().out)
    watts = facility["power_breakdown_w"]
    assert (watts["hosts"] + watts["scale_up_switches"]) / 9216 == pytest.approx(share_w, rel=1e-12)
    # a catalog system read as its part is still priced exactly as the part
    assert estimate_recsys("dlrm-high", "gb200-nvl72", latency_slo_s=0.02).platform_power_w == \
        estimate_recsys("dlrm-high", "gb200", latency_slo_s=0.02).platform_power_w == 1200.0 + 450.0 + 50.0


def test_a_fleet_site_of_a_system_file_on_a_user_part_is_banded_as_its_part(tmp_path: Path) -> None:
    """3. `campus --fleet F` banded a system site by its result's part name (`FleetSiteResult.accelerator`), which for
    a system file of a user's part file is the file's `name`, no preset: family "nova" against "cdna4" for the same
    part given as the site's `accelerator` (`planning.campus.plan_fleet` now passes the site's system file, whose part
    `answer_bands.preset_of` reads)."""
    from infraplan.planning.campus import plan_fleet

    part = tmp_path / "nova.yaml"
    part.write_text("extends: mi355x\ndisplay_name: a user's MI355X copy\nprice_usd: 30000\nprice_source: a quote\n")
    system = tmp_path / "novasys.yaml"
    system.write_text(SYSTEM.replace("accelerator: gb200", f"accelerator: {part}").replace("1800W", "1600W"))
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(f"name: f\nsites:\n  - {{name: s, system: {system}, cooling: liquid}}\n")
    alone = tmp_path / "alone.yaml"
    alone.write_text(f"name: g\nsites:\n  - {{name: s, accelerator: {part}, count: 9216, cooling: liquid}}\n")
    by_system, by_part = plan_fleet(str(fleet)).error_band_basis, plan_fleet(str(alone)).error_band_basis
    assert "campaigns of cdna4 facility IT power cases" in by_system
    assert by_system == by_part and "nova" not in by_system
