"""A data-centre planner's review (hD, session 33): campus phases add up to the campus, the same accelerators
asked via `facility`, `campus` and `plan` agree, and hostile fleet and scenario inputs give one line, exit 2,
and write nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from infraplan.cli.main import main
from infraplan.errors import InputError
from infraplan.facility.facility import size_facility
from infraplan.planning.campus import plan_campus, plan_fleet
from infraplan.planning.scenario import plan_scenario


@pytest.mark.parametrize("phases", ["2026:0.25,2027:0.25,2028:0.25,2029:0.25",
                                    "2026:0.2,2027:0.2,2028:0.2,2029:0.2,2030:0.2", "2026:0.5,2027:0.5"])
def test_campus_phases_add_up_to_the_whole_campus(phases) -> None:
    """Each phase rounded on its own gave 4 x 120,816 = 483,264 of 483,336 GB200 (a rack short), 5 x 96,696 =
    483,480 (two racks over); phases now add the whole units brought online by their cumulative fraction."""
    r = plan_campus(1e9, "gb200", phases=phases)
    assert sum(p.accelerators for p in r.phases) == r.accelerators
    assert all(p.accelerators % 72 == 0 for p in r.phases)
    assert sum(p.facility_power_w for p in r.phases) == pytest.approx(r.facility.facility_power_w)
    assert r.facility.capex_total_usd is not None
    assert sum(p.capex_usd or 0.0 for p in r.phases) == pytest.approx(r.facility.capex_total_usd)


def test_partial_phases_build_their_share_in_whole_units() -> None:
    r = plan_campus(1e9, "gb200", phases="2026:0.3,2027:0.3")
    # 0.3 x 6,511 racks = 1,953.3: 1,953 racks, then 0.6 x 6,511 = 3,906.6: 3,907 (hB66: 6,540 racks, 1,962 each, before
    # the generic GB200 was built of the SuperPOD's rail units with optical NIC links)
    assert [p.accelerators for p in r.phases] == [140616, 140688]
    assert r.phases[-1].cumulative_fraction == pytest.approx(0.6)


def test_facility_campus_and_plan_agree_on_the_same_accelerators(tmp_path: Path) -> None:
    """16,384 H100 at Ohio: the same IT and facility power, racks, capex, TCO, energy and carbon in all three."""
    f = size_facility(accelerator="h100-sxm", count=16384, location="ohio")
    c = plan_campus(f.facility_power_w * (1 + 1e-9), "h100-sxm", location="ohio")
    assert c.accelerators == 16384
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        "name: hd-16k\nphases: [{name: '2025', year: 2025}]\nservices:\n"
        "  - {name: pretrain, kind: training, model: llama3-405b, tokens: 15.6T, gpus: 16384, global_batch: 2048}\n"
        "pools:\n  - {name: h100, device: h100-sxm, site: ohio}\n"
        "sites:\n  - {name: ohio, power: 100MW, location: ohio}\n")
    (pool,) = plan_scenario(str(scenario)).pools
    assert pool.devices == 16384
    for key_f, key_p in [("it_power_w", "it_power_w"), ("facility_power_w", "facility_power_w"),
                         ("racks", "racks"), ("capex_total_usd", "capex_usd"),
                         ("tco_usd_per_year", "tco_usd_per_year"), ("energy_mwh_per_year", "energy_mwh_per_year"),
                         ("co2_t_per_year", "co2_t_per_year")]:
        assert getattr(c.facility, key_f) == pytest.approx(getattr(f, key_f)), key_f
        assert getattr(pool, key_p) == pytest.approx(getattr(f, key_f)), key_p


@pytest.mark.parametrize(("site", "needle"), [
    ("{name: a, accelerator: h100-sxm, power: 100GW}", "site 'a': power 100 GW holds more than 10,000,000"),
    ("{name: a, accelerator: h100-sxm, count: 8, location: mars}", "site 'a': unknown location 'mars'"),
])
def test_a_fleet_sites_error_names_the_site_not_a_flag(tmp_path: Path, site, needle) -> None:
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(f"name: x\nsource: test\nsites:\n  - {site}\n")
    with pytest.raises(InputError, match=needle) as err:
        plan_fleet(str(fleet))
    assert "--power" not in str(err.value)


@pytest.mark.parametrize("edit", [
    ("name: hd", "name: hd\nbogus_key: 3"),  # unknown key
    ("location: ohio}", "location: ohio, colour: red}"),  # unknown key in a site
    ("power: 100MW", "power: -100MW"),  # negative power
    ("gpus: 16384", "gpus: 0"),  # no GPUs
    ("location: ohio}", "location: narnia}"),  # unknown location
])
def test_hostile_scenarios_give_one_line_exit_2_and_write_nothing(tmp_path: Path, capsys, edit) -> None:
    base = ("name: hd\nphases: [{name: '2025', year: 2025}]\nservices:\n"
            "  - {name: t, kind: training, model: llama3-8b, tokens: 1T, gpus: 16384, global_batch: 2048}\n"
            "pools:\n  - {name: h100, device: h100-sxm, site: ohio}\n"
            "sites:\n  - {name: ohio, power: 100MW, location: ohio}\n")
    assert edit[0] in base
    scenario = tmp_path / "s.yaml"
    scenario.write_text(base.replace(edit[0], edit[1]))
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    report = tmp_path / "r.html"
    code = main(["plan", str(scenario), "--report", str(report), "--out", str(out_dir)])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not report.exists() and not any(out_dir.iterdir())
