"""hJ (session 65): a system file that declares a rail-optimised fabric, built without rails, says so.

Every NVL72-style catalog system (GB200 / GB300 NVL72 racks and SuperPODs, the MTIA 400 rack) declares
`rail_optimized: true`, but its 1 or 2 leaves per 72-device rack form no rails of its 4 NICs a node
(`topology.build_topology`), so `network` answered `rail_optimized: false` and priced the NIC links as a
top-of-rack leaf's copper DAC (`costs.bill_of_materials`; catalog/network_prices/links.yaml: optical where a
rail-optimised unit's leaves sit in their own racks), with no note: a user reading the file saw neither. The note
gives the optics that leaves in their own racks would add, by the same bill of materials.

hN65: the catalog files now build what the DGX SuperPOD RA builds (8 rail leaves per 576-GPU SU: rails, optics) or
declare their one rack's single leaf unrailed (gb300-nvl72, mtia-400-rack), so the note's cases are user files:
the SuperPOD on its pre-hN65 top-of-rack tiers (`flow_toy_fabric.tor_nvl72_superpod`) and the single racks
declaring `rail_optimized: true` as they did.
"""

from __future__ import annotations

import dataclasses
import json

import pytest
from flow_toy_fabric import tor_nvl72_superpod

from infraplan.catalog.loader import load_system
from infraplan.cli.main import main
from infraplan.network.costs import bill_of_materials
from infraplan.network.topology import build_topology

PREFIX = "rack: {name}'s file declares a rail-optimised fabric"


def _network(capsys: pytest.CaptureFixture[str], name: str) -> dict:
    assert main(["network", name, "--json"]) == 0
    data: dict = json.loads(capsys.readouterr().out)
    return data


def test_gb200_superpod_says_its_rails_were_not_built_and_what_optics_would_add(capsys, tmp_path):
    path = tor_nvl72_superpod(tmp_path, railed=True)
    report = _network(capsys, path)
    assert report["rail_optimized"] is False
    assert report["tiers"][0]["link_medium"] == "copper DAC"
    (note,) = [n for n in report["notes"] if "declares a rail-optimised fabric" in n]
    assert note.startswith(PREFIX.format(name=report["system"]))
    # hand count from catalog/network_prices/links.yaml's 800G row: a transceiver at each end ($1,500, 16 W) and
    # fibre ($120) in place of a DAC ($250), over the 576 NIC links
    assert "2 leaf switches per 72-GPU domain, at 4 NICs a node, form no rails" in note
    assert "the 576 NIC links priced as copper DAC" in note
    assert "1,152 transceivers, $1,653,120 and 18,432 W" in note
    # the same figures as the bill of materials of the railed build (leaves in their own racks): one price
    topo = build_topology(load_system(path))
    railed = bill_of_materials(dataclasses.replace(topo, rail_optimized=True))
    assert railed["capex_usd"] - report["capex_usd"] == pytest.approx(1_653_120)
    assert railed["power_w"] - report["power_w"] == pytest.approx(18_432)
    assert railed["transceivers_total"] - report["transceivers_total"] == 1_152
    # a note only: the answer's own figures are unchanged
    assert (report["capex_usd"], report["power_w"], report["transceivers_total"]) == (3_669_120.0, 66_816.0, 1_152)


def _declared_railed(folder, name: str) -> str:
    """`name`'s catalog file declaring `rail_optimized: true`, as it did until hN65."""
    from pathlib import Path

    import infraplan.catalog

    text = (Path(infraplan.catalog.__file__).parent / "systems" / f"{name}.yaml").read_text()
    assert text.count("rail_optimized: false") == 1
    path = Path(folder) / f"{name}-railed.yaml"
    path.write_text(text.replace("rail_optimized: false", "rail_optimized: true"))
    return str(path)


def test_one_leaf_racks_say_so_in_the_singular(capsys, tmp_path):
    for name, word in (("mtia-400-rack", "accelerator"), ("gb300-nvl72", "GPU")):
        report = _network(capsys, _declared_railed(tmp_path, name))
        (note,) = [n for n in report["notes"] if n.startswith(PREFIX.format(name=report["system"]))]
        assert f"its 1 leaf switch per 72-{word} domain, at 4 NICs a node, forms no rails" in note
        assert "144 transceivers, $206,640 and 2,304 W" in note


@pytest.mark.parametrize(
    "name",
    [
        "dgx-h100-superpod",
        "meta-genai-ib-24k",
        "meta-genai-roce-24k",
        "gb200-nvl72-superpod",
        "gb300-nvl72-superpod",
        "gb200-nvl72",
        "gb300-nvl72",
        "mtia-400-rack",
    ],
)
def test_built_rails_and_top_of_rack_files_get_no_such_note(capsys, name):
    """Rails built as declared (DGX H100, the InfiniBand 24K cluster), or a file that declares top-of-rack leaves
    (the RoCE 24K cluster's Minipack2 ToRs): nothing to say."""
    report = _network(capsys, name)
    assert not any("declares a rail-optimised fabric" in n for n in report["notes"])
