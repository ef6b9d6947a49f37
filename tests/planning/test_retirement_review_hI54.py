"""hI54 (session 54 review of planning/retirement.py): hardware retires in whole servers, the unit the MILP buys.

The MILP (planning/phased_mix.py) buys and retires whole servers (b[p, k]); the report (`assemble_plan`) and the
pricing (`scenario._own_sizes`) counted cohorts in devices. A server bought in 2025 for 4 H100 that also served
2027's 6 retires whole in 2030 (4-year life), and the MILP buys a server again; counted in devices the report kept
2 of "2027's devices" in 2030, showing 0 bought, 0 retired and $0 capex (total capex $498 k where two servers were
bought, $996 k). Checked failing on bc3ff52 (2030 row (8, 0, 0), capex 0).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from infraplan.cli.main import main as cli_main
from infraplan.planning.purchase_capex import purchase_sizes
from infraplan.planning.retirement import Lifecycle, in_service, servers_in_service
from infraplan.planning.scenario import plan_scenario
from infraplan.planning.scenario_spec import ScenarioSpec

RANKING = {"name": "ranking", "kind": "recsys", "model": "dlrm-low", "qps": "90M", "latency_slo": "10ms",
           "growth": {"2027": 1.5, "2030": 1.5}}


def _spec() -> ScenarioSpec:
    return ScenarioSpec.model_validate({
        "name": "whole", "phases": [{"name": str(y), "year": y} for y in (2025, 2027, 2030)], "services": [RANKING],
        "pools": [{"name": "h100", "device": "h100-sxm", "site": "ohio", "lifetime_years": 4}],
        "sites": [{"name": "ohio", "power": "10MW", "location": "ohio"}]})


def test_a_partly_used_server_retires_whole_and_is_bought_again() -> None:
    plan = plan_scenario(_spec())
    assert [s.devices for s in plan.services] == [4, 6, 6]  # one 8-GPU server's worth in every phase
    got = [(ph.phase, ph.devices, ph.new_devices, ph.retired_devices) for ph in plan.phases]
    assert got == [("2025", 8, 8, 0), ("2027", 8, 0, 0), ("2030", 8, 8, 8)]
    first, _, last = plan.phases
    # hN57: the server bought again reuses the site's building (planning/site_building.py): its facility share
    # (10.06 kW x $13.50/W = $135,837) is not bought twice: $498,037 then $362,200 (was $498,037 twice)
    assert first.capex_usd == pytest.approx(498037.0, abs=1.0) and last.capex_usd == pytest.approx(362200.0, abs=1.0)
    assert plan.capex_usd == pytest.approx(first.capex_usd + last.capex_usd)  # two servers bought over the phases


def test_servers_in_service_counts_cohorts_in_servers() -> None:
    alive = np.array([[True, True, False], [False, True, True], [False, False, True]])
    cyc = [Lifecycle(alive, np.ones(3, dtype=bool), np.ones(3, dtype=bool))]
    devices, base, g = np.array([[4, 6, 6]]), np.array([[0]]), np.array([[8]])
    installed, survivors = servers_in_service(devices, base, g, cyc)
    assert installed.tolist() == [[8, 8, 8]] and survivors.tolist() == [[0, 8, 0]]
    assert in_service(devices, base, cyc)[1].tolist() == [[0, 4, 2]]  # in devices: 2 "survive" a retired server
    assert [a.tolist() for a in servers_in_service(devices, base, g, None)] == [  # no cycles: as before hV54
        a.tolist() for a in in_service(devices, base, None)]


def test_an_unpriced_successor_names_refresh_with(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A refresh_with device the catalog has no price for (MTIA 400, a CPU) under a cost objective: the line named
    the generated pool 'h100-refresh' and told the user to give it a price_usd_per_device, a pool the file does not
    have (adding it clashes with the successor's name). Checked failing on bc3ff52 (that line)."""
    raw = {"name": "unpriced", "phases": [{"name": str(y), "year": y} for y in (2025, 2028, 2031)],
           "services": [{**RANKING, "growth": {}}],
           "pools": [{"name": "h100", "device": "h100-sxm", "site": "ohio", "lifetime_years": 3,
                      "refresh_with": "mtia-400"}], "sites": [{"name": "ohio", "power": "10MW", "location": "ohio"}]}
    file = tmp_path / "spec.yaml"
    file.write_text(yaml.safe_dump(raw), encoding="utf-8")
    capsys.readouterr()
    assert cli_main(["plan", str(file)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.startswith("infraplan: error: pool 'h100': refresh_with mtia-400: the catalog has "
                                              "no price for it"), err
    assert "h100-refresh" not in err


def test_the_capex_objectives_purchase_sizes_count_whole_servers() -> None:
    """planning/purchase_capex.py (hW54) sizes each purchase as the report does: (bought, in service, survivors) in
    whole servers; counted in devices it was ((8, 4, 0), (0, 0, 0), (8, 6, 2)): 2 survivors of a retired server.
    hN57: a phase that buys nothing keeps its size (0, 8, 8), (0, 0, 0) until then: a site's facility is charged
    from every pool in service (planning/site_building.py)."""
    assert purchase_sizes(_spec(), np.array([[4, 6, 6]])) == (((8, 8, 0), (0, 8, 8), (8, 8, 0)),)
