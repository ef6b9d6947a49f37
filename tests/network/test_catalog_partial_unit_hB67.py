"""hB (session 67): a catalog system at part of its scalable unit is built by the generic Clos's rule; a
top-of-rack generic Clos takes the pod of the fewest switches; `links_total` is the priced links.

1. `network dgx-h100-superpod --gpus 136` wired 17 DGX H100 on 8 rail leaves of 17 up ports each, and the balanced
   wiring's fewest spines dividing 17 with 8 x 17 / S <= 64 is S = 17 (prime): 25 switches, $1.27 M, against 11 at
   144 GPUs. By hand, the rule hB2 gave the generic parts (network/rail_leaves.py `unit_part`), now the catalog
   path's too (`partial_unit_gpus`): 17 nodes' 136 NIC links need ceil(136 / 32) = 5 leaves, railed to 8 (one per
   rail, the DGX SuperPOD RA's 8 leaves per SU), each whole: 32 down and 32 up ports, 8 x 32 / 64 = 4 spines
   (12 switches). Priced: 136 NIC links and each leaf's 17 uplinks rounded up to 5 to each of 4 spines, 160:
   2 x (136 + 160) = 592 transceivers, all optical.
2. `generic.clos_tiers` chose a three-tier pod that wasted the fewest ports: 704 A100 (88 nodes, 16 GPUs a
   top-of-rack leaf of radix 40) in 11 pods of 4 leaves under 4 spines each (44 + 44) and 32 top switches (120),
   712 in 9 pods of 5 leaves (80 GPUs; 5 x 16 uplinks over 4 spines of 20 down) under 20 tops (101): the fabric
   fell as GPUs were added. Now the pod of the fewest switches the builder wires: 704 is built as 712's 720.
3. `links_total` summed the built fabric's links (every port of the whole leaves) while the tiers' rows and the
   price counted the cabled ones: now the one priced figure, the built one beside it as `links_built_count`.
"""

from __future__ import annotations

import pytest

from infraplan.catalog import list_presets, load_system
from infraplan.cluster.generic import generic_system
from infraplan.errors import InputError
from infraplan.network.costs import describe_fabric


def _falls(costs: list[tuple[int, tuple[float, ...]]]) -> list[tuple[int, int]]:
    return [(a, b) for (a, ca), (b, cb) in zip(costs, costs[1:], strict=False)
            if any(y < x - 1e-6 for x, y in zip(ca, cb, strict=True))]


@pytest.mark.parametrize("name", sorted(list_presets("systems")))
def test_a_catalog_fabric_never_costs_less_for_more_gpus(name: str) -> None:
    """hB66's monotone check over 8..2,048 on every catalog system (`network SYSTEM --gpus N`): before hB67,
    dgx-h100-superpod / hgx-h200 / dgx-b200 / meta-genai-ib-24k fell 8 times, dgx-a100-superpod 5, dgx-b300 17 and
    the GB200 / GB300 NVL72 files 54 (148 GB200: 41 switches; 152: 6)."""
    system = load_system(name)
    step = system.node.accelerators_per_node
    costs = []
    for n in range(step, min(2048, system.total_accelerators) + 1, step):
        try:
            r = describe_fabric(system, n)
        except InputError:  # (a count no rounding builds: none over this range today)
            continue
        costs.append((n, (r.switches_total, r.power_w, r.capex_usd)))
    assert costs and _falls(costs) == []


def test_dgx_h100_superpod_at_136_is_the_ra_unit_by_hand() -> None:
    a, b = (describe_fabric(load_system("dgx-h100-superpod"), n) for n in (136, 144))
    assert [t.switches for t in a.tiers] == [t.switches for t in b.tiers] == [8, 4]
    assert a.fabric_gpus_count == b.fabric_gpus_count == 256
    assert [t.links_from_below for t in a.tiers] == [136, 160]
    assert a.transceivers_total == 2 * (136 + 160)
    assert a.capex_usd < b.capex_usd and a.power_w < b.power_w
    assert any("8 leaves they need" in note for note in a.notes)
    # one rule: the catalog SuperPOD's switches are the generic H100's at the same count
    generic = describe_fabric(generic_system("h100-sxm", 136), 136, None, whole=True)
    assert [t.switches for t in generic.tiers] == [8, 4]


def test_nine_dgx_h100_need_four_leaves_and_two_spines() -> None:
    """72 links > 64 ports: 3 leaves of 32, railed to 4 (2 rails each), whole: 128 GPUs' ports, 4 x 32 / 64 = 2."""
    r = describe_fabric(load_system("dgx-h100-superpod"), 72)
    assert [t.switches for t in r.tiers] == [4, 2] and r.fabric_gpus_count == 128


@pytest.mark.parametrize(("part", "fewer", "more"), [("a100-80gb", 704, 712), ("gaudi2", 528, 536)])
def test_a_tor_pod_is_the_one_of_the_fewest_switches(part: str, fewer: int, more: int) -> None:
    a, b = (describe_fabric(generic_system(part, n), n, None, whole=True) for n in (fewer, more))
    assert a.switches_total <= b.switches_total and a.capex_usd <= b.capex_usd and a.power_w <= b.power_w
    if part == "a100-80gb":  # by hand (module docstring): 9 pods of 80 GPUs, 45 leaves + 36 spines + 20 tops
        assert [t.switches for t in a.tiers] == [45, 36, 20] and a.fabric_gpus_count == 720


def test_links_total_is_the_priced_links() -> None:
    r = describe_fabric(load_system("dgx-h100-superpod"), 136)
    assert r.links_total == sum(t.links_from_below for t in r.tiers) == 136 + 160
    assert r.transceivers_total == 2 * r.links_total  # every link optical on rail leaves
    assert r.links_built_count == 256 + 256  # the whole unit's NIC ports and uplinks
    whole = describe_fabric(load_system("dgx-h100-superpod"), 256)
    assert whole.links_total == whole.links_built_count == 512
