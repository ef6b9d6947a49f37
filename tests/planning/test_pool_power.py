"""A pool's facility power scales with its devices for one system, whether the count is the system's own size
(its catalog fabric) or any other (a Clos rebuilt on the system's node and leaf switch); a site's power cap
counts the pools' spare nodes."""

from __future__ import annotations

import pytest

from infraplan.catalog import load_system
from infraplan.cluster.generic import fabric_radix, generic_system
from infraplan.cluster.power import fabric_topology
from infraplan.errors import InputError
from infraplan.network.costs import bill_of_materials
from infraplan.planning.pool_money import pool_layout as _layout
from infraplan.planning.pool_money import pool_money
from infraplan.planning.scenario import REFERENCE_DEVICES, plan_scenario
from infraplan.planning.scenario_spec import ScenarioSpec


def _spec(system: str, device: str = "a100-80gb") -> ScenarioSpec:
    return ScenarioSpec.model_validate({
        "name": "power",
        "phases": [{"name": "2024", "year": 2024}],
        "services": [{"name": "rank", "kind": "recsys", "model": "dlrm-low", "qps": "1M", "latency_slo": "10ms"}],
        "pools": [{"name": "p", "device": device, "system": system, "site": "a"}],
        "sites": [{"name": "a", "power": "1GW", "location": "us-average", "cooling": "air"}],
    })


def _facility_w(system: str, devices: int) -> float:
    spec = _spec(system)
    return pool_money(spec, spec.pools[0], spec.sites[0], devices).facility_w


@pytest.mark.parametrize("system", ["dgx-a100-superpod", "meta-rsc"])
def test_facility_power_grows_with_devices_for_one_system(system: str) -> None:
    own = load_system(system).total_accelerators
    counts = sorted({1024, 4000, own, 8000, 16000, 24000})
    watts = [_facility_w(system, n) for n in counts]
    assert watts == sorted(watts), dict(zip(counts, watts, strict=True))
    per_device = [w / n for w, n in zip(watts, counts, strict=True)]
    # servers dominate: W per device stays within 20 % across sizes and the system's own fabric
    assert max(per_device) / min(per_device) < 1.2, dict(zip(counts, per_device, strict=True))


def test_rsc2_draws_about_half_of_rsc() -> None:
    """meta-2024: RSC (16,000 A100, its own fabric) and RSC-2 (8,000 A100 on DGX A100 nodes): half the devices,
    about half the power (it drew 18.1 MW against 16.0 MW when the rebuilt Clos took 400G-radix directors)."""
    rsc = _facility_w("meta-rsc", 16000)
    rsc2 = _facility_w("dgx-a100-superpod", 8000)
    assert 0.4 < rsc2 / rsc < 0.6


def test_rebuilt_fabric_keeps_the_systems_leaf_switch() -> None:
    spec = _spec("dgx-a100-superpod")
    layout = _layout(spec.pools[0], 8000)
    assert layout.generic
    assert fabric_radix(layout.system.network) == 40
    topo = fabric_topology(layout, 8000)
    assert topo is not None
    models = {row["switch_model"] for row in bill_of_materials(topo)["tiers"]}
    assert models == {"nvidia-qm8700"}  # 40 x HDR, not the 800-port CS8500 director
    # a plain accelerator preset builds its generic Clos on its reference system's leaf switch too
    assert all(t.switch_radix == 40 for t in generic_system("a100-80gb", 8000).network.tiers)


def _rank_spec(power_w: float, policy: dict) -> ScenarioSpec:
    return ScenarioSpec.model_validate({
        "name": "spares", "phases": [{"name": "2025", "year": 2025}],
        "services": [{"name": "rank", "kind": "recsys", "model": "dlrm-low", "qps": "20G", "latency_slo": "10ms"}],
        "pools": [{"name": "h100", "device": "h100-sxm", "system": "dgx-h100-superpod", "site": "a"}],
        "sites": [{"name": "a", "power": f"{power_w}W", "location": "ohio", "cooling": "air"}], "policy": policy})


def test_the_site_cap_counts_spare_nodes() -> None:
    """A cap the services fit but their spares do not: refused with one line, not a plan with a warning."""
    spared = _rank_spec(1e9, {"spare_probability": 0.999})
    full = plan_scenario(spared)
    used, spare = full.services[0].devices, full.pools[0].spare_devices
    assert spare > 0
    ref = pool_money(spared, spared.pools[0], spared.sites[0], REFERENCE_DEVICES)
    cap_w = (used + spare / 2) * ref.facility_w / ref.devices  # the MILP's watts per device
    assert plan_scenario(_rank_spec(cap_w, {})).services[0].devices == used  # fits without spares
    with pytest.raises(InputError, match="spare nodes counted against the site power caps"):
        plan_scenario(_rank_spec(cap_w, {"spare_probability": 0.999}))
