"""hC76: a system file's own server price (`node.server_price_usd` with `node.server_price_source`), priced by the one
cost model on every command (facility, campus, plan, fleet-mix, serve), and the network bill of materials' ASSUMED
prices said, one line a kind (catalog/network_prices: switches.yaml, links.yaml)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from tests.cli.conftest import CliRun

from infraplan.cluster.cost import CostOverrides
from infraplan.facility.facility import size_facility

SYSTEMS = Path(__file__).resolve().parents[2] / "src" / "infraplan" / "catalog" / "systems"
BASE = "hgx-h200"  # 2,048 H200, 8 a node; the catalog's h200 server price is $48,000 an accelerator
NODE_USD = 400_000.0  # the file's own: $50,000 an accelerator
SWITCH_LINE, LINK_LINE = "network: the switch prices (and typical powers)", "network: the transceiver and cable prices"


def _system(tmp_path: Path, name: str = "priced-h200", price: object = NODE_USD, source: str | None = "a quote",
            own_switches: bool = False) -> Path:
    """hgx-h200's file with its node's server price (none where `price` is None), written as tmp_path/NAME.yaml."""
    data = yaml.safe_load((SYSTEMS / f"{BASE}.yaml").read_text(encoding="utf-8"))
    if price is not None:
        data["node"]["server_price_usd"] = price
    if source is not None and price is not None:
        data["node"]["server_price_source"] = source
    if own_switches:
        for tier in data["network"]["tiers"]:
            tier.update(switch_model="my-switch", switch_price_usd=31_000, switch_power_w=700, switch_source="a quote")
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _json(cli: CliRun, args: list[str]) -> dict:
    code, out, err = cli([*args, "--json"])
    assert code == 0, err
    return json.loads(out)


def test_facility_prices_a_system_file_at_its_server_price(cli: CliRun, tmp_path: Path) -> None:
    path = str(_system(tmp_path))
    own, base = _json(cli, ["facility", "--system", path]), _json(cli, ["facility", "--system", BASE])
    assert own["capex_usd"]["servers"] == 2048 * NODE_USD / 8 == 102_400_000
    assert base["capex_usd"]["servers"] == 2048 * 48_000  # without the field: the catalog's, as before
    assert own["capex_usd"]["network"] == base["capex_usd"]["network"]  # the price moves the servers only
    assert own["usd_per_gpu_hour"] > base["usd_per_gpu_hour"]
    assert own["price_note"] is None and own["cost_reason"] is None


def test_facility_plan_and_campus_give_one_capex(cli: CliRun, tmp_path: Path) -> None:
    """The same devices of the file cost the same on facility, plan and campus, and the field moves each."""
    path = str(_system(tmp_path))
    for ref, usd in ((path, 50_000), (BASE, 48_000)):
        scenario = tmp_path / f"plan-{usd}.yaml"
        scenario.write_text(yaml.safe_dump({
            "name": "priced", "phases": [{"name": "2025", "year": 2025}],
            "services": [{"name": "ranking", "kind": "recsys", "model": "dlrm-low", "qps": "10M",
                          "latency_slo": "10ms"}],
            "pools": [{"name": "gpu", "device": ref, "site": "ohio"}],
            "sites": [{"name": "ohio", "power": "10MW", "location": "ohio"}]}), encoding="utf-8")
        plan = _json(cli, ["plan", str(scenario)])
        devices = plan["devices"]
        facility = _json(cli, ["facility", "--accelerator", ref, "--count", str(devices), "--location", "ohio"])
        assert plan["capex_usd"] == pytest.approx(facility["capex_total_usd"], rel=1e-12)
        assert facility["capex_usd"]["servers"] == devices * usd
        campus = _json(cli, ["campus", "--power", "1MW", "--accelerator", ref])
        n = campus["accelerators"]
        assert campus["capex_usd"]["servers"] == n * usd
        alone = _json(cli, ["facility", "--accelerator", ref, "--count", str(n)])
        assert campus["facility"]["capex_total_usd"] == pytest.approx(alone["capex_total_usd"], rel=1e-12)


def test_serve_and_fleet_mix_take_the_file_price(cli: CliRun, tmp_path: Path) -> None:
    path = str(_system(tmp_path))
    args = ["llama3-70b", "--gpus", "8", "--rate", "2", "--requests", "10", "--input-len", "128", "--output-len",
            "16", "--seed", "0"]
    own, base = _json(cli, ["serve", *args, "--system", path]), _json(cli, ["serve", *args, "--system", BASE])
    assert own["usd_per_hour_per_gpu"] == pytest.approx(
        _json(cli, ["facility", "--system", path])["usd_per_gpu_hour"], rel=1e-12)  # the one cost model
    assert own["usd_per_million_tokens"] / base["usd_per_million_tokens"] == pytest.approx(
        own["usd_per_hour_per_gpu"] / base["usd_per_hour_per_gpu"], rel=1e-9) and own["usd_per_hour_per_gpu"] > (
        base["usd_per_hour_per_gpu"])
    tco = {}
    for ref in (path, BASE):
        spec = tmp_path / "fleet.yaml"
        spec.write_text(yaml.safe_dump({
            "name": "fm", "objective": "tco", "electricity_usd_per_kwh": 0.08, "pue": 1.1,
            "services": [{"name": "retrieval", "kind": "recsys", "model": "dlrm-low", "qps": "100M",
                          "latency_slo": "10ms"}],
            "pools": [{"name": "gpu", "device": "h200", "system": ref}]}), encoding="utf-8")
        answer = _json(cli, ["fleet-mix", str(spec)])
        tco[ref] = answer["assignment"][0]["tco_usd_per_year"], answer["assignment"][0]["devices"]
    (own_tco, n), (base_tco, m) = tco[path], tco[BASE]
    assert n == m and own_tco - base_tco == pytest.approx(n * 2_000 * (1 / 5.5 + 0.008), rel=1e-9)


@pytest.mark.parametrize(("price", "source", "says"), [
    (0, "a quote", "greater than 0"), (-5, "a quote", "greater than 0"), (float("nan"), "a quote", "finite"),
    (float("inf"), "a quote", "finite"), (NODE_USD, None, "needs node.server_price_source")])
def test_a_nonsense_server_price_is_one_line(cli: CliRun, tmp_path: Path, price: float, source: str | None,
                                             says: str) -> None:
    code, out, err = cli(["facility", "--system", str(_system(tmp_path, price=price, source=source))])
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "node.server_price_usd" in err and says in err, err
    assert "Traceback" not in err


def test_the_network_bills_assumed_prices_are_said_once_a_kind(tmp_path: Path) -> None:
    """hgx-h200's two tiers of catalog switches and their optics: one switch line, one link line (not one a
    part); a file whose tiers name their own switches drops the switch line; a --costs per-port price drops both."""
    notes = size_facility(system=BASE).figures_notes
    assert [n.split(" are ")[0] for n in notes if n.startswith("network: ")] == [SWITCH_LINE, LINK_LINE]
    assert "switches.yaml: no published switch price or measured power found" in notes[-2]
    own = size_facility(system=str(_system(tmp_path, own_switches=True))).figures_notes
    assert [n for n in own if n.startswith("network: ")] == [n for n in notes if n.startswith(LINK_LINE)]
    per_port = size_facility(system=BASE, overrides=CostOverrides(switch_port_usd=1500.0)).figures_notes
    assert not any(n.startswith("network: ") for n in per_port)
    from infraplan.catalog.hardware_costs import assumed_network_notes  # (here: the base has none, hC76)

    assert assumed_network_notes(()) == []


def test_campus_and_plan_say_the_network_prices(cli: CliRun, tmp_path: Path) -> None:
    campus = _json(cli, ["campus", "--power", "100MW", "--accelerator", "h100-sxm"])
    assert sum(n.startswith(("network: the switch", "network: the transceiver"))
               for n in campus["facility"]["figures_notes"]) == 2
    plan = _json(cli, ["plan", "examples/plan-minimal.yaml"])
    assert [n.split(" are ")[0] for n in plan["notes"] if n.startswith("network: ")] == [SWITCH_LINE, LINK_LINE]
