"""fleet-mix's money over its priced parts (hK2, session 77): where a pool used has no price (an MTIA v2 rack, an MSVP
without price_usd_per_device) its capex and TCO, and the totals', are null; `capex_priced_usd` and
`tco_priced_usd_per_year` hold what is priced without its servers (their network and facility; the TCO with the
servers at $0), and the totals' `capex_unpriced_parts` names the servers left out, as `plan`'s (hK77) and
`facility`'s (hK76). In the JSON, the GPU-only baseline's totals and the text."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml

from infraplan.cli import main
from infraplan.cluster.cost import CostOverrides
from infraplan.facility.facility import size_facility
from infraplan.planning.fleet_mix import plan_fleet
from infraplan.planning.fleet_spec import FleetSpec

if TYPE_CHECKING:
    from infraplan.planning.fleet_mix_results import FleetMixResult

PRICES = {"mtia-v2": 9_000.0, "msvp": 1_500.0}  # examples/fleet-mix.yaml's ASSUMPTIONS


def spec(priced: bool) -> dict[str, Any]:
    """Ranking on MTIA v2 racks (no catalog price) beside priced H100, video on MSVP (no catalog price)."""
    pools: list[dict[str, Any]] = [
        {"name": "mtia-v2", "device": "mtia-v2", "system": "mtia-v2-rack", "available": 300},
        {"name": "h100", "device": "h100-sxm", "available": 2000, "price_usd_per_device": 42_000},
        {"name": "msvp", "device": "msvp", "available": 20_000},
        {"name": "xeon", "device": "xeon-8480", "price_usd_per_device": 14_000}]
    for pool in pools:
        if priced and pool["name"] in PRICES:
            pool["price_usd_per_device"] = PRICES[pool["name"]]
    return {"name": f"mix-{'priced' if priced else 'unpriced'}", "objective": "power",
            "electricity_usd_per_kwh": 0.08, "pue": 1.1, "pools": pools, "services": [
                {"name": "early-ranking", "kind": "recsys", "model": "dlrm-medium", "qps": "400M",
                 "latency_slo": "20ms"},
                {"name": "video-ingest", "kind": "video", "input": "1080p30", "ladder": 5, "codec": "h264",
                 "quality": "high", "daily_hours": 5000, "peak_to_average": 1.5}]}


@pytest.fixture(scope="module")
def mixes() -> tuple[FleetMixResult, FleetMixResult]:
    return (plan_fleet(FleetSpec.model_validate(spec(False))), plan_fleet(FleetSpec.model_validate(spec(True))))


def test_priced_parts_plus_the_servers_is_the_priced_mix(mixes: tuple[FleetMixResult, FleetMixResult]) -> None:
    bare, priced = mixes
    assert [(p.pool, p.devices_bought) for p in bare.pools] == [(p.pool, p.devices_bought) for p in priced.pools]
    bought = {p.pool: p.devices_bought for p in bare.pools}
    assert bought["mtia-v2"] > 0 and bought["msvp"] > 0  # both unpriced pools are used
    t = bare.totals
    assert t.capex_usd is None and t.tco_usd_per_year is None
    assert t.capex_unpriced_parts == ["servers of pool mtia-v2 (mtia-v2-rack)", "servers of pool msvp (msvp)"]
    servers = sum(bought[name] * price for name, price in PRICES.items())
    assert t.capex_priced_usd + servers == pytest.approx(priced.totals.capex_usd, rel=1e-12)
    assert 0 < t.tco_priced_usd_per_year < priced.totals.tco_usd_per_year  # servers at $0: no depreciation of them
    assert t.capex_priced_usd == pytest.approx(sum(p.capex_priced_usd for p in bare.pools), rel=1e-12)
    assert t.tco_priced_usd_per_year == pytest.approx(sum(p.tco_priced_usd_per_year for p in bare.pools), rel=1e-12)
    for p, q in zip(bare.pools, priced.pools, strict=True):
        if p.pool in PRICES:  # the servers alone differ
            assert p.capex_usd is None and p.capex_priced_usd + p.devices_bought * PRICES[p.pool] == pytest.approx(
                q.capex_usd, rel=1e-12)
        else:
            assert (p.capex_priced_usd, p.tco_priced_usd_per_year) == (p.capex_usd, p.tco_usd_per_year)


def test_an_unpriced_pool_s_priced_parts_are_facility_s(mixes: tuple[FleetMixResult, FleetMixResult]) -> None:
    """The MTIA pool's network and facility: `facility --accelerator mtia-v2-rack --count N`'s capex_priced_usd
    at the spec's PUE and electricity price."""
    mtia = next(p for p in mixes[0].pools if p.pool == "mtia-v2")
    alone = size_facility(accelerator="mtia-v2-rack", count=mtia.devices_bought,
                          overrides=CostOverrides(pue=1.1, electricity_usd_per_mwh=80.0))
    assert alone.capex_unpriced_parts == ["servers"]
    assert mtia.capex_priced_usd == pytest.approx(sum(alone.capex_priced_usd.values()), rel=1e-12)


def test_a_priced_mix_s_priced_parts_are_its_money(mixes: tuple[FleetMixResult, FleetMixResult]) -> None:
    t = mixes[1].totals
    assert t.capex_unpriced_parts == [] and t.capex_usd is not None and t.tco_usd_per_year is not None
    assert (t.capex_priced_usd, t.tco_priced_usd_per_year) == (t.capex_usd, t.tco_usd_per_year)
    for mix in mixes:  # the GPU-only baseline (every GPU pool priced here) carries the same sums
        assert mix.gpu_only is not None
        g = mix.gpu_only.totals
        assert g.capex_unpriced_parts == [] and (g.capex_priced_usd, g.tco_priced_usd_per_year) == (
            g.capex_usd, g.tco_usd_per_year)


def test_fleet_mix_json_and_text_carry_the_priced_parts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "mix.yaml"
    path.write_text(yaml.safe_dump(spec(False)))
    assert main(["fleet-mix", str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["totals"]["capex_usd"] is None and data["totals"]["capex_priced_usd"] > 0
    assert len(data["totals"]["capex_unpriced_parts"]) == 2
    assert all("capex_priced_usd" in p and "tco_priced_usd_per_year" in p for p in data["pools"])
    assert main(["fleet-mix", str(path)]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert ("priced parts (no servers of pool mtia-v2 (mtia-v2-rack), servers of pool msvp (msvp)): capex $"
            in text) and "/year" in text
