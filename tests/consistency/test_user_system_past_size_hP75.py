"""hP75: a USER's system file past its size is one answer in a plan pool, `facility --accelerator FILE --count N` and
`campus`, and its price never falls as the count passes its size (hP74 checked the catalog's 18 systems only).

Two rules differed for a file, never for the catalog (whose systems are their parts' reference fabrics):
- past a system's size `facility` (`Cluster.for_count`) built its node on a Clos of its PART's reference system's
  kind, leaf radix and efficiency, a plan pool (`device_money.device_layout`) on the file's own: a DGX B200 restated
  on RoCE was InfiniBand past its 256 in `facility` only (264 GPUs: $22.808 M / 532.1 kW, the pool $22.730 M /
  535.7 kW); the example GB200 SuperPOD of 144-GPU NVLink domains (examples/hardware) took radix-144 leaves in
  `facility` and its own radix 72 in the pool (580 GPUs: $49.51 M, 24 switches vs $43.49 M, 26 switches);
- that example's generic Clos lost the rails its file states (NIC r of every tray on leaf r, optical): its node is no
  whole part of the catalog's 576-GPU GB200 unit, so the Clos fell to top-of-rack copper leaves, and 580 GPUs cost
  2.8 % less than its 576 ($43.49 M vs $44.76 M). Past its size a rail-optimised system's own leaf group is now the
  rail unit where it is one (cluster/generic.py `rail_unit`): 580 cost $46.39 M, 32 switches.
Every catalog answer is unchanged (179 system x count cases, pool and `facility`'s whole report)."""

from __future__ import annotations

from pathlib import Path

import pytest

from infraplan.cluster import Cluster
from infraplan.facility.facility import size_facility
from infraplan.planning.campus import plan_campus
from infraplan.planning.device_money import cost_overrides, device_layout, device_money, device_site

EXAMPLE = str(Path(__file__).parents[2] / "examples" / "hardware" / "gb200-nvl144-superpod.yaml")
TIER = "{{name: {}, group_size: {}, oversubscription: 1, hop_latency_s: 1.0e-6, switch_radix: 64, " \
       "port_bandwidth_bytes_per_s: 400Gbps}}"
FILES = {  # as docs/modelling.md says a user writes one: `extends: PRESET` and the fields it changes
    "b200-roce": "extends: dgx-b200\ndisplay_name: DGX B200 on RoCE\nnetwork:\n  kind: roce\n  load_balancing: ecmp\n"
                 "  load_balancing_source: what-if\n",
    "superpod-roce": "extends: dgx-h100-superpod\ndisplay_name: SuperPOD on RoCE\nnetwork:\n  kind: roce\n"
                     "  load_balancing: ecmp\n  load_balancing_source: what-if\n",
    "superpod-4k": "extends: dgx-h100-superpod\ndisplay_name: SuperPOD of 4,096\ntotal_accelerators: 4096\nnetwork:\n"
                   "  tiers:\n" + "".join(f"    - {TIER.format(n, g)}\n" for n, g in
                                         (("leaf", 256), ("spine", 2048), ("core", 4096))),
    "nvl144-cluster": "extends: gb200-nvl72\ndisplay_name: GB200 of 144-GPU domains\nnode:\n  scale_up_domain: 144\n"
                      "  racks_per_scale_up_domain: 2\n  scale_up_switch_power_w: 7200W\n"
                      "  scale_up_switch_source: two racks' 9 NVSwitch trays\n",
}


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("systems")
    paths = {"nvl144-superpod": EXAMPLE}
    for name, text in FILES.items():
        (folder / f"{name}.yaml").write_text(text)
        paths[name] = str(folder / f"{name}.yaml")
    return paths


def _counts(path: str) -> list[int]:
    """Whole scale-up domains below, at, just past and 2-3x the file's size (campus builds whole domains only)."""
    size, unit = Cluster.resolve(path).total_accelerators, device_layout(path).packing_unit_accelerators
    return [size - unit, size, size + unit, size + 8 * unit, 2 * size, 3 * size]


