"""For the lead / hN70 (network/ is theirs): `tier_bandwidth.port_ratios` (the fallback where a fabric does not build)
reads a tier's `port_bandwidth_bytes_per_s: None` as the NIC *link* rate (the NIC capped by the leaf port), while
`topology.build_topology` reads it as the NIC's own rate (`spec.port_bandwidth_bytes_per_s or
node.nic_bandwidth_bytes_per_s`). With 800G NICs under 400G leaf ports, a spine with no port speed and 800G core
ports, the built spine ratio is 1.92:1 and the fallback's 4.0:1 (2x), against tier_bandwidth's docstring ("takes the
same ratio without the whole-port rounding"). Fix: `port = min(tier.port or raw_nic, next.port or raw_nic)` in
port_ratios, raw_nic = system.node.nic_bandwidth_bytes_per_s.
Failed at HEAD 82146a9 (hR70, session 49); fixed in port_ratios."""

from __future__ import annotations

import pytest

from infraplan.catalog import load_system
from infraplan.network.tier_bandwidth import built_ratios, port_ratios
from infraplan.network.topology import build_topology


def _variant(nic: float, ports: tuple[float | None, ...]):
    s = load_system("dgx-h100-superpod")
    tiers = [t.model_copy(update={"port_bandwidth_bytes_per_s": p, "oversubscription": o})
             for t, p, o in zip(s.network.tiers, ports, (2.0, 2.0, 1.0), strict=True)]
    return s.model_copy(update={"node": s.node.model_copy(update={"nic_bandwidth_bytes_per_s": nic}),
                                "network": s.network.model_copy(update={"tiers": tiers})})


@pytest.mark.parametrize("ports", [(50e9, None, 100e9), (50e9, 100e9, 100e9), (100e9, None, None)])
def test_the_fallback_reads_a_missing_port_speed_as_the_builder_does(ports):
    system = _variant(100e9 if ports[0] == 50e9 else 50e9, ports)
    built = built_ratios(build_topology(system))
    assert port_ratios(system) == pytest.approx(built, rel=0.05)  # whole-port rounding: 2.0 against 1.92
