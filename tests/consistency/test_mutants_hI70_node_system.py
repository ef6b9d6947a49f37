"""Mutants of hP69's system-read-as-its-part path the suite let live (hI, session 70): `Cluster.for_accelerator`
built the generic cluster on the part's reference node, and `Cluster.for_gpus` resized a system file's generic
cluster onto it, where both must keep the file's own node (`cluster.node_system`: its NICs and scale-up domain, not
only its host watts, which `part_of` carries on the part). A DGX H100 copy cabled with four 800 Gb/s NICs a node in
place of eight 400 Gb/s ones: the same line rate a GPU, half the NIC links."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from tests.cli.conftest import write_what_if_part

from infraplan.cluster.cluster import Cluster


def _four_nic_dgx(tmp_path: Path) -> str:
    with resources.as_file(resources.files("infraplan.catalog") / "systems" / "dgx-h100-superpod.yaml") as src:
        text = src.read_text()
    assert "  nics_per_node: 8\n  nic_bandwidth_bytes_per_s: 400Gbps\n" in text
    path = tmp_path / "four-nic.yaml"
    path.write_text(text.replace("  nics_per_node: 8\n  nic_bandwidth_bytes_per_s: 400Gbps\n",
                                 "  nics_per_node: 4\n  nic_bandwidth_bytes_per_s: 800Gbps\n"))
    return str(path)


def test_a_system_file_read_as_its_part_keeps_its_nics(tmp_path: Path) -> None:
    ref = _four_nic_dgx(tmp_path)
    cluster = Cluster.for_accelerator(ref, 64)
    node = cluster.system.node
    assert (node.nics_per_node, node.nic_bandwidth_bytes_per_s) == (4, 100e9)  # 800 Gb/s = 100 GB/s
    assert Cluster.for_accelerator("dgx-h100-superpod", 64).system.node.nics_per_node == 8
    # resized past its count (`for_gpus`): still the file's node
    grown = Cluster.for_accelerator(ref, 8).for_gpus(512)
    assert grown.total_accelerators >= 512 and grown.system.node.nics_per_node == 4
    assert grown.system.node.host_power_w == cluster.system.node.host_power_w == 4600.0


def test_a_new_parts_system_file_keeps_its_leaf_radix(tmp_path: Path) -> None:
    """A user's new part (no catalog reference system) on the user's own system file with 40-port leaves (an HDR
    QM8700's radix): the generic Clos it is sized on as a part is built of the file's 40-port switches
    (`generic.fabric_radix` of its node's system), not the catalog's default radix."""
    write_what_if_part(tmp_path)
    with resources.as_file(resources.files("infraplan.catalog") / "systems" / "dgx-h100-superpod.yaml") as src:
        text = src.read_text()
    text = text.replace("accelerator: h100-sxm\n", "accelerator: x1.yaml\n")
    text = text.replace("switch_radix: 64", "switch_radix: 40")
    (tmp_path / "x1-pod.yaml").write_text(text)
    tiers = Cluster.for_accelerator(str(tmp_path / "x1-pod.yaml"), 512).system.network.tiers
    assert tiers and {t.switch_radix for t in tiers} == {40}