@pytest.mark.parametrize("name", ["b200-roce", "nvl144-superpod", "superpod-roce", "superpod-4k", "nvl144-cluster"])
def test_a_user_system_is_one_answer_in_plan_facility_and_campus(files: dict[str, str], name: str) -> None:
    path = files[name]
    overrides = cost_overrides(None, None, None, None)
    site = device_site(path, overrides)
    for n in _counts(path):
        pool = device_money(path, n, site)
        facility = size_facility(accelerator=path, count=n, overrides=overrides)
        assert facility.capex_total_usd is not None
        assert (pool.it_w, sum(pool.capex_usd.values()), pool.switches) == (
            pytest.approx(facility.it_power_w, rel=1e-12), pytest.approx(facility.capex_total_usd, rel=1e-12),
            facility.network.switches), (name, n)
        campus = plan_campus(facility.facility_power_w * (1 + 1e-12), path, overrides=overrides)
        assert campus.accelerators == n and campus.facility == facility, (name, n)


@pytest.mark.parametrize("name", ["b200-roce", "nvl144-superpod", "superpod-roce", "superpod-4k", "nvl144-cluster"])
def test_a_user_systems_price_grows_with_the_count_across_its_size(files: dict[str, str], name: str) -> None:
    """Every whole server from 16 under the size to 24 past it, then every 1/40 of the size to 3x, and 8 servers
    either side of 2x and 3x: capex, TCO and IT W never fall (the base: 580 GPUs of the example under its 576)."""
    path = files[name]
    size, per = Cluster.resolve(path).total_accelerators, device_layout(path).accelerators_per_server
    step = max(per, size // 40 // per * per)
    counts = {size + k * per for k in range(-16, 25)} | set(range(size, 3 * size + 1, step))
    counts |= {m * size + k * per for m in (2, 3) for k in range(-8, 9)}
    site = device_site(path, cost_overrides(None, None, None, None))
    money = [device_money(path, n, site) for n in sorted(counts)]
    for a, b in zip(money, money[1:], strict=False):
        for field in (lambda m: sum(m.capex_usd.values()), lambda m: m.annual.tco_usd_per_year, lambda m: m.it_w):
            assert field(b) >= field(a) * (1 - 1e-12), (name, a.devices, b.devices)


def test_past_its_size_a_user_system_keeps_its_own_kind_and_rails(files: dict[str, str]) -> None:
    """The RoCE restatement past 256 is RoCE in `facility` as in the pool; the example past 576 keeps rails of its
    own 144-GPU leaf group (radix 72), where the base fell to top-of-rack copper (26 switches) or, in `facility`, the
    part's radix 144 (24); the catalog's dgx-b200 past its size is as before (its leaf group is b200's unit)."""
    roce = Cluster.for_count(files["b200-roce"], 264)
    assert roce.outgrown is not None and roce.system.network.kind == "roce"
    assert Cluster.for_count("dgx-b200", 264).system.network.kind == "infiniband"
    example = files["nvl144-superpod"]
    past = Cluster.for_count(example, 580).system.network
    assert past.rail_optimized and past.tiers[0].group_size == 144 and past.tiers[0].switch_radix == 72
    site = device_site(example, cost_overrides(None, None, None, None))
    at, more = device_money(example, 576, site), device_money(example, 580, site)
    assert (at.switches, more.switches) == (25, 32)
    assert sum(more.capex_usd.values()) > sum(at.capex_usd.values())
    report = size_facility(accelerator=example, count=580)
    assert report.network.switches == 32 and report.capex_total_usd == pytest.approx(sum(more.capex_usd.values()))
    b200 = Cluster.for_count("dgx-b200", 600).system.network
    assert b200.rail_optimized and b200.tiers[0].group_size == 256
