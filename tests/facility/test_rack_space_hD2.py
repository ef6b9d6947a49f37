"""A rack that rack space, not power, fills says so (helper hD2, session 33): five 8U DGX H100 fit a 42U rack, so a
130 kW liquid rack holds 51 kW; `facility` and `campus` report why, in JSON and in text."""

from __future__ import annotations

import json

import pytest

from infraplan.catalog.facility_loader import load_cooling
from infraplan.cli import main
from infraplan.cluster import Cluster
from infraplan.cluster.power import RACK_UNITS, rack_fit, server_power_w
from infraplan.facility import size_facility
from infraplan.planning.campus import plan_campus


def test_h100_at_130_kw_liquid_is_space_limited_with_the_figures() -> None:
    r = size_facility(system="h100-sxm", cooling="liquid", rack_power_w=130e3)
    fit = r.rack_fit
    assert fit is not None and fit.limited_by == "space"
    assert fit.server_height_u == 8 and fit.rack_height_u == RACK_UNITS == 42
    assert fit.servers_per_rack == fit.servers_per_rack_by_space == 42 // 8 == r.servers_per_rack == 5
    assert fit.servers_per_rack_by_power == int(130e3 // 10_200.0) == 12  # a DGX H100 draws 10.2 kW
    assert fit.rack_power_w == pytest.approx(51_000.0) == r.rack_power_w
    assert fit.rack_power_limit_w == pytest.approx(130e3) and fit.rack_power_limit_source == "--rack-power"
    assert fit.note is not None
    for part in ("space-limited", "5 servers of 8U", "42U rack", "12 would fit the power", "51.0 kW",
                 "130.0 kW asked (--rack-power)", "39%"):
        assert part in fit.note


def test_without_rack_power_the_cooling_limit_is_the_one_compared() -> None:
    r = size_facility(system="h100-sxm", cooling="liquid")
    fit = r.rack_fit
    assert fit is not None and fit.limited_by == "space" and fit.rack_power_limit_source == "liquid cooling"
    assert fit.rack_power_limit_w == pytest.approx(load_cooling("liquid").max_rack_power_w)
    assert "of the 140.0 kW liquid cooling allows" in (fit.note or "")


@pytest.mark.parametrize(("system", "cooling", "rack_power_w", "limited_by"), [
    ("h100-sxm", "air", None, "power"),  # 30 kW: two 10.2 kW servers, space holds five
    ("h100-sxm", "liquid", 40e3, "power"),  # 3 by power < 5 by space
    ("h100-sxm", "liquid", 51e3, "power"),  # 5 = 5: power binds as much as space, no note
    ("gb200-nvl72", "liquid", None, "scale-up domain"),  # one NVL72 fills its rack
])
def test_no_note_when_power_or_a_domain_sets_the_rack(system, cooling, rack_power_w, limited_by) -> None:
    r = size_facility(system=system, cooling=cooling, rack_power_w=rack_power_w)
    assert r.rack_fit is not None and r.rack_fit.limited_by == limited_by and r.rack_fit.note is None
    assert r.rack_fit.servers_per_rack == r.servers_per_rack


def test_the_fit_is_the_rack_build_itself() -> None:
    layout = Cluster.resolve("h100-sxm").layout
    fit = rack_fit(layout, load_cooling("liquid"), "liquid", 130e3)
    assert fit.rack_power_w == pytest.approx(fit.servers_per_rack * float(server_power_w(layout)))
    assert min(fit.servers_by_power, fit.servers_by_space or fit.servers_by_power) == fit.servers_per_rack


def test_campus_carries_the_note() -> None:
    c = plan_campus(100e6, "h100-sxm", cooling="liquid")
    assert c.facility.rack_fit is not None and c.facility.rack_fit.limited_by == "space"
    assert c.facility.servers_per_rack == 5 and c.racks >= -(-c.facility.servers // 5)  # zones round racks up


def test_json_and_text_say_it(capsys) -> None:
    args = ["facility", "--system", "h100-sxm", "--cooling", "liquid", "--rack-power", "130kW"]
    assert main([*args, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    fit = data["rack_fit"]
    assert fit["limited_by"] == "space" and fit["servers_per_rack_by_space"] == 5
    assert fit["rack_power_w"] == pytest.approx(51e3) and fit["rack_power_limit_w"] == pytest.approx(130e3)
    assert main(args) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "note: racks are space-limited: 5 servers of 8U fit a 42U rack" in out
    assert main(["campus", "--power", "100MW", "--accelerator", "h100-sxm", "--cooling", "liquid"]) == 0
    assert "note: racks are space-limited" in " ".join(capsys.readouterr().out.split())
    assert main(["facility", "--system", "h100-sxm", "--cooling", "air"]) == 0
    assert "space-limited" not in capsys.readouterr().out
