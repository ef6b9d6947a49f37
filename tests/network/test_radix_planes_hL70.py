"""A leaf radix too small for its domain's nodes splits the spine into planes no node pair shares: refused (hL70).

A DGX B200 unit with a leaf `switch_radix: 3` (1 down port at 1:1) was built as 256 one-port leaves under 256
spine planes, one per leaf index, so a node's 8 NICs reached 8 of the 256 planes and most node pairs shared none.
Since hF2 (session 71) the rail-optimised unit's spine is split by rail (one plane a rail joins the rail's 32 or
16 leaves, `topology._rail_planes`): every node has a NIC on every rail, so it builds connected; the same file
wired unrailed (`rail_optimized: false`) is still refused.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from infraplan.catalog.loader import load_system
from infraplan.cli.main import main
from infraplan.errors import InputError
from infraplan.network.topology import build_topology

SYSTEMS = Path(__file__).resolve().parents[2] / "src" / "infraplan" / "catalog" / "systems"


def _b200(tmp_path: Path, radix: int, railed: bool = True) -> Path:
    text = (SYSTEMS / "dgx-b200.yaml").read_text()
    old = "{name: leaf, group_size: 256, oversubscription: 1, hop_latency_s: 1.0e-6, switch_radix: 64"
    assert old in text and "rail_optimized: true" in text
    if not railed:
        text = text.replace("rail_optimized: true", "rail_optimized: false")
    path = tmp_path / f"b200-r{radix}-{railed}.yaml"
    path.write_text(text.replace(old, old.replace("switch_radix: 64", f"switch_radix: {radix}")))
    return path


@pytest.mark.parametrize(("radix", "refused"), [(3, True), (7, True), (8, False), (64, False)])
def test_leaf_radix_minimum(tmp_path: Path, radix: int, refused: bool) -> None:
    """Unrailed, at 1:1 under the radix-64 spine: radix 7 (3 down ports) takes 86 leaves, more than the spine
    reaches, so it is split into planes by leaf that a node's 8 NICs cannot all reach; radix 8 (4 down) takes 64
    leaves, 64 links a spine switch, one plane."""
    system = load_system(str(_b200(tmp_path, radix, railed=False)))
    if not refused:
        assert build_topology(system).tiers[1].planes == 1
        return
    with pytest.raises(InputError, match="need switch_radix >= 8 "):
        build_topology(system)


@pytest.mark.parametrize(("radix", "leaves"), [(3, 256), (7, 128)])
def test_railed_unit_spine_split_by_rail_builds_connected(tmp_path: Path, radix: int, leaves: int) -> None:
    """Rail-optimised: 32 (radix 3) or 16 (radix 7) leaves a rail; the spine is split into 8 planes, one a rail,
    each joining its rail's leaves (not 256 / 128 planes by leaf index): one connected fabric, every node on every
    plane."""
    import networkx as nx

    from infraplan.network.topology_graph import to_networkx

    topo = build_topology(load_system(str(_b200(tmp_path, radix))))
    leaf, spine = topo.tiers
    assert (leaf.switches, topo.leaves_per_rail) == (leaves, leaves // 8)
    assert (spine.planes, spine.lowers_per_plane, spine.switches_per_plane) == (8, leaves // 8, 1)
    assert spine.down_ports == 32  # each rail's 32 NIC links reach its one spine (1 or 2 links a leaf)
    assert nx.number_connected_components(to_networkx(topo)) == 1


def test_network_refuses_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["network", str(_b200(tmp_path, 3, railed=False))]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "switch_radix 3" in err and "switch_radix >= 8 " in err, err
