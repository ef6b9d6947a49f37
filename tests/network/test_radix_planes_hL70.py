"""A leaf radix too small for its domain's nodes splits the spine into planes no node pair shares: refused (hL70).

A DGX B200 unit with a leaf `switch_radix: 3` (1 down port at 1:1) was built as 256 one-port leaves under 256
spine planes, one per leaf index, so a node's 8 NICs reached 8 of the 256 planes and most node pairs shared none.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from infraplan.catalog.loader import load_system
from infraplan.cli.main import main
from infraplan.errors import InputError
from infraplan.network.topology import build_topology

SYSTEMS = Path(__file__).resolve().parents[2] / "src" / "infraplan" / "catalog" / "systems"


def _b200(tmp_path: Path, radix: int) -> Path:
    text = (SYSTEMS / "dgx-b200.yaml").read_text()
    old = "{name: leaf, group_size: 256, oversubscription: 1, hop_latency_s: 1.0e-6, switch_radix: 64"
    assert old in text
    path = tmp_path / f"b200-r{radix}.yaml"
    path.write_text(text.replace(old, old.replace("switch_radix: 64", f"switch_radix: {radix}")))
    return path


@pytest.mark.parametrize(("radix", "refused"), [(3, True), (7, True), (8, False), (64, False)])
def test_leaf_radix_minimum(tmp_path: Path, radix: int, refused: bool) -> None:
    """At 1:1 under the radix-64 spine: radix 7 (3 down ports) takes 128 leaves, more than the spine reaches, so it
    is split into planes a node's 8 NICs cannot all reach; radix 8 (4 down) takes 64 leaves, 64 links a spine
    switch, one plane."""
    system = load_system(str(_b200(tmp_path, radix)))
    if not refused:
        assert build_topology(system).tiers[1].planes == 1
        return
    with pytest.raises(InputError, match="need switch_radix >= 8 "):
        build_topology(system)


def test_network_refuses_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["network", str(_b200(tmp_path, 3))]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "switch_radix 3" in err and "switch_radix >= 8 " in err, err
